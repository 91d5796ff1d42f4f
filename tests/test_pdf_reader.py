"""The PDF reader on real PDFs (tests/data/pdf, made by benchmarks/pdf_corpus.py; truth.json
holds what each should yield)."""

from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path

import pytest

import qualcode as qc
from qualcode.errors import IngestError, IngestWarning
from qualcode.readers import page_numbers, page_of, read_corpus, read_document
from qualcode.readers._pdf import join_hyphenated, ocr_available, parse_pdf, pdf_page_texts

DATA = Path(__file__).parent / "data" / "pdf"
TRUTH = json.loads((DATA / "truth.json").read_text(encoding="utf-8"))


def test_pdf_indonesian_text_comes_out_verbatim_with_hyphenation_joined():
    doc = read_document(DATA / "indonesian.pdf")
    assert TRUTH["indonesian.pdf"]["hyphenations"] >= 8  # the fixture does hyphenate
    for para in TRUTH["indonesian.pdf"]["paragraphs"]:
        assert para in doc.text  # whole paragraphs: words rejoined, one line each
    assert "e-monev" in doc.text and "Program-program" in doc.text and "Masing-masing" in doc.text
    assert doc.language == "id"
    assert doc.kind == "other"
    assert {t.speaker for t in doc.turns} == {"unknown"}
    assert doc.source.format == "pdf"
    assert doc.source.sha256 and len(doc.source.sha256) == 64
    assert doc.attributes["pages"] == [0]


@pytest.mark.parametrize("name", ["two_columns.pdf", "two_columns_rows.pdf"])
def test_pdf_two_columns_are_read_column_by_column(name):
    doc = read_document(DATA / name)
    paras = TRUTH[name]["paragraphs"]
    where = [doc.text.find(p) for p in paras]
    assert -1 not in where, [p[:30] for p, w in zip(paras, where, strict=True) if w < 0]
    assert where == sorted(where)  # left column (2 paragraphs), then the right column


def test_pdf_transcript_gets_turns_roles_and_pages_like_a_txt():
    doc = read_document(DATA / "transcript.pdf")
    truth = TRUTH["transcript.pdf"]
    assert doc.kind == "interview"
    assert [(t.speaker, doc.turn_text(i)) for i, t in enumerate(doc.turns)] == [tuple(x) for x in truth["turns"]]
    assert [t.role for t in doc.turns[:2]] == ["interviewer", "respondent"]
    assert [page_of(doc, t.start) for t in doc.turns] == truth["page_of_turn"]
    pages = doc.attributes["pages"]
    assert len(pages) == 2 and pages[0] == 0
    assert page_numbers(doc, [t.start for t in doc.turns]).tolist() == truth["page_of_turn"]
    # the blank line between two pages belongs to the earlier page; the page starts with text
    assert page_of(doc, pages[1] - 1) == 1 and doc.text[pages[1]].strip()


def test_page_of_on_documents_without_pages_and_bad_offsets():
    doc = qc.Document("plain", "I: hi\nR: hello")
    assert page_of(doc, 3) is None
    assert page_numbers(doc, [0, 3]).tolist() == [0, 0]
    paged = qc.Document("p", "one\n\ntwo\n\nthree", attributes={"pages": [0, 5, 10]})
    assert [page_of(paged, o) for o in (0, 4, 5, 9, 10, 14)] == [1, 1, 2, 2, 3, 3]
    assert page_of(paged, -1) is None
    assert page_numbers(paged, [-1, 0, 12]).tolist() == [0, 1, 3]


def test_pdf_scanned_page_without_ocr_is_skipped_with_a_warning_naming_file_and_page():
    path = DATA / "scanned.pdf"
    with pytest.warns(IngestWarning, match=r"scanned.pdf: page 2 has no text layer.*skipped"):
        parsed = parse_pdf(path, doc_id="scanned", ocr=False)
    assert parsed.attributes["pages_without_text"] == [2]
    starts = parsed.attributes["pages"]
    assert len(starts) == 3 and starts[1] == starts[2]  # the empty page starts where page 3 does
    # page 3 starts with its paragraph ("Halaman N" titles are dropped as running headers)
    assert parsed.text[starts[2]:].startswith("Program-program yang dijalankan")
    assert "Halaman" not in parsed.text
    assert "Hasil musyawarah" not in parsed.text


@pytest.mark.skipif(not ocr_available()[0], reason="pytesseract / tesseract (ind, eng) not installed")
def test_pdf_scanned_page_is_read_through_tesseract_when_installed():
    with pytest.warns(IngestWarning, match=r"page 2 has no text layer \(scanned\); read through OCR"):
        doc = read_document(DATA / "scanned.pdf")
    assert doc.attributes["pages_ocr"] == [2]
    start = doc.text.lower().index("hasil musyawarah perencanaan pembangunan")
    assert page_of(doc, start) == 2
    assert "posyandu" in doc.text
    assert page_of(doc, doc.text.index("Program-program yang dijalankan")) == 3


def test_pdf_ocr_demanded_but_missing_or_present(monkeypatch):
    import qualcode.readers._pdf as pdfmod

    monkeypatch.setattr(pdfmod, "ocr_available", lambda: (False, "pytesseract is not installed"))
    with pytest.raises(IngestError, match="scanned.pdf: OCR was asked for but is not available"):
        pdf_page_texts(DATA / "scanned.pdf", ocr=True)


def test_pdf_with_a_user_password_gives_a_one_line_error():
    with pytest.raises(IngestError) as exc:
        read_document(DATA / "encrypted.pdf")
    msg = str(exc.value)
    assert msg.startswith(str(DATA / "encrypted.pdf") + ": ")
    assert "encrypted with a password" in msg and "\n" not in msg


