"""Write a set of DataFrames to one xlsx workbook: one sheet each, frozen headers, readable widths."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

import pandas as pd

from .._io import atomic_path

__all__ = ["write_xlsx"]

_BAD_SHEET_CHARS = re.compile(r"[\[\]\*\?/\\:]")
_MAX_WIDTH = 60
_QUOTE_WIDTH = 70


def _sheet_name(name: str, used: set[str]) -> str:
    base = _BAD_SHEET_CHARS.sub("-", name).strip("'")[:31] or "Sheet"
    candidate, n = base, 2
    while candidate.lower() in used:
        suffix = f" ({n})"
        candidate = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(candidate.lower())
    return candidate


def _flatten(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    if isinstance(out.columns, pd.MultiIndex):
        out.columns = [" / ".join(str(p) for p in col if str(p)) for col in out.columns]
    if isinstance(out.index, pd.MultiIndex) or out.index.name is not None or not isinstance(
        out.index, pd.RangeIndex
    ):
        out = out.reset_index()
    out.columns = [str(c) for c in out.columns]
    return out


def write_xlsx(
    path: str | os.PathLike[str],
    sheets: Mapping[str, pd.DataFrame],
    *,
    overwrite: bool = True,
) -> None:
    """Write ``sheets`` (name -> DataFrame) to an xlsx workbook atomically.

    Index levels become the first columns; MultiIndex columns are joined with `` / ``.
    The header row and the first column are frozen, numbers keep their type, long
    text columns (quotes) wrap, and column widths follow the content.

    Args:
        path: destination ``.xlsx`` file.
        sheets: sheet name -> DataFrame, in the order they should appear.
        overwrite: refuse to replace an existing file when False.

    Raises:
        ExportError: the file exists (``overwrite=False``) or cannot be written.
    """
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    used: set[str] = set()
    with atomic_path(path, overwrite=overwrite) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            for name, frame in sheets.items():
                flat = _flatten(frame)
                sheet = _sheet_name(name, used)
                flat.to_excel(writer, sheet_name=sheet, index=False)
                ws = writer.sheets[sheet]
                ws.freeze_panes = "B2" if flat.shape[1] > 1 else "A2"
                header_fill = PatternFill("solid", fgColor="DDE6F0")
                for cell in ws[1]:
                    cell.font = Font(bold=True)
                    cell.fill = header_fill
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
                for j, col in enumerate(flat.columns, start=1):
                    series = flat.iloc[:, j - 1]
                    values = series.astype(str).tolist()
                    longest = max([len(str(col))] + [len(v) for v in values[:500]])
                    is_text = series.dtype == object and longest > _MAX_WIDTH
                    width = _QUOTE_WIDTH if is_text else min(max(8, longest + 2), _MAX_WIDTH)
                    ws.column_dimensions[get_column_letter(j)].width = width
                    if is_text:
                        for row in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                            for cell in row:
                                cell.alignment = Alignment(wrap_text=True, vertical="top")
                    elif series.dtype.kind == "f":
                        for row in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                            for cell in row:
                                cell.number_format = "0.000"
