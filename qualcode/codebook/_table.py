"""Import a flat CSV/XLSX codebook (one row per code), the form many teams keep in a sheet.

Columns (case-insensitive, surrounding spaces ignored): ``code`` or ``id`` (required; ids are
turned into slugs when they are not), ``name``, ``parent`` (an id or a name of another row),
``definition``, ``inclusion``, ``exclusion``, ``examples`` and ``counterexamples`` (several
passages separated by `` | `` or newlines), optional ``color``.  Other columns are ignored with
a warning.

:func:`table_data` returns plain codebook data; ``Codebook.from_table`` (and
:func:`~qualcode.codebook.read_table`) validate it, tolerating leaf codes without a definition.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import CodebookError
from ._schema import SLUG_RE, slugify

__all__ = ["TABLE_COLUMNS", "table_data"]

logger = logging.getLogger("qualcode")

TABLE_COLUMNS = ("code", "id", "name", "parent", "definition", "inclusion", "exclusion",
                 "examples", "counterexamples", "color")


def _split(cell: str) -> list[str]:
    parts = re.split(r"\s+\|\s+|\n", cell)
    return [p.strip() for p in parts if p.strip()]


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value).strip()


def table_data(path: str | os.PathLike[str], *, name: str | None = None,
               languages: list[str] | None = None, sheet: str | int = 0) -> dict[str, Any]:
    """Read a flat codebook table (``.csv``, ``.tsv`` or ``.xlsx``) as plain codebook data.

    Args:
        path: the file.
        name: codebook name (default: the file stem).
        languages: codebook languages (default ``["en"]``); examples go to the first.
        sheet: the XLSX sheet name or index.

    Returns:
        ``{"name", "languages", "codes": [...]}``, not validated yet.

    Raises:
        CodebookError: unreadable file, missing ``code``/``id`` column, empty or duplicate
            codes, unknown parents; each problem names the row (spreadsheet row number).
    """
    p = Path(path)
    suffix = p.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            df = pd.read_excel(p, sheet_name=sheet, dtype=str)
        elif suffix in (".csv", ".tsv", ".txt"):
            df = pd.read_csv(p, dtype=str, sep=None if suffix != ".tsv" else "\t",
                             engine="python", encoding="utf-8-sig", keep_default_na=False)
        else:
            msg = f"{path}: unsupported codebook table format {suffix!r} (use .csv or .xlsx)"
            raise CodebookError(msg, problems=[msg])
    except CodebookError:
        raise
    except FileNotFoundError:
        msg = f"{path}: no such file"
        raise CodebookError(msg, problems=[msg]) from None
    except Exception as exc:  # pandas/openpyxl raise many types; name the file, not a traceback
        msg = f"{path}: cannot read the table ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
        raise CodebookError(msg, problems=[msg]) from None
    df.columns = [str(c).strip().lower() for c in df.columns]
    id_col = "code" if "code" in df.columns else ("id" if "id" in df.columns else None)
    if id_col is None:
        msg = (f"{path}: missing column 'code' (or 'id'); found {list(df.columns)}. "
               f"Expected columns: {', '.join(TABLE_COLUMNS)}")
        raise CodebookError(msg, problems=[msg])
    extra = [c for c in df.columns if c not in TABLE_COLUMNS]
    if extra:
        logger.warning("%s: ignoring unknown column(s) %s", path, extra)
    langs = list(languages or ["en"])
    first_row = 2  # spreadsheet row number of the first data row (row 1 is the header)
    problems: list[str] = []
    records: list[dict[str, Any]] = []
    by_label: dict[str, str] = {}
    rows = []
    taken: set[str] = set()
    for i, row in enumerate(df.to_dict("records")):
        rowno = first_row + i
        raw_id = _cell(row.get(id_col))
        if not raw_id:
            if any(_cell(v) for v in row.values()):
                problems.append(f"{path}: row {rowno}: empty '{id_col}'")
            continue
        cid = raw_id if SLUG_RE.match(raw_id) else slugify(raw_id)
        if cid in taken:
            problems.append(f"{path}: row {rowno}: duplicate code {raw_id!r}")
            continue
        taken.add(cid)
        label = _cell(row.get("name")) or raw_id
        by_label[raw_id.lower()] = cid
        by_label[label.lower()] = cid
        by_label[cid] = cid
        rows.append((rowno, cid, label, row))
    for rowno, cid, label, row in rows:
        rec: dict[str, Any] = {"id": cid, "name": label}
        parent = _cell(row.get("parent"))
        if parent:
            pid = by_label.get(parent.lower()) or by_label.get(slugify(parent))
            if pid is None:
                problems.append(f"{path}: row {rowno}: unknown parent {parent!r}")
            else:
                rec["parent"] = pid
        for f in ("definition", "inclusion", "exclusion"):
            if _cell(row.get(f)):
                rec[f] = _cell(row.get(f))
        for f in ("examples", "counterexamples"):
            items = _split(_cell(row.get(f)))
            if items:
                rec[f] = {langs[0]: items}
        if _cell(row.get("color")):
            rec["color"] = _cell(row.get("color"))
        records.append(rec)
    if problems:
        msg = f"{path}: {len(problems)} problem(s) in codebook table:\n  " + "\n  ".join(problems)
        raise CodebookError(msg, problems=problems)
    if not records:
        msg = f"{path}: the table has no codes"
        raise CodebookError(msg, problems=[msg])
    return {"name": name or p.stem, "languages": langs, "codes": records}
