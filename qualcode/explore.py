"""Inductive helpers for codebook development: near-misses and clusters of uncoded segments.

Deductive coding with a codebook needs an inductive check: which passages does a code *almost*
catch (candidates for a new example or a sharper exclusion criterion), and which passages does
the codebook miss entirely (candidates for new codes)?
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._params import Interval, validated
from .codings._codings import Codings
from .corpus._model import Corpus

__all__ = ["cluster_uncoded", "near_misses", "uncoded_segments"]

_TOKEN = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
# function words of English and Indonesian, kept out of cluster labels
_STOP = frozenset(
    """the and for that this with are was were have has had not but they them their there what
    which who will would can could should about from into our your you his her she him its it's
    been being also just very more most some such than then when where how all any one two
    yes yeah okay well really because like get got said say says think know mean lot things thing
    yang dan di ke dari ini itu dengan untuk tidak ada kami kita saya juga akan sudah atau pada
    karena jadi dalam bisa tapi masih lebih harus oleh seperti hanya kalau mereka tersebut sangat
    belum antara sama para iya ya nah gitu kan pak ibu""".split()
)


def _as_list(value: str | Iterable[str] | None) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


@validated({"margin": [Interval(float, 0, None, closed="neither")]})
def near_misses(
    coder: Any,
    corpus: Corpus,
    *,
    margin: float = 0.15,
    role: str | Iterable[str] | None = None,
    codes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Segments whose embedding score for a code came within ``margin`` below its threshold.

    A near-miss is a (segment, code) pair that the coder did *not* assign — no rule fired and
    the calibrated embedding score stayed below the code's threshold — but came within
    ``margin`` of it.  These are the passages to read when refining a code's examples or its
    exclusion criterion.

    Args:
        coder: a :class:`qualcode.Coder` with embeddings enabled.
        corpus: the corpus to score.
        margin: how far below the threshold (on the calibrated score) still counts.
        role: keep only segments spoken in these roles (``"respondent"``...).
        codes: restrict to these codes.

    Returns:
        One row per near-miss, closest to the threshold first: ``segment_id, doc_id,
        speaker, role, text, code, score, threshold, gap, nearest`` (the codebook item the
        segment was most similar to).

    Raises:
        ValueError: the coder has embeddings switched off, or ``margin`` is not positive.
    """
    if not getattr(coder, "embeddings", False):
        msg = "near_misses needs a Coder with embeddings=True."
        raise ValueError(msg)
    scored = coder.score(corpus)
    emb = scored.embedding
    seg = scored.segments
    columns = ["segment_id", "doc_id", "speaker", "role", "text", "code", "score", "threshold",
               "gap", "nearest"]
    if emb is None or not len(seg):
        return pd.DataFrame(columns=columns)
    thresholds = scored.thresholds
    rule_col = {c: j for j, c in enumerate(scored.codes)}
    keep_roles = _as_list(role)
    keep_codes = set(codes) if codes is not None else None
    rows = []
    for k, code in enumerate(emb.codes):
        if keep_codes is not None and code not in keep_codes:
            continue
        thr = thresholds[code]
        score = emb.score[:, k]
        hit = (score < thr) & (score >= thr - margin)
        j = rule_col.get(code)
        if j is not None:
            hit &= ~scored.rules.fired[:, j]
        for i in np.flatnonzero(hit):
            r = seg.iloc[i]
            if keep_roles is not None and r["role"] not in keep_roles:
                continue
            kind, text, cos = emb.nearest[i][k]
            rows.append({
                "segment_id": r["segment_id"], "doc_id": r["doc_id"], "speaker": r["speaker"],
                "role": r["role"], "text": r["text"], "code": code, "score": float(score[i]),
                "threshold": float(thr), "gap": float(thr - score[i]),
                "nearest": f"{kind}: {text} (cos {cos:.3f})",
            })
    out = pd.DataFrame(rows, columns=columns)
    return out.sort_values(["gap", "segment_id"]).reset_index(drop=True)


def uncoded_segments(
    codings: Codings,
    corpus: Corpus,
    *,
    unit: str = "sentence",
    role: str | Iterable[str] | None = None,
    min_words: int = 4,
) -> pd.DataFrame:
    """Segments at ``unit`` that no coding overlaps (and that have at least ``min_words`` words)."""
    seg = corpus.segments(unit, attributes=False)
    keep_roles = _as_list(role)
    if keep_roles is not None:
        seg = seg[seg["role"].isin(keep_roles)]
    seg = seg[seg["n_words"] >= min_words]
    f = codings.to_frame()
    coded = np.zeros(len(seg), dtype=bool)
    for doc_id, grp in seg.groupby("doc_id", sort=False):
        spans = f[f["doc_id"] == doc_id]
        if not len(spans):
            continue
        starts = spans["start"].to_numpy()
        ends = spans["end"].to_numpy()
        s = grp["start"].to_numpy()[:, None]
        e = grp["end"].to_numpy()[:, None]
        overlap = ((starts[None, :] < e) & (ends[None, :] > s)).any(axis=1)
        coded[seg.index.get_indexer(grp.index)] = overlap
    return seg[~coded].reset_index(drop=True)


