"""Embeddings of unit texts with qualcode's default model, through qualcode's embedding cache.

The cache is shared with :class:`qualcode.Coder` (same model id, same text keys), so the
baseline and the Coder embed each text once (``qualcode.backends.embed_texts``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

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
    from qualcode.backends import EmbeddingCache, embed_texts

    return embed_texts(embedder(), texts, cache=EmbeddingCache(cache_dir), progress=False)
