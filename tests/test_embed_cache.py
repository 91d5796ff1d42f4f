import json

import numpy as np
import pytest

from qualcode.backends import EmbeddingCache, embed_texts, text_key
from qualcode.errors import EmbeddingError
from qualcode.testing import PrecomputedEmbedder

TEXTS = [
    "Programnya sudah ditentukan dari pusat.",
    "We check the e-monev data every quarter.",
    "The head rarely attends.",
    "Programnya sudah ditentukan dari pusat.",  # duplicate
    "Coordination meetings happen, but nobody shares what they learn.",
    "Yes.",
]


class Counting:
    """Wraps the real model and counts what it is asked to embed."""

    def __init__(self, inner, fail_after=None):
        self.inner = inner
        self.model_id = inner.model_id
        self.dim = inner.dim
        self.calls = 0
        self.texts = 0
        self.fail_after = fail_after

    def embed(self, texts):
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise RuntimeError("boom")
        self.calls += 1
        self.texts += len(texts)
        return self.inner.embed(texts)


def test_second_run_embeds_nothing(default_embedder, tmp_path):
    counting = Counting(default_embedder)
    first = embed_texts(counting, TEXTS, cache=EmbeddingCache(tmp_path), batch_size=2, progress=False)
    assert counting.texts == 5  # the duplicate is embedded once
    assert counting.calls == 3  # 5 distinct texts in batches of 2
    np.testing.assert_array_equal(first[0], first[3])
    np.testing.assert_allclose(first, default_embedder.embed(TEXTS), atol=1e-5)

    cache = EmbeddingCache(tmp_path)  # a new process would start like this
    again = embed_texts(counting, TEXTS, cache=cache, progress=False)
    assert counting.calls == 3 and counting.texts == 5
    assert (cache.hits, cache.misses) == (5, 0)
    np.testing.assert_array_equal(first, again)

    # one new text: only it is embedded
    more = embed_texts(counting, [*TEXTS, "A brand new sentence."], cache=cache, progress=False)
    assert counting.texts == 6 and (cache.hits, cache.misses) == (10, 1)
    np.testing.assert_array_equal(more[:6], first)
    assert cache.count(default_embedder.model_id) == 6


def test_cache_files_are_plain_numpy_and_text(default_embedder, tmp_path):
    embed_texts(default_embedder, TEXTS[:3], cache=tmp_path, progress=False)
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    suffixes = {p.suffix for p in files}
    assert suffixes <= {".npy", ".txt", ".json"}, files
    for p in files:
        assert b"pickle" not in p.read_bytes()[:200]
        if p.suffix == ".npy":
            arr = np.load(p, allow_pickle=False)
            assert arr.dtype == np.float32 and arr.shape == (3, 384)
        if p.name == "meta.json":
            assert json.loads(p.read_text())["model_id"] == default_embedder.model_id
    keys = next(p for p in files if p.name.endswith(".keys.txt")).read_text().split()
    assert keys == [text_key(t) for t in TEXTS[:3]]


def test_vectors_of_different_models_never_mix(tmp_path):
    a = PrecomputedEmbedder({"x": [1.0, 0.0], "y": [0.0, 1.0]}, model_id="model-a")
    b = PrecomputedEmbedder({"x": [0.0, 1.0], "y": [1.0, 0.0]}, model_id="model-b")
    va = embed_texts(a, ["x", "y"], cache=tmp_path, progress=False)
    vb = embed_texts(b, ["x", "y"], cache=tmp_path, progress=False)
    assert not np.allclose(va, vb)
    # same model id but another dimension: refused
    c = PrecomputedEmbedder({"z": [1.0, 0.0, 0.0]}, model_id="model-a")
    with pytest.raises(EmbeddingError, match="refusing to mix"):
        embed_texts(c, ["z"], cache=EmbeddingCache(tmp_path), progress=False)
    # a folder whose metadata names another model: refused
    folder = next(p for p in tmp_path.iterdir() if p.name.startswith("model-a"))
    (folder / "meta.json").write_text(json.dumps({"model_id": "model-z", "dim": 2, "format": 1}))
    with pytest.raises(EmbeddingError, match="refusing to mix"):
        EmbeddingCache(tmp_path).get("model-a", ["x"])


def test_interrupted_run_keeps_flushed_shards(default_embedder, tmp_path):
    texts = [f"Sentence number {i} about the village budget." for i in range(6)]
    failing = Counting(default_embedder, fail_after=2)
    with pytest.raises(RuntimeError, match="boom"):
        embed_texts(failing, texts, cache=tmp_path, batch_size=2, shard_size=2, progress=False)
    cache = EmbeddingCache(tmp_path)
    found, _ = cache.get(default_embedder.model_id, texts)
    assert found.tolist() == [True, True, True, True, False, False]


