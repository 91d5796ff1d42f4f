"""Pseudonymisation: names replaced in labels and text before parsing, offsets valid."""

from __future__ import annotations

import shutil
from pathlib import Path

import docx
import pytest

from qualcode.errors import ExportError, IngestError
from qualcode.readers import load_pseudonyms, make_pseudonyms, read_corpus, read_document

DATA = Path(__file__).parent / "data" / "readers"


def test_readers_pseudonyms_in_labels_and_text_keep_offsets_valid(tmp_path):
    mapping = tmp_path / "names.csv"
    mapping.write_text("name,pseudonym\nPak Hendra,P01\nHendra,P01\nIbu Sari,P02\nSari,P02\n")
    original = (DATA / "indonesian_fgd.md").read_bytes()
    doc = read_document(DATA / "indonesian_fgd.md", pseudonyms=mapping)
    assert (DATA / "indonesian_fgd.md").read_bytes() == original
    assert doc.speakers == ["Moderator", "P01", "P02", "Peserta 3"]
    assert "Hendra" not in doc.text and "Sari" not in doc.text
    assert doc.attributes["pseudonymised"] is True
    assert doc.turn_text(1) == "Kami tidak pernah diundang ke forum kecamatan."
    seg = read_corpus(DATA / "indonesian_fgd.md", pseudonyms=mapping).segments("sentence")
    for row in seg.itertuples():
        assert doc.text[row.start : row.end] == row.text


def test_readers_pseudonyms_whole_words_case_sensitive_longest_first():
    from qualcode.readers import Pseudonymiser

    tf = Pseudonymiser({"Budi": "P01", "Budi Santoso": "P02", "Ana": "P03"})
    assert tf("Budi Santoso and Budi; Budiman, budi, Ana's and Banana.") == (
        "P02 and P01; Budiman, budi, P03's and Banana."
    )


def test_readers_pseudonyms_vtt_docx_and_yaml(tmp_path):
    y = tmp_path / "names.yaml"
    y.write_text("Budi Santoso: P07\nSari: P08\n")
    doc = read_document(DATA / "meeting.vtt", pseudonyms=y)
    assert doc.speakers == ["Moderator", "P07", "P08"]
    d = docx.Document()
    p = d.add_paragraph()
    p.add_run("Sari:").bold = True
    p.add_run(" I told Sari's team.")
    d.save(tmp_path / "x.docx")
    doc = read_document(tmp_path / "x.docx", pseudonyms={"Sari": "P08"})
    assert doc.speakers == ["P08"] and doc.turn_text(0) == "I told P08's team."


def test_readers_make_pseudonyms_is_stable_and_skips_role_labels(tmp_path):
    root = tmp_path / "c"
    root.mkdir()
    for name in ("indonesian_fgd.md", "meeting.vtt", "interview_labels.txt"):
        shutil.copy(DATA / name, root / name)
    corpus = read_corpus(root)
    out = tmp_path / "key.csv"
    mapping = make_pseudonyms(corpus, out)
    assert mapping == {
        "Pak Hendra": "P01",
        "Ibu Sari": "P02",
        "Budi Santoso": "P03",
        "Sari": "P04",
        "Hendra": "P01",
    }
    assert load_pseudonyms(out) == mapping
    assert make_pseudonyms(read_corpus(root)) == mapping
    with pytest.raises(ExportError, match="already exists"):
        make_pseudonyms(corpus, out)
    again = read_corpus(root, pseudonyms=out)
    assert "Hendra" not in again["fgd_desa"].text
    assert again["fgd_desa"].speakers == ["Moderator", "P01", "P02", "Peserta 3"]


def test_readers_bad_pseudonym_files(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("who,alias\nA,B\n")
    with pytest.raises(IngestError, match="bad.csv.*name,pseudonym"):
        load_pseudonyms(p)
    p.write_text("name,pseudonym\nA,P1\nA,P2\n")
    with pytest.raises(IngestError, match="bad.csv, line 3: .*two pseudonyms"):
        load_pseudonyms(p)
    y = tmp_path / "bad.yaml"
    y.write_text("- a\n- b\n")
    with pytest.raises(IngestError, match="bad.yaml.*mapping"):
        load_pseudonyms(y)
