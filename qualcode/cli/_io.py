"""Output paths of the command line: an exclusive claim, atomic swaps, no leftovers after kill -9.

``qualcode code`` and ``qualcode import`` write a folder, ``qualcode export`` a file.  Each run:

1. **claims** the output path before doing any work: an exclusive ``flock`` on a hidden lock
   file beside it (``.<name>.lock``).  A second run on the same path, with or without
   ``--force``, stops at once with an error naming the first run's process id, instead of
   replacing its folder when it finishes.  The operating system releases the lock when a
   process dies, so a killed run never blocks the next one;
2. builds its output in a hidden sibling (``.<name>.<random>.partial`` or ``.tmp``) and moves
   it into place at the end in one step: on Linux an existing folder is swapped with
   ``renameat2(RENAME_EXCHANGE)``, so at every instant the path holds either the previous
   results or the new ones;
3. keeps a **watcher** process (a few lines of Python reading a pipe) that knows every
   temporary path and the lock file.  When the run ends normally the watcher is told so and
   exits; when the run dies (``kill -9``, a crash, power to the process cut) the pipe closes and
   the watcher removes what the run left: temporary folders and files, and the lock file.
   Temporary paths are registered with the watcher before they are created.

Nothing here opens a network connection: the watcher talks through a pipe.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from .._io import make_dir, temporary_name, track_temporaries
from ..errors import QualcodeError

__all__ = ["OutputClaim"]

# The watcher: removes the registered paths when the pipe closes without "done".
_WATCHER = r"""
import os, shutil, sys
paths, lock, restore = {}, None, {}
for line in sys.stdin:
    cmd, _, arg = line.rstrip("\n").partition(" ")
    if cmd == "done":
        sys.exit(0)
    if cmd == "temp":
        paths[arg] = True
    elif cmd == "forget":
        paths.pop(arg, None)
        restore.pop(arg, None)
    elif cmd == "lock":
        lock = arg
    elif cmd == "restore":
        src, _, dst = arg.partition("\t")
        restore[src] = dst
for src, dst in restore.items():
    try:
        if os.path.lexists(src) and not os.path.lexists(dst):
            os.rename(src, dst)
    except OSError:
        pass
for p in paths:
    try:
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p, ignore_errors=True)
        elif os.path.lexists(p):
            os.unlink(p)
    except OSError:
        pass
if lock:
    # the dead run's files close one by one: wait for its lock to go, then remove the file
    # (unless another run took the lock meanwhile)
    import time
    try:
        import fcntl
        fd = os.open(lock, os.O_RDWR)
        try:
            for _ in range(300):
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    time.sleep(0.01)
                    continue
                if os.path.samestat(os.fstat(fd), os.stat(lock)):
                    with open(lock) as f:
                        holder = f.read().strip()
                    if holder == sys.argv[1]:
                        os.unlink(lock)
                break
        finally:
            os.close(fd)
    except (OSError, ImportError):
        pass
"""


class _Watcher:
    """The helper process that cleans up after a run that dies."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _WATCHER, str(os.getpid())],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                text=True,
                start_new_session=True,  # survives a signal sent to the run's process group
                close_fds=True,
            )
        except OSError:  # pragma: no cover - no subprocesses allowed: clean up in-process only
            self.proc = None

    def send(self, cmd: str, arg: str = "") -> None:
        if self.proc is None or self.proc.stdin is None:
            return
        try:
            self.proc.stdin.write(f"{cmd} {arg}\n")
            self.proc.stdin.flush()
        except OSError:  # pragma: no cover - the watcher died; in-process cleanup still runs
            self.proc = None

    def finish(self) -> None:
        if self.proc is None:
            return
        self.send("done")
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        self.proc = None


