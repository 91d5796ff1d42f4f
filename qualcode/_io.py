"""Small I/O helpers: atomic writes and refusing to overwrite."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import ExportError

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "default_cache_dir"]


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds.

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
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    except OSError as exc:
        msg = f"cannot write {dest}: {exc.strerror or exc}"
        raise ExportError(msg) from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


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
