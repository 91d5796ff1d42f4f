"""PDF sources end to end (issue 14, phase B): pages in codings.csv, the framework matrix, the
reports and REFI-QDA (PDFSource with a plain-text representation).

The folder coded here mixes PDF, docx and txt: an interview transcript of the sample set in a
PDF of three pages with fpdf2 (a turn runs over the first page break), the SYNTHETIC
province planning document of the sample (``transcripts_sample/programs``), and two sample
transcripts as they are (.docx, .txt).  Every page number qualcode gives is checked against
the page on which pdfplumber, read independently of qualcode's reader (pdfminer.six with its
own reading order), finds the quoted text.
"""

from __future__ import annotations

import html
import re
import shutil
import sys
import warnings
import zipfile
from bisect import bisect_right
from pathlib import Path

import docx
import pandas as pd
import pdfplumber
import pytest
from lxml import etree

import qualcode as qc
from qualcode import matrices
from qualcode.cli import main
from qualcode.codings import page_columns, page_label
from qualcode.errors import CodingsError, QualcodeWarning
from qualcode.readers import page_of
from qualcode.readers._pages import check_page_starts, find_page_starts
from qualcode.refi import read_qdpx, validate_project, write_qdpx

sys.path.insert(0, str(Path(__file__).parent))
from _qualcoder_refi import qualcoder_import  # noqa: E402

fpdf = pytest.importorskip("fpdf")

NS = "urn:QDA-XML:project:1.0"
Q = f"{{{NS}}}"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")
PDF_DOC = "tp02_health_planner"  # the transcript set in a PDF
PLAN_DOC = "province_programs"  # the sample's planning document
#: a passage of the transcript PDF that runs from page 1 onto page 2
ACROSS = "I think if we had put the money in fifty-one kelurahan they would also have accepted it."


def transcript_pdf(text_file: Path, out: Path) -> None:
    """Set a sample transcript in an A4 PDF (11 pt, paragraphs as in the .txt, pages as they fall)."""
    pdf = fpdf.FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_title("SYNTHETIC transcript set in a PDF by qualcode's tests")
    if FONT.is_file():
        pdf.add_font("Body", "", str(FONT))
        pdf.set_font("Body", size=11)
    else:  # core font (latin-1): enough for this transcript
        pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    for para in text_file.read_text(encoding="utf-8").split("\n\n"):
        if para.strip():
            pdf.multi_cell(0, 5.5, para.strip(), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2.5)
    pdf.output(str(out))


def _norm(text: str) -> str:
    return " ".join(text.split())


class PlumberPages:
    """The text of each page as pdfplumber extracts it: the independent witness of the pages."""

    def __init__(self, path: Path):
        with pdfplumber.open(path) as pdf:
            self.raw = [p.extract_text() or "" for p in pdf.pages]
        self.pages = [_norm(t) for t in self.raw]
        self.joined = " ".join(self.pages)
        self.bounds = []
        at = 0
        for t in self.pages:
            self.bounds.append(at)
            at += len(t) + 1

    def locate(self, quote: str) -> tuple[int, int] | None:
        """(first page, last page) of the only place ``quote`` occurs, or None."""
        q = _norm(quote)
        i = self.joined.find(q)
        if not q or i < 0 or self.joined.find(q, i + 1) >= 0:
            return None
        return bisect_right(self.bounds, i), bisect_right(self.bounds, i + len(q) - 1)


