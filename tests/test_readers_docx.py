"""Word transcripts: bold labels, typed labels, speaker | text tables, bad files."""

from __future__ import annotations

import zipfile

import docx
import pytest

from qualcode.errors import IngestError
from qualcode.readers import read_document


def _turns(doc):
    return [(t.speaker, t.role, doc.text[t.start : t.end], t.time_start) for t in doc.turns]


def _bold_para(d, label, rest, *, split_colon=False):
    p = d.add_paragraph()
    if split_colon:
        p.add_run(label).bold = True
        p.add_run(": " + rest)
    else:
        p.add_run(label + ":").bold = True
        p.add_run(" " + rest)
    return p


def test_readers_docx_bold_and_typed_labels(tmp_path):
    d = docx.Document()
    d.add_heading("Interview 7 (synthetic)", level=1)
    _bold_para(d, "Pewawancara", "Bagaimana program dipilih?")
    _bold_para(d, "Ibu Sari", "Dari nomenklatur kementerian.", split_colon=True)
    d.add_paragraph("Kami hanya menyesuaikan target.")  # continuation
    d.add_paragraph("Pewawancara: Dan data?")  # label typed in the text
    _bold_para(d, "Ibu Sari", "Kami pakai e-monev tiap triwulan.")
    path = tmp_path / "int07.docx"
    d.save(path)
    doc = read_document(path)
    assert doc.source.format == "docx"
    assert doc.language == "id"
    assert _turns(doc) == [
        ("Pewawancara", "interviewer", "Bagaimana program dipilih?", None),
        ("Ibu Sari", "respondent", "Dari nomenklatur kementerian.\nKami hanya menyesuaikan target.", None),
        ("Pewawancara", "interviewer", "Dan data?", None),
        ("Ibu Sari", "respondent", "Kami pakai e-monev tiap triwulan.", None),
    ]
    assert doc.text.startswith("Interview 7 (synthetic)\nPewawancara: Bagaimana")
    heading_end = doc.text.index("\n")
    assert all(t.start > heading_end for t in doc.turns)


def test_readers_docx_bold_label_counts_even_once(tmp_path):
    d = docx.Document()
    _bold_para(d, "Dr. Wulan", "Only once, but bold.")
    d.add_paragraph("Note: plain text with a colon stays text.")
    path = tmp_path / "once.docx"
    d.save(path)
    doc = read_document(path)
    assert [t.speaker for t in doc.turns] == ["Dr. Wulan"]
    assert doc.turn_text(0) == "Only once, but bold.\nNote: plain text with a colon stays text."


@pytest.mark.parametrize("with_time", [False, True])
def test_readers_docx_two_column_table(tmp_path, with_time):
    d = docx.Document()
    d.add_paragraph("Transcript exported by a service")
    rows = [
        ("00:00:03", "Speaker 1", "How are programs chosen in your office?"),
        ("00:00:09", "Speaker 2", "The ministry nomenclature decides most of them."),
        ("00:00:20", "Speaker 1", "And the forum?"),
    ]
    ncols = 3 if with_time else 2
    table = d.add_table(rows=0, cols=ncols)
    header = table.add_row().cells
    names = (["Time"] if with_time else []) + ["Speaker", "Text"]
    for c, n in zip(header, names, strict=True):
        c.text = n
    for t, s, x in rows:
        cells = table.add_row().cells
        vals = ([t] if with_time else []) + [s, x]
        for c, v in zip(cells, vals, strict=True):
            c.text = v
    path = tmp_path / "table.docx"
    d.save(path)
    doc = read_document(path)
    got = _turns(doc)
    assert [g[0] for g in got] == ["Speaker 1", "Speaker 2", "Speaker 1"]
    assert [g[2] for g in got] == [r[2] for r in rows]
    assert "Speaker 2: The ministry nomenclature" in doc.text
    if with_time:
        assert [g[3] for g in got] == [3.0, 9.0, 20.0]
        assert doc.turns[0].time_end == 9.0
    assert "Time" not in doc.text.split("\n")[1]  # header row skipped


def test_readers_docx_corrupt_and_encrypted_name_the_file(tmp_path):
    bad = tmp_path / "corrupt.docx"
    bad.write_bytes(b"PK\x03\x04 this is not really a zip archive" * 3)
    with pytest.raises(IngestError, match="corrupt.docx") as exc:
        read_document(bad)
    assert "not a valid .docx" in str(exc.value)
    enc = tmp_path / "secret.docx"  # encrypted Office files are OLE compound files
    enc.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    with pytest.raises(IngestError, match="secret.docx.*password-protected"):
        read_document(enc)
    zipped = tmp_path / "other.docx"
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("hello.txt", "not a word document")
    with pytest.raises(IngestError, match="other.docx"):
        read_document(zipped)
    empty = tmp_path / "empty.docx"
    empty.write_bytes(b"")
    with pytest.raises(IngestError, match="empty.docx.*empty"):
        read_document(empty)


def test_readers_docx_without_text_is_an_error(tmp_path):
    d = docx.Document()
    d.add_paragraph("")
    path = tmp_path / "blank.docx"
    d.save(path)
    with pytest.raises(IngestError, match="blank.docx.*no text"):
        read_document(path)


def test_readers_docx_front_matter_means_what_it_means_in_text_files(tmp_path):
    d = docx.Document()
    for line in ("---", "doc_id: '  fgd_notes_3 '", "kind: notes", "site: Desa X", "---"):
        d.add_paragraph(line)
    d.add_paragraph("- P1: said the signal is weak after six.")
    d.add_paragraph("- P2 (kader): agreed, and the forms are too long.")
    path = tmp_path / "notes.docx"
    d.save(path)
    doc = read_document(path)
    assert doc.doc_id == "fgd_notes_3"  # stripped, as in .txt/.md front matter
    assert doc.kind == "notes"
    assert dict(doc.attributes).get("site") == "Desa X"
    assert [(t.speaker, t.role) for t in doc.turns] == [("P1", "participant"), ("P2", "participant")]
    assert doc.text[doc.turns[1].start : doc.turns[1].end] == "agreed, and the forms are too long."
