"""Learning from human codings: labels on segments, context features, per-code classifiers.

Mapping human spans onto segments
    A segment is **positive** for a code when a human span of that code in the same document
    overlaps at least 50% of the segment's characters, or covers the whole human span (a
    short quote inside a long segment).  Segments of documents the human coded at all, but
    without such a span, are **negative**; documents without any human coding are unlabelled.

Features (one row per segment)
    the segment vector; the vectors of the previous and the next segment in the same document
    (zeros at the edges); the mean vector of the ``window`` segments around it; the relative
    position in the document (0..1), first/last flags; the per-code rule hit counts; the
    zero-shot similarity and calibrated score of every code.

Classifiers
    One ``LogisticRegression`` (standardised features, L2) per code with at least
    ``min_pos`` positives and ``min_neg`` negatives.  Its probability threshold is the one that
    maximises F1 over grouped (by document) cross-validation predictions.  Codes with fewer
    examples keep rules + similarity; where they have at least two positives, the similarity
    threshold is tuned the same way on the training segments.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

logger = logging.getLogger("qualcode")

__all__ = ["best_threshold", "context_features", "segment_labels", "train_classifier"]


def segment_labels(
    segments: pd.DataFrame, human: pd.DataFrame, codes: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Binary labels of segments from human span codings (see the module docstring).

    Args:
        segments: the coder's segments (``doc_id, start, end``).
        human: human codings (``doc_id, start, end, code``).
        codes: the label columns.

    Returns:
        ``(labels, labelled)``: a bool ``(n, k)`` array and a bool ``(n,)`` mask of the
        segments in documents the human coded.
    """
    n = len(segments)
    col = {c: j for j, c in enumerate(codes)}
    y = np.zeros((n, len(codes)), dtype=bool)
    labelled = segments["doc_id"].isin(set(human["doc_id"])).to_numpy()
    by_doc: dict[str, list[tuple[int, int, int]]] = {}
    for d, a, b, i in zip(segments["doc_id"], segments["start"], segments["end"], range(n), strict=True):
        by_doc.setdefault(d, []).append((int(a), int(b), i))
    for doc_id, g in human.groupby("doc_id"):
        segs = by_doc.get(str(doc_id), [])
        if not segs:
            continue
        starts = np.array([s[0] for s in segs])
        ends = np.array([s[1] for s in segs])
        idx = np.array([s[2] for s in segs])
        for a, b, code in zip(g["start"], g["end"], g["code"], strict=True):
            j = col.get(str(code))
            if j is None:
                continue
            ov = np.minimum(ends, int(b)) - np.maximum(starts, int(a))
            seglen = np.maximum(ends - starts, 1)
            hit = (ov >= 0.5 * seglen) | ((ov >= int(b) - int(a)) & (ov > 0))
            y[idx[hit], j] = True
    return y, labelled


def context_features(
    segments: pd.DataFrame, vectors: np.ndarray, *, window: int = 3
) -> np.ndarray:
    """Neighbour and position features: prev, next, window mean vectors, position (see above)."""
    n, dim = vectors.shape
    prev = np.zeros_like(vectors)
    nxt = np.zeros_like(vectors)
    mean = np.zeros_like(vectors)
    pos = np.zeros((n, 3), dtype=np.float32)
    order = segments.reset_index(drop=True).sort_values(["doc_id", "start"], kind="stable")
    half = max(1, int(window)) // 2 + 1
    for _doc, g in order.groupby("doc_id", sort=False):
        idx = g.index.to_numpy()
        m = len(idx)
        v = vectors[idx]
        if m > 1:
            prev[idx[1:]] = v[:-1]
            nxt[idx[:-1]] = v[1:]
        csum = np.vstack([np.zeros((1, dim), dtype=np.float64), np.cumsum(v, axis=0, dtype=np.float64)])
        lo = np.clip(np.arange(m) - half + 1, 0, m)
        hi = np.clip(np.arange(m) + half, 0, m)
        mean[idx] = ((csum[hi] - csum[lo]) / np.maximum(hi - lo, 1)[:, None]).astype(np.float32)
        pos[idx, 0] = np.arange(m) / max(m - 1, 1)
        pos[idx, 1] = np.arange(m) == 0
        pos[idx, 2] = np.arange(m) == m - 1
    return np.hstack([prev, nxt, mean, pos])


def best_threshold(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """The threshold on ``p`` that maximises F1 against ``y``; returns ``(threshold, f1)``."""
    y = np.asarray(y, dtype=bool)
    if not y.any():
        return 1.0, 0.0
    order = np.argsort(-p, kind="stable")
    ps = p[order]
    ys = y[order]
    tp = np.cumsum(ys)
    fp = np.cumsum(~ys)
    f1 = 2 * tp / (tp + fp + y.sum())
    # only cut between distinct values
    last = np.r_[ps[1:] != ps[:-1], True]
    f1 = np.where(last, f1, -1)
    k = int(np.argmax(f1))
    thr = float(ps[k]) if k + 1 >= len(ps) else float((ps[k] + ps[k + 1]) / 2)
    return thr, float(f1[k])


def train_classifier(
    x: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    *,
    random_state: int = 0,
    c: float = 0.05,
    n_splits: int = 5,
) -> tuple[Any, float, float]:
    """Fit a standardised logistic regression and pick its threshold by grouped CV.

    Returns:
        ``(model, threshold, cv_f1)``.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def make() -> Any:
        return make_pipeline(
            StandardScaler(),
            LogisticRegression(C=c, max_iter=2000, random_state=random_state),
        )

    n_groups = len(np.unique(groups))
    splits = min(n_splits, n_groups)
    if splits >= 2:
        proba = cross_val_predict(
            make(), x, y, groups=groups, cv=GroupKFold(n_splits=splits), method="predict_proba"
        )[:, 1]
        thr, f1 = best_threshold(y, proba)
    else:  # pragma: no cover - a single labelled document
        thr, f1 = 0.5, float("nan")
    model = make().fit(x, y)
    return model, thr, f1
