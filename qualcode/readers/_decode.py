"""Bytes to text: BOM and encoding detection, binary/empty checks, newline normalisation."""

from __future__ import annotations

import codecs
import hashlib
import warnings
from dataclasses import dataclass
from pathlib import Path

from .._inputs import read_input_bytes
from ..corpus._model import SourceInfo
from ..errors import IngestError, IngestWarning

__all__ = ["Decoded", "decode_bytes", "read_bytes", "normalise_newlines"]

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# control characters that never occur in a text transcript
_BAD_CONTROLS = {chr(c) for c in range(32)} - {"\t", "\n", "\r", "\f", "\v"}


@dataclass(frozen=True)
class Decoded:
    r"""A decoded text file.

    Attributes:
        text: the text, BOM removed, line endings normalised to ``\n``.
        source: how the file was stored.
    """

    text: str
    source: SourceInfo


def read_bytes(path: Path) -> bytes:
    """Read a regular file's bytes (read-only), turning every problem into :class:`IngestError`.

    FIFOs, devices (a symbolic link to ``/dev/zero``...) and sockets are refused without
    blocking, and so is a file above the input size limit (``$QUALCODE_MAX_INPUT_MB``,
    default 256 MiB); the message names the file.
    """
    return read_input_bytes(path, fail=lambda msg, unsafe: IngestError(msg, path=path))


def newline_style(text: str) -> str:
    r"""The line-ending style of ``text``: ``\n``, ``\r\n``, ``\r`` or ``mixed``."""
    crlf = text.count("\r\n")
    cr = text.count("\r") - crlf
    lf = text.count("\n") - crlf
    styles = [s for s, n in (("\r\n", crlf), ("\r", cr), ("\n", lf)) if n]
    if not styles:
        return "\n"
    return styles[0] if len(styles) == 1 else "mixed"


def normalise_newlines(text: str) -> str:
    r"""Replace ``\r\n`` and lone ``\r`` by ``\n``."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def decode_bytes(
    data: bytes, *, path: Path | str | None, fmt: str, encoding: str | None = None
) -> Decoded:
    """Decode the bytes of a text file.

    Order: a byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32) wins; then the ``encoding``
    argument; then strict UTF-8; then cp1252 with an :class:`IngestWarning`.

    Args:
        data: the raw bytes.
        path: the file name, for messages and the :class:`SourceInfo`.
        fmt: the reader name recorded in the :class:`SourceInfo`.
        encoding: force this encoding (a BOM still takes precedence).

    Returns:
        The normalised text and its :class:`SourceInfo`.

    Raises:
        IngestError: empty file, binary content (NUL bytes), or bytes that no
            candidate encoding can decode.
    """
    sha = hashlib.sha256(data).hexdigest()
    if not data.strip():
        msg = "the file is empty"
        raise IngestError(msg, path=path)
    bom = False
    enc: str | None = None
    body = data
    for mark, name in _BOMS:
        if data.startswith(mark):
            bom, enc, body = True, name, data[len(mark) :]
            break
    if enc is None and b"\x00" in data:
        msg = "looks like a binary file (it contains NUL bytes), not a text transcript"
        raise IngestError(msg, path=path)
    if enc is None and encoding:
        enc = encoding
    if enc is not None:
        try:
            text = body.decode(enc)
        except (UnicodeDecodeError, LookupError) as exc:
            msg = f"cannot decode the file as {enc}: {exc}"
            raise IngestError(msg, path=path) from None
    else:
        try:
            text = body.decode("utf-8")
            enc = "utf-8"
        except UnicodeDecodeError as exc:
            line = body[: exc.start].count(b"\n") + 1
            try:
                text = body.decode("cp1252")
            except UnicodeDecodeError:
                msg = "undecodable bytes: the file is neither UTF-8, UTF-16 with BOM nor cp1252"
                raise IngestError(msg, path=path, line=line) from None
            enc = "cp1252"
            warnings.warn(
                f"{path}: not valid UTF-8 (first bad byte on line {line}); read as cp1252 "
                "(Windows-1252). Check accented characters, or save the file as UTF-8.",
                IngestWarning,
                stacklevel=3,
            )
    if not text.strip():
        msg = "the file is empty"
        raise IngestError(msg, path=path)
    sample = text[:4096]
    bad = sum(ch in _BAD_CONTROLS for ch in sample)
    if "\x00" in text or bad > max(3, len(sample) // 100):
        msg = "looks like a binary file (control characters), not a text transcript"
        raise IngestError(msg, path=path)
    style = newline_style(text)
    text = normalise_newlines(text)
    source = SourceInfo(
        path=None if path is None else str(path),
        format=fmt,
        encoding=enc,
        bom=bom,
        newline=style,
        sha256=sha,
    )
    return Decoded(text, source)
