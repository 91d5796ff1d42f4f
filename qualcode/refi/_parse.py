"""Small helpers of the REFI-QDA reader: namespaces, children, GUIDs, the .qde member, stored texts."""

from __future__ import annotations

import io
import warnings

from lxml import etree

from ..errors import IngestWarning, RefiError
from ._safety import SafeArchive


def _strip_namespaces(root: etree._Element) -> None:
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.startswith("{"):
            el.tag = el.tag.split("}", 1)[1]
    etree.cleanup_namespaces(root)


def _children(el: etree._Element, tag: str) -> list[etree._Element]:
    return [c for c in el if c.tag == tag]


def _child_text(el: etree._Element, tag: str) -> str | None:
    for c in el:
        if c.tag == tag:
            return c.text or ""
    return None


def _norm_guid(g: str | None) -> str | None:
    if not g:
        return None
    return g.strip().strip("{}").lower()


def _int_attr(el: etree._Element, name: str, where: str) -> int:
    raw = el.get(name)
    try:
        return int(str(raw).strip())
    except (TypeError, ValueError):
        msg = f"{where}: attribute {name}={raw!r} is not an integer."
        raise RefiError(msg) from None


def _find_qde(arc: SafeArchive) -> str:
    names = arc.names()
    qdes = [n for n in names if n.lower().endswith(".qde")]
    exact = [n for n in qdes if n.lower() == "project.qde"]
    if exact:
        return exact[0]
    top = [n for n in qdes if "/" not in n]
    if len(top) == 1:
        return top[0]
    if len(qdes) == 1:
        return qdes[0]
    if not qdes:
        msg = f"{arc.path}: no .qde project file in the archive (members: {names[:10]})."
    else:
        msg = f"{arc.path}: several .qde files and none is project.qde: {qdes[:10]}."
    raise RefiError(msg)


def _decode(data: bytes, where: str) -> tuple[str, str, bool]:
    """Decode a stored text file; return (text without BOM, encoding, had BOM)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig", True
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16", True
    try:
        return data.decode("utf-8"), "utf-8", False
    except UnicodeDecodeError as exc:
        warnings.warn(
            f"{where}: not valid UTF-8 ({exc.reason} at byte {exc.start}); read as cp1252.",
            IngestWarning,
            stacklevel=4,
        )
        return data.decode("cp1252", errors="replace"), "cp1252", False


def _docx_text(data: bytes, where: str) -> str:
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            total = sum(i.file_size for i in zf.infolist())
            if total > 512 * 1024**2 or len(zf.infolist()) > 5000:
                msg = f"{where}: the .docx expands to {total} bytes; refusing it."
                raise RefiError(msg)
        import docx  # python-docx

        doc = docx.Document(io.BytesIO(data))
    except RefiError:
        raise
    except Exception as exc:  # python-docx raises many types on a bad file
        msg = f"{where}: cannot read the .docx source: {exc}"
        raise RefiError(msg) from exc
    return "\n".join(p.text for p in doc.paragraphs)
