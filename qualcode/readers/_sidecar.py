"""The case sidecar: ``cases.csv`` / ``cases.xlsx`` next to the transcripts.

Columns ``doc_id`` and/or ``speaker``, ``case_id``, ``speaker_role``, ``language``,
``kind`` are reserved; every other column is a case attribute.

* ``doc_id`` only: the document's case (``case_id``, default the doc id), its case
  attributes, and ``language``/``kind`` overrides for the document.
* ``doc_id`` + ``speaker``: that speaker's turns in that document form a case of their own
  (``case_id``, default ``"{doc_id}:{speaker}"``) and may get a ``speaker_role``.
* ``speaker`` only: the same for that speaker in every document (default case id: the
  speaker label).

Empty cells are missing values.
"""

from __future__ import annotations

import csv
import io
import os
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..corpus._model import KINDS, ROLES
from ..errors import IngestError, IngestWarning
from ._decode import decode_bytes, read_bytes

__all__ = ["Sidecar", "SidecarRow", "read_sidecar", "read_table_rows"]

_RESERVED = {"doc_id", "speaker", "case_id", "speaker_role", "language", "kind"}


@dataclass(frozen=True)
class SidecarRow:
    """One row of the sidecar, with the line it came from."""

    path: str
    line: int
    values: dict[str, Any]

    @property
    def doc_id(self) -> str | None:
        """The row's ``doc_id`` or None."""
        return self.values.get("doc_id")

    @property
    def speaker(self) -> str | None:
        """The row's ``speaker`` or None."""
        return self.values.get("speaker")

    @property
    def case_id(self) -> str:
        """The case this row describes (explicit, or derived from doc id and speaker)."""
        explicit = self.values.get("case_id")
        if explicit:
            return str(explicit)
        if self.doc_id and self.speaker:
            return f"{self.doc_id}:{self.speaker}"
        return str(self.doc_id or self.speaker)

    @property
    def attributes(self) -> dict[str, Any]:
        """The non-reserved columns with a value."""
        return {k: v for k, v in self.values.items() if k not in _RESERVED and v is not None}


def read_table_rows(
    path: Path, *, encoding: str | None = None
) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """Read a CSV or XLSX table as ``(columns, [(line, {column: value or None})])``.

    Values are stripped strings (numbers from xlsx stay numbers); empty cells are None.
    Line numbers are 1-based file lines (CSV) or sheet rows (XLSX).

    Raises:
        IngestError: unreadable file, no header, duplicate column names.
    """
    suffix = path.suffix.lower()
    raw_rows: list[tuple[int, list[Any]]] = []
    if suffix == ".xlsx":
        raw_rows = _xlsx_rows(path)
    elif suffix == ".csv":
        dec = decode_bytes(read_bytes(path), path=path, fmt="csv", encoding=encoding)
        sample = dec.text[:4096]
        try:
            dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        raw_rows = _csv_rows(dec.text, dialect, path)
    else:
        msg = f"a table must be .csv or .xlsx, not {suffix or 'no extension'!r}"
        raise IngestError(msg, path=path)
    raw_rows = [(ln, r) for ln, r in raw_rows if any(_cell(v) is not None for v in r)]
    if not raw_rows:
        msg = "the table is empty"
        raise IngestError(msg, path=path)
    header_line, header = raw_rows[0]
    columns = [str(_cell(c) or f"column_{i + 1}") for i, c in enumerate(header)]
    counts = Counter(columns)
    dupes = {c for c, n in counts.items() if n > 1}
    if dupes:
        msg = f"duplicate column names {sorted(dupes)}"
        raise IngestError(msg, path=path, line=header_line)
    out: list[tuple[int, dict[str, Any]]] = []
    for line, row in raw_rows[1:]:
        if len(row) > len(columns) and any(_cell(v) is not None for v in row[len(columns) :]):
            msg = f"the row has {len(row)} cells but the header has {len(columns)} columns"
            raise IngestError(msg, path=path, line=line)
        values = {c: _cell(row[i]) if i < len(row) else None for i, c in enumerate(columns)}
        out.append((line, values))
    return columns, out


