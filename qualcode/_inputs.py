"""Reading input files that come from someone else: regular files only, bounded sizes, safe zips.

Every reader of user files (transcripts, tables, sidecars, codebooks, codings files, REFI-QDA
projects) goes through :func:`read_input_bytes`: it refuses anything but a regular file (a
FIFO would block for ever, ``/dev/zero`` or ``/dev/urandom`` never end) without blocking on it,
and refuses files above a size limit, naming the file.  Zip-based formats (``.docx``,
``.xlsx``, ``.qdpx``) are checked by :func:`check_zip` before any member is read: entry count,
declared sizes (per member and in total), compression ratio, unsafe names and symbolic links;
:func:`verify_zip` then reads every member once (never more than its declared size, which
:mod:`zipfile` enforces) so that a truncated or corrupt archive fails here with a clear message
instead of inside a library later.

Errors are raised through a ``fail(message, unsafe)`` callback, so that each caller keeps its
own exception type (:class:`~qualcode.errors.IngestError` for readers,
:class:`~qualcode.errors.RefiError` for REFI-QDA...).
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

__all__ = [
    "ZipLimits",
    "check_zip",
    "max_input_bytes",
    "read_input_bytes",
    "verify_zip",
    "DOCUMENT_ZIP_LIMITS",
    "TABLE_ZIP_LIMITS",
]

#: the environment variable that raises (or lowers) the input size limit, in MiB
MAX_INPUT_ENV = "QUALCODE_MAX_INPUT_MB"
#: the default largest input file (bytes); a one-hour interview is about 60 KB of text
DEFAULT_MAX_INPUT_BYTES = 256 * 1024**2

#: ``fail(message, unsafe)`` returns the exception to raise (``unsafe``: an attack, not damage)
Fail = Callable[[str, bool], Exception]


def max_input_bytes() -> int:
    """The largest input file qualcode reads: ``$QUALCODE_MAX_INPUT_MB`` MiB, default 256 MiB."""
    env = os.environ.get(MAX_INPUT_ENV, "").strip()
    if env:
        try:
            mb = float(env)
        except ValueError:
            mb = -1.0
        if mb > 0:
            return int(mb * 1024**2)
    return DEFAULT_MAX_INPUT_BYTES


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    if stat.S_ISFIFO(mode):
        return "is a named pipe (FIFO), not a regular file; qualcode reads regular files only"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device (like /dev/zero), not a regular file; qualcode reads regular files only"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a regular file; qualcode reads regular files only"
    return "is not a regular file; qualcode reads regular files only"


def _mib(n: int) -> str:
    return f"{n / 1024**2:.1f} MiB"


def read_input_bytes(path: str | os.PathLike[str], *, fail: Fail, max_bytes: int | None = None) -> bytes:
    """Read a regular file's bytes, refusing other kinds of files and files above a size limit.

    The file is opened without blocking (a FIFO with no writer does not hang) and checked with
    ``fstat`` on the open descriptor, so a symbolic link to a device is refused too.

    Args:
        path: the file (symbolic links are followed).
        fail: builds the exception to raise from a message (and whether it is an attack).
        max_bytes: the size limit; default :func:`max_input_bytes`.

    Returns:
        The bytes.

    Raises:
        Exception: whatever ``fail`` returns, for a missing file, a directory, a FIFO, a
            device or socket, a file above the limit, or an OS error.
    """
    limit = max_input_bytes() if max_bytes is None else int(max_bytes)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        if not hasattr(os, "O_NONBLOCK"):  # no FIFOs to block on, but check before opening
            st = os.stat(path)
            if not stat.S_ISREG(st.st_mode):
                raise fail(_kind(st.st_mode), False)
        fd = os.open(path, flags)
    except FileNotFoundError:
        msg = "file not found"
        raise fail(msg, False) from None
    except IsADirectoryError:
        msg = "is a directory, not a file"
        raise fail(msg, False) from None
    except OSError as exc:
        msg = f"cannot read the file ({exc.strerror or exc})"
        raise fail(msg, False) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise fail(_kind(st.st_mode), False)
        if st.st_size > limit:
            msg = (
                f"the file is {_mib(st.st_size)}, above the {_mib(limit)} limit for one input "
                f"file (set {MAX_INPUT_ENV} to raise it)"
            )
            raise fail(msg, False)
        chunks: list[bytes] = []
        got = 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
            if got > limit:
                msg = f"the file grew past the {_mib(limit)} limit while being read ({MAX_INPUT_ENV})"
                raise fail(msg, False)
        return b"".join(chunks)
    except OSError as exc:
        msg = f"cannot read the file ({exc.strerror or exc})"
        raise fail(msg, False) from None
    finally:
        os.close(fd)


@dataclass(frozen=True)
class ZipLimits:
    """Limits for one kind of zip archive.

    Attributes:
        max_entries: the most members an archive may hold.
        max_total_bytes: the largest total uncompressed size of its members.
        max_member_bytes: the largest uncompressed size of one member.
        max_ratio: the largest compression ratio of a member larger than ``ratio_min_bytes``.
        ratio_min_bytes: members up to this size are not ratio-checked (tiny files compress
            well for honest reasons).
    """

    max_entries: int = 20_000
    max_total_bytes: int = 2 * 1024**3
    max_member_bytes: int = 2**31 - 1
    max_ratio: float = 200
    ratio_min_bytes: int = 1024 * 1024


#: .docx: the whole document XML is parsed into memory, so keep it small (a 300-page book's
#: document.xml is about 20 MB)
DOCUMENT_ZIP_LIMITS = ZipLimits(max_entries=5_000, max_total_bytes=128 * 1024**2, max_member_bytes=64 * 1024**2)
#: .xlsx (and codings tables): sheets are streamed, but shared strings are held in memory
TABLE_ZIP_LIMITS = ZipLimits(max_entries=5_000, max_total_bytes=256 * 1024**2, max_member_bytes=160 * 1024**2)

_DRIVE = re.compile(r"^[A-Za-z]:")


def unsafe_name(name: str) -> str | None:
    """Why a zip entry name is unsafe, or None when it is fine."""
    if not name:
        return "an empty name"
    if "\x00" in name:
        return "a NUL byte in its name"
    if "\\" in name:
        return "a backslash in its name (Windows path separators are not allowed)"
    if name.startswith("/") or _DRIVE.match(name):
        return "an absolute path"
    parts = PurePosixPath(name).parts
    if any(p == ".." for p in parts):
        return "a '..' path component that escapes the archive"
    return None


def check_zip(zf: zipfile.ZipFile, *, limits: ZipLimits, fail: Fail, spec_note: str = "") -> None:
    """Check an open archive's directory against ``limits`` before any member is read.

    Args:
        zf: the archive.
        limits: the limits that apply.
        fail: builds the exception to raise (``unsafe=True`` for a likely attack).
        spec_note: added to the per-member size message (e.g. what a spec allows).

    Raises:
        Exception: whatever ``fail`` returns.
    """
    infos = zf.infolist()
    if len(infos) > limits.max_entries:
        msg = f"the archive has {len(infos)} entries (more than {limits.max_entries}); refusing it."
        raise fail(msg, True)
    total = 0
    for info in infos:
        why = unsafe_name(info.filename)
        if why:
            msg = f"member {info.filename!r} has {why}; refusing the archive."
            raise fail(msg, True)
        mode = (info.external_attr >> 16) & 0xFFFF
        if info.create_system == 3 and stat.S_ISLNK(mode):
            msg = f"member {info.filename!r} is a symbolic link; refusing the archive."
            raise fail(msg, True)
        if info.file_size > limits.max_member_bytes:
            msg = (
                f"member {info.filename!r} claims {info.file_size} bytes uncompressed (more than "
                f"{limits.max_member_bytes}{spec_note}); refusing the archive."
            )
            raise fail(msg, True)
        total += info.file_size
        if info.file_size > limits.ratio_min_bytes:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_ratio:
                msg = (
                    f"member {info.filename!r} expands {ratio:.0f}-fold ({info.compress_size} -> "
                    f"{info.file_size} bytes, limit {limits.max_ratio:g}); refusing a likely zip bomb."
                )
                raise fail(msg, True)
    if total > limits.max_total_bytes:
        msg = (
            f"the archive holds {total} bytes uncompressed (more than {limits.max_total_bytes}); "
            "refusing it."
        )
        raise fail(msg, True)


def verify_zip(zf: zipfile.ZipFile, *, fail: Fail) -> None:
    """Read every member once, in chunks, so that damage shows here (CRC, truncation...).

    :mod:`zipfile` never yields more than a member's declared size, which :func:`check_zip`
    bounded, so this takes bounded time and memory.

    Raises:
        Exception: whatever ``fail`` returns, naming the damaged member.
    """
    for info in zf.infolist():
        if info.is_dir():
            continue
        try:
            with zf.open(info) as fh:
                while fh.read(1 << 20):
                    pass
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, ValueError) as exc:
            msg = f"member {info.filename!r} is damaged ({exc or type(exc).__name__})"
            raise fail(msg, False) from None


def open_zip(data: bytes, *, limits: ZipLimits, fail: Fail, verify: bool = True) -> zipfile.ZipFile:
    """Open zip bytes held in memory, check them (and read every member once when ``verify``).

    Raises:
        Exception: whatever ``fail`` returns: not a zip archive, truncated or damaged, unsafe.
    """
    import io

    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError) as exc:
        msg = f"not a valid zip archive (corrupt or truncated: {exc or type(exc).__name__})"
        raise fail(msg, False) from None
    try:
        check_zip(zf, limits=limits, fail=fail)
        if verify:
            verify_zip(zf, fail=fail)
    except BaseException:
        zf.close()
        raise
    return zf


def path_label(path: str | os.PathLike[str] | None) -> str:
    """A path as text for messages."""
    return "" if path is None else str(Path(path))


# ---- YAML from someone else: bounded depth and alias expansion --------------------------------

#: the deepest nesting of YAML collections accepted (a codebook needs about 6)
MAX_YAML_DEPTH = 64
#: the most nodes a YAML document may expand to, aliases expanded (a 500-code codebook has ~20k)
MAX_YAML_NODES = 1_000_000


def yaml_bomb(events: Any, *, max_depth: int = MAX_YAML_DEPTH, max_nodes: int = MAX_YAML_NODES) -> tuple[str, int | None] | None:
    """Check a stream of YAML parser events (PyYAML or ruamel.yaml) before composing it.

    Counts the nodes the document expands to with every alias replaced by its anchor's
    node ("billion laughs" grows exponentially through aliases of aliases), and the nesting
    depth (deep nesting makes the recursive composers fail), without building anything.

    Args:
        events: the parser's events (``yaml.parse(text)``, ``ruamel YAML().parse(text)``).
        max_depth: the deepest nesting allowed.
        max_nodes: the most nodes allowed, aliases expanded.

    Returns:
        None when the document is within bounds, else ``(problem, line)`` (1-based line or None).
    """
    sizes: dict[str, int] = {}
    stack: list[list[Any]] = []  # [anchor, nodes so far]
    total = 0

    def line(ev: Any) -> int | None:
        mark = getattr(ev, "start_mark", None)
        return mark.line + 1 if mark is not None else None

    def add(n: int) -> None:
        if stack:
            stack[-1][1] += n

    for ev in events:
        name = type(ev).__name__
        if name == "AliasEvent":
            anchor = ev.anchor
            if anchor not in sizes:
                open_anchors = {a for a, _ in stack}
                why = "refers to the collection it is in (a recursive alias)" if anchor in open_anchors else "is not defined"
                return f"YAML alias *{anchor} {why}", line(ev)
            n = sizes[anchor]
        elif name == "ScalarEvent":
            n = 1
            if ev.anchor is not None:
                sizes[ev.anchor] = 1
        elif name in ("SequenceStartEvent", "MappingStartEvent"):
            stack.append([ev.anchor, 1])
            if len(stack) > max_depth:
                return f"YAML nested more than {max_depth} levels deep; refusing it", line(ev)
            continue
        elif name in ("SequenceEndEvent", "MappingEndEvent"):
            anchor, n = stack.pop()
            if anchor is not None:
                sizes[anchor] = n
            add(n)
            continue
        else:
            continue
        total += n
        add(n)
        if total > max_nodes or (stack and stack[-1][1] > max_nodes):
            return (
                f"YAML expands to more than {max_nodes:,} values through aliases (*name); "
                "refusing a likely alias bomb"
            ), line(ev)
    return None


def safe_yaml_load(text: str, *, fail: Callable[[str, int | None], Exception]) -> Any:
    """``yaml.safe_load`` after :func:`yaml_bomb` (bounded depth and alias expansion).

    Args:
        text: the YAML text.
        fail: builds the exception to raise from a message and a 1-based line.

    Returns:
        The loaded data.

    Raises:
        Exception: whatever ``fail`` returns, for a bomb or too deep nesting; ``yaml.YAMLError``
            for a syntax error (as ``yaml.safe_load``).
    """
    import yaml

    problem = yaml_bomb(yaml.parse(text, Loader=yaml.SafeLoader))
    if problem is not None:
        raise fail(*problem)
    return yaml.safe_load(text)


# ---- bounded tokenisation ---------------------------------------------------------------------

#: a run of non-space characters longer than this is split without the spaCy tokenizer, whose
#: prefix/suffix/infix search is quadratic in the run (16 KB of ``*`` took 27 s)
MAX_TOKENIZER_RUN = 200
#: texts are tokenised in pieces of at most this many characters (spaCy refuses > max_length)
TOKENIZER_PIECE = 100_000
_LONG_RUN = re.compile(rf"\S{{{MAX_TOKENIZER_RUN + 1},}}")
_RUN_PARTS = re.compile(r"\w+|\W", re.UNICODE)


def make_doc_bounded(nlp: Any, text: str) -> Any:
    """``nlp.make_doc(text)`` in time and memory linear in the text, whatever the text.

    Text up to :data:`TOKENIZER_PIECE` characters without a long run of non-space characters
    is tokenised as usual.  Longer text is tokenised in pieces cut at whitespace (spaCy
    tokenises whitespace-separated chunks independently, so the tokens are the same) and the
    pieces joined with ``Doc.from_docs``; a run of more than :data:`MAX_TOKENIZER_RUN`
    non-space characters (a line of ``*``, base64, a minified table) is split into its word
    sequences and single other characters instead of going through the tokenizer.  The Doc's
    text is always ``text`` exactly, so token offsets are offsets into ``text``.

    Args:
        nlp: a spaCy ``Language``.
        text: the text.

    Returns:
        A ``Doc`` whose text is ``text``.
    """
    if len(text) <= TOKENIZER_PIECE and _LONG_RUN.search(text) is None:
        return nlp.make_doc(text)
    from spacy.tokens import Doc

    docs = []

    def plain(a: int, b: int) -> None:
        # cut [a, b) into pieces of at most TOKENIZER_PIECE characters, at whitespace
        while a < b:
            end = min(b, a + TOKENIZER_PIECE)
            if end < b:  # back to just after a whitespace (runs here are <= MAX_TOKENIZER_RUN)
                k = end
                while k > a and not text[k - 1].isspace():
                    k -= 1
                end = k if k > a else end
            docs.append(nlp.make_doc(text[a:end]))
            a = end

    pos = 0
    for run in _LONG_RUN.finditer(text):
        plain(pos, run.start())
        words = _RUN_PARTS.findall(run.group())
        docs.append(Doc(nlp.vocab, words=words, spaces=[False] * len(words)))
        pos = run.end()
    plain(pos, len(text))
    docs = [d for d in docs if len(d.text)]
    if not docs:
        return nlp.make_doc("")
    if len(docs) == 1:
        return docs[0]
    return Doc.from_docs(docs, ensure_whitespace=False)
