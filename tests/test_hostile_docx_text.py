"""Text a word processor shows is never dropped without a word (issue 16).

Hyperlinks in a paragraph with a bold speaker label, tracked insertions, content controls
(run- and block-level), smart tags and simple fields were silently lost from .docx files; text
boxes and notes are now named in a warning; an unterminated CSV quote no longer merges rows.
"""

from __future__ import annotations

import io
import warnings
import zipfile

import pytest

import qualcode as qc
from qualcode.errors import IngestError, IngestWarning
from qualcode.readers import read_documents

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _docx_with_body(tmp_path, body: str, name: str = "t.docx"):
    import docx

    d = docx.Document()
    d.add_paragraph("placeholder")
    buf = io.BytesIO()
    d.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    xml = src.read("word/document.xml").decode()
    start = xml.index("<w:body>") + len("<w:body>")
    end = xml.index("<w:sectPr")
    xml = xml[:start] + body + xml[end:]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, xml if info.filename == "word/document.xml" else src.read(info.filename))
    f = tmp_path / name
    f.write_bytes(out.getvalue())
    return f


def r(text, bold=False):
    rpr = "<w:rPr><w:b/></w:rPr>" if bold else ""
    return f'<w:r>{rpr}<w:t xml:space="preserve">{text}</w:t></w:r>'


BODY = (
    f"<w:p>{r('Ana:', True)}{r(' see ')}<w:hyperlink w:anchor='x'>{r('the portal')}</w:hyperlink>{r(' today.')}</w:p>"
    f"<w:p>{r('Budi:', True)}{r(' we ')}<w:ins w:id='1' w:author='a'>{r('really ')}</w:ins>"
    f"<w:del w:id='2' w:author='a'><w:r><w:delText>never </w:delText></w:r></w:del>{r('agree.')}</w:p>"
    f"<w:p>{r('Ana: ')}<w:sdt><w:sdtPr/><w:sdtContent>{r('inside a control')}</w:sdtContent></w:sdt></w:p>"
    f"<w:sdt><w:sdtPr/><w:sdtContent><w:p>{r('Budi: a block control')}</w:p></w:sdtContent></w:sdt>"
    f"<w:p>{r('Ana: in ')}<w:smartTag w:uri='urn:x' w:element='place'>{r('Jakarta')}</w:smartTag>{r(' now.')}</w:p>"
    f"<w:p>{r('Budi: page ')}<w:fldSimple w:instr=' PAGE '>{r('7')}</w:fldSimple>{r(' of the plan.')}</w:p>"
)


def test_hostile_docx_keeps_hyperlinks_insertions_controls_smarttags_and_fields(tmp_path):
    doc = qc.read_document(_docx_with_body(tmp_path, BODY))
    turns = [(t.speaker, doc.text[t.start : t.end]) for t in doc.turns]
    assert turns == [
        ("Ana", "see the portal today."),
        ("Budi", "we really agree."),
        ("Ana", "inside a control"),
        ("Budi", "a block control"),
        ("Ana", "in Jakarta now."),
        ("Budi", "page 7 of the plan."),
    ]
    assert "never" not in doc.text


def test_hostile_docx_table_cells_keep_controls_and_nested_tables(tmp_path):
    cell = lambda inner: f"<w:tc><w:tcPr/>{inner}</w:tc>"  # noqa: E731
    nested = f"<w:tbl><w:tr>{cell('<w:p>' + r('nested words') + '</w:p>')}</w:tr></w:tbl><w:p/>"
    body = (
        "<w:tbl><w:tblPr/><w:tblGrid><w:gridCol/><w:gridCol/></w:tblGrid>"
        f"<w:tr>{cell('<w:p>' + r('Ana') + '</w:p>')}{cell('<w:sdt><w:sdtContent><w:p>' + r('A long answer about the budget.') + '</w:p></w:sdtContent></w:sdt>')}</w:tr>"
        f"<w:tr>{cell('<w:p>' + r('Budi') + '</w:p>')}{cell('<w:p>' + r('Another answer with') + '</w:p>' + nested)}</w:tr>"
        "</w:tbl>"
    )
    doc = qc.read_document(_docx_with_body(tmp_path, body))
    assert "A long answer about the budget." in doc.text
    assert "nested words" in doc.text


def test_hostile_docx_names_text_boxes_it_does_not_read(tmp_path):
    box = (
        "<w:p><w:r><w:pict><v:shape xmlns:v='urn:schemas-microsoft-com:vml'><v:textbox><w:txbxContent>"
        f"<w:p>{r('boxed text')}</w:p></w:txbxContent></v:textbox></v:shape></w:pict></w:r></w:p>"
    )
    f = _docx_with_body(tmp_path, f"<w:p>{r('Ana: hello there.')}</w:p>" + box)
    with pytest.warns(IngestWarning, match=r"t\.docx: not read: the text of 1 text box"):
        doc = qc.read_document(f)
    assert "boxed text" not in doc.text and "hello there." in doc.text


def test_hostile_csv_unterminated_quote_does_not_merge_rows(tmp_path):
    f = tmp_path / "survey.csv"
    f.write_text('id,text\n1,"We follow the list.\n2,Budgets come late.\n3,Nobody asks.\n')
    with pytest.raises(IngestError, match=r"survey\.csv, line 2: .*quote.*never closed"):
        read_documents(f)


def test_hostile_csv_quoted_multiline_cells_still_work(tmp_path):
    f = tmp_path / "ok.csv"
    f.write_text('id,text\n1,"We follow\nthe list."\n2,Budgets come late.\n')
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        docs = read_documents(f)
    assert [d.text for d in docs] == ["We follow\nthe list.", "Budgets come late."]
