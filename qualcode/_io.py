"""Small I/O helpers: atomic writes that respect the umask, and refusing to overwrite.

Every output file is written to a temporary sibling (``.<name>.<random>.tmp``) and moved into
place only when complete.  A new file gets the permissions any other tool would give it
(``0o666`` minus the umask); a file that is replaced keeps its permissions.  The command line
registers each temporary path with a watcher (``qualcode.cli._io``) before creating it, so
that a run killed with ``kill -9`` leaves none behind (see :func:`track_temporaries`).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .errors import ExportError

__all__ = [
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "default_cache_dir",
    "make_dir",
    "protect_formulas",
    "temporary_name",
    "track_temporaries",
    "unprotect_formulas",
    "write_csv",
]

#: (register, release) callbacks told about every temporary path before it exists and after
#: it is gone or moved into place (set by the command line; empty in the Python API).
_TRACKERS: list[tuple[Callable[[Path], None], Callable[[Path], None]]] = []


@contextlib.contextmanager
def track_temporaries(register: Callable[[Path], None], release: Callable[[Path], None]) -> Iterator[None]:
    """Within the block, tell ``register`` / ``release`` about every temporary output path."""
    pair = (register, release)
    _TRACKERS.append(pair)
    try:
        yield
    finally:
        _TRACKERS.remove(pair)


def _register(path: Path) -> None:
    for register, _release in list(_TRACKERS):
        register(path)


def _release(path: Path) -> None:
    for _, release in list(_TRACKERS):
        release(path)


def temporary_name(dest: Path, suffix: str = ".tmp") -> Path:
    """A fresh hidden sibling name for ``dest`` (registered with the trackers)."""
    path = dest.parent / f".{dest.name}.{secrets.token_hex(4)}{suffix}"
    _register(path)
    return path


def make_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (not its parents) with the umask's permissions, like ``mkdir``."""
    p = Path(path)
    os.mkdir(p, 0o777)
    return p


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds.

    The temporary file is created with ``0o666`` minus the umask (as ``open(path, "w")``
    would create ``path``); when ``path`` already exists its permissions are kept.

    Args:
        path: the final destination.
        overwrite: when False and ``path`` exists, raise :class:`ExportError` before writing.

    Raises:
        ExportError: the destination exists (and ``overwrite`` is False) or cannot be written.
    """
    dest = Path(path)
    if not overwrite and dest.exists():
        msg = f"{dest} already exists; refusing to overwrite it (pass overwrite=True / --force)."
        raise ExportError(msg)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = temporary_name(dest)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        msg = f"cannot write {dest}: {exc.strerror or exc}"
        raise ExportError(msg) from exc
    os.close(fd)
    try:
        yield tmp
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, stat.S_IMODE(dest.stat().st_mode))  # a replaced file keeps its mode
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    finally:
        _release(tmp)


# -- CSV cells a spreadsheet would run as formulas ------------------------------------------
#: A text cell starting with one of these is a formula (or may become one) in Excel,
#: LibreOffice and Google Sheets: "=", "+", "-", "@", and tab / carriage return (OWASP).
FORMULA_START = "=+-@\t\r"
_PROTECT = re.compile(r"^'*[=+\-@\t\r]")
_UNPROTECT = re.compile(r"^'+[=+\-@\t\r]")


def protect_formulas(frame: Any) -> Any:
    """A copy of ``frame`` whose text cells cannot run as spreadsheet formulas.

    A text cell that starts with ``= + - @``, a tab or a carriage return (after any number of
    apostrophes) gets one apostrophe in front, so that a spreadsheet shows it as text instead
    of evaluating it; :func:`unprotect_formulas` removes exactly that apostrophe, so qualcode
    reads its CSVs back unchanged.  Numbers are not touched (``-3`` stays a number).  Only the
    CSV files change: the xlsx workbooks (which store text cells as text) and the Python
    objects keep the text as it is.

    Args:
        frame: a pandas DataFrame.

    Returns:
        The protected copy.
    """
    import pandas as pd

    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if not (pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype)):
            continue
        is_text = s.map(lambda v: isinstance(v, str))
        hit = is_text & s.where(is_text, "").astype(str).str.match(_PROTECT)
        if hit.any():
            out[col] = s.astype(object).where(~hit, "'" + s.where(hit, "").astype(str))
    return out


def unprotect_formulas(frame: Any) -> Any:
    """Undo :func:`protect_formulas` on a table read from a CSV (text columns only)."""
    import pandas as pd

    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if not (pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype)):
            continue
        is_text = s.map(lambda v: isinstance(v, str))
        hit = is_text & s.where(is_text, "").astype(str).str.match(_UNPROTECT)
        if hit.any():
            out[col] = s.astype(object).where(~hit, s.where(hit, "").astype(str).str[1:])
    return out


def write_csv(frame: Any, path: str | os.PathLike[str], *, index: bool = False, overwrite: bool = True) -> Path:
    """Write ``frame`` as a UTF-8 CSV atomically, with formula cells protected.

    See :func:`protect_formulas`; ``qualcode.read_codings`` undoes the protection.
    """
    with atomic_path(path, overwrite=overwrite) as tmp:
        protect_formulas(frame).to_csv(tmp, index=index)
    return Path(path)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, overwrite: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically and return the path."""
    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(
    path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8", overwrite: bool = True
) -> Path:
    """Write ``text`` to ``path`` atomically and return the path."""
    return atomic_write_bytes(path, text.encode(encoding), overwrite=overwrite)


def default_cache_dir() -> Path:
    """Where the command line keeps its embedding cache.

    ``$QUALCODE_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/qualcode`` or
    ``~/.cache/qualcode``.  The cache holds vectors keyed by a hash of each text, never the
    text itself; delete the folder to remove it.
    """
    env = os.environ.get("QUALCODE_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qualcode"
