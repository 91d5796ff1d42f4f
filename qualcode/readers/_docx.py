r"""Word transcripts (``.docx``, python-docx).

Three layouts are understood, mixed freely in one file:

* paragraphs whose first run is bold and ends with ``:`` (or a bold run followed by a
  run starting with ``:``): the bold text is the speaker label;
* paragraphs with the label typed in the text (``R: ...``), found like in a .txt file;
* tables with a speaker column and a text column, and optionally a timestamp column
  (the layout transcription services export); a header row is detected and skipped.

``Document.text`` is the paragraphs and table rows joined by ``\n``, table rows written as
``Speaker: text``; turns point at the text part.  Headings are outside every turn.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._inputs import DOCUMENT_ZIP_LIMITS, open_zip
from ..corpus._model import SourceInfo
from ..errors import IngestError, IngestWarning
from ._base import Parsed
from ._decode import read_bytes
from ._labels import Forced, parse_time
from ._text import parsed_with_front_matter, split_front_matter

__all__ = ["parse_docx"]

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HEADER_WORDS = {
    "speaker", "pembicara", "name", "nama", "text", "teks", "transcript", "transkrip",
    "utterance", "ucapan", "time", "timestamp", "waktu", "start", "who", "siapa", "content",
    "isi", "dialogue", "dialog",
}
_TIME_CELL = re.compile(r"[\[(]?\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?[\])]?")


def _open(path: Path) -> Any:
    import docx

    data = read_bytes(path)
    if not data.strip():
        msg = "the file is empty"
        raise IngestError(msg, path=path)
    if data.startswith(_OLE_MAGIC):
        msg = (
            "cannot open this .docx: it is password-protected (encrypted) or an old binary "
            ".doc file. Remove the password or save it as .docx in Word."
        )
        raise IngestError(msg, path=path)
    if not data.startswith(b"PK"):
        msg = "not a valid .docx file (corrupt: not a zip archive)"
        raise IngestError(msg, path=path)
    fail = _zip_fail(path, "docx")
    with open_zip(data, limits=DOCUMENT_ZIP_LIMITS, fail=fail):
        pass
    try:
        return docx.Document(io.BytesIO(data)), data
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, AttributeError) as exc:
        msg = f"not a valid .docx file (corrupt: {type(exc).__name__}: {exc})"
        raise IngestError(msg, path=path) from None
    except Exception as exc:  # lxml XMLSyntaxError and friends
        msg = f"not a valid .docx file (corrupt: {type(exc).__name__}: {exc})"
        raise IngestError(msg, path=path) from None


def _zip_fail(path: Path, what: str) -> Callable[[str, bool], Exception]:
    """The error builder for the safe-zip checks of a .docx/.xlsx file."""

    def fail(msg: str, unsafe: bool) -> Exception:
        return IngestError(f"not a valid .{what} file: {msg}" if not unsafe else f"unsafe .{what} file: {msg}", path=path)

    return fail


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
#: run containers whose text Word does not show (deleted or moved-away revisions, the fallback
#: copy of alternate content) or that hold paragraphs of their own (text boxes)
_HIDDEN = {_W + "del", _W + "moveFrom", _MC + "Fallback", _W + "txbxContent"}
#: block containers whose paragraphs and tables Word shows in the flow of the text
_BLOCK_WRAPPERS = {_W + "sdt", _W + "sdtContent", _W + "customXml", _W + "ins", _W + "moveTo"}


def _paragraph_runs(paragraph: Any) -> list[Any]:
    """Every run Word shows in a paragraph, in order.

    Direct runs and those inside hyperlinks, tracked insertions, content controls, smart
    tags, simple fields and custom XML; not deleted revisions or text boxes.
    """
    from docx.text.run import Run

    p = paragraph._p
    out = []
    for r in p.iter(_W + "r"):
        node = r.getparent()
        hidden = False
        while node is not None and node is not p:
            if node.tag in _HIDDEN or node.tag == _W + "p":
                hidden = True
                break
            node = node.getparent()
        if not hidden:
            out.append(Run(r, paragraph))
    return out


def _paragraph_text(paragraph: Any) -> str:
    return "".join(r.text for r in _paragraph_runs(paragraph))


def _blocks(parent: Any, owner: Any) -> list[Any]:
    """Paragraphs and tables of a body or cell in order, content controls unwrapped."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    out: list[Any] = []
    for child in parent.iterchildren():
        if child.tag == _W + "p":
            out.append(Paragraph(child, owner))
        elif child.tag == _W + "tbl":
            out.append(Table(child, owner))
        elif child.tag in _BLOCK_WRAPPERS:
            out.extend(_blocks(child, owner))
    return out