def test_pdf_encrypted_without_user_password_is_read():
    doc = read_document(DATA / "owner_only.pdf")
    assert TRUTH["owner_only.pdf"]["paragraphs"][0] in doc.text


@pytest.mark.parametrize(
    ("name", "data", "match"),
    [
        ("garbage.pdf", None, "not a valid PDF"),
        ("zip.pdf", b"PK\x03\x04" + b"\x00" * 200, "not a PDF file"),
        ("empty.pdf", b"", "empty"),
        ("truncated.pdf", "half", "not a valid PDF"),
    ],
)
def test_pdf_broken_files_give_one_line_errors(tmp_path, name, data, match):
    p = tmp_path / name
    if data is None:
        shutil.copy(DATA / "broken.pdf", p)
    elif data == "half":
        raw = (DATA / "transcript.pdf").read_bytes()
        p.write_bytes(raw[: len(raw) // 3])
    else:
        p.write_bytes(data)
    with pytest.raises(IngestError, match=match) as exc:
        read_document(p)
    assert exc.value.path == str(p)
    assert "\n" not in str(exc.value)


def test_pdf_regular_files_only_and_size_limit(tmp_path, monkeypatch):
    d = tmp_path / "folder.pdf"
    d.mkdir()
    with pytest.raises(IngestError, match="folder.pdf: is a directory"):
        read_document(d)
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "pipe.pdf"
        os.mkfifo(fifo)
        with pytest.raises(IngestError, match="pipe.pdf: not a regular file"):
            read_document(fifo)
    import qualcode.readers._pdf as pdfmod

    monkeypatch.setattr(pdfmod, "MAX_PDF_BYTES", 10_000)
    with pytest.raises(IngestError, match="transcript.pdf: the PDF is .* above the 0 MiB limit"):
        read_document(DATA / "transcript.pdf")


def test_pdf_input_file_is_not_modified(tmp_path):
    p = tmp_path / "t.pdf"
    shutil.copy(DATA / "transcript.pdf", p)
    before = p.read_bytes(), p.stat().st_mtime_ns
    read_document(p)
    assert (p.read_bytes(), p.stat().st_mtime_ns) == before


def test_pdf_pseudonyms_apply_and_pages_stay_consistent():
    doc = read_document(DATA / "transcript.pdf", pseudonyms={"Narasumber": "R1"})
    assert doc.speakers == ["Pewawancara", "R1"]
    assert doc.attributes["pseudonymised"] is True
    assert [page_of(doc, t.start) for t in doc.turns] == TRUTH["transcript.pdf"]["page_of_turn"]


def test_read_corpus_reads_a_mixed_folder_of_pdf_docx_and_txt(tmp_path, sample_dir):
    shutil.copy(DATA / "transcript.pdf", tmp_path / "int_pdf.pdf")
    shutil.copy(sample_dir / "tp05_dprd_city_member.docx", tmp_path / "int_docx.docx")
    (tmp_path / "int_txt.txt").write_text("I: Why?\nR: Because the ministry says so.\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error", IngestWarning)  # no "cannot read .pdf" any more
        corpus = read_corpus(tmp_path)
    assert sorted(d.doc_id for d in corpus) == ["int_docx", "int_pdf", "int_txt"]
    pdf_doc = next(d for d in corpus if d.doc_id == "int_pdf")
    assert pdf_doc.source.format == "pdf" and len(pdf_doc.attributes["pages"]) == 2
    assert "pages" not in corpus.cases.columns  # the page list is no case attribute
    seg = corpus.segments("sentence")
    assert len(seg[seg.doc_id == "int_pdf"]) >= 10


def test_read_corpus_skips_a_broken_pdf_with_a_warning(tmp_path):
    shutil.copy(DATA / "broken.pdf", tmp_path / "broken.pdf")
    (tmp_path / "ok.txt").write_text("I: Why?\nR: Because.\n", encoding="utf-8")
    with pytest.warns(IngestWarning, match="skipped: .*broken.pdf: not a valid PDF"):
        corpus = read_corpus(tmp_path)
    assert [d.doc_id for d in corpus] == ["ok"]


def test_pdf_running_headers_and_footers_are_dropped(tmp_path):
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF()
    pdf.set_font("Helvetica", size=11)
    for n in range(1, 5):
        pdf.add_page()
        pdf.text(20, 12, "RPJMD Provinsi A 2019-2023 (SYNTHETIC)")
        pdf.text(20, 60, f"Isi halaman {n} membahas program daerah nomor {n}.")
        pdf.text(100, 290, f"Halaman {n} dari 4")
    pdf.output(str(tmp_path / "report.pdf"))
    doc = read_document(tmp_path / "report.pdf")
    assert "RPJMD Provinsi A" not in doc.text and "dari 4" not in doc.text
    assert [page_of(doc, doc.text.index(f"Isi halaman {n}")) for n in range(1, 5)] == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("prev", "nxt", "joined"),
    [
        ("perencanaan pemba-", "ngunan daerah", "perencanaan pembangunan daerah"),
        ("Program-", "program yang", "Program-program yang"),
        ("sistem e-", "monev membandingkan", "sistem e-monev membandingkan"),
        ("kerja sama antar-", "Kementerian", None),
        ("tahun 2019-", "2023", None),
    ],
)
def test_join_hyphenated(prev, nxt, joined):
    assert join_hyphenated(prev, nxt) == joined
