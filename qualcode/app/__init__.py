"""The coding app: read, code and review a project in the browser or inline in Jupyter.

``qualcode serve PROJECT`` opens it in the browser; :func:`review` shows it in a notebook.

Views: documents (text, speakers and turns, coding stripes in the margin; code a selection
from the keyboard; uncode; move boundaries), the review queue of machine suggestions (least
certain first; accept / reject / change code in one key), retrieval by code (passages with
one sentence of context, by case, filtered by attribute and coder), memos, the side-by-side
of two coders with κ/α, and re-train and re-code with the learning curve.  See
:mod:`qualcode.app._server` for how it stays local and safe.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from ._server import AppServer

__all__ = ["AppServer", "review", "serve"]

_RUNNING: dict[str, AppServer] = {}
_LOCK = threading.Lock()


def serve(project: Any, *, port: int = 0, user: str | None = None, embedder: Any = None,
          cache_dir: Any = None) -> AppServer:
    """Start the app for ``project`` in a background thread and return the server.

    Args:
        project: a :class:`qualcode.Project` or a project file.
        port: the port (0: a free one).
        user: the name this browser codes and reviews as (default: the login name).
        embedder: replaces the project's embedder when re-training.
        cache_dir: the embedding cache for re-training (``None``: in memory).

    Returns:
        The running :class:`AppServer` (``.url``, ``.stop()``).
    """
    return AppServer(project, port=port, user=user, embedder=embedder, cache_dir=cache_dir).start()


def review(project: Any, *, width: str | int = "100%", height: int = 720, user: str | None = None,
           embedder: Any = None, cache_dir: Any = None) -> Any:
    """Show the coding app inline in Jupyter.

    The server runs in a background thread of the kernel, bound to 127.0.0.1 with a random
    token in the frame's address; calling ``review`` again for the same project reuses it.

    Args:
        project: a :class:`qualcode.Project` or a project file.
        width: the frame's width.
        height: the frame's height in pixels.
        user: the name this browser codes and reviews as.
        embedder: replaces the project's embedder when re-training.
        cache_dir: the embedding cache for re-training (default: qualcode's cache folder).

    Returns:
        An ``IPython.display.IFrame`` (with ``.server`` and ``.url``) when IPython is
        installed, else an object that displays as the same ``<iframe>``.

    Examples:
        >>> import qualcode as qc
        >>> qc.review("study.qcproj")  # doctest: +SKIP
    """
    from .._io import default_cache_dir
    from ..project import Project

    key = str(Path(project.path if isinstance(project, Project) else project).resolve())
    with _LOCK:
        server = _RUNNING.get(key)
        if server is None or server._thread is None or not server._thread.is_alive():
            server = serve(project, user=user, embedder=embedder,
                           cache_dir=cache_dir if cache_dir is not None else default_cache_dir())
            _RUNNING[key] = server
    try:
        from IPython.display import IFrame
    except ImportError:  # pragma: no cover - IPython is there whenever Jupyter is
        frame: Any = _Frame(server.url, width, height)
    else:
        frame = IFrame(server.url, width=width, height=height)
    frame.server = server
    frame.url = server.url
    return frame


class _Frame:
    """Displays as an ``<iframe>`` of the app (when IPython is not installed)."""

    def __init__(self, url: str, width: str | int, height: int):
        self.url, self.width, self.height = url, width, height

    def _repr_html_(self) -> str:
        import html

        return (f'<iframe src="{html.escape(self.url)}" width="{html.escape(str(self.width))}" '
                f'height="{int(self.height)}" frameborder="0"></iframe>')

    def __repr__(self) -> str:
        return f"qualcode app at {self.url}"