def _csv_rows(text: str, dialect: Any, path: Path) -> list[tuple[int, list[Any]]]:
    """CSV rows with the line each starts on; an unterminated quote is an error, not a merge.

    Without ``strict``, the csv module reads a quote that is never closed to the end of the
    file, silently merging every later row into one cell. The rows are read strictly first; a
    file that is only loose elsewhere (``"a"b``) is read again leniently, as before.
    """
    for strict in (True, False):
        rows: list[tuple[int, list[Any]]] = []
        reader = csv.reader(io.StringIO(text), dialect, strict=strict)
        start = 1
        try:
            for row in reader:
                rows.append((start, row))
                start = reader.line_num + 1
        except csv.Error as exc:
            if "unexpected end of data" in str(exc) or (not strict and "EOF" in str(exc)):
                msg = (
                    "a quoted cell that starts on this line is never closed (a \" without its "
                    "closing \"): every later row would be merged into it; close or remove the quote"
                )
                raise IngestError(msg, path=path, line=start) from None
            if not strict:
                msg = f"malformed CSV: {exc}"
                raise IngestError(msg, path=path, line=reader.line_num) from None
            continue
        return rows
    return []  # pragma: no cover - the lenient pass returns or raises


def _cell(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        v = value.strip()
        return v or None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _xlsx_rows(path: Path) -> list[tuple[int, list[Any]]]:
    import io
    import zipfile
    import zlib

    import openpyxl

    from .._inputs import TABLE_ZIP_LIMITS, open_zip

    data = read_bytes(path)
    if not data[:8].startswith(b"PK"):
        msg = "not a valid .xlsx file (corrupt, password-protected, or an old .xls)"
        raise IngestError(msg, path=path)

    def fail(msg: str, unsafe: bool) -> Exception:
        return IngestError(f"{'unsafe' if unsafe else 'not a valid'} .xlsx file: {msg}", path=path)

    with open_zip(data, limits=TABLE_ZIP_LIMITS, fail=fail):
        pass
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, zlib.error, EOFError) as exc:
        msg = f"not a valid .xlsx file ({type(exc).__name__}: {exc})"
        raise IngestError(msg, path=path) from None
    except Exception as exc:  # lxml XMLSyntaxError and friends from inside openpyxl
        msg = f"not a valid .xlsx file ({type(exc).__name__}: {exc})"
        raise IngestError(msg, path=path) from None
    try:
        if not wb.worksheets:
            msg = "the workbook has no worksheet"
            raise IngestError(msg, path=path)
        ws = wb.worksheets[0]
        return [(i, list(r)) for i, r in enumerate(ws.iter_rows(values_only=True), start=1)]
    except IngestError:
        raise
    except Exception as exc:  # a damaged sheet only shows while its rows are read
        msg = f"not a valid .xlsx file ({type(exc).__name__}: {exc})"
        raise IngestError(msg, path=path) from None
    finally:
        wb.close()