@pytest.fixture(scope="module")
def folder(tmp_path_factory, sample_dir) -> Path:
    """A folder of PDF (2), docx and txt sources with a cases.csv putting them in the study."""
    d = tmp_path_factory.mktemp("mixed") / "sources"
    d.mkdir()
    transcript_pdf(sample_dir / "tp02_opd_health_city_planner.txt", d / f"{PDF_DOC}.pdf")
    shutil.copy(sample_dir / "programs" / f"{PLAN_DOC}.pdf", d)
    shutil.copy(sample_dir / "tp05_dprd_city_member.docx", d)
    shutil.copy(sample_dir / "tp01_bappeda_province_planner.txt", d)
    levels = {PDF_DOC: "city", PLAN_DOC: "province", "tp05_dprd_city_member": "city",
              "tp01_bappeda_province_planner": "province"}
    rows = "".join(f"{doc},{doc},technocratic_planning,{level}\n" for doc, level in levels.items())
    (d / "cases.csv").write_text("case_id,doc_id,study,gov_level\n" + rows, encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def plumber(folder) -> dict[str, PlumberPages]:
    return {doc: PlumberPages(folder / f"{doc}.pdf") for doc in (PDF_DOC, PLAN_DOC)}


@pytest.fixture(scope="module")
def corpus(folder):
    return qc.read_corpus(folder)


@pytest.fixture(scope="module")
def results(folder, codebooks_dir, tmp_path_factory) -> Path:
    """``qualcode code`` on the mixed folder (rules and embeddings, default settings)."""
    out = tmp_path_factory.mktemp("job") / "results"
    assert main(["code", str(folder), "--codebook", str(codebooks_dir / "technocratic_planning.yaml"),
                 "--out", str(out), "--no-progress"]) == 0
    return out


@pytest.fixture(scope="module")
def codings_csv(results) -> pd.DataFrame:
    return pd.read_csv(results / "codings.csv", keep_default_na=False)


def test_fixture_pdf_has_three_pages_and_a_turn_across_the_first_break(corpus, plumber):
    doc = corpus[PDF_DOC]
    assert len(plumber[PDF_DOC].pages) == 3 and len(doc.attributes["pages"]) == 3
    assert plumber[PDF_DOC].locate(ACROSS) == (1, 2)  # pdfplumber: the passage starts on p. 1, ends on p. 2


# ---------------------------------------------------------------- qualcode ingest
def test_ingest_reads_the_mixed_folder_and_lists_pages_and_segment_pages(folder, plumber, tmp_path, capsys):
    seg_path = tmp_path / "segments.csv"
    assert main(["ingest", str(folder), "--segments", str(seg_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["doc_id", "format", "language", "kind", "pages", "speakers", "turns", "sentences", "words"]
    rows = {ln.split()[0]: ln.split() for ln in lines[2:] if not ln.startswith("total")}
    assert {k: v[1] for k, v in rows.items() if k in (PDF_DOC, PLAN_DOC, "tp05_dprd_city_member",
                                                         "tp01_bappeda_province_planner")} == {
        PDF_DOC: "pdf", PLAN_DOC: "pdf", "tp05_dprd_city_member": "docx", "tp01_bappeda_province_planner": "txt"}
    for doc in (PDF_DOC, PLAN_DOC):
        assert rows[doc][4] == str(len(plumber[doc].pages))  # the pages column
    seg = pd.read_csv(seg_path, keep_default_na=False)
    assert list(seg.columns[seg.columns.get_loc("end") + 1:][:2]) == ["page", "page_end"]
    assert (seg.loc[~seg["doc_id"].isin([PDF_DOC, PLAN_DOC]), ["page", "page_end"]] == "").all().all()
    checked = 0
    for r in seg[seg["doc_id"].isin([PDF_DOC, PLAN_DOC])].itertuples():
        where = plumber[r.doc_id].locate(r.text)
        if where is not None:  # short sentences may occur twice; those are not a witness
            assert (int(r.page), int(r.page_end)) == where, (r.doc_id, r.text[:60])
            checked += 1
    assert checked >= 50


# ---------------------------------------------------------------- codings.csv
def test_codings_csv_cites_the_page_each_quote_of_a_pdf_is_on(codings_csv, plumber):
    f = codings_csv
    assert list(f.columns[f.columns.get_loc("evidence") + 1:][:2]) == ["page", "page_end"]
    pdf_rows = f[f["doc_id"].isin([PDF_DOC, PLAN_DOC])]
    assert len(pdf_rows[pdf_rows["doc_id"] == PDF_DOC]) >= 5 and len(pdf_rows[pdf_rows["doc_id"] == PLAN_DOC]) >= 1
    for r in pdf_rows.itertuples():  # every quote of a PDF: on the page pdfplumber finds it on
        assert plumber[r.doc_id].locate(r.text) == (int(r.page), int(r.page_end)), (r.doc_id, r.start, r.text[:60])
    assert {int(p) for p in pdf_rows.loc[pdf_rows["doc_id"] == PDF_DOC, "page"]} >= {1, 2}
    others = f[~f["doc_id"].isin([PDF_DOC, PLAN_DOC])]
    assert len(others) and (others[["page", "page_end"]] == "").all().all()  # docx and txt: no pages


def test_read_codings_round_trip_keeps_the_page_columns(results, codings_csv, corpus, tmp_path):
    want = codings_csv[["page", "page_end"]].replace("", None).astype("Int64")
    alone = qc.read_codings(results / "codings.csv").to_frame()  # no corpus: the file's pages
    with_corpus = qc.read_codings(results / "codings.csv", corpus).to_frame()  # computed again
    for got in (alone, with_corpus):
        assert str(got["page"].dtype) == "Int64" and str(got["page_end"].dtype) == "Int64"
        pd.testing.assert_frame_equal(got[["page", "page_end"]], want, check_names=False)
    # written again and read back: the same
    qc.read_codings(results / "codings.csv", corpus).to_csv(tmp_path / "again.csv")
    again = pd.read_csv(tmp_path / "again.csv", keep_default_na=False)
    assert (again[["page", "page_end"]].astype(str).values == codings_csv[["page", "page_end"]].astype(str).values).all()
    # a codings file from before pages (no page columns) gets them from the corpus
    old = tmp_path / "old.csv"
    codings_csv.drop(columns=["page", "page_end"]).to_csv(old, index=False)
    got = qc.read_codings(old, corpus).to_frame()
    pd.testing.assert_frame_equal(got[["page", "page_end"]], want, check_names=False)
    assert "page" not in qc.read_codings(old).to_frame().columns  # and nothing without a corpus


def test_read_codings_names_the_row_of_a_bad_page(corpus, tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text(f"doc_id,code,start,end,page\n{PDF_DOC},x,0,10,1\n{PDF_DOC},x,10,20,two\n{PDF_DOC},x,20,30,0\n",
                 encoding="utf-8")
    with pytest.raises(CodingsError, match=r"(?s)row 3: page must be a whole page number.*'two'.*row 4: page"):
        qc.read_codings(p)


def test_a_human_quote_across_a_page_break_is_cited_with_both_pages(corpus, plumber, tmp_path):
    p = tmp_path / "human.csv"
    p.write_text(f'doc_id,code,quote,coder\n{PDF_DOC},convergence_local_room,"{ACROSS}",ana\n', encoding="utf-8")
    f = qc.read_codings(p, corpus).to_frame()
    assert (int(f.loc[0, "page"]), int(f.loc[0, "page_end"])) == plumber[PDF_DOC].locate(ACROSS) == (1, 2)
    doc = corpus[PDF_DOC]
    assert page_of(doc, int(f.loc[0, "start"])) == 1 and page_of(doc, int(f.loc[0, "end"]) - 1) == 2


# ---------------------------------------------------------------- framework matrix and reports
_QUOTE = re.compile(r"\u201c(.*?)\u201d \[([^\]]*)\]", re.DOTALL)


def _cited_pages(citation: str) -> tuple[int, int] | None:
    m = re.search(r"pp?\. (\d+)(?:\u2013(\d+))?$", citation)
    if m is None:
        return None
    return int(m.group(1)), int(m.group(2) or m.group(1))


def _check_quote(plumber: dict[str, PlumberPages], doc: str, text: str, cited: tuple[int, int] | None) -> bool:
    """The cited pages are those pdfplumber finds the quote on (a cut quote: its beginning)."""
    text = text.removesuffix("\u2026")
    where = plumber[doc].locate(text)
    assert where is not None, (doc, text[:60])
    assert cited is not None and cited[0] == where[0], (doc, text[:60], cited, where)
    if not text.endswith("\u2026"):
        assert cited == where, (doc, text[:60], cited, where)
    return True


def test_framework_matrix_sheet_cites_pages_of_pdf_quotes(results, plumber):
    fm = pd.read_excel(results / "matrices.xlsx", sheet_name="framework matrix", index_col=0).fillna("")
    n = {PDF_DOC: 0, PLAN_DOC: 0, "text": 0}
    for case, row in fm.iterrows():
        for cell in row:
            for text, citation in _QUOTE.findall(str(cell)):
                doc = citation.split(" ", 1)[0].rstrip(",")
                if doc in plumber:
                    assert case == doc
                    assert _check_quote(plumber, doc, text, _cited_pages(citation))
                    n[doc] += 1
                else:
                    assert "p. " not in citation, citation  # docx and txt quotes: no page
                    n["text"] += 1
    assert n[PDF_DOC] >= 5 and n[PLAN_DOC] >= 1 and n["text"] >= 5


def test_html_and_docx_reports_cite_pages_beside_pdf_quotes(results, plumber):
    page = html.unescape((results / "report.html").read_text(encoding="utf-8"))
    found = re.findall(r"<blockquote>\u201c(.*?)\u201d<br><span class='src'>\u2014 [^,]*, ([^<(]*?) \(case", page, re.DOTALL)
    document = docx.Document(str(results / "report.docx"))
    quotes = [p.text for p in document.paragraphs if p.style.name == "Quote"]
    from_docx = [m.groups() for m in (re.match(r"\u201c(.*)\u201d \u2014 [^,]*, (.*?) \(case", q, re.DOTALL) for q in quotes) if m]
    assert len(from_docx) == len(quotes) and sorted(from_docx) == sorted(found)
    n_pdf = 0
    for text, where in found:
        doc = where.split(",")[0]
        if doc in plumber:
            assert _check_quote(plumber, doc, text, _cited_pages(where.split(", ", 1)[1]))
            n_pdf += 1
        else:
            assert where == doc  # no page beside a quote from a txt or docx
    assert n_pdf >= 3


def test_matrices_and_report_carry_a_quote_across_pages(corpus, results, codebooks_dir, tmp_path):
    cb = qc.Codebook.load(codebooks_dir / "technocratic_planning.yaml")
    p = tmp_path / "human.csv"
    p.write_text(f'doc_id,code,quote,coder\n{PDF_DOC},convergence_local_room,"{ACROSS}",ana\n', encoding="utf-8")
    human = qc.read_codings(p, corpus)
    machine = qc.read_codings(results / "codings.csv", corpus)
    both = human + machine
    fm = matrices.framework_matrix(both, corpus, codebook=cb)
    first = fm.loc[PDF_DOC, "convergence_local_room"].split("\n")[0]  # human quotes come first
    assert first.endswith(", pp. 1\u20132]") and _norm(ACROSS)[:40] in _norm(first)
    rows = matrices.cell(fm, PDF_DOC, "convergence_local_room")
    assert list(rows.columns[rows.columns.get_loc("turn") + 1:][:2]) == ["page", "page_end"]
    assert (int(rows.loc[0, "page"]), int(rows.loc[0, "page_end"])) == (1, 2)
    report, _ = qc.reports.build_report(corpus, cb, both, settings={}, quotes=3)
    section = next(s for s in report.sections if s.code == "convergence_local_room")
    assert any(q.where == f"{PDF_DOC}, pp. 1\u20132" for q in section.quotes)
    qc.reports.write_html(tmp_path / "r.html", report)
    assert f"{PDF_DOC}, pp. 1\u20132 (case" in html.unescape((tmp_path / "r.html").read_text(encoding="utf-8"))


# ---------------------------------------------------------------- REFI-QDA
@pytest.fixture(scope="module")
def qdpx(folder, results, codebooks_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("refi") / "mixed.qdpx"
    assert main(["export", str(folder), "--codebook", str(codebooks_dir / "technocratic_planning.yaml"),
                 "--codings", str(results / "codings.csv"), "--qdpx", str(out)]) == 0
    return out


def _qde(path: Path) -> etree._Element:
    with zipfile.ZipFile(path) as zf:
        return etree.fromstring(zf.read("project.qde"))


def test_export_writes_pdf_sources_with_their_pdf_and_a_plain_text_representation(qdpx, folder, corpus, codings_csv):
    root = _qde(qdpx)
    assert validate_project(root) == []  # against the REFI-QDA 1.5 Project.xsd
    pdfs = {el.get("name"): el for el in root.iter(Q + "PDFSource")}
    texts = {el.get("name") for el in root.findall(f"{Q}Sources/{Q}TextSource")}
    assert set(pdfs) == {PDF_DOC, PLAN_DOC} and texts == {"tp05_dprd_city_member", "tp01_bappeda_province_planner"}
    with zipfile.ZipFile(qdpx) as zf:
        for name, el in pdfs.items():
            path = el.get("path")
            assert re.fullmatch(r"internal://[0-9a-f-]{36}\.pdf", path)
            assert zf.read("sources/" + path.split("://")[1]) == (folder / f"{name}.pdf").read_bytes()
            (rep,) = el.findall(Q + "Representation")
            assert zf.read("sources/" + rep.get("plainTextPath").split("://")[1]).decode("utf-8") == corpus[name].text
            sels = rep.findall(Q + "PlainTextSelection")
            assert len(sels) == int((codings_csv["doc_id"] == name).sum())
            for s in sels:
                assert corpus[name].text[int(s.get("startPosition")):int(s.get("endPosition"))] == s.get("name")
            assert not el.findall(Q + "PlainTextSelection")  # selections live on the representation only
            assert "pages:" in el.find(Q + "Description").text  # page starts in the qualcode block


def test_import_reads_pdf_sources_back_with_pages_and_codings(qdpx, corpus, codings_csv):
    p = read_qdpx(qdpx)
    for name in (PDF_DOC, PLAN_DOC):
        d = p.corpus[name]
        assert d.source.format == "pdf" and d.text == corpus[name].text and d.turns == corpus[name].turns
        assert d.attributes["pages"] == corpus[name].attributes["pages"]
    key = ["doc_id", "start", "end", "code", "coder"]
    got = p.codings.to_frame().sort_values(key).reset_index(drop=True)
    want = codings_csv.sort_values(key).reset_index(drop=True)
    assert got[key].astype(str).values.tolist() == want[key].astype(str).values.tolist()
    for col in ("page", "page_end"):
        assert [None if pd.isna(v) else int(v) for v in got[col]] == [int(v) if v != "" else None for v in want[col]]


def _rezip(src: Path, dst: Path, root: etree._Element, replace: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            data = etree.tostring(root, xml_declaration=True, encoding="UTF-8") if name == "project.qde" else zin.read(name)
            zout.writestr(name, (replace or {}).get(name, data))
    return dst


def test_import_finds_the_pages_from_the_pdf_when_the_qualcode_block_is_gone(qdpx, corpus, tmp_path):
    root = _qde(qdpx)
    for el in root.iter(Q + "PDFSource"):  # as another tool may write it back: no qualcode block
        el.remove(el.find(Q + "Description"))
    p = read_qdpx(_rezip(qdpx, tmp_path / "bare.qdpx", root))
    for name in (PDF_DOC, PLAN_DOC):
        assert p.corpus[name].attributes["pages"] == corpus[name].attributes["pages"], name
    f = p.codings.to_frame()
    assert f.loc[f["doc_id"] == PDF_DOC, "page"].notna().all()


def test_import_finds_the_pages_of_another_tools_representation(folder, plumber, tmp_path):
    """A PDFSource whose representation is pdfplumber's text (as another tool would extract it)."""
    pages = plumber[PDF_DOC].raw
    text = "\n".join(pages)
    starts = [sum(len(t) + 1 for t in pages[:i]) for i in range(len(pages))]
    phrase = "For the first time the staff could see"
    at = text.index(phrase)
    qde = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="{NS}" name="t" origin="another tool">
  <Users><User guid="00000000-0000-4000-8000-000000000001" name="ana"/></Users>
  <CodeBook><Codes><Code guid="00000000-0000-4000-8000-000000000002" name="learning" isCodable="true"/></Codes></CodeBook>
  <Sources>
    <PDFSource guid="00000000-0000-4000-8000-000000000003" name="interview.pdf" path="internal://00000000-0000-4000-8000-000000000003.pdf">
      <Representation guid="00000000-0000-4000-8000-000000000004" plainTextPath="internal://00000000-0000-4000-8000-000000000004.txt">
        <PlainTextSelection guid="00000000-0000-4000-8000-000000000005" startPosition="{at}" endPosition="{at + len(phrase)}" creatingUser="00000000-0000-4000-8000-000000000001">
          <Coding guid="00000000-0000-4000-8000-000000000006"><CodeRef targetGUID="00000000-0000-4000-8000-000000000002"/></Coding>
        </PlainTextSelection>
      </Representation>
      <PDFSelection guid="00000000-0000-4000-8000-000000000007" page="0" firstX="10" firstY="10" secondX="90" secondY="90">
        <Coding guid="00000000-0000-4000-8000-000000000008"><CodeRef targetGUID="00000000-0000-4000-8000-000000000002"/></Coding>
      </PDFSelection>
    </PDFSource>
  </Sources>
</Project>"""
    path = tmp_path / "other.qdpx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.qde", qde)
        zf.writestr("sources/00000000-0000-4000-8000-000000000003.pdf", (folder / f"{PDF_DOC}.pdf").read_bytes())
        zf.writestr("sources/00000000-0000-4000-8000-000000000004.txt", text.encode("utf-8"))
    with pytest.warns(Warning, match=r"1 coding\(s\) of PDF page areas \(PDFSelection\) not imported"):
        p = read_qdpx(path)
    doc = p.corpus["interview"]
    assert doc.source.format == "pdf" and doc.text == text
    assert doc.attributes["pages"] == starts  # this PDF has no running headers: exactly pdfplumber's pages
    f = p.codings.to_frame()
    assert f[["start", "end", "page", "page_end"]].astype(int).values.tolist() == [[at, at + len(phrase), 2, 2]]


def test_qualcoder_imports_our_pdf_sources_with_the_pdf_and_every_coding(qdpx, folder, corpus, codings_csv):
    db = qualcoder_import(qdpx)
    assert not [m for m in db.messages if "Cannot" in m], db.messages
    for name in (PDF_DOC, PLAN_DOC):
        assert db.pdfs[f"{name}.pdf"] == (folder / f"{name}.pdf").read_bytes()
        ((fid, fulltext, media),) = db.rows("select id, fulltext, mediapath from source where name=?", f"{name}.pdf")
        assert fulltext == corpus[name].text and media == f"/docs/{name}.pdf"
        got = sorted(db.rows("select pos0, pos1, seltext from code_text where fid=?", fid))
        want = sorted((int(r.start), int(r.end), corpus[name].text[r.start:r.end])
                      for r in codings_csv[codings_csv["doc_id"] == name].itertuples())
        assert got == want
        links = db.rows("select value from attribute where attr_type='file' and name='case_id' and id=?", fid)
        assert links == [(corpus[name].case_id,)]


def test_a_pdf_whose_file_is_gone_or_that_was_pseudonymised_is_exported_as_text(folder, tmp_path, codebooks_dir):
    cb = qc.Codebook.load(codebooks_dir / "technocratic_planning.yaml")
    moved = tmp_path / "moved"
    moved.mkdir()
    shutil.copy(folder / f"{PDF_DOC}.pdf", moved)
    corpus = qc.read_corpus(moved)
    (moved / f"{PDF_DOC}.pdf").unlink()
    with pytest.warns(QualcodeWarning, match=rf"1 document\(s\) read from a PDF are exported as text sources.*{PDF_DOC} \(PDF file not found"):
        out = write_qdpx(tmp_path / "gone.qdpx", corpus, cb)
    root = _qde(out)
    assert not list(root.iter(Q + "PDFSource")) and [e.get("name") for e in root.iter(Q + "TextSource")] == [PDF_DOC]
    back = read_qdpx(out).corpus[PDF_DOC]  # the pages still travel, in the qualcode block
    assert back.attributes["pages"] == corpus[PDF_DOC].attributes["pages"]
    # pseudonymised: the PDF would hold the real names
    shutil.copy(folder / f"{PDF_DOC}.pdf", moved)
    pseudo = qc.read_corpus(moved, pseudonyms={"Respondent": "R1"})
    with pytest.warns(QualcodeWarning, match="pseudonymised: the PDF holds the original names"):
        out = write_qdpx(tmp_path / "pseudo.qdpx", pseudo, cb)
    with zipfile.ZipFile(out) as zf:
        assert not [n for n in zf.namelist() if n.endswith(".pdf")]


def test_edited_text_drops_the_stale_pages_of_the_qualcode_block(qdpx, tmp_path, corpus):
    """A text source (no PDF to look at) whose text changed after export: its pages are not trusted."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        src = corpus[PDF_DOC]
        doc = src.with_(source=qc.SourceInfo(path=None, format="pdf"))  # no PDF file: a TextSource
        cb = qc.Codebook([{"id": "a", "definition": "A."}], name="t")
        out = write_qdpx(tmp_path / "t.qdpx", qc.Corpus([doc]), cb)
    root = _qde(out)
    (ts,) = root.iter(Q + "TextSource")
    member = "sources/" + ts.get("plainTextPath").split("://")[1]
    edited = _rezip(out, tmp_path / "edited.qdpx", root, {member: ("Edited first line.\n" + doc.text).encode()})
    assert "pages" not in read_qdpx(edited).corpus[PDF_DOC].attributes
    assert read_qdpx(out).corpus[PDF_DOC].attributes["pages"] == doc.attributes["pages"]


# ---------------------------------------------------------------- the helpers
def test_page_columns_and_labels_on_hand_made_documents():
    paged = qc.Document("r", "one\n\ntwo\n\nthree", attributes={"pages": [0, 5, 10]})
    plain = qc.Document("t", "no pages here")
    spans = pd.DataFrame({"doc_id": ["r", "r", "r", "t", "elsewhere"], "start": [0, 3, 10, 0, 0],
                          "end": [3, 7, 15, 2, 1]})
    got = page_columns(spans, qc.Corpus([paged, plain]))
    assert list(got.columns) == ["doc_id", "start", "end", "page", "page_end"]
    assert got["page"].tolist()[:3] == [1, 1, 3] and got["page_end"].tolist()[:3] == [1, 2, 3]
    assert got["page"].isna().tolist() == [False, False, False, True, True]
    assert list(page_columns(spans, qc.Corpus([plain])).columns) == ["doc_id", "start", "end"]
    assert [page_label(1), page_label(1, 2), page_label(3, 3), page_label(pd.NA), page_label(None, 4)] == [
        "p. 1", "pp. 1\u20132", "p. 3", "", ""]
    assert check_page_starts([0, 5, 10], paged.text) == [0, 5, 10]
    assert check_page_starts([0, 10, 5], paged.text) is None and check_page_starts([0, 99], paged.text) is None
    assert find_page_starts("(1) First page.\n\n(2) Second page.", ["(1) First page.", "(2) Second page."]) == [0, 17]
    assert find_page_starts("completely different", ["First page here", "second page there"]) is None
