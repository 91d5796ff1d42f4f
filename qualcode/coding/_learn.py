"""Learning from human codings: labels on segments, context features, per-code classifiers.

Mapping human spans onto segments
    A segment is **positive** for a code when a human span of that code in the same document
    overlaps at least 50% of the segment's characters, or covers the whole human span (a
    short quote inside a long segment).  Segments of documents the human coded at all, but
    without such a span, are **negative**; documents without any human coding are unlabelled.

Features (one row per segment, see :func:`segment_features`)
    the segment vector; the vectors of the previous and the next segment in the same document
    (zeros at the edges); the position in the document (relative position 0..1, first,
    second, second-to-last and last flags); every code's zero-shot similarity, calibrated
    score and rule hit count for the segment, and the similarity and rule hit counts of the
    previous and next segments.

Scaling
    Features are standardised with the training mean and spread, then clipped to [-5, 5]
    (:class:`ClippedScaler`).  Clipping matters: plain standardisation turns a feature that is
    rare in the training data (a rule that fired once) into values of 20-30 on new data,
    which swamps the decision.  The spread is floored at 0.1.  The dimensions of a sentence
    vector vary little (about 0.03), so the floor damps each of them against the scores and
    rule counts, which act as a prior the 384 vector dimensions only adjust; with the C grid
    below, this beat a floor of 1e-3 (plain standardisation) on both public benchmarks:
    qabstracts grouped CV macro κ 0.607 / 0.613 (vs coder A / B) against 0.560 / 0.579, and the
    five-word-passwords survey trained on half 0.393 against 0.369 (0.03 lay in between on
    qabstracts, 0.588 / 0.604).

Classifiers (:func:`train_classifiers`)
    One L2 ``LogisticRegression`` (liblinear, ``class_weight="balanced"``) per code with at
    least ``min_pos`` positives and ``min_neg`` negatives.  Grouped cross-validation (folds by
    document) gives out-of-fold probabilities for every C of a small grid; the C with the best
    out-of-fold F1 is kept.  The decision threshold is 0.5 (the balanced model's natural cut);
    from ``tune_from`` positives on it is the F1-optimal cut over the out-of-fold
    probabilities (with fewer, that cut is noise).  The final model is refitted on all
    labelled segments.  The out-of-fold decisions are returned too, so that ``fit`` keeps a
    classifier only where it beats the zero-shot decisions on the same segments.

Codes without a classifier (:func:`raise_threshold`)
    keep rules + zero-shot similarity.  Their thresholds are never *lowered* from a handful of
    examples (an F1-optimal cut over two or three positives is noise and typically floods new
    data with false positives); they are *raised* until the zero-shot decisions on the
    human-coded segments are at least ``min_precision`` precise.  Only on evidence about the
    code: the human used it at least once in the coded documents (a code nobody has used yet
    may simply not have been coded for: one coded passage must not silence every other code),
    and the machine fired on at least ``min_support`` (5) human-coded segments (a precision
    from one or two segments is noise).  The same holds for judging a code's rules.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

logger = logging.getLogger("qualcode")

__all__ = [
    "C_GRID",
    "ClippedScaler",
    "CodeClassifier",
    "best_threshold",
    "context_features",
    "raise_threshold",
    "segment_features",
    "segment_labels",
    "train_classifiers",
]

#: Inverse regularisation strengths tried by cross-validation, on standardised features (chosen
#: on qabstracts-dev and the fivewords survey answers: 0.003-0.03 cost fivewords 0.02-0.05 κ
#: and gained nothing on qabstracts).
C_GRID: tuple[float, ...] = (0.03, 0.1, 0.3, 1.0)

#: Positives from which a classifier's threshold is tuned on out-of-fold probabilities.
TUNE_FROM = 10


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


def _doc_order(segments: pd.DataFrame) -> list[np.ndarray]:
    """Row indices of each document's segments in text order."""
    frame = pd.DataFrame(
        {"doc_id": segments["doc_id"].to_numpy(), "start": segments["start"].to_numpy()}
    )
    order = frame.sort_values(["doc_id", "start"], kind="stable")
    return [g.index.to_numpy() for _d, g in order.groupby("doc_id", sort=False)]


