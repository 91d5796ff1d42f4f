"""Embeddings of unit texts with qualcode's default model, through qualcode's embedding cache.

The cache is shared with :class:`qualcode.Coder` (same model id, same text keys), so the
baseline and the Coder embed each text once.  qualcode has no public "embed through the cache"
function yet: this module is the only place in the benchmark that imports a private qualcode
module, and falls back to the uncached public embedder when that module moves.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

_CACHE_MODULES = ("qualcode._cache", "qualcode.coding._cache", "qualcode.coding.cache")
_EMBEDDER: Any = None


def embedder() -> Any:
    """The default embedder (``qualcode.backends.get_embedder()``), loaded once."""
    global _EMBEDDER
    if _EMBEDDER is None:
        from qualcode.backends import get_embedder

        _EMBEDDER = get_embedder()
    return _EMBEDDER


def embed(texts: list[str], cache_dir: Any = None) -> np.ndarray:
    """float32 ``(len(texts), dim)`` unit vectors of ``texts``."""
    model = embedder()
    for name in _CACHE_MODULES:
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        cache = mod.EmbeddingCache(cache_dir) if cache_dir is not None else None
        return mod.embed_texts(model, texts, cache=cache, progress=False)
    print("(qcbench: no qualcode embedding cache module found; embedding without the cache)")
    out = [model.embed(texts[i : i + 64]) for i in range(0, len(texts), 64)]
    return np.vstack(out) if out else np.zeros((0, model.dim), dtype=np.float32)
