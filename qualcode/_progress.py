"""Progress bars where someone watches them, one line per stage where output goes to a log.

- In Jupyter: notebook widgets when ipywidgets is installed (``tqdm.auto`` would warn
  "IProgress not found" without it), plain text bars otherwise.
- On a terminal: tqdm's text bars.
- Anywhere else (stderr redirected to a file or a pipe, CI logs): no bar at all, since
  redrawn bars leave unfinished ``"coding 2/3"`` lines in a log; each stage prints one line
  when it ends instead, e.g. ``qualcode: embedding: 1,234 texts in 17.2 s``.

:func:`tqdm` takes tqdm's arguments and picks one of these.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from typing import Any

from tqdm.std import tqdm as _text_bar

__all__ = ["tqdm"]


def _notebook_bar() -> Any:
    if importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.auto import tqdm as bar

        return bar
    return _text_bar  # pragma: no cover - depends on the environment


def _in_notebook() -> bool:
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # pragma: no cover - a broken IPython install
        return False
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or not a file
        return False


class _StageLine(_text_bar):
    """A tqdm that draws nothing and prints one summary line when the stage ends."""

    def __init__(self, iterable: Any = None, *args: Any, **kwargs: Any) -> None:
        self._stage_quiet = bool(kwargs.get("disable", False))
        self._stage_file = kwargs.get("file") or sys.stderr
        self._stage_desc = str(kwargs.get("desc") or "").rstrip(": ")
        self._stage_unit = str(kwargs.get("unit") or "it")
        self._stage_n: float = 0  # update(n) may add fractions
        self._stage_t0 = time.monotonic()
        self._stage_open = True
        kwargs["disable"] = True
        super().__init__(iterable, *args, **kwargs)

    def __iter__(self) -> Any:
        try:
            for item in self.iterable:
                self._stage_n += 1
                yield item
        finally:
            self.close()

    def update(self, n: float | None = 1) -> bool | None:
        self._stage_n += 1 if n is None else n
        return None

    def close(self) -> None:
        if self._stage_open and not self._stage_quiet:
            secs = time.monotonic() - self._stage_t0
            what = self._stage_desc or "done"
            if self._stage_unit == "it":
                line = f"qualcode: {what}: done in {secs:.1f} s"
            else:
                n = int(self._stage_n) if float(self._stage_n).is_integer() else self._stage_n
                line = f"qualcode: {what}: {n:,} {self._stage_unit}s in {secs:.1f} s"
            try:
                print(line, file=self._stage_file, flush=True)
            except (OSError, ValueError):  # pragma: no cover - the log went away
                pass
        self._stage_open = False
        super().close()


def tqdm(*args: Any, **kwargs: Any) -> Any:
    """A progress bar for where the output goes (see the module docstring).

    Args:
        *args: tqdm's positional arguments (the iterable).
        **kwargs: tqdm's keyword arguments (``total``, ``desc``, ``unit``, ``disable``,
            ``leave``, ``file``...).

    Returns:
        A tqdm instance: a notebook or text bar, or one that prints a line per stage.
    """
    if _in_notebook():
        return _notebook_bar()(*args, **kwargs)
    if _is_tty(kwargs.get("file") or sys.stderr):
        return _text_bar(*args, **kwargs)
    return _StageLine(*args, **kwargs)
