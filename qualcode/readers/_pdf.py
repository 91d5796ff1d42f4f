r"""PDF sources (``.pdf``): text PDFs through pdfminer.six, scanned pages through optional OCR.

Why pdfminer.six (MIT): it gives every text line with its position, which is what reading
order, paragraphs and hyphenation need; it is the engine of pdfplumber, whose table finder
the programme-table extractor uses; and it reads about 35 text pages per second on one core
(``docs/pdf-libraries.md`` has the measured comparison with pypdf and PyMuPDF).

How a page becomes text:

* text lines are put in reading order by a recursive XY-cut: a region is split into columns
  at a vertical gutter when both sides are at least 30% of its width (so that the columns of
  a table are not read one after the other), else into bands at vertical gaps wider than
  most line gaps; lines on one visual row of a band are joined left to right;
* a band is one paragraph; inside it, lines are joined with a space, except before a line
  that starts with a speaker label, a bullet or a number and after a short line (then a
  line break is kept, so that transcripts and lists keep their line structure);
* a word hyphenated at a line end is joined (``pemba-`` + ``ngunan``), except reduplication
  (``program-`` + ``program`` stays ``program-program``), one-letter prefixes (``e-`` +
  ``monev``) and a next line starting with a capital or a digit;
* lines repeated at the top or bottom of most pages (running headers and footers, page
  numbers) are dropped in documents of two pages or more;
* paragraphs are separated by a blank line, pages too.

``Document.attributes["pages"]`` holds the offset at which each page's text starts (see
:mod:`qualcode.readers._pages`).  A page without a text layer but with an image (a scan) is
read through Tesseract (languages ``ind`` and ``eng``) when ``pytesseract`` and the
``tesseract`` binary are installed (``pip install "qualcode[ocr]"``), else skipped; either
way an :class:`IngestWarning` names the file and the pages, and the attributes
``pages_ocr`` / ``pages_without_text`` list them.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import stat
import statistics
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..corpus import SourceInfo
from ..errors import IngestError, IngestWarning
from ._base import Parsed
from ._decode import read_bytes
from ._pages import PAGES_KEY
from ._text import parsed_with_front_matter

__all__ = ["MAX_PDF_BYTES", "OCR_LANGUAGES", "ocr_available", "parse_pdf", "pdf_page_texts"]

logger = logging.getLogger("qualcode")

#: PDFs larger than this are refused (bytes)
MAX_PDF_BYTES = 256 * 1024 * 1024
#: Tesseract languages used for scanned pages (those installed are used)
OCR_LANGUAGES = ("ind", "eng")
_OCR_DPI = 300

_LABEL_START = re.compile(r"[ \t]*(?:\[[\d:.,]+\][ \t]*)?[A-Z][\w.'\u2019-]*(?:[ \t][\w.'\u2019-]+){0,3}[ \t]*:(?:[ \t]|$)")
_ITEM_START = re.compile(r"[ \t]*(?:[-*\u2022\u2013\u25aa\u25cf]|\(?[0-9a-zA-Z]{1,3}[.)]|\d+(?:\.\d+)+|\d{1,3})(?:[ \t]|$)")
_DIGITS = re.compile(r"\d+")


@dataclass(slots=True)
class _Line:
    x0: float
    x1: float
    top: float
    bottom: float
    text: str

    @property
    def height(self) -> float:
        return max(self.bottom - self.top, 0.1)


@dataclass(slots=True)
class _Page:
    lines: list[_Line]
    width: float
    height: float
    image_area: float  # share of the page covered by images (0..1, capped)


# ------------------------------------------------------------------ opening and pages
def _check_file(path: Path) -> None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        msg = "file not found"
        raise IngestError(msg, path=path) from None
    except OSError as exc:
        msg = f"cannot read the file ({exc.strerror or exc})"
        raise IngestError(msg, path=path) from None
    if stat.S_ISDIR(st.st_mode):
        msg = "is a directory, not a file"
        raise IngestError(msg, path=path)
    if not stat.S_ISREG(st.st_mode):
        msg = "not a regular file (a device, pipe or socket); qualcode reads regular files only"
        raise IngestError(msg, path=path)
    if st.st_size > MAX_PDF_BYTES:
        msg = (
            f"the PDF is {st.st_size / 2**20:.0f} MiB, above the {MAX_PDF_BYTES / 2**20:.0f} MiB "
            "limit (qualcode.readers._pdf.MAX_PDF_BYTES); split it first"
        )
        raise IngestError(msg, path=path)


def _layout_pages(data: bytes, path: Path) -> tuple[list[_Page], list[int]]:
    """Text lines of every page (pdfminer layout analysis) and the pages that failed."""
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.layout import LAParams
    from pdfminer.pdfdocument import PDFDocument, PDFPasswordIncorrect
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser

    pdfminer_log = logging.getLogger("pdfminer")
    if pdfminer_log.level == logging.NOTSET:  # pdfminer warns loudly about harmless oddities
        pdfminer_log.setLevel(logging.ERROR)
    try:
        parser = PDFParser(io.BytesIO(data))
        document = PDFDocument(parser, password="")
    except PDFPasswordIncorrect:
        msg = "the PDF is encrypted with a password; remove the password (or export the text) first"
        raise IngestError(msg, path=path) from None
    except Exception as exc:  # pdfminer raises many unrelated types on corrupt input
        msg = f"not a valid PDF (corrupt: {type(exc).__name__}: {_short(exc)})"
        raise IngestError(msg, path=path) from None
    rsrc = PDFResourceManager(caching=True)
    device = PDFPageAggregator(rsrc, laparams=LAParams(all_texts=True, detect_vertical=False))
    interpreter = PDFPageInterpreter(rsrc, device)
    pages: list[_Page] = []
    failed: list[int] = []
    try:
        page_iter = PDFPage.create_pages(document)
        for n, page in enumerate(page_iter, 1):
            try:
                interpreter.process_page(page)
                layout = device.get_result()
            except Exception as exc:  # a broken content stream: skip the page, say so
                logger.info("%s: page %d unreadable: %s", path, n, exc)
                failed.append(n)
                pages.append(_Page([], 1.0, 1.0, 0.0))
                continue
            pages.append(_page_from_layout(layout))
    except IngestError:
        raise
    except Exception as exc:
        msg = f"not a valid PDF (corrupt: {type(exc).__name__}: {_short(exc)})"
        raise IngestError(msg, path=path) from None
    if not pages:
        msg = "not a valid PDF (no pages found: the file is corrupt or truncated)"
        raise IngestError(msg, path=path)
    return pages, failed


def _short(exc: BaseException) -> str:
    s = str(exc).replace("\n", " ").strip()
    return s[:120] + ("..." if len(s) > 120 else "")


def _page_from_layout(layout: Any) -> _Page:
    from pdfminer.layout import LTImage, LTTextLine

    x0p, y0p, x1p, y1p = layout.bbox
    width, height = max(x1p - x0p, 1.0), max(y1p - y0p, 1.0)
    lines: list[_Line] = []
    image_area = 0.0
    stack = list(layout)
    while stack:
        obj = stack.pop()
        if isinstance(obj, LTTextLine):
            text = obj.get_text().replace("\n", " ").strip()
            if text:
                lines.append(_Line(obj.x0, obj.x1, y1p - obj.y1, y1p - obj.y0, text))
            continue
        if isinstance(obj, LTImage):
            image_area += max(obj.width, 0) * max(obj.height, 0)
            continue
        try:
            stack.extend(obj)  # boxes, figures
        except TypeError:
            pass
    return _Page(lines, width, height, min(image_area / (width * height), 1.0))


# ------------------------------------------------------------------ reading order
def _ordered_blocks(lines: list[_Line]) -> list[list[list[_Line]]]:
    """Blocks (paragraph candidates) in reading order, each a list of visual rows."""
    if not lines:
        return []
    heights = [ln.height for ln in lines]
    med_h = statistics.median(heights)
    blocks: list[list[list[_Line]]] = []
    _xycut(lines, med_h, blocks, 0)
    return blocks


def _xycut(lines: list[_Line], med_h: float, out: list[list[list[_Line]]], depth: int) -> None:
    if depth > 60 or len(lines) <= 1:
        out.append(_rows(lines))
        return
    parts = _column_split(lines)
    if parts is not None:
        for part in parts:
            _xycut(part, med_h, out, depth + 1)
        return
    bands = _band_split(lines, med_h)
    if bands is not None:
        for b in bands:
            _xycut(b, med_h, out, depth + 1)
        return
    out.append(_rows(lines))


def _column_split(lines: list[_Line]) -> list[list[_Line]] | None:
    """Regions in reading order when the lines form two columns.

    The gutter is looked for among the lines narrower than 60% of the region (so that a
    full-width title, footer or paragraph does not hide it); both columns must be at least
    30% of the region wide and hold 3 lines or more (the columns of a table do not qualify).
    Lines crossing the gutter (full-width) cut the region into segments; each segment gives
    its left column, then its right column.
    """
    left = min(ln.x0 for ln in lines)
    right = max(ln.x1 for ln in lines)
    span = right - left
    if span <= 0:
        return None
    cand = [ln for ln in lines if ln.x1 - ln.x0 < 0.6 * span]
    if len(cand) < 6:
        return None
    # coverage of every x position (1 pt grid) by the narrow lines; the gutter is the widest
    # run in the middle 80% crossed by at most a tenth of them (a stray footer may cross)
    grid = int(span) + 2
    cover = np.zeros(grid + 1, dtype=np.int32)
    for ln in cand:
        a = int(np.ceil(ln.x0 - left))
        b = int(np.floor(ln.x1 - left))
        if b > a:
            cover[a] += 1
            cover[b] -= 1
    cover = np.cumsum(cover)[:grid]
    allowed = max(1, len(cand) // 10)
    lo, hi = int(0.1 * span), int(0.9 * span)
    free = cover[lo:hi] <= allowed
    best: tuple[float, float] | None = None
    i = 0
    while i < len(free):
        if free[i]:
            j = i
            while j < len(free) and free[j]:
                j += 1
            if best is None or j - i > best[1] - best[0]:
                best = (left + lo + i, left + lo + j)
            i = j
        else:
            i += 1
    if best is None or best[1] - best[0] < max(0.02 * span, 4.0):
        return None
    cut = (best[0] + best[1]) / 2
    lside = [ln for ln in cand if ln.x1 <= cut]
    rside = [ln for ln in cand if ln.x0 >= cut]
    if len(lside) < 3 or len(rside) < 3:
        return None
    if max(ln.x1 for ln in lside) - left < 0.3 * span or right - min(ln.x0 for ln in rside) < 0.3 * span:
        return None
    parts: list[list[_Line]] = []
    seg_l: list[_Line] = []
    seg_r: list[_Line] = []
    wide: list[_Line] = []

    def flush_columns() -> None:
        parts.extend(x for x in (seg_l[:], seg_r[:]) if x)
        seg_l.clear()
        seg_r.clear()

    for ln in sorted(lines, key=lambda ln: (ln.top, ln.x0)):
        if ln.x1 <= cut or ln.x0 >= cut:
            if wide:
                parts.append(wide[:])
                wide.clear()
            (seg_l if ln.x1 <= cut else seg_r).append(ln)
        else:
            if seg_l or seg_r:
                flush_columns()
            wide.append(ln)
    flush_columns()
    if wide:
        parts.append(wide)
    if len(parts) == 1:
        return None
    return parts


def _band_split(lines: list[_Line], med_h: float) -> list[list[_Line]] | None:
    """Split at vertical gaps clearly wider than the usual gap between lines."""
    srt = sorted(lines, key=lambda ln: (ln.top, ln.x0))
    gaps: list[float] = []
    reach = srt[0].bottom
    for ln in srt[1:]:
        gaps.append(ln.top - reach)
        reach = max(reach, ln.bottom)
    positive = [g for g in gaps if g > 0]
    if not positive:
        return None
    usual = statistics.median(positive)
    threshold = max(usual * 1.6, usual + 0.45 * med_h, 0.5 * med_h)
    bands: list[list[_Line]] = [[srt[0]]]
    for ln, gap in zip(srt[1:], gaps, strict=True):
        if gap > threshold:
            bands.append([ln])
        else:
            bands[-1].append(ln)
    return bands if len(bands) > 1 else None


def _rows(lines: list[_Line]) -> list[list[_Line]]:
    """Group lines on one visual row (overlapping vertically), rows top to bottom."""
    rows: list[list[_Line]] = []
    for ln in sorted(lines, key=lambda ln: (ln.top, ln.x0)):
        if rows:
            last = rows[-1]
            top = min(x.top for x in last)
            bottom = max(x.bottom for x in last)
            overlap = min(bottom, ln.bottom) - max(top, ln.top)
            if overlap > 0.5 * min(ln.height, bottom - top):
                last.append(ln)
                continue
        rows.append([ln])
    return [sorted(r, key=lambda ln: ln.x0) for r in rows]


# ------------------------------------------------------------------ paragraphs and hyphens
def join_hyphenated(prev: str, nxt: str) -> str | None:
    """Join ``prev`` (ending with ``-``) and ``nxt`` when a word was hyphenated at a line end.

    Args:
        prev: the text of a line that ends with a hyphen.
        nxt: the text of the following line.

    Returns:
        The joined text, or ``None`` when the hyphen is not a line-end hyphenation (the
        caller then keeps the hyphen).
    """
    m = re.search(r"(\w+)-$", prev)
    if m is None or not nxt or not nxt[0].islower():
        return None
    head = m.group(1)
    tail = re.match(r"\w+", nxt)
    word = tail.group(0) if tail else ""
    if len(head) < 2 or head.isdigit():
        return prev + nxt  # e- + monev: keep the hyphen, no space
    if word and (word.lower() == head.lower() or word.lower().startswith(head.lower())
                 or head.lower().endswith(word.lower())):
        return prev + nxt  # reduplication: program-program
    return prev[:-1] + nxt


def _row_text(row: list[_Line]) -> str:
    return " ".join(ln.text for ln in row)


def _block_text(rows: list[list[_Line]]) -> str:
    right = max(ln.x1 for r in rows for ln in r)
    left = min(ln.x0 for r in rows for ln in r)
    width = max(right - left, 1.0)
    out = ""
    prev_row: list[_Line] | None = None
    for row in rows:
        text = _row_text(row)
        if prev_row is None:
            out = text
        else:
            short = max(ln.x1 for ln in prev_row) < right - max(0.15 * width, 6 * prev_row[-1].height)
            hard = short or len(row) > 1 or len(prev_row) > 1 or _LABEL_START.match(text) or _ITEM_START.match(text)
            joined = join_hyphenated(out, text) if out.endswith("-") else None
            if joined is not None and not (_LABEL_START.match(text) or _ITEM_START.match(text)):
                out = joined
            elif not hard and re.search(r"\w-$", out):
                out += text  # 2019- + 2023, antar- + Kementerian: the hyphen stays
            else:
                out += ("\n" if hard else " ") + text
        prev_row = row
    return out


def _repeated_lines(pages: list[_Page]) -> set[tuple[int, int]]:
    """(page index, line index) of running headers and footers.

    A running line has the same text (digits aside) near the top or bottom edge (10% of the
    page) of at least 60% of the pages, and of two pages at least.
    """
    if len(pages) < 2:
        return set()
    where: dict[str, list[tuple[int, int]]] = {}
    for pi, page in enumerate(pages):
        seen: set[str] = set()
        for li, ln in enumerate(page.lines):
            if ln.top > 0.1 * page.height and ln.bottom < 0.9 * page.height:
                continue
            key = ("T" if ln.top <= 0.1 * page.height else "B") + _DIGITS.sub("#", ln.text.lower())
            if key in seen:
                continue
            seen.add(key)
            where.setdefault(key, []).append((pi, li))
    drop: set[tuple[int, int]] = set()
    for hits in where.values():
        if len(hits) >= max(2, 0.6 * len(pages)):
            drop.update(hits)
    return drop


def _page_text(page: _Page) -> str:
    blocks = _ordered_blocks(page.lines)
    return "\n\n".join(t for t in (_block_text(b) for b in blocks if b) if t.strip())


# ------------------------------------------------------------------ OCR
def ocr_available() -> tuple[bool, str]:
    """Whether scanned pages can be read: pytesseract, the binary and a language installed.

    Returns:
        ``(True, "ind+eng")`` (the languages used) or ``(False, reason)``.
    """
    try:
        import pytesseract
    except ImportError:
        return False, "pytesseract is not installed (pip install 'qualcode[ocr]')"
    try:
        langs = set(pytesseract.get_languages(config=""))
    except Exception:  # binary missing or broken
        return False, "the tesseract program is not installed (apt install tesseract-ocr)"
    use = [lang for lang in OCR_LANGUAGES if lang in langs]
    if not use:
        return False, "tesseract has neither the 'ind' nor the 'eng' language installed"
    return True, "+".join(use)


def _ocr_pages(data: bytes, numbers: list[int], langs: str, path: Path) -> dict[int, str]:
    import pypdfium2
    import pytesseract

    out: dict[int, str] = {}
    pdf = pypdfium2.PdfDocument(data)
    try:
        for n in numbers:
            try:
                image = pdf[n - 1].render(scale=_OCR_DPI / 72, grayscale=True).to_pil()
                raw = pytesseract.image_to_string(image, lang=langs)
            except Exception as exc:
                logger.info("%s: OCR of page %d failed: %s", path, n, exc)
                continue
            out[n] = _ocr_text(raw)
    finally:
        pdf.close()
    return out


def _ocr_text(raw: str) -> str:
    paras = []
    for block in re.split(r"\n[ \t]*\n", raw):
        lines = [ln.strip() for ln in block.split("\n") if ln.strip()]
        if not lines:
            continue
        text = lines[0]
        for ln in lines[1:]:
            joined = join_hyphenated(text, ln) if text.endswith("-") else None
            text = joined if joined is not None else text + " " + ln
        paras.append(text)
    return "\n\n".join(paras)


# ------------------------------------------------------------------ public
def _fmt_pages(numbers: list[int], verb: str = "") -> str:
    one = len(numbers) == 1
    out = ("page " if one else "pages ") + ", ".join(map(str, numbers))
    if verb == "have":
        out += " has" if one else " have"
    elif verb == "were":
        out += " was" if one else " were"
    return out


def pdf_page_texts(
    path: str | os.PathLike[str], *, ocr: bool | None = None, data: bytes | None = None
) -> tuple[list[str], dict[str, Any], str]:
    """The text of every page of a PDF, in reading order (the reader's first stage).

    Args:
        path: the PDF file (with ``data``: only the name used in messages).
        ocr: read scanned pages through Tesseract: ``None`` when it is installed, ``False``
            never, ``True`` always (an :class:`IngestError` when it is not installed).
        data: the PDF's bytes, already read (a PDF inside a REFI-QDA archive); ``None``
            reads ``path``.

    Returns:
        ``(texts, info, sha256)``: one string per page (``""`` for a page without text),
        ``info`` with the lists ``pages_ocr``, ``pages_without_text`` and ``pages_failed``,
        and the file's hash.

    Raises:
        IngestError: not a regular file, too large, not a PDF, corrupt, or encrypted with a
            password.  The message names the file.
    """
    p = Path(path)
    if data is None:
        _check_file(p)
        data = read_bytes(p)
    elif len(data) > MAX_PDF_BYTES:
        msg = f"the PDF is {len(data) / 2**20:.0f} MiB, above the {MAX_PDF_BYTES / 2**20:.0f} MiB limit"
        raise IngestError(msg, path=p)
    if not data.strip():
        msg = "the file is empty"
        raise IngestError(msg, path=p)
    if b"%PDF-" not in data[:1024]:
        msg = "not a PDF file (no %PDF- header)"
        raise IngestError(msg, path=p)
    pages, failed = _layout_pages(data, p)
    drop = _repeated_lines(pages)
    if drop:
        for pi, page in enumerate(pages):
            page.lines = [ln for li, ln in enumerate(page.lines) if (pi, li) not in drop]
    texts = [_page_text(pg) for pg in pages]
    scanned = [
        i + 1
        for i, (pg, t) in enumerate(zip(pages, texts, strict=True))
        if (i + 1) not in failed
        and pg.image_area > 0.0
        and (not t.strip() or (len(t) < 40 and pg.image_area > 0.5))
    ]
    info: dict[str, Any] = {"pages_ocr": [], "pages_without_text": [], "pages_failed": failed}
    if scanned:
        can, how = ocr_available()
        if ocr is True and not can:
            msg = f"OCR was asked for but is not available: {how}"
            raise IngestError(msg, path=p)
        if can and ocr is not False:
            got = _ocr_pages(data, scanned, how, p)
            for n, t in got.items():
                texts[n - 1] = t if not texts[n - 1].strip() else texts[n - 1] + "\n\n" + t
            info["pages_ocr"] = sorted(n for n, t in got.items() if t.strip())
            missing = [n for n in scanned if n not in info["pages_ocr"]]
            warnings.warn(
                f"{p}: {_fmt_pages(scanned, 'have')} no text layer (scanned); read through OCR "
                f"(tesseract {how}), check the text"
                + (f"; OCR found nothing on {_fmt_pages(missing)}" if missing else ""),
                IngestWarning,
                stacklevel=3,
            )
            info["pages_without_text"] = missing
        else:
            reason = "OCR switched off" if ocr is False else f"no OCR: {how}"
            warnings.warn(
                f"{p}: {_fmt_pages(scanned, 'have')} no text layer (scanned?), skipped "
                f"({reason})",
                IngestWarning,
                stacklevel=3,
            )
            info["pages_without_text"] = scanned
    if failed:
        warnings.warn(
            f"{p}: {_fmt_pages(failed)} could not be read (corrupt content), skipped",
            IngestWarning,
            stacklevel=3,
        )
    return texts, info, hashlib.sha256(data).hexdigest()


def parse_pdf(
    path: Path,
    *,
    doc_id: str,
    transform: Callable[[str], str] | None = None,
    kind: str | None = None,
    ocr: bool | None = None,
) -> Parsed:
    """Read a text PDF (transcript, notes, report or planning document).

    Speaker labels are found exactly as in a ``.txt`` transcript; a PDF without labels is
    one unlabelled document (kind ``other`` unless the sidecar or ``kind`` says otherwise).

    Args:
        path: the file.
        doc_id: the doc id (the file stem).
        transform: applied to each page's text (pseudonymisation).
        kind: a kind known in advance.
        ocr: see :func:`pdf_page_texts`.

    Returns:
        The parsed document; ``attributes["pages"]`` holds the page start offsets.

    Raises:
        IngestError: the file is not a readable PDF, is encrypted, or has no text at all.
    """
    texts, info, sha = pdf_page_texts(path, ocr=ocr)
    tf = transform or (lambda s: s)
    parts: list[str] = []
    found: list[int | None] = []
    length = 0
    for t in texts:
        t = tf(t).strip() if t.strip() else ""
        if not t:
            found.append(None)
            continue
        if parts:
            parts.append("\n\n")
            length += 2
        found.append(length)
        parts.append(t)
        length += len(t)
    text = "".join(parts)
    starts: list[int] = []
    nxt = len(text)
    for s in reversed(found):  # a page without text starts where the next page starts
        nxt = s if s is not None else nxt
        starts.append(nxt)
    starts.reverse()
    if starts:
        starts[0] = 0
    if not text.strip():
        what = info["pages_without_text"] or info["pages_failed"]
        hint = f" ({_fmt_pages(what)} are scanned or unreadable)" if what else ""
        msg = f"the PDF has no text layer{hint}; install the OCR extra or export the text"
        raise IngestError(msg, path=path)
    source = SourceInfo(
        path=str(path), format="pdf", encoding="utf-8", bom=False, newline="\n", sha256=sha
    )
    parsed = parsed_with_front_matter(text, 0, {}, doc_id=doc_id, source=source, kind=kind)
    parsed.attributes[PAGES_KEY] = starts
    for key in ("pages_ocr", "pages_without_text"):
        if info[key]:
            parsed.attributes[key] = list(info[key])
    if info["pages_failed"]:
        parsed.attributes["pages_failed"] = list(info["pages_failed"])
    return parsed
