"""``qualcode export`` / ``qualcode import`` on files, and the real sample when present."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

import qualcode as qc
from qualcode.cli import main
from qualcode.codebook import Codebook
from qualcode.refi import read_qdpx, write_qdpx
from qualcode.testing import tiny_corpus

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "transcripts_sample"
CODEBOOK = ROOT / "codebooks" / "technocratic_planning.yaml"


@pytest.fixture()
def project_folder(tmp_path):
    corpus = tiny_corpus()
    folder = tmp_path / "transcripts"
    folder.mkdir()
    for d in corpus:
        (folder / f"{d.doc_id}.txt").write_text(d.text, encoding="utf-8")
    cases = corpus.cases.reset_index().rename(columns={"case_id": "doc_id"})
    cases.to_csv(folder / "cases.csv", index=False)
    cb = Codebook(
        [
            {"id": "planning", "name": "Planning", "definition": "Talk about planning."},
            {"id": "nomenclature", "parent": "planning", "definition": "Given program lists.", "color": "#d62728"},
            {"id": "data_use", "definition": "Using data 📊."},
        ],
        name="cli demo",
    )
    cb_path = tmp_path / "cb.yaml"
    cb.save(cb_path)
    quotes = pd.DataFrame(
        [
            ("int_a", "nomenclature", "given by the ministry nomenclature", "ana"),
            ("int_a", "data_use", "e-monev data on budget absorption", "ana"),
            ("int_a", "data_use", "e-monev data on budget absorption", "budi"),
            ("int_c", "nomenclature", "ditentukan dari pusat lewat nomenklatur", "budi"),
        ],
        columns=["doc_id", "code", "quote", "coder"],
    )
    codings = tmp_path / "codings.csv"
    quotes.to_csv(codings, index=False)
    return folder, cb_path, codings


def test_cli_export_then_import(project_folder, tmp_path, capsys):
    folder, cb_path, codings = project_folder
    out = tmp_path / "p.qdpx"
    assert main(["export", str(folder), "--codebook", str(cb_path), "--codings", str(codings), "--qdpx", str(out)]) == 0
    assert "3 documents, 3 codes, 4 codings" in capsys.readouterr().out
    # refuses to overwrite without --force, with a clear error
    assert main(["export", str(folder), "--codebook", str(cb_path), "--qdpx", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err

    dest = tmp_path / "imported"
    assert main(["import", str(out), "--out", str(dest)]) == 0
    assert "3 documents, 3 codes, 4 codings" in capsys.readouterr().out
    assert sorted(p.name for p in dest.iterdir()) == [
        ".qualcodeignore", "cases.csv", "codebook.yaml", "codings.csv", "int_a.txt", "int_b.txt", "int_c.txt"]

    original = qc.read_corpus(folder)
    again = qc.read_corpus(dest)
    assert {d.doc_id: d.text for d in again} == {d.doc_id: d.text for d in original}
    assert again.cases.loc["int_b", "agency"] == "OPD Health"
    assert Codebook.load(dest / "codebook.yaml") == Codebook.load(cb_path)

    want = qc.read_codings(codings, original).to_frame()
    got = qc.read_codings(dest / "codings.csv", again).to_frame()
    cols = ["doc_id", "start", "end", "code", "coder"]
    pd.testing.assert_frame_equal(
        got[cols].sort_values(cols).reset_index(drop=True), want[cols].sort_values(cols).reset_index(drop=True)
    )

    # a non-empty output folder needs --force
    assert main(["import", str(out), "--out", str(dest)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["import", str(out), "--out", str(dest), "--force"]) == 0


def test_cli_import_reports_unsafe_archive(tmp_path, capsys):
    import zipfile

    bad = tmp_path / "evil.qdpx"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("project.qde", b"<Project name='x'/>")
        zf.writestr("../escape.txt", b"x")
    assert main(["import", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "evil.qdpx" in err and "'../escape.txt'" in err
    assert not (tmp_path / "o").exists()


def _gold_path() -> Path | None:
    for p in (SAMPLE / "gold_codings.csv", SAMPLE / "_gold_quotes" / "study1.csv"):
        if p.exists():
            return p
    return None


@pytest.mark.skipif(not (CODEBOOK.exists() and _gold_path()), reason="real sample not populated yet")
def test_real_sample_with_codebook_and_human_codings_roundtrips(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        corpus = qc.read_corpus(SAMPLE)
    cb = Codebook.load(CODEBOOK)
    gold = qc.read_codings(_gold_path(), corpus)
    gold = gold.filter(code=[c for c in gold.codes if c in cb])
    assert len(gold) > 50
    out = write_qdpx(tmp_path / "sample.qdpx", corpus, cb, gold)
    p = read_qdpx(out)
    assert p.corpus.doc_ids == corpus.doc_ids
    assert all(p.corpus[d.doc_id].text == d.text for d in corpus)
    assert p.codebook.fingerprint == cb.fingerprint
    cols = ["doc_id", "start", "end", "code", "coder"]
    want = gold.to_frame()[cols].drop_duplicates().sort_values(cols).reset_index(drop=True)
    got = p.codings.to_frame()[cols].sort_values(cols).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want)
    # case attributes of the sample travel as typed variables
    pd.testing.assert_index_equal(p.corpus.cases.index.sort_values(), corpus.cases.index.sort_values())
    assert list(p.corpus.cases.columns) == list(corpus.cases.columns)
