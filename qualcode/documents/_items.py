"""Programme / activity items out of planning documents: tables and numbered lists.

An *item* is one row of a programme table (a code column such as ``1.02.01``, a name column
and optionally a budget column) or one line of a numbered list (``1.02.01 Program ...`` or
``3. Program ...``).  :func:`extract_items` returns them as a tidy table with the columns
:data:`ITEM_COLUMNS`.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import IngestError

__all__ = ["ITEM_COLUMNS", "ItemsError", "extract_items", "parse_budget"]

#: the columns of an items table, in order (``source``: ``table`` or ``list``)
ITEM_COLUMNS = ("doc_id", "page", "section", "item_code", "item_name", "budget", "source")

_CODE = re.compile(r"\d{1,2}(?:\.[0-9A-Z]{1,3}){1,5}\.?")
_BUDGET = re.compile(r"(?:Rp\.?\s*)?-?\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?|(?:Rp\.?\s*)?\d+(?:[.,]\d{1,2})?")
_LIST_CODE = re.compile(
    r"^\s*(?P<code>\d{1,2}(?:\.[0-9A-Z]{1,3}){1,5})\.?\s+(?P<name>.*?[^\W\d_].*?)"
    r"(?:\s+(?P<budget>(?:Rp\.?\s*)?\d{1,3}(?:[.,]\d{3})+(?:,\d{1,2})?))?\s*$"
)
_LIST_NUM = re.compile(r"^\s*(?P<num>\d{1,3})[.)]\s+(?P<name>[^\W\d_].*?)\s*$")
_HEADING = re.compile(r"^(?:bab|chapter|tabel|table|lampiran|annex|bagian|section)\b", re.I)
_CODE_HEADERS = {"kode", "code", "item_code", "kode program", "kode rekening", "no. kode", "kd"}
_NAME_HEADERS = {"program", "program_name", "name", "nama", "item_name", "uraian", "nama program",
                 "kegiatan", "activity", "programme", "item"}
_BUDGET_HEADERS = {"budget", "pagu", "anggaran", "pagu indikatif", "jumlah", "nilai", "amount"}


class ItemsError(IngestError):
    """Items could not be extracted or compared (names the file, column or argument)."""


def parse_budget(text: Any) -> float:
    """Parse an amount written the Indonesian or English way (``12.450.000.000``, ``Rp 1,5``).

    Args:
        text: the cell text (or a number).

    Returns:
        The amount, or NaN when the text is no amount.

    Examples:
        >>> parse_budget("Rp 12.450.000.000"), parse_budget("1,275,500.50"), parse_budget("-")
        (12450000000.0, 1275500.5, nan)
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    s = re.sub(r"(?i)^\s*rp\.?\s*", "", str(text or "")).strip().replace(" ", "")
    if not re.fullmatch(r"-?[\d.,]+", s) or not re.search(r"\d", s):
        return math.nan
    if "." in s and "," in s:
        dec = "." if s.rfind(".") > s.rfind(",") else ","
        s = s.replace("," if dec == "." else ".", "").replace(dec, ".")
    elif "." in s or "," in s:
        sep = "." if "." in s else ","
        groups = s.lstrip("-").split(sep)
        if len(groups) > 2 or (len(groups[-1]) == 3 and len(groups) > 1):
            s = s.replace(sep, "")
        else:
            s = s.replace(sep, ".")
    try:
        return float(s)
    except ValueError:
        return math.nan


def _clean(cell: Any) -> str:
    return " ".join(str(cell or "").split())


