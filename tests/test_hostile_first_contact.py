"""Small first-contact defects from issue 16: each used to be accepted silently or to name an
internal parameter."""

from __future__ import annotations

import pytest

import qualcode as qc
from qualcode.backends import get_embedder
from qualcode.cli import main
from qualcode.errors import EmbeddingError, IngestError

TEXT = "Interviewer: How do you plan the budget?\nRespondent: We follow the national priority list.\n"


def test_hostile_codebook_validate_refuses_a_codebook_without_codes_like_code(tmp_path, capsys):
    cb = tmp_path / "empty.yaml"
    cb.write_text('name: empty\nversion: "1"\ncodes: []\n')
    assert main(["codebook", "validate", str(cb)]) == 1
    err = capsys.readouterr().err
    assert f"{cb}: the codebook has no codes" in err and "Traceback" not in err


@pytest.mark.parametrize("bad", ["klingon", "English", "42", "en_US"])
def test_hostile_language_must_be_a_known_code(tmp_path, capsys, bad):
    (tmp_path / "a.txt").write_text(TEXT)
    assert main(["ingest", str(tmp_path), "--language", bad]) == 2
    err = capsys.readouterr().err
    assert f"unknown language {bad!r}" in err and "'en'" in err
    with pytest.raises(IngestError, match="unknown language"):
        qc.read_corpus(tmp_path, language=bad)


def test_hostile_language_codes_spacy_knows_are_accepted(tmp_path):
    (tmp_path / "a.txt").write_text(TEXT)
    assert qc.read_corpus(tmp_path, language=" NL ").documents[0].language == "nl"
    assert qc.read_corpus(tmp_path, language="xx").documents[0].language == "xx"


def test_hostile_unknown_model_names_the_option_not_an_internal_parameter(tmp_path, capsys):
    (tmp_path / "a.txt").write_text(TEXT)
    cb = tmp_path / "cb.yaml"
    cb.write_text('name: t\nversion: "1"\ncodes:\n  - id: c\n    definition: d\n')
    rc = main(["code", str(tmp_path), "--codebook", str(cb), "--out", str(tmp_path / "out"),
               "--model", "nosuchmodel", "--no-progress"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "unknown embedding model 'nosuchmodel'" in err and "--model" in err
    assert "'spec'" not in err and "get_embedder" not in err
    with pytest.raises(EmbeddingError, match="Did you mean 'e5'"):
        get_embedder("e6")
