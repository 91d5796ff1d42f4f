"""The cases sidecar: document rows, speaker rows, unknown documents, roles."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from qualcode.errors import IngestError, IngestWarning
from qualcode.readers import read_corpus, read_sidecar

DATA = Path(__file__).parent / "data" / "readers"


@pytest.fixture
def folder(tmp_path):
    for name in ("interview_labels.txt", "indonesian_fgd.md"):
        shutil.copy(DATA / name, tmp_path / name)
    return tmp_path


def test_readers_sidecar_doc_and_speaker_rows(folder):
    (folder / "cases.csv").write_text(
        "doc_id,speaker,case_id,speaker_role,language,kind,agency,years\n"
        "interview_labels,,bappeda_kota,,id,,Bappeda,12\n"
        "fgd_desa,Pak Hendra,hendra,,,,farmer group,\n"
        "fgd_desa,Peserta 3,,moderator,,,,\n"
        ",Ibu Sari,sari,,,,village council,7\n",
        encoding="utf-8",
    )
    corpus = read_corpus(folder)
    a = corpus["interview_labels"]
    assert a.case_id == "bappeda_kota"
    assert a.language == "id"  # sidecar overrides the guess
    fgd = corpus["fgd_desa"]
    assert fgd.case_id == "desa_sukamaju"  # front matter; no doc row for it
    by = {t.speaker: t for t in fgd.turns}
    assert by["Pak Hendra"].case_id == "hendra"
    assert by["Ibu Sari"].case_id == "sari"  # speaker-only row applies in every doc
    assert by["Peserta 3"].role == "moderator"  # speaker_role overrides inference
    assert by["Peserta 3"].case_id == "fgd_desa:Peserta 3"  # default speaker case id
    assert by["Moderator"].case_id is None
    cases = corpus.cases
    assert cases.loc["bappeda_kota", "agency"] == "Bappeda"
    assert cases.loc["bappeda_kota", "years"] == 12
    assert cases.loc["sari", "years"] == 7
    assert cases.loc["hendra", "agency"] == "farmer group"
    # front matter attributes of the FGD document feed its case
    assert cases.loc["desa_sukamaju", "region"] == "Jawa Barat"
    assert corpus.case_of("fgd_desa", "Pak Hendra") == "hendra"
    seg = corpus.segments("turn")
    row = seg[seg["speaker"] == "Ibu Sari"].iloc[0]
    assert row["case_id"] == "sari" and row["agency"] == "village council"
    assert set(cases.index) >= {"bappeda_kota", "hendra", "sari", "desa_sukamaju"}


def test_readers_sidecar_unknown_document_warns_or_raises_with_line(folder):
    (folder / "cases.csv").write_text(
        "doc_id,case_id,agency\ninterview_labels,c1,Bappeda\nint_99,c2,DPRD\n", encoding="utf-8"
    )
    with pytest.warns(IngestWarning, match=r"cases.csv, line 3: .*unknown document 'int_99'"):
        corpus = read_corpus(folder)
    assert "c2" not in corpus.cases.index
    with pytest.raises(IngestError, match=r"cases.csv, line 3: .*'int_99'") as exc:
        read_corpus(folder, strict=True)
    assert exc.value.line == 3


def test_readers_sidecar_bad_role_and_missing_columns(folder, tmp_path_factory):
    (folder / "cases.csv").write_text(
        "doc_id,speaker,speaker_role\nfgd_desa,Pak Hendra,boss\n", encoding="utf-8"
    )
    with pytest.raises(IngestError, match=r"cases.csv, line 2: speaker_role"):
        read_corpus(folder)
    other = tmp_path_factory.mktemp("side") / "attrs.csv"
    other.write_text("name,agency\nx,y\n", encoding="utf-8")
    with pytest.raises(IngestError, match="attrs.csv, line 1: .*doc_id"):
        read_sidecar(other)


def test_readers_sidecar_xlsx_and_explicit_path(folder, tmp_path_factory):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["doc_id", "case_id", "kind", "region"])
    ws.append(["interview_labels", "case_x", "fgd", "  "])
    path = tmp_path_factory.mktemp("elsewhere") / "meta.xlsx"
    wb.save(path)
    corpus = read_corpus(folder, sidecar=path)
    d = corpus["interview_labels"]
    assert d.case_id == "case_x"
    assert d.kind == "fgd"
    # kind fgd: the respondent becomes a participant
    assert [t.role for t in d.turns] == ["interviewer", "participant"] * 2
    # blank cells are missing values, not empty strings
    assert pd.isna(corpus.cases.loc["case_x", "region"])