def _table_items(rows: list[list[Any]]) -> list[tuple[str | None, str, float]]:
    """Items of one table: the code column, the name column and the budget column."""
    grid = [[_clean(c) for c in r] for r in rows if r and any(_clean(c) for c in r)]
    if not grid:
        return []
    width = max(len(r) for r in grid)
    grid = [r + [""] * (width - len(r)) for r in grid]
    header = [c.lower().rstrip(":") for c in grid[0]]

    def share(col: int, pred) -> float:
        vals = [r[col] for r in grid[1:] or grid if r[col]]
        return sum(bool(pred(v)) for v in vals) / max(len(vals), 1)

    code_col = next((i for i, h in enumerate(header) if h in _CODE_HEADERS), None)
    if code_col is None:
        scores = [share(i, _CODE.fullmatch) for i in range(width)]
        best = max(range(width), key=lambda i: scores[i])
        code_col = best if scores[best] >= 0.5 else None
    name_col = next((i for i, h in enumerate(header) if h in _NAME_HEADERS and i != code_col), None)
    if name_col is None:
        letters = [
            (sum(len(r[i]) for r in grid) if share(i, lambda v: re.search(r"[^\W\d_]{3}", v)) >= 0.5 else -1)
            for i in range(width)
        ]
        name_col = max((i for i in range(width) if i != code_col), key=lambda i: letters[i], default=None)
        if name_col is None or letters[name_col] < 0:
            return []
    budget_col = next(
        (i for i, h in enumerate(header) if any(h.startswith(b) for b in _BUDGET_HEADERS)), None
    )
    if budget_col is None:
        for i in range(width - 1, -1, -1):
            if i in (code_col, name_col):
                continue
            if share(i, lambda v: not math.isnan(parse_budget(v)) and len(v) >= 4) >= 0.6:
                budget_col = i
                break
    if code_col is None:
        return []  # a table without codes is no programme table
    items: list[tuple[str | None, str, float]] = []
    for r in grid:
        code = r[code_col].rstrip(".")
        name = r[name_col]
        if not _CODE.fullmatch(code) or not name:
            continue  # header rows, subtotal rows
        budget = parse_budget(r[budget_col]) if budget_col is not None else math.nan
        items.append((code, name, budget))
    return items


def _list_items(lines: Iterable[str]) -> list[tuple[str | None, str, float]]:
    items = []
    for line in lines:
        m = _LIST_CODE.match(line)
        if m:
            budget = parse_budget(m.group("budget")) if m.group("budget") else math.nan
            items.append((m.group("code"), m.group("name").strip(), budget))
            continue
        m = _LIST_NUM.match(line)
        if m:
            items.append((None, m.group("name").strip(), math.nan))
    return items


def _pdf_items(path: Path, doc_id: str) -> list[dict[str, Any]]:
    import warnings

    import pdfplumber

    from ..readers._pdf import pdf_page_texts

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        texts, _, _ = pdf_page_texts(path, ocr=False)  # validates the file, one-line errors
    out: list[dict[str, Any]] = []
    section: str | None = None
    list_section: str | None = None
    try:
        pdf = pdfplumber.open(str(path))
    except Exception as exc:
        msg = f"cannot read the PDF's tables ({type(exc).__name__}: {exc})"
        raise ItemsError(msg, path=path) from None
    with pdf:
        for n, page in enumerate(pdf.pages, 1):
            in_tables: set[str] = set()
            for table in sorted(page.find_tables(), key=lambda t: t.bbox[1]):
                above = page.crop((0, 0, page.width, max(table.bbox[1], 1))).extract_text() or ""
                heads = [ln.strip() for ln in above.split("\n") if ln.strip()]
                heads = [h for h in heads if not _CODE.match(h)]
                if heads:
                    section = heads[-1]
                for code, name, budget in _table_items(table.extract()):
                    in_tables.add(code or name)
                    out.append(_row(doc_id, n, section, code, name, budget, "table"))
            page_text = texts[n - 1] if n - 1 < len(texts) else ""
            for line in page_text.split("\n"):
                s = line.strip()
                if _HEADING.match(s) and len(s) < 160:
                    list_section = s
                    continue
                for code, name, budget in _list_items([line]):
                    if (code or name) in in_tables:
                        continue
                    out.append(_row(doc_id, n, list_section or section, code, name, budget, "list"))
    return out


def _docx_items(path: Path, doc_id: str) -> list[dict[str, Any]]:
    from docx.table import Table

    from ..readers._docx import _open

    document, _ = _open(path)  # one-line errors for corrupt / encrypted files
    out: list[dict[str, Any]] = []
    section: str | None = None
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            rows = []
            for row in block.rows:
                seen: set[int] = set()
                cells = []
                for c in row.cells:
                    if id(c._tc) in seen:
                        continue
                    seen.add(id(c._tc))
                    cells.append("\n".join(p.text for p in c.paragraphs))
                rows.append(cells)
            for code, name, budget in _table_items(rows):
                out.append(_row(doc_id, None, section, code, name, budget, "table"))
            continue
        text = block.text.strip()
        if not text:
            continue
        style = (block.style.name or "") if block.style is not None else ""
        if style.startswith(("Heading", "Title", "Caption")) or (_HEADING.match(text) and len(text) < 160):
            section = text
            continue
        found = _list_items([text])
        if not found and "List" in style and len(text) < 300:
            found = [(None, text, math.nan)]
        for code, name, budget in found:
            out.append(_row(doc_id, None, section, code, name, budget, "list"))
    return out