def _top_terms(texts: Sequence[str], labels: np.ndarray, n_clusters: int, n_terms: int) -> list[str]:
    """Class-based TF-IDF (as in BERTopic): terms frequent in a cluster and rare elsewhere."""
    vocab: dict[str, int] = {}
    counts: list[dict[int, int]] = [dict() for _ in range(n_clusters)]
    for text, lab in zip(texts, labels, strict=True):
        for tok in _TOKEN.findall(text.lower()):
            if tok in _STOP:
                continue
            j = vocab.setdefault(tok, len(vocab))
            counts[lab][j] = counts[lab].get(j, 0) + 1
    if not vocab:
        return [""] * n_clusters
    tf = np.zeros((n_clusters, len(vocab)))
    for c, row in enumerate(counts):
        for j, v in row.items():
            tf[c, j] = v
    words = np.array(list(vocab))
    avg = tf.sum() / max(n_clusters, 1)
    idf = np.log(1 + avg / np.maximum(tf.sum(axis=0), 1))
    ctfidf = (tf / np.maximum(tf.sum(axis=1, keepdims=True), 1)) * idf
    return [", ".join(words[np.argsort(-row)[:n_terms]][row[np.argsort(-row)[:n_terms]] > 0])
            for row in ctfidf]


@validated({"n_clusters": [Interval(int, 1, None)]})
def cluster_uncoded(
    codings: Codings,
    corpus: Corpus,
    *,
    n_clusters: int = 8,
    unit: str = "sentence",
    role: str | Iterable[str] | None = None,
    min_words: int = 4,
    embedder: Any = None,
    cache_dir: Any = None,
    n_terms: int = 6,
    n_examples: int = 2,
    random_state: int = 0,
) -> pd.DataFrame:
    """Cluster the segments no code reached into candidate new codes.

    The uncoded segments are embedded (with the on-disk cache when ``cache_dir`` is given),
    clustered with k-means on the L2-normalised vectors, and each cluster is described by its
    most distinctive words (class-based TF-IDF) and the segments nearest its centre.

    Args:
        codings: the codings (human or machine) of ``corpus``.
        corpus: the corpus.
        n_clusters: number of clusters (at most the number of uncoded segments).
        unit: segment unit.
        role: keep only segments spoken in these roles.
        min_words: ignore segments shorter than this ("Yes.", "Iya.").
        embedder: embedder or registry name (default model when None).
        cache_dir: embedding cache folder.
        n_terms: distinctive words per cluster.
        n_examples: example segments per cluster.
        random_state: seed of k-means.

    Returns:
        One row per cluster, largest first: ``cluster, size, top_terms, examples,
        segment_ids``.

    Raises:
        ValueError: ``n_clusters`` < 1.
    """
    from sklearn.cluster import KMeans

    from .backends import EmbeddingCache, embed_texts, get_embedder

    seg = uncoded_segments(codings, corpus, unit=unit, role=role, min_words=min_words)
    columns = ["cluster", "size", "top_terms", "examples", "segment_ids"]
    if not len(seg):
        return pd.DataFrame(columns=columns)
    texts = seg["text"].tolist()
    model = get_embedder(embedder)
    vectors = embed_texts(model, texts, cache=EmbeddingCache(cache_dir), progress=False)
    k = min(int(n_clusters), len(texts))
    km = KMeans(n_clusters=k, n_init=10, random_state=random_state).fit(vectors)
    labels = km.labels_
    terms = _top_terms(texts, labels, k, n_terms)
    dist = np.linalg.norm(vectors - km.cluster_centers_[labels], axis=1)
    rows = []
    for c in range(k):
        idx = np.flatnonzero(labels == c)
        nearest = idx[np.argsort(dist[idx])][:n_examples]
        rows.append({
            "cluster": c,
            "size": len(idx),
            "top_terms": terms[c],
            "examples": " | ".join(texts[i] for i in nearest),
            "segment_ids": "; ".join(seg["segment_id"].iloc[idx]),
        })
    out = pd.DataFrame(rows, columns=columns).sort_values(["size", "cluster"], ascending=[False, True])
    return out.reset_index(drop=True)
