"""Response tables (``.csv``, ``.xlsx``): one document per row.

A table is a document table only if it has a text column: ``text_column`` when given,
else the first of ``text, response, answer, jawaban, content, transcript`` (case
insensitive).  Each row with text becomes a document ``"{stem}:{id}"`` (``id`` from
``id_column``; else from a column named ``id``, ``response_id``, ``respondent_id``... when its
values are unique and never empty; else the 1-based row number) of kind ``survey`` with one turn (speaker =
the id value, or ``respondent``; role ``respondent``).  The other columns become
document attributes and case attributes; the case is ``case_column``'s value or the
doc id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..corpus._model import SourceInfo
from ..errors import IngestError
from ._base import Parsed, guess_language
from ._decode import normalise_newlines, read_bytes
from ._labels import RawTurn
from ._sidecar import read_table_rows

__all__ = ["ID_COLUMNS", "TEXT_COLUMNS", "find_text_column", "parse_table", "table_columns", "table_row"]

TEXT_COLUMNS = ("text", "response", "answer", "jawaban", "content", "transcript")
#: id columns used when ``id_column`` is not given (only if their values are unique)
ID_COLUMNS = ("id", "response_id", "respondent_id", "respondent", "participant_id", "id_responden")


def find_text_column(columns: Sequence[str], text_column: str | None) -> str | None:
    """The text column of a table, or None if it has none."""
    if text_column is not None:
        return text_column if text_column in columns else None
    lower = {c.strip().lower(): c for c in columns}
    for name in TEXT_COLUMNS:
        if name in lower:
            return lower[name]
    return None


def _detect_id_column(
    columns: Sequence[str], rows: list[tuple[int, dict[str, Any]]], text_col: str
) -> str | None:
    """A column named like an id (``id``, ``response_id``...) with unique, non-empty values."""
    lower = {c.strip().lower(): c for c in columns}
    for name in ID_COLUMNS:
        col = lower.get(name)
        if col is None:
            continue
        values = [v.get(col) for _, v in rows if v.get(text_col) is not None]
        if values and all(v is not None for v in values) and len(set(map(str, values))) == len(values):
            return col
    return None


def _column(columns: Sequence[str], wanted: str | None, what: str, path: Path) -> str | None:
    if wanted is None:
        return None
    if wanted not in columns:
        msg = f"the {what} {wanted!r} is not a column of the table. Columns: {list(columns)}"
        raise IngestError(msg, path=path, line=1)
    return wanted


def parse_table(
    path: Path,
    *,
    text_column: str | None = None,
    id_column: str | None = None,
    case_column: str | None = None,
    attribute_columns: Sequence[str] | None = None,
    encoding: str | None = None,
    transform: Callable[[str], str] | None = None,
) -> list[Parsed] | None:
    """Read a response table.

    Args:
        path: a .csv or .xlsx file.
        text_column: the column holding the text (default: detect).
        id_column: the column holding respondent ids (default: a unique ``id``/``response_id``/
            ``respondent_id``... column, else row numbers).
        case_column: the column holding case ids (default: the doc id).
        attribute_columns: the columns to keep as attributes (default: all others).
        encoding: force a CSV text encoding.
        transform: applied to text and ids (pseudonymisation).

    Returns:
        One parsed document per row with text, or None when the table has no text column.

    Raises:
        IngestError: unreadable table, duplicate ids, or a named column that is missing.
    """
    columns, rows = read_table_rows(path, encoding=encoding)
    chosen = table_columns(columns, rows, path, text_column=text_column, id_column=id_column,
                           case_column=case_column, attribute_columns=attribute_columns)  # fmt: skip
    if chosen is None:
        return None
    raw = read_bytes(path)
    fmt = path.suffix.lower().lstrip(".")
    source = SourceInfo(
        path=str(path),
        format=fmt,
        encoding="utf-8",
        bom=raw.startswith(b"\xef\xbb\xbf"),
        newline="\n",
        sha256=hashlib.sha256(raw).hexdigest(),
    )
    return table_documents(rows, path, chosen, source, transform, key="column")


def table_documents(rows: Sequence[tuple[int, Any]], path: Path, chosen: tuple[str, str | None, str | None, list[str]],
                    source: SourceInfo, transform: Any, *, key: str) -> list[Parsed]:  # fmt: skip
    """One document per row with text (ids unique, named by ``key`` and line), one language hint for all."""
    text_col, id_col, case_col, attr_cols = chosen
    tf = transform or (lambda s: s)
    stem = path.stem
    seen: dict[str, int] = {}
    out: list[Parsed] = []
    for n, (line, values) in enumerate(rows, start=1):
        p = table_row(values, n=n, line=line, path=path, stem=stem, text_col=text_col, id_col=id_col,
                      case_col=case_col, attr_cols=attr_cols, source=source, transform=tf)  # fmt: skip
        if p is None:
            continue
        ident = p.doc_id[len(stem) + 1 :]
        if ident in seen:
            msg = f"duplicate id {ident!r} in {key} {id_col!r} (first on line {seen[ident]})"
            raise IngestError(msg, path=path, line=line)
        seen[ident] = line
        out.append(p)
    if out:
        hint = guess_language(" ".join(p.text for p in out[:500]))
        for p in out:
            p.language_hint = hint
    return out


def table_columns(
    columns: Sequence[str],
    rows: list[tuple[int, dict[str, Any]]],
    path: Path,
    *,
    text_column: str | None = None,
    id_column: str | None = None,
    case_column: str | None = None,
    attribute_columns: Sequence[str] | None = None,
) -> tuple[str, str | None, str | None, list[str]] | None:
    """The text, id and case columns and the attribute columns of a table (see :func:`parse_table`).

    Args:
        columns: the header.
        rows: the data rows (only read to detect an id column when ``id_column`` is None).
        path: the table file, for messages.
        text_column: the text column (default: detect).
        id_column: the id column (default: detect from ``rows``).
        case_column: the case column.
        attribute_columns: the columns to keep as attributes (default: all others).

    Returns:
        ``(text_col, id_col, case_col, attr_cols)``, or None when the table has no text column.

    Raises:
        IngestError: a named column is missing.
    """
    text_col = find_text_column(columns, text_column)
    if text_col is None:
        if text_column is not None:
            msg = f"the text column {text_column!r} is not in the table. Columns: {list(columns)}"
            raise IngestError(msg, path=path, line=1)
        return None
    id_col = _column(columns, id_column, "id column", path)
    if id_col is None:
        id_col = _detect_id_column(columns, rows, text_col)
    case_col = _column(columns, case_column, "case column", path)
    if attribute_columns is not None:
        for c in attribute_columns:
            _column(columns, c, "attribute column", path)
        attr_cols = [c for c in attribute_columns if c not in (text_col, id_col, case_col)]
    else:
        attr_cols = [c for c in columns if c not in (text_col, id_col, case_col)]
    return text_col, id_col, case_col, attr_cols


def table_row(
    values: dict[str, Any],
    *,
    n: int,
    line: int,
    path: Path,
    stem: str,
    text_col: str,
    id_col: str | None,
    case_col: str | None,
    attr_cols: Sequence[str],
    source: SourceInfo,
    transform: Callable[[str], str],
) -> Parsed | None:
    """One row of a response table as a parsed document (None when its text cell is empty).

    Shared by :func:`parse_table`, the JSON Lines reader and the streaming reader of
    :mod:`qualcode.distributed`, so that a row becomes the same document however it is read.

    Args:
        values: ``{column: value or None}``.
        n: the 1-based row number among the table's data rows (the id without an id column).
        line: the file line (sheet row) the row starts on, for messages.
        path: the table file.
        stem: the document id prefix (the file stem).
        text_col: the text column.
        id_col: the id column, if any.
        case_col: the case column, if any.
        attr_cols: the columns kept as attributes.
        source: the table's :class:`SourceInfo`.
        transform: applied to text and ids (pseudonymisation; identity otherwise).

    Raises:
        IngestError: the id cell is empty.
    """
    value = values.get(text_col)
    if value is None:
        return None
    text = transform(normalise_newlines(str(value)))
    rid = values.get(id_col) if id_col else None
    ident = transform(str(rid)) if rid is not None else str(n)
    if id_col and rid is None:
        msg = f"the id column {id_col!r} is empty"
        raise IngestError(msg, path=path, line=line)
    start, end = 0, len(text)
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    speaker = ident if id_col else "respondent"
    attrs: dict[str, Any] = {c: values.get(c) for c in attr_cols if values.get(c) is not None}
    meta: dict[str, Any] = {}
    if case_col and values.get(case_col) is not None:
        meta["case_id"] = str(values[case_col])
    for k in ("language", "kind"):
        if k in attrs:
            meta[k] = str(attrs.pop(k))
    return Parsed(
        doc_id=f"{stem}:{ident}",
        text=text,
        turns=[RawTurn(speaker, start, end, role="respondent")],
        source=source,
        meta=meta,
        attributes=attrs,
        case_attributes=dict(attrs),
        labelled=True,
        kind_default="survey",
        line=line,
    )
