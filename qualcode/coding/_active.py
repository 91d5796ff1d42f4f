"""Active learning: which segments a human should code next (see :meth:`qualcode.Coder.next_to_code`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from ._coder import Coder


def next_segments(coder: Coder, corpus: Any, n: int, diversity: float) -> pd.DataFrame:
    """The ``n`` most uncertain segments of ``corpus``, made diverse (the algorithm of ``next_to_code``)."""
    s = coder.score(corpus)
    seg = s.segments
    cols = ["segment_id", "doc_id", "start", "end", "text", "code", "probability", "threshold", "uncertainty"]
    done = set(coder.human_["doc_id"]) if hasattr(coder, "human_") else set()
    pool = np.flatnonzero(~seg["doc_id"].isin(done).to_numpy())
    names = list(coder.classifiers_)
    probs, ths = [], []
    if names and len(seg):
        by_code = coder._classifier_probs(coder._features(s))
        probs += [by_code[c] for c in names]
        ths += [coder.thresholds_["classifier"][c] for c in names]
    emb = s.embedding
    if emb is not None:
        for j, c in enumerate(emb.codes):
            if c not in coder.classifiers_ and c in s.thresholds:
                names.append(c)
                probs.append(emb.score[:, j].astype(float))
                ths.append(s.thresholds[c])
    if not names or not len(pool):
        return pd.DataFrame(columns=cols)
    p = np.column_stack(probs)
    th = np.clip(np.array(ths, dtype=float), 1e-6, 1 - 1e-6)
    dist = np.abs(p - th[None, :]) / np.maximum(th, 1 - th)[None, :]
    jbest = dist.argmin(axis=1)
    unc = 1.0 - dist[np.arange(len(seg)), jbest]
    picked = _diverse_top(unc[pool], None if emb is None else emb.vectors[pool], n, diversity)
    rows = pool[picked]
    out = seg.iloc[rows][["segment_id", "doc_id", "start", "end", "text"]].copy()
    out["code"] = [names[j] for j in jbest[rows]]
    out["probability"] = p[rows, jbest[rows]]
    out["threshold"] = th[jbest[rows]]
    out["uncertainty"] = unc[rows]
    return out.reset_index(drop=True)


def _diverse_top(score: np.ndarray, vectors: np.ndarray | None, n: int, weight: float) -> np.ndarray:
    """Greedy top-``n`` by ``score`` minus ``weight`` x the max cosine to the rows already picked."""
    n = min(n, len(score))
    if vectors is None or weight == 0 or n <= 1:
        return np.argsort(-score, kind="stable")[:n]
    cand = np.argsort(-score, kind="stable")[: max(50 * n, 1000)]  # the most uncertain first
    v = vectors[cand]
    best_sim = np.full(len(cand), -np.inf)
    chosen: list[int] = []
    gain = score[cand].astype(float)
    for _ in range(n):
        adj = gain - weight * np.maximum(best_sim, 0.0)
        if chosen:
            adj[chosen] = -np.inf
        i = int(np.argmax(adj))
        chosen.append(i)
        best_sim = np.maximum(best_sim, v @ v[i])
    return cand[np.array(chosen, dtype=np.int64)]
