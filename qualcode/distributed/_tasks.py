"""What runs on the workers: read a partition, score it, take reference rows, code it.

Every function here is a plain function of picklable arguments, so that Dask can run it on
any worker and run it again when a worker dies (reading is repeated from the partition's
description; embedding finds the vectors already written to the cache).

The coder arrives once per worker as a :class:`CoderSpec` (the result of a task, :func:`keep`) and
is memoised by its token: the first task of a run on a worker loads the embedder, builds the
rule pipelines and embeds the code prototypes; every later task of the run on that worker
reuses them.  Tasks on one worker take turns on the coder (a lock), since the embedding
backends already use every thread the worker process is given.
"""

from __future__ import annotations

import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..backends import EmbeddingCache
from ..coding import Coder, Reference
from ..corpus import Corpus
from ._sources import Part, ReadOptions, read_part

__all__ = ["CoderSpec", "Loaded", "code_part", "count", "doc_hashes", "keep", "load_part", "reference", "score_part", "take"]

_LOCK = threading.RLock()
_CODERS: OrderedDict[str, Coder] = OrderedDict()
_KEEP = 2


@dataclass
class CoderSpec:
    """What a worker needs to rebuild the user's Coder: its codebook (plain data), parameters and learned state.

    The codebook travels as the plain data of :meth:`qualcode.Codebook.to_dict` (it rebuilds
    to the same fingerprint); nothing loaded (model, cache, rule pipelines) travels.
    """

    token: str
    codebook: dict[str, Any]
    params: dict[str, Any]
    state: dict[str, Any]

    def build(self) -> Coder:
        """A fresh Coder with these parameters and learned state."""
        from ..codebook import Codebook

        cb = Codebook.from_dict(self.codebook, require_definitions=False)
        coder = Coder(cb, **self.params)
        for k, v in self.state.items():
            setattr(coder, k, v)
        return coder


def keep(value: Any) -> Any:
    """``value`` itself: a run's small inputs as tasks the cluster can run again (see ``_run.constant``)."""
    return value


def _coder(spec: CoderSpec) -> Coder:
    with _LOCK:
        c = _CODERS.get(spec.token)
        if c is None:
            c = _CODERS[spec.token] = spec.build()
            if c.embeddings:  # the other workers write into the same cache folder meanwhile
                c.cache_ = EmbeddingCache(c.cache_dir, shared=True)
            while len(_CODERS) > _KEEP:
                _CODERS.popitem(last=False)
        return c