def _lock(fd: int) -> bool:
    """Take an exclusive lock on ``fd`` without waiting; False when another process holds it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]  # Windows-only module
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return False
        raise
    return True


_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two existing paths (Linux ``renameat2``); False when not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd = -100
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


class OutputClaim:
    """Claim an output path for one run, build beside it, and move the result into place.

    Args:
        out: the folder (``kind="folder"``) or file (``kind="file"``) to write.
        force: replace an existing ``out``.
        kind: ``"folder"`` or ``"file"``.
        replaceable: with ``force``, a test that ``out`` is something this command may
            replace (for folders: earlier results), returning an error message or None.
        command: the command's name, for messages.

    Raises:
        QualcodeError: another run holds the path, or ``out`` exists and may not be replaced.

    Examples:
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "results"
        >>> with OutputClaim(out, command="demo") as claim:
        ...     build = claim.build_folder()
        ...     _ = (build / "a.txt").write_text("done")
        ...     _ = claim.commit(build)
        >>> sorted(p.name for p in out.parent.iterdir())
        ['results']
    """

    def __init__(self, out: str | os.PathLike[str], *, force: bool = False, kind: str = "folder",
                 replaceable: Callable[[Path], str | None] | None = None, command: str = "qualcode") -> None:
        self.out = Path(out)
        self.force = force
        self.kind = kind
        self.replaceable = replaceable
        self.command = command
        self.lock_path = self.out.parent / f".{self.out.name}.lock"
        self._fd: int | None = None
        self._watcher: _Watcher | None = None
        self._temps: set[Path] = set()
        self._tracking: contextlib.AbstractContextManager[None] | None = None

    # -- claim ----------------------------------------------------------------------------
    def __enter__(self) -> OutputClaim:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self._watcher = _Watcher()
        while True:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o666)
            if not _lock(fd):
                holder = ""
                with contextlib.suppress(OSError, ValueError):
                    holder = f" (pid {int(os.pread(fd, 32, 0).decode().strip())})"
                os.close(fd)
                self._watcher.finish()
                msg = (f"another qualcode run{holder} is writing {self.out}; wait for it to finish "
                       f"or choose another output path.")
                raise QualcodeError(msg)
            # the lock file may have been removed and recreated by the run that held it
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.lock_path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        self._fd = fd
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._watcher.send("lock", str(self.lock_path))
        self._tracking = track_temporaries(self._register, self._release)
        self._tracking.__enter__()
        try:
            self._remove_stale()
            self.check()
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return self

    def _register(self, path: Path) -> None:
        self._temps.add(path)
        if self._watcher is not None:
            self._watcher.send("temp", str(path))

    def _release(self, path: Path) -> None:
        self._temps.discard(path)
        if self._watcher is not None:
            self._watcher.send("forget", str(path))

    def _remove_stale(self) -> None:
        """Remove what earlier runs on this path left (only the lock holder builds here)."""
        prefix = f".{self.out.name}."
        for p in self.out.parent.glob(f"{prefix}*"):
            rest = p.name[len(prefix):]
            if p.suffix in (".partial", ".tmp", ".old") and len(rest.split(".")[0]) == 8:
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        p.unlink()

    def check(self) -> None:
        """Refuse an existing ``out`` without ``force``, or one ``replaceable`` rejects."""
        out = self.out
        if not (out.exists() or out.is_symlink()):
            return
        if self.kind == "folder" and not out.is_dir():
            msg = f"{out} exists and is not a folder."
            raise QualcodeError(msg)
        if self.kind == "folder" and not any(out.iterdir()):
            return
        if not self.force:
            what = "is not empty" if self.kind == "folder" else "already exists"
            msg = f"{out} {what}; refusing to overwrite it (pass --force to replace it)."
            raise QualcodeError(msg)
        if self.replaceable is not None:
            problem = self.replaceable(out)
            if problem:
                raise QualcodeError(problem)

    # -- build and commit -----------------------------------------------------------------
    def build_folder(self) -> Path:
        """A new hidden sibling folder to build the output in (removed unless committed)."""
        path = temporary_name(self.out, ".partial")
        make_dir(path)
        return path

    def build_file(self) -> Path:
        """A hidden sibling file name to write the output to (removed unless committed)."""
        return temporary_name(self.out, ".partial")

    def commit(self, built: Path) -> Path:
        """Move ``built`` into place in one step (replacing ``out`` only as ``check`` allows)."""
        self.check()
        out = self.out
        if self.kind == "file" or not out.exists():
            if self.kind == "folder" and out.is_dir():  # pragma: no cover - raced by an empty dir
                out.rmdir()
            os.replace(built, out)
            self._release(built)
            return out
        if _exchange(built, out):
            # ``built`` now holds the previous results: remove them (the watcher would too)
            shutil.rmtree(built, ignore_errors=True)
            self._release(built)
            return out
        old = temporary_name(out, ".old")
        if self._watcher is not None:
            self._watcher.send("restore", f"{old}\t{out}")
        out.rename(old)
        try:
            built.rename(out)
        except OSError:
            old.rename(out)
            raise
        self._release(built)
        shutil.rmtree(old, ignore_errors=True)
        self._release(old)
        return out

    # -- release --------------------------------------------------------------------------
    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for p in list(self._temps):
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    p.unlink()
            self._release(p)
        if self._tracking is not None:
            self._tracking.__exit__(None, None, None)
            self._tracking = None
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.lock_path)
            os.close(self._fd)
            self._fd = None
        if self._watcher is not None:
            self._watcher.finish()
            self._watcher = None