def test_precomputed_embedder_passes_through_and_is_not_cached(tmp_path):
    pre = PrecomputedEmbedder({"a": [3.0, 4.0], "b": [0.0, 1.0]})
    cache = EmbeddingCache(tmp_path)
    v = embed_texts(pre, ["b", "a", "b"], cache=cache, progress=False)
    np.testing.assert_array_equal(v, [[0.0, 1.0], [3.0, 4.0], [0.0, 1.0]])
    assert not any(tmp_path.iterdir())


def test_in_memory_cache_and_out_parameter():
    pre = PrecomputedEmbedder({"a": [1.0, 0.0], "b": [0.0, 1.0]}, model_id="toy")
    cache = EmbeddingCache(None)
    embed_texts(pre, ["a"], cache=cache, progress=False)
    out = np.full((3, 2), np.nan, dtype=np.float32)
    res = embed_texts(pre, ["a", "b", "a"], cache=cache, progress=False, out=out)
    assert res is out
    np.testing.assert_array_equal(out, [[1, 0], [0, 1], [1, 0]])
    assert (cache.hits, cache.misses) == (1, 2)
    assert embed_texts(pre, [], progress=False).shape == (0, 2)
    with pytest.raises(ValueError, match=r"The 'batch_size' parameter of embed_texts must be an int >= 1\. Got 0 instead\."):
        embed_texts(pre, ["a"], batch_size=0)
    with pytest.raises(ValueError, match=r"The 'shard_size' parameter of embed_texts must be an int >= 1\. Got True instead\."):
        embed_texts(pre, ["a"], shard_size=True)
    with pytest.raises(TypeError, match=r"The 'texts' parameter of embed_texts must be a list of str\. Got 'a' instead\. Give a list"):
        embed_texts(pre, "a")
    with pytest.raises(TypeError, match=r"must be a list of str\. Got a tuple with None at position 2 instead\."):
        embed_texts(pre, ("a", "b", None))


def test_compact_merges_shards(tmp_path):
    pre = PrecomputedEmbedder({t: [float(i), 1.0] for i, t in enumerate("abcd")}, model_id="toy")
    for t in "abcd":
        embed_texts(pre, [t], cache=tmp_path, progress=False)
    cache = EmbeddingCache(tmp_path)
    assert cache.compact("toy") == 4
    assert len(list(tmp_path.rglob("shard-*.npy"))) == 1
    np.testing.assert_array_equal(cache.get("toy", ["c"])[1], [[2.0, 1.0]])


class WritesMeanwhile(Counting):
    """During its first call, another process (another cache on the folder) stores vectors of ``theirs``."""

    def __init__(self, inner, folder, theirs):
        super().__init__(inner)
        self.folder, self.theirs = folder, theirs

    def embed(self, texts):
        if self.calls == 0:
            EmbeddingCache(self.folder).put(self.model_id, self.theirs, self.inner.embed(self.theirs))
        return super().embed(texts)


def test_vectors_another_process_writes_meanwhile_are_not_embedded_again(default_embedder, tmp_path):
    texts = [f"Answer {i}: the village office replied after {i} days." for i in range(8)]
    theirs = texts[4:6]  # the third batch of two, written by the other process during the first batch
    counting = WritesMeanwhile(default_embedder, tmp_path, theirs)
    cache = EmbeddingCache(tmp_path)
    got = embed_texts(counting, texts, cache=cache, batch_size=2, progress=False)
    assert counting.texts == 6 and counting.calls == 3  # batches 1, 2 and 4
    assert (cache.hits, cache.misses) == (2, 6)
    np.testing.assert_allclose(got, default_embedder.embed(texts), atol=1e-5)
    assert EmbeddingCache(tmp_path).count(default_embedder.model_id) == 8


def test_a_shard_written_right_after_a_scan_is_seen(default_embedder, tmp_path):
    mine, other = EmbeddingCache(tmp_path), EmbeddingCache(tmp_path)
    other.put(default_embedder.model_id, ["first"], default_embedder.embed(["first"]))
    assert mine.count(default_embedder.model_id) == 1  # a scan
    other.put(default_embedder.model_id, ["second"], default_embedder.embed(["second"]))  # within the same clock tick, maybe
    assert mine.count(default_embedder.model_id) == 2
    assert mine.get(default_embedder.model_id, ["second"])[0].tolist() == [True]


def test_a_shared_cache_writes_small_shards(default_embedder, tmp_path, monkeypatch):
    import qualcode.backends._cache as cache_mod

    monkeypatch.setattr(cache_mod, "SHARED_SHARD_SIZE", 3)
    texts = [f"Jawaban {i}: kantor desa membalas setelah {i} hari." for i in range(7)]
    embed_texts(default_embedder, texts, cache=EmbeddingCache(tmp_path / "a"), batch_size=1, progress=False)
    embed_texts(default_embedder, texts, cache=EmbeddingCache(tmp_path / "b", shared=True), batch_size=1, progress=False)
    assert len(list((tmp_path / "a").rglob("shard-*.keys.txt"))) == 1  # the default: 4096 per shard
    rows = sorted(len((p).read_text().split()) for p in (tmp_path / "b").rglob("shard-*.keys.txt"))
    assert rows == [1, 3, 3]
