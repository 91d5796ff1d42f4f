"""Response tables (.csv/.xlsx): one document per row."""

from __future__ import annotations

import warnings
from pathlib import Path

import openpyxl
import pytest

from qualcode.errors import IngestError, IngestWarning
from qualcode.readers import read_corpus, read_document, read_documents

DATA = Path(__file__).parent / "data" / "readers"


def test_readers_csv_rows_become_survey_documents():
    docs = read_documents(DATA / "survey.csv", id_column="respondent_id")
    assert [d.doc_id for d in docs] == ["survey:s01", "survey:s02", "survey:s04"]  # s03 is empty
    d = docs[1]
    assert d.kind == "survey"
    assert d.source.format == "csv"
    assert d.attributes == {"agency": "Dinas PU", "level": "city"}
    assert [(t.speaker, t.role) for t in d.turns] == [("s02", "respondent")]
    assert d.turn_text(0).startswith("Kami menyusun program")
    assert docs[2].turn_text(0) == "Pokir items come late.\nThey change the plan."


def test_readers_csv_detected_id_column_and_case_column():
    corpus = read_corpus(DATA / "survey.csv", case_column="agency")
    assert corpus.doc_ids == ["survey:s01", "survey:s02", "survey:s04"]  # respondent_id
    assert corpus["survey:s01"].turns[0].speaker == "s01"
    assert corpus["survey:s02"].case_id == "Dinas PU"
    # per-row language guess: the Indonesian answer in an English table
    assert corpus["survey:s02"].language == "id"
    assert corpus["survey:s01"].language == "en"
    assert corpus.cases.loc["Dinas PU", "level"] == "city"
    seg = corpus.segments("turn")
    assert set(seg["level"]) == {"province", "city", "regency"}


def test_readers_xlsx_table(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "Response", "years"])
    ws.append(["a1", "We copy last year's program list.", 12])
    ws.append(["a2", "Data from e-monev guides us.", 3])
    path = tmp_path / "answers.xlsx"
    wb.save(path)
    corpus = read_corpus(path, id_column="id")
    assert corpus.doc_ids == ["answers:a1", "answers:a2"]
    assert corpus["answers:a2"].turn_text(0) == "Data from e-monev guides us."
    assert corpus.cases.loc["answers:a1", "years"] == 12
    assert corpus["answers:a1"].source.format == "xlsx"


def test_readers_table_text_column_argument_and_errors(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("who,comment\nx,First comment.\ny,Second one.\n", encoding="utf-8")
    with pytest.raises(IngestError, match="t.csv.*text column"):
        read_documents(p)  # a named file without a text column raises
    wanted = "a table needs a text column (text, response, answer, jawaban, content, transcript) or text_column="
    for read in (read_documents, read_corpus):
        with pytest.raises(IngestError) as info:
            read(p)
        assert wanted in str(info.value) and "t.csv" in str(info.value)
    docs = read_documents(p, text_column="comment", id_column="who")
    assert [d.turn_text(0) for d in docs] == ["First comment.", "Second one."]
    with pytest.raises(IngestError, match="t.csv.*'nope'"):
        read_documents(p, text_column="comment", id_column="nope")
    dup = tmp_path / "dup.csv"
    dup.write_text("id,text\na,one\nb,two\na,three\n", encoding="utf-8")
    with pytest.raises(IngestError, match="dup.csv, line 4: duplicate id 'a'"):
        read_documents(dup, id_column="id")
    with pytest.raises(IngestError, match="use read_documents"):
        read_document(dup)


def test_readers_table_without_text_column_is_skipped_in_folder(tmp_path):
    (tmp_path / "scores.csv").write_text("id,score\n1,2\n", encoding="utf-8")
    (tmp_path / "a.txt").write_text("I: Why?\nR: Because.\n", encoding="utf-8")
    with pytest.warns(IngestWarning, match="scores.csv.*not a document table"):
        corpus = read_corpus(tmp_path)
    assert corpus.doc_ids == ["a"]


def test_readers_malformed_xlsx(tmp_path):
    p = tmp_path / "broken.xlsx"
    p.write_bytes(b"not a spreadsheet at all")
    with pytest.raises(IngestError, match="broken.xlsx"):
        read_documents(p)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ok = tmp_path / "ok.csv"
        ok.write_text("text\nhello there\n", encoding="utf-8")
        assert read_document(ok).doc_id == "ok:1"


def test_readers_csv_row_numbers_when_no_usable_id(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("id,answer\nx,First.\nx,Second.\n", encoding="utf-8")  # ids not unique
    docs = read_documents(p)
    assert [d.doc_id for d in docs] == ["r:1", "r:2"]
    assert [d.turns[0].speaker for d in docs] == ["respondent", "respondent"]
    assert docs[0].attributes == {"id": "x"}