def _text_items(path: Path, doc_id: str) -> list[dict[str, Any]]:
    from ..readers._decode import decode_bytes, read_bytes

    text = decode_bytes(read_bytes(path), path=path, fmt="txt").text
    out = []
    section = None
    for line in text.split("\n"):
        s = line.strip().lstrip("#").strip()
        if line.lstrip().startswith("#") or (_HEADING.match(s) and len(s) < 160):
            section = s or section
            continue
        for code, name, budget in _list_items([line]):
            out.append(_row(doc_id, None, section, code, name, budget, "list"))
    return out


def _table_file_items(path: Path, doc_id: str) -> list[dict[str, Any]]:
    try:
        frame = pd.read_excel(path, dtype=str) if path.suffix.lower() == ".xlsx" else pd.read_csv(
            path, dtype=str, keep_default_na=False
        )
    except Exception as exc:
        msg = f"cannot read the table ({type(exc).__name__}: {exc})"
        raise ItemsError(msg, path=path) from None
    rows = [list(frame.columns)] + frame.fillna("").astype(str).values.tolist()
    found = _table_items(rows)
    if not found:
        msg = "no item table found: it needs a code column (kode/code, values like 1.02.01) and a name column"
        raise ItemsError(msg, path=path)
    return [_row(doc_id, None, None, c, n, b, "table") for c, n, b in found]


def _row(doc_id, page, section, code, name, budget, source) -> dict[str, Any]:
    return {
        "doc_id": doc_id,
        "page": page,
        "section": section,
        "item_code": code,
        "item_name": name,
        "budget": budget,
        "source": source,
    }


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows, columns=list(ITEM_COLUMNS))
    frame["page"] = frame["page"].astype("Int64")
    frame["budget"] = frame["budget"].astype(float)
    return frame


def extract_items(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    doc_id: str | None = None,
) -> pd.DataFrame:
    r"""Extract programme / activity items from planning documents.

    Reads programme tables (a code column such as ``1.02.01``, a name column, optionally a
    budget column; header and subtotal rows are skipped) and numbered lists (``1.02.01
    Program ...`` lines, and ``1.`` / ``2)`` lists, whose code is left empty).

    Args:
        paths: a ``.pdf``, ``.docx``, ``.txt``/``.md`` or ``.csv``/``.xlsx`` file, or a list.
        doc_id: the doc id for a single file (default: the file stem).

    Returns:
        A DataFrame with the columns ``doc_id, page, section, item_code, item_name, budget,
        source`` (``page`` is empty for docx and text files; ``section`` is the heading or
        table caption above the item; ``source`` is ``table`` or ``list``).

    Raises:
        ItemsError: no path given, a file of another type, or a table file without item
            columns (the message names the file).
        IngestError: a file cannot be read (missing, corrupt, encrypted PDF...).

    Examples:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "rkpd.txt"
        >>> _ = p.write_text("# Program\n1.02.02 Program Pemenuhan Upaya Kesehatan 12.450.000\n")
        >>> extract_items(p)[["item_code", "item_name", "budget"]].values.tolist()
        [['1.02.02', 'Program Pemenuhan Upaya Kesehatan', 12450000.0]]
    """
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if not items:
        msg = "extract_items needs at least one file"
        raise ItemsError(msg)
    if doc_id is not None and len(items) > 1:
        msg = "doc_id= can only name the document of a single file"
        raise ItemsError(msg)
    rows: list[dict[str, Any]] = []
    for item in items:
        p = Path(item)
        if not p.is_file():
            msg = "no such file" if not p.exists() else "not a regular file"
            raise ItemsError(msg, path=p)
        did = doc_id or p.stem
        suffix = p.suffix.lower()
        if suffix == ".pdf":
            rows.extend(_pdf_items(p, did))
        elif suffix == ".docx":
            rows.extend(_docx_items(p, did))
        elif suffix in (".txt", ".md", ".markdown"):
            rows.extend(_text_items(p, did))
        elif suffix in (".csv", ".xlsx"):
            rows.extend(_table_file_items(p, did))
        else:
            msg = f"cannot extract items from {suffix or 'a file without extension'!r} files; use .pdf, .docx, .txt, .md, .csv or .xlsx"
            raise ItemsError(msg, path=p)
    return _frame(rows)
