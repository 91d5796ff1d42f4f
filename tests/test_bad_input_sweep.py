"""Bad input at the public entry points gives one clear message naming the file or field.

Regression tests from a sweep of bad input across the CLI and the Python API: each case
used to end in a traceback from deep inside numpy, argparse's caller or pathlib.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import qualcode as qc
from qualcode import matrices
from qualcode.testing import tiny_corpus

NO_CODES = 'name: empty\nversion: "1"\ncodes: []\n'
TEXT = "Interviewer: How do you plan the budget?\nRespondent: We follow the national priority list.\n"


def _corpus_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "t01.txt").write_text(TEXT, encoding="utf-8")
    return folder


def _no_traceback(err: str) -> None:
    assert "Traceback" not in err
    assert 'File "' not in err


# -- CLI ----------------------------------------------------------------------------------------


# -- Python API ----------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["not a corpus", ["a.txt"], None])
def test_bad_input_coder_code_needs_a_corpus(codebooks_dir, bad):
    cb = qc.Codebook.load(codebooks_dir / "technocratic_planning.yaml")
    with pytest.raises(TypeError, match=r"The 'corpus' parameter of Coder must be a Corpus\. Got \w+ instead"):
        qc.Coder(cb, embeddings=False, progress=False).code(bad)


def test_bad_input_coder_needs_a_loaded_codebook(codebooks_dir):
    path = str(codebooks_dir / "technocratic_planning.yaml")
    with pytest.raises(TypeError, match=r"must be a Codebook\. Got str instead\. Load it first: qc\.Codebook\.load"):
        qc.Coder(path, embeddings=False, progress=False).code(tiny_corpus())


def test_bad_input_matrices_on_an_empty_corpus(codebooks_dir):
    cb = qc.Codebook.load(codebooks_dir / "technocratic_planning.yaml")
    empty = qc.Corpus([])
    codings = qc.Coder(cb, embeddings=False, progress=False).code(empty)
    assert len(codings) == 0
    table = matrices.case_by_code(codings, empty)
    assert table.shape == (0, 0)
    summary = matrices.cross_case_summary(codings, empty, codebook=cb)
    assert len(summary.codes) > 0 and (summary.codes["n_cases"] == 0).all()
    assert len(summary.disconfirming) == 0 and len(summary.saturation) == 0


def test_bad_input_cross_case_summary_with_no_codes(tmp_path):
    cb_path = tmp_path / "empty_cb.yaml"
    cb_path.write_text(NO_CODES, encoding="utf-8")
    cb = qc.Codebook.load(cb_path)
    corpus = tiny_corpus()
    codings = qc.Coder(cb, embeddings=False, progress=False).code(corpus)
    summary = matrices.cross_case_summary(codings, corpus, codebook=cb)
    assert len(summary.codes) == 0 and len(summary.disconfirming) == 0
    assert list(summary.saturation["doc_id"]) == list(corpus.doc_ids)
    assert (summary.saturation["cumulative"] == 0).all()