def _unread_text(document: Any) -> list[str]:
    """What Word shows that a transcript reading skips: text boxes, footnotes, endnotes, comments."""
    body = document.element.body
    notes = []
    boxes = sum(1 for t in body.iter(_W + "txbxContent") if "".join(t.itertext()).strip()
                and t.getparent() is not None)
    if boxes:
        notes.append(f"{boxes} text box(es)")
    part = document.part
    for rel in part.rels.values():
        kind = rel.reltype.rsplit("/", 1)[-1]
        if kind not in ("footnotes", "endnotes", "comments") or rel.is_external:
            continue
        try:
            from lxml import etree

            root = etree.fromstring(rel.target_part.blob, etree.XMLParser(resolve_entities=False, no_network=True))
        except Exception:  # an unreadable part: say so rather than guess
            notes.append(f"the {kind} (unreadable)")
            continue
        tag = {"footnotes": "footnote", "endnotes": "endnote", "comments": "comment"}[kind]
        n = sum(
            1 for el in root.iter(_W + tag)
            if el.get(_W + "type") not in ("separator", "continuationSeparator", "continuationNotice")
            and "".join(t.text or "" for t in el.iter(_W + "t")).strip()
        )
        if n:
            notes.append(f"{n} {kind[:-1] if n == 1 else kind}")
    return notes


def _bold_label(paragraph: Any) -> tuple[str, str] | None:
    """``(label, rest)`` when the paragraph starts with a bold label run."""
    runs = [r for r in _paragraph_runs(paragraph) if r.text]
    if not runs:
        return None
    i = 0
    while i < len(runs) and not runs[i].text.strip():
        i += 1
    if i >= len(runs) or not runs[i].bold:
        return None
    label = ""
    j = i
    while j < len(runs) and runs[j].bold:
        label += runs[j].text
        j += 1
        if label.rstrip().endswith(":"):
            break
    rest = "".join(r.text for r in runs[j:])
    stripped = label.strip()
    if stripped.endswith(":"):
        name = stripped[:-1].strip()
    elif rest.lstrip().startswith(":"):
        name = stripped
        rest = rest.lstrip()[1:]
    else:
        return None
    if not name or len(name) > 60 or "\n" in name or len(name.split()) > 5:
        return None
    return name, rest


def _cell_text(cell: Any) -> str:
    from docx.table import Table

    parts: list[str] = []
    for block in _blocks(cell._tc, cell):
        if isinstance(block, Table):
            parts.extend(_cell_text(c) for row in block.rows for c in _unique_cells(row))
        else:
            parts.append(_paragraph_text(block))
    return "\n".join(parts).strip()


def _unique_cells(row: Any) -> list[Any]:
    seen: set[int] = set()
    out = []
    for c in row.cells:  # merged cells repeat: keep each once
        if id(c._tc) not in seen:
            seen.add(id(c._tc))
            out.append(c)
    return out


def _table_rows(table: Any) -> list[tuple[str, str, float | None]]:
    """``(speaker, text, time)`` rows of a speaker | text [| time] table, or [] if not one."""
    grid: list[list[str]] = []
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for c in row.cells:  # merged cells repeat: keep each once
            if id(c._tc) in seen:
                continue
            seen.add(id(c._tc))
            cells.append(_cell_text(c))
        grid.append(cells)
    grid = [r for r in grid if any(r)]
    if not grid or any(len(r) not in (2, 3) for r in grid):
        return []
    width = max(len(r) for r in grid)
    grid = [r + [""] * (width - len(r)) for r in grid]
    if all(c.strip().lower().rstrip(":") in _HEADER_WORDS for c in grid[0] if c.strip()):
        grid = grid[1:]
    if not grid:
        return []
    cols = list(range(width))
    time_col = None
    for c in cols:
        vals = [r[c] for r in grid if r[c]]
        if vals and sum(bool(_TIME_CELL.fullmatch(v)) for v in vals) >= 0.8 * len(vals):
            time_col = c
            break
    rest = [c for c in cols if c != time_col]
    if len(rest) != 2:
        return []
    avg = [sum(len(r[c]) for r in grid) / len(grid) for c in rest]
    spk_col, txt_col = (rest[0], rest[1]) if avg[0] <= avg[1] else (rest[1], rest[0])
    out = []
    for r in grid:
        t = parse_time(r[time_col]) if time_col is not None and r[time_col] else None
        out.append((r[spk_col].rstrip(":").strip(), r[txt_col], t))
    return out


