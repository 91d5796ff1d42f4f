"""Plain-text and Markdown transcripts and notes (``.txt``, ``.md``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from .._inputs import safe_yaml_load
from ..corpus._model import Document, SourceInfo
from ..errors import IngestError
from ._base import RESERVED, Parsed
from ._decode import decode_bytes, read_bytes
from ._labels import parse_lines

__all__ = ["document_from_text", "parse_text", "parse_text_file", "split_front_matter"]

_FM_END = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)


def split_front_matter(text: str, path: str | None) -> tuple[dict[str, Any], int]:
    """Parse YAML front matter (``---`` ... ``---`` at the start of the text).

    Args:
        text: the document text.
        path: file name for messages.

    Returns:
        ``(metadata, body_start)``; ``({}, 0)`` when there is no front matter.

    Raises:
        IngestError: invalid YAML, or front matter that is not a mapping (names the line).
    """
    if not (text.startswith("---\n") or text.startswith("---\r")) and text.rstrip() != "---":
        return {}, 0
    m = _FM_END.search(text, 4)
    if m is None:
        return {}, 0
    block = text[4 : m.start()]
    try:
        data = safe_yaml_load(block, fail=lambda m, ln: IngestError(m, path=path, line=None if ln is None else ln + 1)) if block.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        msg = f"invalid YAML front matter: {problem}"
        raise IngestError(msg, path=path, line=line) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        msg = f"front matter must be a mapping of keys to values. Got {type(data).__name__}."
        raise IngestError(msg, path=path, line=2)
    body = m.end() + 1 if m.end() < len(text) else m.end()
    return {str(k): _plain(v) for k, v in data.items()}, body


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def parse_text(
    text: str,
    *,
    doc_id: str,
    source: SourceInfo,
    kind: str | None = None,
) -> Parsed:
    """Find front matter and speaker turns in a plain-text or Markdown transcript.

    Args:
        text: decoded, newline-normalised (and pseudonymised) text.
        doc_id: the default doc id (file stem); front matter ``doc_id`` overrides it.
        source: source information.
        kind: a kind known in advance (front matter still wins); ``notes`` forces
            bullet-notes parsing, any other kind forbids it.

    Returns:
        The parsed document.

    Raises:
        IngestError: invalid front matter.
    """
    meta, body = split_front_matter(text, source.path)
    return parsed_with_front_matter(text, body, meta, doc_id=doc_id, source=source, kind=kind)


def parse_text_file(
    path: Path,
    *,
    doc_id: str,
    fmt: str,
    encoding: str | None = None,
    transform: Callable[[str], str] | None = None,
    kind: str | None = None,
) -> Parsed:
    """Read a plain-text or Markdown file: decode, pseudonymise, then :func:`parse_text`.

    Args:
        path: the file.
        doc_id: the default doc id (the file stem).
        fmt: the reader name recorded as the source format (``txt`` or ``md``).
        encoding: force a text encoding (a byte-order mark still wins).
        transform: applied to the whole text before parsing (pseudonymisation).
        kind: a kind known in advance (see :func:`parse_text`).

    Returns:
        The parsed document.

    Raises:
        IngestError: an empty, binary or undecodable file, or invalid front matter.
    """
    dec = decode_bytes(read_bytes(path), path=path, fmt=fmt, encoding=encoding)
    text = transform(dec.text) if transform else dec.text
    return parse_text(text, doc_id=doc_id, source=dec.source, kind=kind)


def parsed_with_front_matter(
    text: str,
    body: int,
    meta: dict[str, Any],
    *,
    doc_id: str,
    source: SourceInfo,
    kind: str | None,
    forced: dict[int, Any] | None = None,
) -> Parsed:
    """Parse the turns after the front matter and apply its metadata (shared by every reader).

    Front matter ``doc_id``, ``case_id``, ``language`` and ``kind`` become document fields
    (``kind: notes`` also switches on bullet-note parsing); other keys become attributes.
    """
    fm_kind = meta.get("kind")
    want = str(fm_kind).strip().lower() if fm_kind else kind
    notes = None if want is None else want == "notes"
    result = parse_lines(text, body, forced=forced, notes=notes)
    the_id = str(meta["doc_id"]).strip() if meta.get("doc_id") not in (None, "") else doc_id
    fields = {k: meta[k] for k in ("case_id", "language", "kind") if meta.get(k) not in (None, "")}
    attributes = {k: v for k, v in meta.items() if k not in RESERVED}
    return Parsed(
        doc_id=the_id,
        text=text,
        turns=result.turns,
        source=source,
        meta=fields,
        attributes=attributes,
        notes=result.notes,
        labelled=result.labelled,
    )


def document_from_text(
    text: str,
    doc_id: str = "doc",
    *,
    language: str | None = None,
    kind: str | None = None,
    fmt: str = "txt",
) -> Document:
    r"""Parse a transcript held in a string, exactly as a ``.txt``/``.md`` file would be.

    Line endings are normalised to ``\n`` first (the original style is recorded).

    Args:
        text: the transcript text.
        doc_id: the default doc id (front matter ``doc_id`` overrides it).
        language: the language when the front matter names none (default: guess).
        kind: the kind when the front matter names none (default: infer).
        fmt: the format recorded in ``doc.source`` (``txt`` or ``md``).

    Returns:
        The document.

    Raises:
        IngestError: invalid front matter or metadata.

    Examples:
        >>> doc = document_from_text("I: Why?\r\nR: Because.\r\n")
        >>> [doc.turn_text(i) for i in range(len(doc.turns))]
        ['Why?', 'Because.']
        >>> doc.source.newline
        '\r\n'
    """
    import hashlib

    from ._base import finalise
    from ._decode import newline_style, normalise_newlines

    source = SourceInfo(
        path=None,
        format=fmt,
        encoding="utf-8",
        bom=False,
        newline=newline_style(text),
        sha256=hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(),
    )
    norm = normalise_newlines(text)
    parsed = parse_text(norm, doc_id=doc_id, source=source, kind=kind)
    doc, _ = finalise(parsed, language=language, kind=kind)
    return doc
