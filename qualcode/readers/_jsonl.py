"""JSON Lines response tables (``.jsonl``): one JSON object per line, one document per object.

Survey platforms and data pipelines export open answers as JSON Lines.  A ``.jsonl`` file is
read exactly like a ``.csv`` response table (:mod:`qualcode.readers._tables`): the keys are
the columns (in the order they first appear), the text column is ``text_column`` or the
first of ``text, response, answer, jawaban, content, transcript``, ids come from
``id_column`` or a unique ``id``/``response_id``... key, and the other keys become document
and case attributes.  Strings are stripped (empty ones are missing), whole floats become
ints, ``null`` is missing.  Blank lines are skipped; a line that is not a JSON object is an
error naming the file and line.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from ..corpus._model import SourceInfo
from ..errors import IngestError
from ._base import Parsed
from ._decode import read_bytes
from ._tables import table_columns, table_documents

__all__ = ["jsonl_values", "parse_jsonl"]


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def jsonl_values(line: bytes | str, *, path: Path, lineno: int) -> dict[str, Any] | None:
    """The ``{key: value or None}`` of one JSON Lines line (None for a blank line).

    Raises:
        IngestError: the line is not valid UTF-8 JSON, or not an object.
    """
    if isinstance(line, bytes):
        if lineno == 1 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            msg = f"not valid UTF-8 ({exc.reason} at byte {exc.start} of the line)"
            raise IngestError(msg, path=path, line=lineno) from None
    if not line.strip():
        return None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        msg = f"not a JSON object: {exc.msg} (column {exc.colno})"
        raise IngestError(msg, path=path, line=lineno) from None
    if not isinstance(obj, dict):
        msg = f"each line must be a JSON object ({{...}}); got a JSON {type(obj).__name__}"
        raise IngestError(msg, path=path, line=lineno)
    return {str(k): _cell(v) for k, v in obj.items()}


def jsonl_rows(lines: Iterable[bytes], *, path: Path, first_line: int = 1) -> Iterable[tuple[int, dict[str, Any]]]:
    """``(line, values)`` of the non-blank lines of a JSON Lines byte stream."""
    for i, raw in enumerate(lines, start=first_line):
        values = jsonl_values(raw, path=path, lineno=i)
        if values is not None:
            yield i, values


def parse_jsonl(
    path: Path,
    *,
    text_column: str | None = None,
    id_column: str | None = None,
    case_column: str | None = None,
    attribute_columns: Sequence[str] | None = None,
    transform: Callable[[str], str] | None = None,
) -> list[Parsed] | None:
    """Read a JSON Lines response table (see the module docstring).

    Args:
        path: a .jsonl file.
        text_column: the key holding the text (default: detect).
        id_column: the key holding respondent ids (default: a unique ``id``... key, else line
            numbers among the objects).
        case_column: the key holding case ids (default: the doc id).
        attribute_columns: the keys kept as attributes (default: all others).
        transform: applied to text and ids (pseudonymisation).

    Returns:
        One parsed document per object with text, or None when no key is a text column.

    Raises:
        IngestError: a bad line, duplicate ids, a named key that is missing, or an empty file.
    """
    raw = read_bytes(path)
    rows = list(jsonl_rows(raw.splitlines(), path=path))
    if not rows:
        msg = "the file is empty (no JSON object)"
        raise IngestError(msg, path=path)
    columns = list(dict.fromkeys(k for _, v in rows for k in v))
    rows = [(line, {c: v.get(c) for c in columns}) for line, v in rows]
    chosen = table_columns(columns, rows, path, text_column=text_column, id_column=id_column,
                           case_column=case_column, attribute_columns=attribute_columns)  # fmt: skip
    if chosen is None:
        return None
    source = jsonl_source(path, hashlib.sha256(raw).hexdigest(), raw.startswith(b"\xef\xbb\xbf"))
    return table_documents(rows, path, chosen, source, transform, key="key")


def jsonl_source(path: Path, sha256: str, bom: bool) -> SourceInfo:
    """The :class:`SourceInfo` of a JSON Lines file."""
    return SourceInfo(path=str(path), format="jsonl", encoding="utf-8", bom=bom, newline="\n", sha256=sha256)