@dataclass
class Loaded:
    """A partition read on a worker.

    Attributes:
        corpus: its documents (before the codebook's scope is applied).
        notes: warnings met while reading (files skipped).
        keys: document attribute names and case table columns present (for the scope).
        ids: 64-bit hashes of the document ids (duplicate check across partitions).
        case_rows: the case attributes its files give, as read (see
            :func:`qualcode.distributed._sources.read_part`); None for a Corpus in memory.
    """

    corpus: Corpus
    notes: list[str] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)
    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))
    case_rows: dict[str, dict[str, Any]] | None = None
    _scoped: dict[frozenset[str], Corpus] = field(default_factory=dict, repr=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_scoped"] = {}  # not shipped when Dask moves a partition to another worker
        return state

    def in_scope(self, codebook: Any, missing: set[str]) -> Corpus:
        """The documents in the codebook's scope (kept: both passes segment the same Corpus object once)."""
        key = frozenset(missing)
        if key not in self._scoped:
            self._scoped.clear()
            self._scoped[key] = scoped(self.corpus, codebook, missing)
        return self._scoped[key]


@dataclass
class Stats:
    """Cache counters and sizes of one task."""

    documents: int = 0
    segments: int = 0
    embedded: int = 0
    cached: int = 0


def doc_hashes(doc_ids: list[str]) -> np.ndarray:
    """64-bit hashes of document ids (what the client learns of a partition's documents)."""
    import hashlib

    return np.array(
        [int.from_bytes(hashlib.blake2b(i.encode(), digest_size=8).digest(), "little") for i in doc_ids],
        dtype=np.uint64,
    )


def load_part(part: Part, opts: ReadOptions) -> Loaded:
    """Read one partition (see :func:`qualcode.distributed._sources.load`)."""
    corpus, notes, raw = read_part(part, opts)
    keys = set(map(str, corpus.cases.columns)) | {k for d in corpus.documents for k in d.attributes}
    return Loaded(corpus, notes, keys, doc_hashes(list(corpus.doc_ids)), raw)


def info(loaded: Loaded) -> tuple[int, list[str], set[str], np.ndarray]:
    """The small facts of a read partition the client needs: documents, notes, keys, id hashes."""
    return len(loaded.corpus), loaded.notes, loaded.keys, loaded.ids


def scoped(corpus: Corpus, codebook: Any, missing: set[str]) -> Corpus:
    """The documents of ``corpus`` in the codebook's scope, with the scope keys missing from the WHOLE corpus ignored.

    :meth:`qualcode.Codebook.in_scope` ignores a scope key that no document or case of the
    corpus it is given has; a partition may lack a key the rest of the corpus has, so the
    client decides which keys are missing over every partition and this applies the others.
    """
    keep = codebook.in_scope(corpus, missing=missing)
    return corpus if len(keep) == len(corpus) else corpus.subset(keep)


def _counters(coder: Coder) -> tuple[int, int]:
    cache = getattr(coder, "cache_", None)
    return (cache.misses, cache.hits) if cache is not None else (0, 0)


@dataclass
class ScoreState:
    """Pass 1 of a partition, kept on its worker: coded segments and their similarities."""

    n: int
    sims: np.ndarray | None
    stats: Stats


def score_part(spec: CoderSpec, loaded: Loaded, missing: set[str]) -> ScoreState:
    """Pass 1: embed the partition's coded segments (through the cache) and keep their similarities.

    Rules are switched off for this pass (they do not change which segments are coded or their
    similarities; pass 2 matches them).
    """
    with _LOCK:
        coder = _coder(spec)
        part = loaded.in_scope(coder.codebook, missing)
        m0, h0 = _counters(coder)
        rules = coder.rules
        coder.rules = False
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the client reports scope warnings once, for the whole corpus
                s = coder.score(part)
        finally:
            coder.rules = rules
        m1, h1 = _counters(coder)
    sims = None if s.embedding is None else np.asarray(s.embedding.similarity, dtype=np.float32)
    return ScoreState(len(s.segments), sims, Stats(len(part), len(s.segments), m1 - m0, h1 - h0))


def count(state: ScoreState) -> tuple[int, Stats]:
    """How many coded segments pass 1 found, and its cache counters."""
    return state.n, state.stats


def take(state: ScoreState, rows: np.ndarray) -> np.ndarray:
    """The similarities of the given (partition-local) rows: this partition's share of the reference sample."""
    assert state.sims is not None
    return state.sims[np.asarray(rows, dtype=np.int64)]


def reference(spec: CoderSpec, sample: np.ndarray) -> Reference:
    """The calibration reference of the whole run, from the similarities at its reference rows."""
    with _LOCK:
        coder = _coder(spec)
        if not hasattr(coder, "embedder_"):
            coder.score(Corpus([]))  # prepares the coder (loads the embedder, embeds the prototypes)
        return coder.embedder_.reference(sample)


@dataclass
class Coded:
    """Pass 2 of a partition: its machine codings and the run metadata it saw."""

    frame: pd.DataFrame
    meta: dict[str, Any]
    stats: Stats


def code_part(
    spec: CoderSpec, loaded: Loaded, missing: set[str], ref: Reference | None, human: pd.DataFrame | None
) -> Coded:
    """Pass 2: code the partition with the whole run's reference; only machine rows come back."""
    with _LOCK:
        coder = _coder(spec)
        part = loaded.in_scope(coder.codebook, missing)
        h = None
        if human is not None and len(human):
            h = human[human["doc_id"].isin(set(part.doc_ids))]
            from ..codings import Codings

            h = Codings(h) if len(h) else None
        m0, h0 = _counters(coder)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = coder.code(part, reference=ref, human=h)
        m1, h1 = _counters(coder)
    frame = out.to_frame()
    frame = frame[frame["source"] != "human"].reset_index(drop=True)
    return Coded(frame, dict(out.meta), Stats(len(part), 0, m1 - m0, h1 - h0))
