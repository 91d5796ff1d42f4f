"""The readers registry: file suffix -> reader.

:func:`read_corpus` and :func:`read_documents` find a file's reader here by its suffix; the
CLI help (``qualcode ingest --help``), the package docstring and :func:`supported_formats`
list the formats from here.  Adding a format is one new file with a parse function plus
one :func:`register_reader` line at the end of this module.

A parse function takes the file's path and keyword options, and returns a
:class:`~qualcode.readers._base.Parsed` document (or a list of them, or None for a table
that is not a document table).  It declares the options it needs among :data:`OPTIONS`;
the registry passes only those::

    def parse_pdf(path, *, doc_id, transform=None, kind=None) -> Parsed: ...
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from ._base import Parsed
from ._docx import parse_docx
from ._jsonl import parse_jsonl
from ._pdf import parse_pdf
from ._subtitles import parse_subtitle_file
from ._tables import parse_table
from ._text import parse_text_file

__all__ = ["OPTIONS", "SUPPORTED", "Reader", "reader_for", "readers", "register_reader", "supported_formats"]

#: The keyword options a parse function may take (it takes the ones it names):
#: ``doc_id`` (the file stem), ``fmt`` (the reader's name, recorded as the source format),
#: ``encoding``, ``transform`` (pseudonymisation, applied to every text and label),
#: ``kind``, and the table options ``text_column``, ``id_column``, ``case_column``,
#: ``attribute_columns`` (see :func:`~qualcode.readers.read_corpus`).
OPTIONS: tuple[str, ...] = (
    "doc_id",
    "fmt",
    "encoding",
    "transform",
    "kind",
    "text_column",
    "id_column",
    "case_column",
    "attribute_columns",
)


@dataclass(frozen=True)
class Reader:
    """One file format.

    Attributes:
        name: short name, recorded as each document's source format (``"docx"``).
        suffixes: the file suffixes it reads, lower case with the dot (``(".docx",)``).
        description: one line for the help and :func:`supported_formats`.
        parse: the parse function (see the module docstring).
        options: the keyword options ``parse`` takes, among :data:`OPTIONS`.
    """

    name: str
    suffixes: tuple[str, ...]
    description: str
    parse: Callable[..., Parsed | list[Parsed] | None]
    options: tuple[str, ...]

    def read(self, path: Path, **options: Any) -> list[Parsed] | None:
        """Parse ``path`` with the options ``parse`` takes (``doc_id`` and ``fmt`` are filled in).

        Returns:
            The parsed documents, or None for a table without a text column.
        """
        given = {"doc_id": path.stem, "fmt": self.name, **options}
        out = self.parse(path, **{k: given.get(k) for k in self.options})
        if out is None or isinstance(out, list):
            return out
        return [out]


_BY_SUFFIX: dict[str, Reader] = {}
_NAMES: dict[str, str] = {}
#: suffix -> reader name, a live read-only view of the registry
SUPPORTED: Mapping[str, str] = MappingProxyType(_NAMES)


def register_reader(
    suffixes: str | Iterable[str],
    parse: Callable[..., Parsed | list[Parsed] | None],
    name: str,
    description: str,
) -> Reader:
    """Register a reader for one or more file suffixes.

    Args:
        suffixes: ``".pdf"`` or several (``[".md", ".markdown"]``); case does not matter.
        parse: ``parse(path, **options)``; its keyword parameters without a default must be
            among :data:`OPTIONS` (the module docstring shows one); those with a default that
            are not options are left at their default.
        name: short format name, recorded as each document's source format.
        description: one line for the help and :func:`supported_formats`.

    Returns:
        The registered :class:`Reader`.

    Raises:
        ValueError: a suffix without a leading dot, or one another reader already reads.
        TypeError: ``parse`` requires an option the registry does not know.
    """
    items = (suffixes,) if isinstance(suffixes, str) else tuple(suffixes)
    norm = tuple(s.lower() for s in items)
    for s in norm:
        if not s.startswith(".") or len(s) < 2:
            msg = f"register_reader: a suffix starts with a dot ('.pdf'). Got {s!r}."
            raise ValueError(msg)
        other = _BY_SUFFIX.get(s)
        if other is not None and other.name != name:
            msg = f"register_reader: {s} is already read by the {other.name!r} reader."
            raise ValueError(msg)
    params = list(inspect.signature(parse).parameters.values())[1:]
    named = [p for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    takes = tuple(p.name for p in named if p.name in OPTIONS)
    # a parameter with a default that is not a reader option is the parser's own (never passed)
    unknown = [p.name for p in named if p.name not in OPTIONS and p.default is p.empty]
    if unknown:
        msg = f"register_reader: {parse.__qualname__} takes {unknown}, not among the reader options {list(OPTIONS)}."
        raise TypeError(msg)
    reader = Reader(name=name, suffixes=norm, description=description, parse=parse, options=takes)
    for s in norm:
        _BY_SUFFIX[s] = reader
        _NAMES[s] = name
    return reader


def reader_for(path: str | Path) -> Reader | None:
    """The reader of ``path`` by its suffix (None when no reader reads it)."""
    return _BY_SUFFIX.get(Path(path).suffix.lower())


def readers() -> list[Reader]:
    """Every registered reader, once each, in registration order."""
    return list(dict.fromkeys(_BY_SUFFIX.values()))


def supported_formats() -> pd.DataFrame:
    """The formats qualcode reads, one row per reader.

    Returns:
        DataFrame indexed by ``format`` (the reader name) with the columns ``suffixes``
        (space separated) and ``description``.

    Examples:
        >>> from qualcode.readers import supported_formats
        >>> supported_formats().loc["docx", "suffixes"]
        '.docx'
    """
    rows = [{"format": r.name, "suffixes": " ".join(r.suffixes), "description": r.description} for r in readers()]
    return pd.DataFrame(rows, columns=["format", "suffixes", "description"]).set_index("format")


def formats_help(indent: str = "  ") -> str:
    """The formats as aligned text lines (``.docx  Word: ...``) for command-line help."""
    rows = [(" ".join(r.suffixes), r.description) for r in readers()]
    width = max((len(s) for s, _ in rows), default=0)
    return "\n".join(f"{indent}{s.ljust(width)}  {d}" for s, d in rows)


# ---- the readers qualcode ships: one line each -------------------------------------------
register_reader(".txt", parse_text_file, "txt", "plain text: speaker labels, timestamps, YAML front matter, bullet notes")
register_reader((".md", ".markdown"), parse_text_file, "md", "Markdown, read as plain text")
register_reader(".docx", parse_docx, "docx", "Word: bold or typed speaker labels, speaker | text tables")
register_reader(".pdf", parse_pdf, "pdf", "PDF with a text layer: pages kept, scanned pages reported (OCR with the [ocr] extra)")
register_reader(".vtt", parse_subtitle_file, "vtt", "WebVTT captions, cues merged into speaker turns")
register_reader(".srt", parse_subtitle_file, "srt", "SubRip captions, cues merged into speaker turns")
register_reader(".csv", parse_table, "csv", "response table, one document per row with text")
register_reader(".xlsx", parse_table, "xlsx", "Excel response table, one document per row with text")
register_reader(".jsonl", parse_jsonl, "jsonl", "JSON Lines response table, one document per object with text")
