"""Backend for any local sentence-transformers model folder (needs torch)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from ..errors import EmbeddingError
from ._base import BaseEmbedder, file_sha256, require

__all__ = ["SentenceTransformerEmbedder"]


class SentenceTransformerEmbedder(BaseEmbedder):
    """Any sentence-transformers model stored in a local folder (never downloaded).

    ``HF_HUB_OFFLINE`` is forced on while loading so that a wrong path fails instead of
    reaching a hub. The model id includes a hash of the folder's weight files, so a cache
    never mixes vectors from two different models saved under the same name.

    Registry name ``"qualcode.SentenceTransformer.v1"``, alias ``"st:<folder>"``.

    Args:
        model_path: the model folder (with ``modules.json`` / ``config.json``).
        device: torch device, default ``"cpu"``.
        prefix: a string prepended to every text (e.g. ``"query: "`` for e5 models).

    Attributes:
        path: the model folder (fine-tuning starts from it).

    Raises:
        ModuleNotFoundError: sentence-transformers is missing: ``pip install qualcode[torch]``.
        EmbeddingError: the folder does not exist or cannot be loaded.
    """


    def __init__(self, model_path: str | os.PathLike[str], *, device: str = "cpu", prefix: str = ""):
        path = Path(model_path)
        if not path.is_dir():
            msg = f"sentence-transformers model folder not found: {path}"
            raise EmbeddingError(msg)
        st = require("sentence_transformers", "torch")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            self._model = st.SentenceTransformer(str(path), device=device, local_files_only=True)
        except Exception as exc:
            msg = f"could not load the sentence-transformers model in {path}: {exc}"
            raise EmbeddingError(msg) from exc
        h = hashlib.sha256()
        for f in sorted(path.rglob("*")):
            if f.is_file() and f.suffix in {".safetensors", ".bin", ".onnx", ".json", ".txt", ".model"}:
                h.update(f.relative_to(path).as_posix().encode())
                h.update(file_sha256(f).encode())
        self.prefix = prefix
        self.path = path
        dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(dim())
        self.model_id = f"st/{path.name}{'+' + prefix.strip() if prefix else ''}@{h.hexdigest()[:12]}"

    def _embed(self, texts: list[str]) -> np.ndarray:
        if self.prefix:
            texts = [self.prefix + t for t in texts]
        return self._model.encode(texts, batch_size=len(texts), convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False)