class Sidecar:
    """Case attributes and speaker cases read from a ``cases.csv`` / ``cases.xlsx``.

    Args:
        path: the sidecar file.
        rows: its rows.
    """

    def __init__(self, path: str, rows: list[SidecarRow]):
        self.path = path
        self.rows = rows
        self._docs: dict[str, SidecarRow] = {}
        self._doc_speakers: dict[tuple[str, str], SidecarRow] = {}
        self._speakers: dict[str, SidecarRow] = {}
        for r in rows:
            if r.doc_id and r.speaker:
                self._doc_speakers.setdefault((r.doc_id, r.speaker), r)
            elif r.doc_id:
                if r.doc_id in self._docs:
                    msg = (
                        f"document {r.doc_id!r} has two rows (first on line "
                        f"{self._docs[r.doc_id].line})"
                    )
                    raise IngestError(msg, path=r.path, line=r.line)
                self._docs[r.doc_id] = r
            elif r.speaker:
                self._speakers.setdefault(r.speaker, r)

    def doc_row(self, doc_id: str) -> SidecarRow | None:
        """The ``doc_id``-only row of a document."""
        return self._docs.get(doc_id)

    def speaker_row(self, doc_id: str, speaker: str) -> SidecarRow | None:
        """The row for a speaker in a document (doc+speaker row first, then speaker-only)."""
        return self._doc_speakers.get((doc_id, speaker)) or self._speakers.get(speaker)

    def case_attributes(self) -> dict[str, dict[str, Any]]:
        """``{case_id: {attribute: value}}`` for every row."""
        out: dict[str, dict[str, Any]] = {}
        for r in self.rows:
            attrs = out.setdefault(r.case_id, {})
            for k, v in r.attributes.items():
                attrs.setdefault(k, v)
        return out

    def check(self, doc_ids: dict[str, set[str]], *, strict: bool) -> None:
        """Report rows naming unknown documents (or speakers).

        Args:
            doc_ids: ``{doc_id: set of speakers}`` of the corpus.
            strict: raise instead of warning.

        Raises:
            IngestError: in strict mode, for the first row naming an unknown document.
        """
        for r in self.rows:
            if r.doc_id and r.doc_id not in doc_ids:
                known = ", ".join(sorted(doc_ids))[:200]
                msg = f"the sidecar names an unknown document {r.doc_id!r} (known: {known})"
                if strict:
                    raise IngestError(msg, path=r.path, line=r.line)
                warnings.warn(f"{r.path}, line {r.line}: {msg}", IngestWarning, stacklevel=4)
            elif r.doc_id and r.speaker and r.speaker not in doc_ids[r.doc_id]:
                msg = f"document {r.doc_id!r} has no speaker {r.speaker!r}"
                if strict:
                    raise IngestError(msg, path=r.path, line=r.line)
                warnings.warn(f"{r.path}, line {r.line}: {msg}", IngestWarning, stacklevel=4)

    def __repr__(self) -> str:
        return f"Sidecar({self.path!r}, {len(self.rows)} rows)"


def read_sidecar(path: str | os.PathLike[str], *, encoding: str | None = None) -> Sidecar:
    r"""Read a case sidecar (``cases.csv`` or ``cases.xlsx``).

    Args:
        path: the sidecar file.
        encoding: force a text encoding for CSV (default: detect).

    Returns:
        The :class:`Sidecar`.

    Raises:
        IngestError: unreadable file, or no ``doc_id``/``speaker`` column, or a row with
            neither, or a duplicate document row (the message names file and line).

    Examples:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "cases.csv"
        >>> _ = p.write_text("doc_id,case_id,region\nint01,bappeda_a,north\n")
        >>> read_sidecar(p).doc_row("int01").case_id
        'bappeda_a'
    """
    path = Path(path)
    columns, raw = read_table_rows(path, encoding=encoding)
    rename = {c: c.strip().lower() for c in columns if c.strip().lower() in _RESERVED}
    if not {"doc_id", "speaker"} & set(rename.values()):
        msg = f"a sidecar needs a 'doc_id' and/or 'speaker' column. Got columns {columns}."
        raise IngestError(msg, path=path, line=1)
    rows: list[SidecarRow] = []
    for line, values in raw:
        vals = {
            rename.get(k, k): (str(v) if rename.get(k) and v is not None else v)
            for k, v in values.items()
        }
        if not vals.get("doc_id") and not vals.get("speaker"):
            msg = "the row has neither a doc_id nor a speaker"
            raise IngestError(msg, path=path, line=line)
        for key, allowed in (("speaker_role", ROLES), ("kind", KINDS)):
            if vals.get(key) is not None:
                vals[key] = str(vals[key]).lower()
                if vals[key] not in allowed:
                    msg = f"{key} must be one of {allowed}. Got {vals[key]!r} instead."
                    raise IngestError(msg, path=path, line=line)
        rows.append(SidecarRow(str(path), line, vals))
    return Sidecar(str(path), rows)