def _neighbours(blocks: np.ndarray, docs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    prev = np.zeros_like(blocks)
    nxt = np.zeros_like(blocks)
    for idx in docs:
        if len(idx) > 1:
            prev[idx[1:]] = blocks[idx[:-1]]
            nxt[idx[:-1]] = blocks[idx[1:]]
    return prev, nxt


def context_features(segments: pd.DataFrame, vectors: np.ndarray) -> np.ndarray:
    """Neighbour and position features: previous and next vectors, then :func:`position_features`."""
    docs = _doc_order(segments)
    prev, nxt = _neighbours(vectors, docs)
    return np.hstack([prev, nxt, position_features(segments, docs)])


def position_features(segments: pd.DataFrame, docs: list[np.ndarray] | None = None) -> np.ndarray:
    """``(n, 5)``: relative position in the document (0..1), first, second, second-to-last, last."""
    docs = _doc_order(segments) if docs is None else docs
    pos = np.zeros((len(segments), 5), dtype=np.float32)
    for idx in docs:
        m = len(idx)
        r = np.arange(m)
        pos[idx, 0] = r / max(m - 1, 1)
        pos[idx, 1] = r == 0
        pos[idx, 2] = r == 1
        pos[idx, 3] = r == m - 2
        pos[idx, 4] = r == m - 1
    return pos


def segment_features(
    segments: pd.DataFrame,
    rule_count: np.ndarray,
    vectors: np.ndarray | None = None,
    similarity: np.ndarray | None = None,
    score: np.ndarray | None = None,
) -> np.ndarray:
    """The classifier's feature matrix (see the module docstring); float32 ``(n, f)``.

    Args:
        segments: the segments (``doc_id, start``), one row per feature row.
        rule_count: ``(n, k)`` valid rule hits per code.
        vectors: ``(n, dim)`` segment vectors (``None`` for rules only).
        similarity: ``(n, k)`` zero-shot similarities aligned with ``rule_count``.
        score: ``(n, k)`` calibrated zero-shot scores aligned with ``rule_count``.
    """
    docs = _doc_order(segments)
    rule_count = np.log1p(np.asarray(rule_count, dtype=np.float32))
    blocks: list[np.ndarray] = []
    if vectors is not None:
        blocks += [vectors, *_neighbours(vectors, docs)]
    blocks.append(position_features(segments, docs))
    if similarity is not None:
        blocks += [similarity, score if score is not None else np.zeros_like(similarity)]
    blocks.append(rule_count)
    if similarity is not None:
        blocks += list(_neighbours(similarity, docs))
    blocks += list(_neighbours(rule_count, docs))
    return np.hstack([np.asarray(b, dtype=np.float32) for b in blocks])


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


def raise_threshold(
    y: np.ndarray, score: np.ndarray, threshold: float, *, min_precision: float = 0.6, min_support: int = 5
) -> float:
    """The smallest threshold >= ``threshold`` whose decisions on labelled data are precise enough.

    Args:
        y: human labels of the labelled segments.
        score: the zero-shot scores of the same segments.
        threshold: the current (zero-shot) threshold.
        min_precision: required share of human positives among the segments at or above the
            threshold.
        min_support: segments at or above the threshold needed to judge it at all.

    Returns:
        ``threshold`` when it already meets ``min_precision``, when the human never used the
        code (``y`` all False), or when it fires on fewer than ``min_support`` segments; otherwise
        the lowest score cut that does, or a cut just above every labelled score when none
        does (the code then only fires on segments more similar than anything seen).
    """
    y = np.asarray(y, dtype=bool)
    score = np.asarray(score, dtype=float)
    above = score >= threshold
    if not y.any() or int(above.sum()) < min_support or y[above].mean() >= min_precision:
        return float(threshold)
    order = np.argsort(-score, kind="stable")
    ss, ys = score[order], y[order]
    prec = np.cumsum(ys) / np.arange(1, len(ys) + 1)
    ok = np.flatnonzero((prec >= min_precision) & (ss >= threshold) & np.r_[ss[1:] != ss[:-1], True])
    if len(ok):
        k = int(ok[-1])
        return float(ss[k]) if k + 1 >= len(ss) else float((ss[k] + ss[k + 1]) / 2)
    return float(np.nextafter(ss[0], np.inf))


class ClippedScaler:
    """Standardise with a floored spread and clip (see the module docstring).

    Args:
        floor: smallest spread a feature is divided by.
        clip: absolute bound of the scaled values.
    """

    def __init__(self, floor: float = 0.1, clip: float = 5.0):
        self.floor = floor
        self.clip = clip

    def fit(self, x: np.ndarray) -> ClippedScaler:
        """Learn mean and spread of ``x``."""
        self.mean_ = x.mean(axis=0)
        self.scale_ = np.maximum(x.std(axis=0), self.floor)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Scaled, clipped copy of ``x``."""
        return np.clip((x - self.mean_) / self.scale_, -self.clip, self.clip)


@dataclass
class CodeClassifier:
    """One code's trained classifier: scaler, linear model, threshold and cross-validation results.

    Attributes:
        scaler: the fitted :class:`ClippedScaler` (shared by the codes of one fit).
        model: the fitted ``LogisticRegression`` (class-balanced).
        c: the regularisation strength chosen by cross-validation.
        threshold: the probability cut (0.5, or tuned; see the module docstring).
        cv_f1: out-of-fold F1 at ``threshold`` (NaN when no validation was possible).
        oof: out-of-fold decisions on the training segments (None without validation).
    """

    scaler: ClippedScaler
    model: Any
    c: float
    threshold: float
    cv_f1: float
    oof: np.ndarray | None = None

    def predict_proba(self, x: np.ndarray, *, scaled: bool = False) -> np.ndarray:
        """``(n, 2)`` probabilities (scikit-learn layout)."""
        return self.model.predict_proba(x if scaled else self.scaler.transform(x))


def _lr(c: float, random_state: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(
        C=c, solver="liblinear", dual=True, class_weight="balanced", max_iter=5000,
        random_state=random_state,
    )  # fmt: skip


def _f1(y: np.ndarray, p: np.ndarray) -> float:
    tp = float((y & p).sum())
    d = float(y.sum() + p.sum())
    return 2 * tp / d if d else 0.0


def train_classifiers(
    x: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    codes: Sequence[str],
    *,
    cs: Sequence[float] = C_GRID,
    n_splits: int = 5,
    tune_from: int = TUNE_FROM,
    random_state: int = 0,
    n_jobs: int = 1,
) -> dict[str, CodeClassifier]:
    """Train one classifier per column of ``y`` (see the module docstring).

    Args:
        x: ``(n, f)`` features of the labelled segments.
        y: ``(n, len(codes))`` bool labels.
        groups: ``(n,)`` document of each row (cross-validation never splits a document).
        codes: the code of each label column.
        cs: the C values tried.
        n_splits: cross-validation folds (fewer when there are fewer documents).
        tune_from: positives from which the threshold is tuned out of fold.
        random_state: seed of the solver.
        n_jobs: threads training codes in parallel (liblinear releases the GIL; its dual
            solver's random state is process-global, so parallel runs agree with serial
            ones only up to the solver tolerance, about 1e-6 in probability).

    Returns:
        ``{code: classifier}``.
    """
    import warnings

    from joblib import Parallel, delayed
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import GroupKFold

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=bool)
    splits = min(int(n_splits), len(np.unique(groups)))
    folds = []
    if splits >= 2:
        for tr, te in GroupKFold(n_splits=splits).split(x, groups=groups):
            sc = ClippedScaler().fit(x[tr])
            folds.append((tr, te, sc.transform(x[tr]), sc.transform(x[te])))
    scaler = ClippedScaler().fit(x)
    xs = scaler.transform(x)

    def one(j: int) -> CodeClassifier:
        yj = y[:, j]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            best: tuple[float, float, np.ndarray] | None = None
            for c in cs:
                if not folds:
                    break
                prob = np.zeros(len(yj))
                for tr, te, a, b in folds:
                    if yj[tr].all() or not yj[tr].any():
                        prob[te] = float(yj[tr].mean())
                        continue
                    prob[te] = _lr(c, random_state).fit(a, yj[tr]).predict_proba(b)[:, 1]
                f1 = _f1(yj, prob >= 0.5)
                if best is None or f1 > best[0] + 1e-9:
                    best = (f1, c, prob)
            c = best[1] if best is not None else float(np.median(cs))
            model = _lr(c, random_state).fit(xs, yj)
        if best is None:  # a single labelled document: no validation possible
            return CodeClassifier(scaler, model, float(c), 0.5, float("nan"), None)
        thr = best_threshold(yj, best[2])[0] if int(yj.sum()) >= tune_from else 0.5
        oof = best[2] >= thr
        return CodeClassifier(scaler, model, float(c), float(thr), _f1(yj, oof), oof)

    jobs = int(n_jobs) if n_jobs and int(n_jobs) > 0 else -1
    if jobs == 1 or y.shape[1] <= 1:
        out = [one(j) for j in range(y.shape[1])]
    else:
        out = Parallel(n_jobs=jobs, prefer="threads")(delayed(one)(j) for j in range(y.shape[1]))
    return dict(zip(codes, out, strict=True))
