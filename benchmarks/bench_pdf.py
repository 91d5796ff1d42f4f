"""PDF libraries compared (text fidelity, tables, speed) and qualcode's PDF ingest throughput.

Usage::

    python benchmarks/bench_pdf.py [--pages 1000] [--speed-pages 100] [--keep DIR]

Builds the test PDFs with ``benchmarks/pdf_corpus.py`` (fpdf2, a dev dependency) in a
temporary folder, then for every installed library (pypdf, pdfminer.six, pdfplumber,
PyMuPDF, pypdfium2) and for qualcode's reader prints:

* ``words in order``: the share of the true words found in the right order (longest common
  subsequence of word tokens) on a one-column Indonesian page, a two-column page written
  column by column and the same page written row by row across the columns; a common
  post-processing joins ``-`` + line break first, so that this measures order, not hyphens;
* ``hyphen joined``: for qualcode, the share of the words hyphenated at a line end in the PDF
  that come out whole (libraries leave ``pemba-`` / ``ngunan`` to the caller, except PyMuPDF
  with its dehyphenate flag, measured too);
* ``table rows``: the share of the 6 rows of a bordered programme table whose code and budget
  come out on one line of the plain text, and whether the library's table finder (pdfplumber,
  PyMuPDF) returns the 6 rows exactly;
* ``pages/s``: plain-text extraction speed on the first ``--speed-pages`` pages of a generated
  report (one core);

and finally the time ``qualcode.read_document`` takes on the whole ``--pages`` report
(goal: 1,000 pages in <= 60 s on the 2-core machine).  PyMuPDF is AGPL-licensed and is not a
qualcode dependency: ``pip install pymupdf`` to include it.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import os
import re
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pdf_corpus  # noqa: E402

_TOKEN = re.compile(r"\w+(?:-\w+)*")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def _dehyphen(text: str) -> str:
    return re.sub(r"(\w)-[ \t]*\n[ \t]*([a-z])", r"\1\2", text)


def words_in_order(truth: list[str], text: str) -> float:
    want = _tokens(" ".join(truth))
    got = _tokens(_dehyphen(text))
    sm = difflib.SequenceMatcher(None, want, got, autojunk=False)
    return sum(b.size for b in sm.get_matching_blocks()) / len(want)


# ------------------------------------------------------------------ extractors
def ex_pypdf(path: Path, pages: int | None = None) -> str:
    import pypdf

    r = pypdf.PdfReader(str(path))
    n = len(r.pages) if pages is None else min(pages, len(r.pages))
    return "\n".join(r.pages[i].extract_text() or "" for i in range(n))


def ex_pdfminer(path: Path, pages: int | None = None) -> str:
    from pdfminer.high_level import extract_text

    return extract_text(str(path), maxpages=pages or 0)


def ex_pdfplumber(path: Path, pages: int | None = None) -> str:
    import pdfplumber

    with pdfplumber.open(str(path)) as pdf:
        sel = pdf.pages if pages is None else pdf.pages[:pages]
        return "\n".join(p.extract_text() or "" for p in sel)


def ex_pymupdf(path: Path, pages: int | None = None, *, sort: bool = False, flags: int | None = None) -> str:
    import pymupdf

    doc = pymupdf.open(str(path))
    n = len(doc) if pages is None else min(pages, len(doc))
    kw = {"sort": sort}
    if flags is not None:
        kw["flags"] = flags
    return "\n".join(doc[i].get_text(**kw) for i in range(n))


def ex_pypdfium2(path: Path, pages: int | None = None) -> str:
    import pypdfium2

    doc = pypdfium2.PdfDocument(str(path))
    n = len(doc) if pages is None else min(pages, len(doc))
    return "\n".join(doc[i].get_textpage().get_text_bounded() for i in range(n))


def ex_qualcode(path: Path, pages: int | None = None) -> str:
    from qualcode.readers._pdf import pdf_page_texts

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        texts, _, _ = pdf_page_texts(path, ocr=False)
    return "\n\n".join(texts if pages is None else texts[:pages])


LIBS = {
    "pypdf": ("pypdf", ex_pypdf, "BSD-3-Clause"),
    "pdfminer.six": ("pdfminer", ex_pdfminer, "MIT"),
    "pdfplumber": ("pdfplumber", ex_pdfplumber, "MIT"),
    "PyMuPDF": ("pymupdf", ex_pymupdf, "AGPL-3.0 or commercial"),
    "PyMuPDF sort=True": ("pymupdf", lambda p, n=None: ex_pymupdf(p, n, sort=True), "AGPL-3.0 or commercial"),
    "pypdfium2": ("pypdfium2", ex_pypdfium2, "Apache-2.0 / BSD-3-Clause"),
    "qualcode (pdfminer.six + XY-cut)": ("pdfminer", ex_qualcode, "MIT"),
}


_DIST = {"pypdf": "pypdf", "pdfminer": "pdfminer.six", "pdfplumber": "pdfplumber",
         "pymupdf": "pymupdf", "pypdfium2": "pypdfium2"}


def _version(mod: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(_DIST[mod])
    except PackageNotFoundError:
        return "?"


def table_finder_rows(name: str, path: Path) -> str:
    rows_true = [list(r) for r in pdf_corpus.TABLE_ROWS]

    def norm(row):
        return [" ".join(str(c or "").split()) for c in row]

    if name == "pdfplumber":
        import pdfplumber

        with pdfplumber.open(str(path)) as pdf:
            tables = pdf.pages[0].extract_tables()
    elif name == "PyMuPDF":
        import pymupdf

        tables = [t.extract() for t in pymupdf.open(str(path))[0].find_tables().tables]
    else:
        return "-"
    got = [norm(r)[1:4] for t in tables for r in t if r and re.fullmatch(r"\d+(\.\d+)+", norm(r)[1] if len(r) > 1 else "")]
    exact = sum(g in [norm(r) for r in rows_true] for g in got)
    return f"{exact}/{len(rows_true)} exact"


def table_rows_on_one_line(text: str) -> float:
    lines = text.split("\n")
    ok = 0
    for code, _name, budget in pdf_corpus.TABLE_ROWS:
        ok += any(code in ln and budget in ln and ln.index(code) < ln.index(budget) for ln in lines)
    return ok / len(pdf_corpus.TABLE_ROWS)


def broken_words(text: str, truth: dict, fname: str) -> int:
    """Tokens of the output that are no word of the page: halves of hyphenated words."""
    vocab = set(_tokens(" ".join(truth[fname]["paragraphs"]) + " " + truth[fname].get("title", "")
                        + " " + pdf_corpus.SYNTHETIC))
    return sum(t not in vocab for t in _tokens(text))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", type=int, default=1000, help="pages of the ingest benchmark")
    ap.add_argument("--speed-pages", type=int, default=100, help="pages for the per-library speed")
    ap.add_argument("--keep", type=Path, help="write the PDFs here and keep them")
    args = ap.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="qualcode-bench-pdf-"))
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    truth = pdf_corpus.make_fixtures(folder)
    long_pdf = folder / "long.pdf"
    info = pdf_corpus.make_long_pdf(long_pdf, args.pages)
    print(f"test PDFs in {folder} ({time.perf_counter() - t0:.1f} s to generate; "
          f"report: {info['pages']} pages, {info['words']:,} words)")

    rows = []
    for name, (mod, fn, lic) in LIBS.items():
        if importlib.util.find_spec(mod) is None:
            print(f"{name}: not installed, skipped")
            continue
        r = {"library": name, "version": _version(mod), "licence": lic}
        for fname in ("indonesian.pdf", "two_columns.pdf", "two_columns_rows.pdf"):
            text = fn(folder / fname)
            r[fname] = words_in_order(truth[fname]["paragraphs"], text)
            if fname == "indonesian.pdf":
                r["broken"] = broken_words(text, truth, fname)
        r["table_lines"] = table_rows_on_one_line(fn(folder / "table.pdf"))
        r["table_finder"] = table_finder_rows(name, folder / "table.pdf")
        if name.startswith("qualcode"):
            r["pages_s"] = float("nan")  # measured on the whole report below
        else:
            n = args.speed_pages if name in ("pdfplumber", "pdfminer.six") else max(args.speed_pages, min(args.pages, 500))
            t = time.perf_counter()
            fn(long_pdf, n)
            r["pages_s"] = n / (time.perf_counter() - t)
        rows.append(r)
    if importlib.util.find_spec("pymupdf") is not None:
        import pymupdf

        text = ex_pymupdf(folder / "indonesian.pdf", flags=pymupdf.TEXT_DEHYPHENATE)
        print(f"PyMuPDF with TEXT_DEHYPHENATE: broken words {broken_words(text, truth, 'indonesian.pdf')}, "
              f"words in order {words_in_order(truth['indonesian.pdf']['paragraphs'], text):.1%}")

    head = (f"{'library':34} {'version':>9}  {'1-col ID':>8} {'2-col':>6} {'2-col rows':>10} "
            f"{'broken':>6} {'table rows':>10} {'table finder':>12} {'pages/s':>8}  licence")
    print()
    n_h = truth["indonesian.pdf"]["hyphenations"]
    print("words in order = share of the true words recovered in reading order; broken = tokens "
          f"that are no word of the 1-col page ({n_h} words are hyphenated at line ends there); "
          "table rows = rows with code and budget on one line")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['library']:34} {r['version']:>9}  {r['indonesian.pdf']:8.1%} {r['two_columns.pdf']:6.1%} "
              f"{r['two_columns_rows.pdf']:10.1%} {r['broken']:6d} {r['table_lines']:10.0%} "
              f"{r['table_finder']:>12} {r['pages_s']:8.0f}  {r['licence']}")

    from qualcode import read_document

    t = time.perf_counter()
    cpu = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        doc = read_document(long_pdf)
    dt = time.perf_counter() - t
    cpu = time.process_time() - cpu
    n_pages = len(doc.attributes["pages"])
    print(f"{'qualcode (pdfminer.six + XY-cut)':34} pages/s (whole pipeline: layout, order, "
          f"paragraphs, labels): {n_pages / dt:.0f}")
    print()
    print(f"qualcode.read_document on a {n_pages}-page PDF: {dt:.1f} s "
          f"({n_pages / dt:.0f} pages/s, {len(doc.text.split()):,} words; {cpu:.1f} s of CPU time, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores); "
          f"goal: 1,000 pages <= 60 s -> {'met' if dt * 1000 / n_pages <= 60 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
