"""Bad input at the public entry points gives one clear message naming the file or field.

Regression tests from a sweep of bad input across the CLI and the Python API: each case
used to end in a traceback from deep inside numpy, argparse's caller or pathlib.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import qualcode as qc
from qualcode import matrices
from qualcode.cli import main
from qualcode.errors import CodebookError, CodingsError
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


@pytest.mark.parametrize("window", ["0", "-2", "three"])
def test_bad_input_ingest_window_not_positive_is_a_usage_error(tmp_path, capsys, window):
    folder = _corpus_folder(tmp_path)
    out = tmp_path / "seg.csv"
    with pytest.raises(SystemExit) as exc:
        main(["ingest", str(folder), "--unit", "window", "--window", window, "--segments", str(out)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--window" in err and ">= 1" in err and repr(window) in err
    _no_traceback(err)
    assert not out.exists()


def test_bad_input_evaluate_does_not_offer_window_unit(tmp_path, capsys):
    folder = _corpus_folder(tmp_path)
    codings = tmp_path / "c.csv"
    codings.write_text("doc_id,start,end,code\nt01,0,10,x\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        main(["evaluate", str(codings), str(codings), "--corpus", str(folder), "--unit", "window"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--unit" in err and "'window'" in err
    _no_traceback(err)


def test_bad_input_code_with_no_documents_names_the_folder(tmp_path, capsys, codebooks_dir):
    folder = tmp_path / "blank"
    folder.mkdir()
    (folder / "a.txt").write_text("   \n\n  \n", encoding="utf-8")
    (folder / "b.md").write_text("\n", encoding="utf-8")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    out = tmp_path / "out"
    rc = main(["code", str(folder), "--codebook", str(codebooks_dir / "technocratic_planning.yaml"),
               "--rules-only", "--out", str(out), "--no-progress"])
    assert rc == 2
    err = capsys.readouterr().err
    assert f"qualcode: error: no documents with text found in {folder}" in err
    # the skipped files are reported as plain one-line warnings, not Python warning records
    assert f"qualcode: warning: skipped: {folder / 'a.txt'}: the file is empty" in err
    assert "IngestWarning" not in err
    _no_traceback(err)
    assert not out.exists()
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_bad_input_code_with_a_codebook_without_codes_names_it(tmp_path, capsys):
    folder = _corpus_folder(tmp_path)
    cb = tmp_path / "empty_cb.yaml"
    cb.write_text(NO_CODES, encoding="utf-8")
    out = tmp_path / "out"
    rc = main(["code", str(folder), "--codebook", str(cb), "--rules-only", "--out", str(out),
               "--no-progress"])
    assert rc == 2
    err = capsys.readouterr().err
    assert f"qualcode: error: {cb}: the codebook has no codes" in err
    _no_traceback(err)
    assert not out.exists()
    assert cb.read_text(encoding="utf-8") == NO_CODES


def test_bad_input_os_error_at_the_top_level_is_one_line(tmp_path, capsys, codebooks_dir):
    folder = _corpus_folder(tmp_path)
    blocker = tmp_path / "a_file.txt"
    blocker.write_text("not a folder\n", encoding="utf-8")
    rc = main(["code", str(folder), "--codebook", str(codebooks_dir / "technocratic_planning.yaml"),
               "--rules-only", "--no-reports", "--no-progress", "--out", str(blocker / "results")])
    assert rc == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("qualcode: error:")]
    assert len(lines) == 1 and str(blocker) in lines[0]
    _no_traceback(err)
    assert blocker.read_text(encoding="utf-8") == "not a folder\n"


def test_bad_input_export_with_no_documents_is_refused(tmp_path, capsys, codebooks_dir):
    folder = tmp_path / "blank"
    folder.mkdir()
    (folder / "a.txt").write_text("  \n", encoding="utf-8")
    out = tmp_path / "p.qdpx"
    rc = main(["export", str(folder), "--codebook", str(codebooks_dir / "technocratic_planning.yaml"),
               "--qdpx", str(out)])
    assert rc == 2
    err = capsys.readouterr().err
    assert f"qualcode: error: {folder}: no documents with text found" in err
    _no_traceback(err)
    assert not out.exists()


def test_bad_input_codebook_validate_on_a_qdc_points_to_import(tmp_path, capsys):
    qdc = tmp_path / "team.qdc"
    qdc.write_text("hello, not XML <<<", encoding="utf-8")
    rc = main(["codebook", "validate", str(qdc)])
    assert rc != 0
    out = capsys.readouterr()
    text = out.out + out.err
    assert str(qdc) in text and "qualcode codebook import" in text
    assert "must be a mapping" not in text
    _no_traceback(out.err)
    assert qdc.read_text(encoding="utf-8") == "hello, not XML <<<"


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


@pytest.mark.parametrize(("suffix", "reader"), [(".qdc", "qualcode.refi.read_qdc"), (".csv", "Codebook.from_table"), (".xlsx", "Codebook.from_table")])
def test_bad_input_codebook_load_on_another_format_names_the_right_reader(tmp_path, suffix, reader):
    path = tmp_path / f"team{suffix}"
    path.write_bytes(b"id,name\nx,X\n")
    with pytest.raises(CodebookError) as exc:
        qc.Codebook.load(path)
    assert str(exc.value).startswith(f"{path}: ")
    assert f"{reader}(path)" in str(exc.value)
    assert path.read_bytes() == b"id,name\nx,X\n"


def test_bad_input_read_codings_on_a_folder(tmp_path):
    with pytest.raises(CodingsError, match="is a folder; read_codings needs a codings file"):
        qc.read_codings(tmp_path)


def test_bad_input_main_restores_the_warning_display(tmp_path, capsys, codebooks_dir):
    before = warnings.showwarning
    folder = tmp_path / "blank"
    folder.mkdir()
    (folder / "a.txt").write_text("  \n", encoding="utf-8")
    main(["code", str(folder), "--codebook", str(codebooks_dir / "technocratic_planning.yaml"),
          "--rules-only", "--out", str(tmp_path / "out"), "--no-progress"])
    assert warnings.showwarning is before
