"""Reading archives and XML that come from someone else, safely.

Members are read from the zip in memory and never extracted to disk.  Every archive is
checked before anything is read: entry names that escape (absolute paths, ``..``, drive
letters, backslashes), symbolic links, too many entries, absurd uncompressed sizes and
compression ratios.  XML is parsed with lxml without entity resolution, network or DTD
loading, and any document with a DOCTYPE is refused.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

from .._inputs import ZipLimits, check_zip, unsafe_name
from ..errors import RefiError, UnsafeInputError

__all__ = ["MAX_ENTRIES", "MAX_RATIO", "MAX_TOTAL_BYTES", "SafeArchive", "parse_xml"]

#: The largest number of members an archive may hold.
MAX_ENTRIES = 20_000
#: The largest total uncompressed size (2 GB).
MAX_TOTAL_BYTES = 2 * 1024**3
#: The largest uncompressed size of one member (spec §8: 2**31 - 1 bytes).
MAX_MEMBER_BYTES = 2**31 - 1
#: The largest compression ratio allowed for a member larger than :data:`RATIO_MIN_BYTES`.
MAX_RATIO = 200
RATIO_MIN_BYTES = 1024 * 1024

_check_name = unsafe_name  # shared with the readers (qualcode._inputs)


class SafeArchive:
    """A zip archive whose members are checked before use and read only into memory.

    Args:
        path: the archive file.
        max_entries: refuse archives with more members than this.
        max_total_bytes: refuse archives whose members add up to more than this, uncompressed.
        max_ratio: refuse members larger than 1 MB whose compression ratio exceeds this.

    Raises:
        RefiError: the file is missing or not a zip archive.
        UnsafeInputError: a member escapes, is a symlink, or the sizes are absurd.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_entries: int = MAX_ENTRIES,
        max_total_bytes: int = MAX_TOTAL_BYTES,
        max_ratio: float = MAX_RATIO,
    ):
        self.path = Path(path)
        self.label = self.path.name
        if not self.path.is_file():
            msg = f"{self.path}: no such REFI-QDA project file."
            raise RefiError(msg)
        try:
            self._zip = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError) as exc:
            msg = f"{self.path}: not a REFI-QDA project (.qdpx is a zip archive): {exc}"
            raise RefiError(msg) from exc
        try:
            self._check(max_entries, max_total_bytes, max_ratio)
        except BaseException:
            self._zip.close()
            raise
        self._by_lower: dict[str, str] = {}
        for info in self._zip.infolist():
            if not info.is_dir():
                self._by_lower.setdefault(info.filename.lower(), info.filename)

    def _check(self, max_entries: int, max_total: int, max_ratio: float) -> None:
        limits = ZipLimits(max_entries=max_entries, max_total_bytes=max_total, max_member_bytes=MAX_MEMBER_BYTES, max_ratio=max_ratio, ratio_min_bytes=RATIO_MIN_BYTES)

        def fail(msg: str, unsafe: bool) -> Exception:
            return (UnsafeInputError if unsafe else RefiError)(f"{self.path}: {msg}")

        check_zip(self._zip, limits=limits, fail=fail, spec_note=" the spec allows")

    # -- access ---------------------------------------------------------------------
    def names(self) -> list[str]:
        """Member file names (folders excluded), in archive order."""
        return [i.filename for i in self._zip.infolist() if not i.is_dir()]

    def find(self, name: str) -> str | None:
        """The member called ``name``, compared case-insensitively, or None."""
        name = name.lstrip("/")
        if name in self._by_lower.values():
            return name
        return self._by_lower.get(name.lower())

    def read(self, member: str) -> bytes:
        """The bytes of one member (never more than its declared size).

        Raises:
            RefiError: the member is missing or corrupt.
        """
        try:
            info = self._zip.getinfo(member)
            with self._zip.open(info) as fh:
                data = fh.read(info.file_size + 1)
        except KeyError:
            msg = f"{self.path}: no member {member!r} in the archive."
            raise RefiError(msg) from None
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
            msg = f"{self.path}: member {member!r} cannot be read: {exc}"
            raise RefiError(msg) from exc
        if len(data) > info.file_size:  # pragma: no cover - zipfile already stops there
            msg = f"{self.path}: member {member!r} is larger than it claims; refusing it."
            raise UnsafeInputError(msg)
        return data

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def close(self) -> None:
        """Close the archive."""
        self._zip.close()

    def __enter__(self) -> SafeArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_ROOT_START = re.compile(rb"<[A-Za-z_]")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_xml(data: bytes, *, where: str) -> etree._Element:
    """Parse untrusted XML bytes and return the root element.

    Args:
        data: the XML document.
        where: names the file (``"project.qdpx: project.qde"``) in error messages.

    Returns:
        The root element.

    Raises:
        UnsafeInputError: the document declares a DOCTYPE or entities (entity expansion,
            external entities).
        RefiError: the document is not well-formed XML.
    """
    # A cheap pre-scan catches the usual attacks before libxml2 sees them; the DOCTYPE check
    # after parsing catches the same in other encodings (UTF-16...).
    root_start = _ROOT_START.search(data)
    prolog = data[: root_start.start()] if root_start else data
    if _DOCTYPE.search(prolog):
        msg = (
            f"{where}: the XML declares a DOCTYPE or entities (entity expansion / external "
            f"entity attack); REFI-QDA files never need one, refusing it."
        )
        raise UnsafeInputError(msg)
    try:
        tree = etree.fromstring(data, _parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        msg = f"{where}: not well-formed XML: {exc}"
        raise RefiError(msg) from exc
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        msg = f"{where}: the XML declares a DOCTYPE; REFI-QDA files never need one, refusing it."
        raise UnsafeInputError(msg)
    return tree.getroot()
