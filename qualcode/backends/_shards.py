"""The vectors of one model id, on disk (verified shards) or in memory: the store behind :class:`~qualcode.backends.EmbeddingCache`.

See :mod:`qualcode.backends._cache` for the folder layout and the guarantees.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
import uuid
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_path, atomic_write_bytes, atomic_write_text
from ..errors import EmbeddingError, QualcodeWarning

__all__ = ["ModelStore", "model_slug"]

logger = logging.getLogger("qualcode")

_FORMAT = 1


def model_slug(model_id: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id).strip("._")[:80] or "model"
    return f"{safe}-{hashlib.sha256(model_id.encode()).hexdigest()[:8]}"


class _BadShard(Exception):
    """A shard failed verification (the message says why)."""


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class ModelStore:
    """The vectors of one model id (in memory, or in one folder of the cache).

    On disk every shard is verified before its vectors are used: its ``.sum.json`` records the
    row count, the dimension and the sha256 of the ``.npy`` and of the key list; the vectors must
    be finite and non-zero. A shard that fails is discarded with a warning (its files are
    removed) and its texts count as not cached, so they are embedded again and the result is
    the one of a clean run. Shards without a ``.sum.json`` (written by qualcode before 0.2, or
    still being written) are not used.
    """

    def __init__(self, model_id: str, folder: Path | None):
        self.model_id = model_id
        self.folder = folder
        self.dim: int | None = None
        self.index: dict[str, tuple[int, int]] = {}  # key -> (shard number, row)
        self.shards: list[Path | np.ndarray] = []  # file paths (disk) or arrays (memory)
        self.keys_of: list[list[str]] = []  # the keys of each shard, in row order
        self.sums: list[dict[str, Any] | None] = []  # each disk shard's checksums (None: memory)
        self.verified: dict[int, np.ndarray] = {}  # shard -> its checked array
        self.bad: set[int] = set()
        self._seen: set[str] = set()
        self._scanned: tuple[int, int] | None = None  # (folder mtime, wall clock) of the last complete scan
        if folder is not None:
            meta = folder / "meta.json"
            if meta.is_file():
                try:
                    info = json.loads(meta.read_text(encoding="utf-8"))
                    dim = int(info["dim"])
                    if not isinstance(info, dict) or dim <= 0:
                        msg = "no positive 'dim'"
                        raise ValueError(msg)
                except (OSError, ValueError, TypeError, KeyError) as exc:
                    _warn(f"embedding cache metadata {meta} is unreadable ({exc}); rebuilding it")
                    info = None
                if info is not None:
                    if info.get("model_id") != model_id:
                        msg = (
                            f"embedding cache folder {folder} holds vectors of model "
                            f"{info.get('model_id')!r}, not {model_id!r}; refusing to mix them."
                        )
                        raise EmbeddingError(msg)
                    self.dim = dim
            self.refresh()
            if self.dim is not None and not meta.is_file():
                self._write_meta()
            elif self.dim is not None and meta.is_file():
                try:
                    if int(json.loads(meta.read_text(encoding="utf-8")).get("dim", -1)) != self.dim:
                        self._write_meta()
                except (OSError, ValueError, TypeError, AttributeError):
                    self._write_meta()

    def _write_meta(self) -> None:
        assert self.folder is not None and self.dim is not None
        self.folder.mkdir(parents=True, exist_ok=True)
        meta = {"model_id": self.model_id, "dim": self.dim, "format": _FORMAT}
        atomic_write_text(self.folder / "meta.json", json.dumps(meta, indent=1))

    def refresh(self) -> None:
        """Pick up shards written since the last scan (by this or another process).

        The folder is listed again only when its modification time moved since a scan made
        well after that time (a file created since then moves it past the old value, for a
        file-system clock up to 100 ms coarse), so a check before every batch costs one
        ``stat``.  Where that fails (a network file system whose clock lags this machine's), a
        shard is only seen at the next change of the folder: its texts are embedded again,
        the result is the same.
        """
        if self.folder is None:
            return
        try:
            mtime = self.folder.stat().st_mtime_ns
        except OSError:
            return
        if self._scanned is not None and self._scanned[0] == mtime and self._scanned[1] - mtime > _CLOCK_NS:
            return
        now = time.time_ns()
        for keys_file in sorted(self.folder.glob("shard-*.keys.txt")):
            name = keys_file.name
            if name in self._seen:
                continue
            stem = name[: -len(".keys.txt")]
            npy = keys_file.with_name(stem + ".npy")
            sums = keys_file.with_name(stem + ".sum.json")
            if not npy.is_file() or not sums.is_file():
                continue  # still being written, or written without checksums (not trusted)
            self._seen.add(name)
            try:
                keys, info = self._read_keys(keys_file, sums)
            except _BadShard as exc:
                self._discard_files(npy, f"{exc}")
                continue
            if self.dim is None:
                self.dim = int(info["dim"])
            elif int(info["dim"]) != self.dim:
                self._discard_files(npy, f"it holds {info['dim']}-dimensional vectors, the cache {self.dim}")
                continue
            n = len(self.shards)
            self.shards.append(npy)
            self.keys_of.append(keys)
            self.sums.append(info)
            for row, key in enumerate(keys):
                self.index.setdefault(key, (n, row))
        self._scanned = (mtime, now)

    @staticmethod
    def _read_keys(keys_file: Path, sums: Path) -> tuple[list[str], dict[str, Any]]:
        try:
            info = json.loads(sums.read_text(encoding="utf-8"))
            raw = keys_file.read_bytes()
            rows, dim = int(info["rows"]), int(info["dim"])
            npy_sha, keys_sha = str(info["npy_sha256"]), str(info["keys_sha256"])
        except (OSError, ValueError, TypeError, KeyError) as exc:
            msg = f"its checksum file is unreadable ({exc})"
            raise _BadShard(msg) from None
        if hashlib.sha256(raw).hexdigest() != keys_sha:
            msg = "its key list does not match its checksum"
            raise _BadShard(msg)
        try:
            keys = raw.decode("ascii").split()
        except UnicodeDecodeError:
            msg = "its key list is not text"
            raise _BadShard(msg) from None
        if len(keys) != rows or dim <= 0 or not all(_KEY.fullmatch(k) for k in keys):
            msg = f"its key list has {len(keys)} keys for {rows} rows"
            raise _BadShard(msg)
        return keys, {"rows": rows, "dim": dim, "npy_sha256": npy_sha}

    def _discard_files(self, npy: Path, why: str) -> None:
        _warn(f"embedding cache shard {npy} is damaged ({why}); discarded, its texts are embedded again")
        stem = npy.name[: -len(".npy")]
        for f in (npy, npy.with_name(stem + ".keys.txt"), npy.with_name(stem + ".sum.json")):
            try:
                f.unlink()
            except OSError:
                pass

    def _discard(self, shard: int, why: str) -> None:
        """Forget a bad shard; its keys point to another shard holding them, if any."""
        self.bad.add(shard)
        item = self.shards[shard]
        if isinstance(item, Path):
            self._discard_files(item, why)
        lost = {k for k in self.keys_of[shard] if self.index.get(k, (-1, 0))[0] == shard}
        for k in lost:
            del self.index[k]
        if lost:
            for n, keys in enumerate(self.keys_of):
                if n in self.bad:
                    continue
                for row, k in enumerate(keys):
                    if k in lost and k not in self.index:
                        self.index[k] = (n, row)

    def _array(self, shard: int) -> np.ndarray:
        got = self.verified.get(shard)
        if got is not None:
            return got
        item = self.shards[shard]
        if isinstance(item, np.ndarray):
            return item
        info = self.sums[shard]
        assert info is not None
        try:
            if _file_sha256(item) != info["npy_sha256"]:
                msg = "its vectors do not match their checksum"
                raise _BadShard(msg)
            arr = np.load(item, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:
            msg = f"unreadable: {exc}"
            raise _BadShard(msg) from None
        if arr.ndim != 2 or arr.shape != (info["rows"], self.dim) or arr.dtype != np.float32:
            msg = f"shape {arr.shape} {arr.dtype}, expected ({info['rows']}, {self.dim}) float32"
            raise _BadShard(msg)
        if not _vectors_ok(arr):
            msg = "it holds non-finite or all-zero vectors"
            raise _BadShard(msg)
        self.verified[shard] = arr
        return arr

    def gather(self, keys: Sequence[str], out: np.ndarray, rows: Sequence[int]) -> list[int]:
        """Copy the vectors of ``keys`` into ``out[rows]``; returns the rows that were lost.

        A shard that fails verification is discarded; rows whose key another good shard holds
        are read from it, the others are returned (not cached any more).
        """
        pending = list(zip(keys, rows, strict=True))
        lost: list[int] = []
        while pending:
            by_shard: dict[int, tuple[list[int], list[int], list[str]]] = {}
            for key, dst in pending:
                where = self.index.get(key)
                if where is None:
                    lost.append(dst)
                    continue
                shard, row = where
                trio = by_shard.setdefault(shard, ([], [], []))
                trio[0].append(row)
                trio[1].append(dst)
                trio[2].append(key)
            pending = []
            for shard, (src, dsts, ks) in by_shard.items():
                try:
                    arr = self._array(shard)
                except _BadShard as exc:
                    self._discard(shard, str(exc))
                    pending.extend(zip(ks, dsts, strict=True))
                    continue
                order = np.argsort(src)  # sorted reads are kinder to a memory map
                out[np.asarray(dsts)[order]] = arr[np.asarray(src)[order]]
        return lost

    def add(self, keys: list[str], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if not _vectors_ok(vectors):
            msg = f"model {self.model_id!r} returned non-finite or all-zero vectors; not caching them."
            raise EmbeddingError(msg)
        if self.dim is None:
            self.dim = int(vectors.shape[1])
            if self.folder is not None:
                self._write_meta()
        if vectors.shape[1] != self.dim:
            msg = (
                f"model {self.model_id!r} returned {vectors.shape[1]}-dimensional vectors but the "
                f"cache holds {self.dim}-dimensional ones for it; refusing to mix them."
            )
            raise EmbeddingError(msg)
        n = len(self.shards)
        if self.folder is None:
            self.shards.append(vectors.copy())
            self.sums.append(None)
        else:
            if not (self.folder / "meta.json").is_file():  # deleted while we ran
                self._write_meta()
            stem = f"shard-{time.time_ns():x}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
            npy = self.folder / f"{stem}.npy"
            with atomic_path(npy) as tmp, open(tmp, "wb") as fh:
                np.save(fh, vectors, allow_pickle=False)
            key_text = ("\n".join(keys) + "\n").encode("ascii")
            info = {
                "rows": len(keys),
                "dim": self.dim,
                "npy_sha256": _file_sha256(npy),
                "keys_sha256": hashlib.sha256(key_text).hexdigest(),
            }
            # the key list last: its presence marks a complete shard
            atomic_write_text(self.folder / f"{stem}.sum.json", json.dumps(info, indent=1))
            atomic_write_bytes(self.folder / f"{stem}.keys.txt", key_text)
            self.shards.append(npy)
            self.sums.append({"rows": len(keys), "dim": self.dim, "npy_sha256": info["npy_sha256"]})
            self.verified[n] = vectors
            self._seen.add(f"{stem}.keys.txt")
        self.keys_of.append(list(keys))
        for row, key in enumerate(keys):
            self.index.setdefault(key, (n, row))


_KEY = re.compile(r"[0-9a-f]{64}")

#: the coarsest file-system clock trusted by :meth:`ModelStore.refresh` (ns)
_CLOCK_NS = 100_000_000


def _vectors_ok(arr: np.ndarray) -> bool:
    """Finite, and no all-zero row (an L2-normalised embedding is never zero)."""
    for s in range(0, len(arr), 65536):
        block = np.asarray(arr[s : s + 65536])
        if not np.isfinite(block).all() or not np.abs(block).max(axis=1, initial=0.0).all():
            return False
    return True


def _warn(message: str) -> None:
    logger.warning(message)
    warnings.warn(message, QualcodeWarning, stacklevel=4)