def parse_docx(
    path: Path,
    *,
    doc_id: str,
    transform: Callable[[str], str] | None = None,
    kind: str | None = None,
) -> Parsed:
    """Read a .docx transcript.

    Args:
        path: the file.
        doc_id: default doc id (the file stem).
        transform: applied to every label and text piece (pseudonymisation).
        kind: a kind known in advance (``notes`` forces bullet-notes parsing).

    Returns:
        The parsed document.

    Raises:
        IngestError: the file is corrupt, encrypted or empty.
    """
    import hashlib

    from docx.table import Table

    document, data = _open(path)
    tf = transform or (lambda s: s)
    lines: list[str] = []
    forced: dict[int, Forced] = {}
    from docx.enum.style import WD_STYLE_TYPE

    style_names = {st.style_id: st.name or "" for st in document.styles}
    default = document.styles.default(WD_STYLE_TYPE.PARAGRAPH)
    default_style = (default.name or "") if default is not None else ""
    for block in _blocks(document.element.body, document._body):
        if isinstance(block, Table):
            rows = _table_rows(block)
            if not rows:
                for row in block.rows:
                    seen: set[int] = set()
                    for c in row.cells:
                        if id(c._tc) not in seen:
                            seen.add(id(c._tc))
                            txt = _cell_text(c)
                            if txt:
                                lines.extend(tf(txt).split("\n"))
                continue
            for spk, txt, t in rows:
                txt = tf(txt.replace("\r", "\n"))
                if spk:
                    spk = tf(spk)
                    prefix = f"{spk}: "
                    forced[len(lines)] = Forced(spk, len(prefix), t)
                    lines.extend((prefix + txt).split("\n"))
                else:
                    lines.extend(txt.split("\n"))
            continue
        sid = block._p.style  # looked up once per style, not per paragraph (python-docx is slow)
        style = style_names.get(sid, "") if sid else default_style
        text = _paragraph_text(block).replace("\r", "\n").replace("\v", "\n")
        if style.startswith(("Heading", "Title")):
            if text.strip():
                forced[len(lines)] = Forced(None)
            lines.append(tf(text).replace("\n", " "))
            continue
        bold = _bold_label(block)
        if bold is not None:
            name, rest = bold
            name = tf(name)
            prefix = f"{name}: "
            forced[len(lines)] = Forced(name, len(prefix))
            lines.extend((prefix + tf(rest.lstrip().replace("\r", "\n"))).split("\n"))
        else:
            lines.extend(tf(text).split("\n"))
    text = "\n".join(lines)
    unread = _unread_text(document)
    if unread:
        warnings.warn(
            f"{path}: not read: the text of {', '.join(unread)} (qualcode reads the body of a "
            ".docx: paragraphs and tables)",
            IngestWarning,
            stacklevel=4,
        )
    if not text.strip():
        msg = "the document has no text"
        raise IngestError(msg, path=path)
    meta, body = split_front_matter(text, str(path))
    if body:
        first = text.count("\n", 0, body)
        forced = {i - first: f for i, f in forced.items() if i >= first}
    source = SourceInfo(
        path=str(path),
        format="docx",
        encoding="utf-8",
        bom=False,
        newline="\n",
        sha256=hashlib.sha256(data).hexdigest(),
    )
    return parsed_with_front_matter(
        text, body, meta, doc_id=doc_id, source=source, kind=kind, forced=forced
    )
