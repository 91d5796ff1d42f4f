"""A damaged embedding cache never changes a result (issue 16).

Flipped bytes, NaN or zero vectors, shuffled or extra keys, a 0-byte shard, a random key list
and a deleted ``meta.json`` used to change codings silently or end in a traceback. Each shard is
now verified (checksum, shape, finiteness) and a bad one is discarded with a warning and its
texts embedded again: the vectors equal those of a clean run.
"""

from __future__ import annotations

import hashlib
import json
import warnings

import numpy as np
import pytest

from qualcode.backends import EmbeddingCache, embed_texts
from qualcode.errors import QualcodeWarning

TEXTS = [f"Sentence {i} about the village budget and the planning meeting." for i in range(40)]


class HashEmbedder:
    """Deterministic unit vectors from a text's hash; counts the texts it embeds."""

    model_id = "toy-hash-v1"
    dim = 8

    def __init__(self):
        self.calls = 0

    def embed(self, texts):
        self.calls += len(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            raw = np.frombuffer(hashlib.sha256(t.encode()).digest()[: self.dim * 4], dtype=np.uint32)
            v = raw.astype(np.float32) / 2**32 - 0.5
            out[i] = v / np.linalg.norm(v)
        return out


def _fill(tmp_path):
    emb = HashEmbedder()
    clean = embed_texts(emb, TEXTS, cache=tmp_path, progress=False, shard_size=10, batch_size=10)
    folder = next(p for p in tmp_path.iterdir() if p.is_dir())
    shards = sorted(folder.glob("shard-*.npy"))
    assert len(shards) == 4
    return clean, folder, shards


def _again(tmp_path):
    emb = HashEmbedder()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = embed_texts(emb, TEXTS, cache=tmp_path, progress=False)
    return got, emb.calls, [str(w.message) for w in caught if issubclass(w.category, QualcodeWarning)]


def _keys(npy):
    return npy.with_name(npy.name[: -len(".npy")] + ".keys.txt")


def _flip(npy):
    data = bytearray(npy.read_bytes())
    for i in range(len(data) - 40, len(data) - 8):
        data[i] ^= 0x5A
    npy.write_bytes(bytes(data))


def _nan(npy):
    arr = np.load(npy)
    np.save(npy, np.full_like(arr, np.nan))


def _zero(npy):
    arr = np.load(npy)
    np.save(npy, np.zeros_like(arr))


def _shuffle_keys(npy):
    keys = _keys(npy).read_text().split()
    _keys(npy).write_text("\n".join(keys[::-1]) + "\n")


def _empty_shard(npy):
    npy.write_bytes(b"")


def _random_keys(npy):
    _keys(npy).write_bytes(bytes(range(256)) * 3)


def _extra_key(npy):
    with open(_keys(npy), "a") as fh:
        fh.write("0" * 64 + "\n")


@pytest.mark.parametrize(
    "damage", [_flip, _nan, _zero, _shuffle_keys, _empty_shard, _random_keys, _extra_key],
    ids=["flipped-bytes", "nan", "zero", "shuffled-keys", "0-byte-shard", "random-keys", "extra-key"],
)
def test_hostile_cache_damaged_shard_is_discarded_and_re_embedded(tmp_path, damage):
    clean, folder, shards = _fill(tmp_path)
    damage(shards[1])
    got, calls, warned = _again(tmp_path)
    np.testing.assert_array_equal(got, clean)
    assert calls == 10  # exactly the texts of the damaged shard
    assert len(warned) == 1 and shards[1].name in warned[0] and "damaged" in warned[0]
    # the bad shard is gone, the re-embedded one is cached: a third run embeds nothing
    got3, calls3, warned3 = _again(tmp_path)
    np.testing.assert_array_equal(got3, clean)
    assert (calls3, warned3) == (0, [])


def test_hostile_cache_deleted_meta_is_recreated(tmp_path):
    clean, folder, _ = _fill(tmp_path)
    (folder / "meta.json").unlink()
    got, calls, warned = _again(tmp_path)
    np.testing.assert_array_equal(got, clean)
    assert calls == 0 and warned == []
    assert json.loads((folder / "meta.json").read_text())["dim"] == 8
    # also when the metadata is garbage
    (folder / "meta.json").write_text("{not json")
    got, calls, warned = _again(tmp_path)
    np.testing.assert_array_equal(got, clean)
    assert calls == 0 and any("meta.json" in w for w in warned)
    assert json.loads((folder / "meta.json").read_text())["model_id"] == HashEmbedder.model_id


def test_hostile_cache_duplicate_key_in_a_bad_shard_falls_back_to_a_good_one(tmp_path):
    emb = HashEmbedder()
    clean = embed_texts(emb, TEXTS[:5], cache=tmp_path, progress=False)
    cache = EmbeddingCache(tmp_path)
    cache.put(emb.model_id, TEXTS[:5], emb.embed(TEXTS[:5]))  # a second shard, same keys
    folder = next(p for p in tmp_path.iterdir() if p.is_dir())
    first = sorted(folder.glob("shard-*.npy"))[0]
    _nan(first)
    got, calls, warned = _again(tmp_path)
    np.testing.assert_array_equal(got[:5], clean)
    assert calls == len(TEXTS) - 5 and len(warned) == 1


def test_hostile_cache_refuses_to_store_non_finite_vectors(tmp_path):
    from qualcode.errors import EmbeddingError

    cache = EmbeddingCache(tmp_path)
    with pytest.raises(EmbeddingError, match="non-finite or all-zero"):
        cache.put("toy", ["a"], np.array([[np.nan, 1.0]], dtype=np.float32))
