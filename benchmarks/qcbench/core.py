"""Tasks, splits and scores of the accuracy benchmark.

A :class:`Task` is one coding job with its own codebook: the qabstracts sentences, one question
of the five-word-password survey, one study of the bundled sample.  Its ``units`` are the
segments qualcode codes (``corpus.segments(unit)``); ``mask`` marks the units that are scored
and may be trained on (for the sample: informant sentences only).  Label matrices are boolean
``units x codes``; a unit carries a code when a coding of that code covers at least half of
the unit or lies inside it (the rule of :mod:`qualcode.reliability`).

A predictor is any callable ``fit_predict(train: Part, test: Part) -> array`` returning, for
the test units, either booleans or scores (positive when ``>= 0.5``), shape
``(len(test), len(task.codes))``.  The train part is empty for zero-shot.  A predictor must
not read ``test.labels`` (it is ``None``).  See :mod:`qcbench.predictors` for qualcode's rows
and the simple baseline, and :func:`evaluate` for the protocols.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

import qualcode as qc
from qualcode.reliability import cohen_kappa


# ---------------------------------------------------------------------------------- labels
def span_labels(frame: pd.DataFrame | None, units: pd.DataFrame, codes: Sequence[str]) -> np.ndarray:
    """Boolean ``units x codes``: a unit gets a code when a coding covers >= half of it or lies inside it."""
    out = np.zeros((len(units), len(codes)), dtype=bool)
    if frame is None or not len(frame) or not len(units):
        return out
    col = {c: j for j, c in enumerate(codes)}
    f = frame.loc[frame["code"].isin(list(col)), ["doc_id", "start", "end", "code"]]
    if not len(f):
        return out
    u = pd.DataFrame({"doc_id": units["doc_id"].to_numpy(), "us": units["start"].to_numpy(np.int64),
                      "ue": units["end"].to_numpy(np.int64), "_i": np.arange(len(units))})
    m = f.merge(u, on="doc_id")
    s, e = m["start"].to_numpy(np.int64), m["end"].to_numpy(np.int64)
    us, ue = m["us"].to_numpy(np.int64), m["ue"].to_numpy(np.int64)
    ov = np.minimum(e, ue) - np.maximum(s, us)
    ok = ((ov > 0) & (2 * ov >= ue - us)) | ((s >= us) & (e <= ue) & (e > s))
    out[m["_i"].to_numpy()[ok], m["code"].map(col).to_numpy()[ok]] = True
    return out


def codings_labels(codings: qc.Codings, units: pd.DataFrame, codes: Sequence[str]) -> np.ndarray:
    """:func:`span_labels` of a Codings table."""
    return span_labels(codings.to_frame(), units, codes)


def kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's κ of two boolean vectors (qualcode's implementation); NaN when undefined."""
    if not len(a):
        return float("nan")
    return float(cohen_kappa(a.astype(int), b.astype(int)))


# ----------------------------------------------------------------------------------- tasks
@dataclass
class Task:
    """One coding job: a corpus, its codebook, the scored units and the human label matrices.

    Attributes:
        dataset: dataset name (``qabstracts``, ``fivewords``, ``sample``).
        name: task name inside the dataset (a question, a study).
        corpus: the qualcode Corpus.
        codebook: the qualcode Codebook of this task.
        unit: the Coder's unit (``turn``, ``sentence``...).
        units: ``corpus.segments(unit)`` rows (index 0..n-1) plus a ``group`` column (the unit
            of splitting: abstract, respondent, document).
        codes: the label columns (codes that are scored).
        main: the codes averaged into the macro κ.
        labels: human label matrices by name (``initial/A``, ``primary``, ``gold``...).
        refs: names of the label matrices that predictions are compared with.
        train_ref: name of the labels (and codings) a trained predictor learns from.
        codings: human Codings by name (at least ``train_ref``).
        mask: units that are scored and may be trained on.
        cache_dir: embedding cache folder.
        coded: per label name, the units that coder actually coded (default: all); a
            reference is compared on its coded units only (a second coder who double-coded
            a sample), and the human κ on the units both coded.
        info: free-form facts printed with the task.
    """

    dataset: str
    name: str
    corpus: qc.Corpus
    codebook: Any
    unit: str
    units: pd.DataFrame
    codes: list[str]
    main: list[str]
    labels: dict[str, np.ndarray]
    refs: list[str]
    train_ref: str
    codings: dict[str, qc.Codings]
    mask: np.ndarray
    cache_dir: Any = None
    coded: dict[str, np.ndarray] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    def coded_by(self, ref: str) -> np.ndarray:
        """Boolean mask of the units ``ref`` coded (all units when not recorded)."""
        m = self.coded.get(ref)
        return np.ones(len(self.units), dtype=bool) if m is None else m

    @cached_property
    def vectors(self) -> np.ndarray:
        """Default-model embeddings of every unit text (through the embedding cache)."""
        from .embed import embed

        return embed(self.units["text"].tolist(), self.cache_dir)

    @cached_property
    def context_features(self) -> np.ndarray:
        """``[v_i, v_previous, v_next]`` per unit; neighbours are units of the same document (zeros at the edges)."""
        v = self.vectors
        doc = self.units["doc_id"].to_numpy()
        prev = np.zeros_like(v)
        nxt = np.zeros_like(v)
        same_prev = np.r_[False, doc[1:] == doc[:-1]]
        same_next = np.r_[doc[:-1] == doc[1:], False]
        prev[same_prev] = v[np.flatnonzero(same_prev) - 1]
        nxt[same_next] = v[np.flatnonzero(same_next) + 1]
        return np.hstack([v, prev, nxt])

    @property
    def groups(self) -> np.ndarray:
        return self.units["group"].to_numpy()

    def part(self, idx: np.ndarray, *, train: bool) -> Part:
        return Part(self, np.asarray(idx, dtype=np.int64), train)

    def __repr__(self) -> str:
        return (f"Task({self.dataset}/{self.name}: {int(self.mask.sum())} scored units of "
                f"{len(self.units)}, {len(self.codes)} codes, {len(self.main)} in the macro)")


@dataclass
class Part:
    """The train or test side of a split: unit indices into ``task.units`` and views on them."""

    task: Task
    idx: np.ndarray
    is_train: bool

    def __len__(self) -> int:
        return len(self.idx)

    @property
    def units(self) -> pd.DataFrame:
        return self.task.units.iloc[self.idx]

    @property
    def doc_ids(self) -> list[str]:
        return sorted(set(self.task.units["doc_id"].to_numpy()[self.idx].tolist()))

    @property
    def corpus(self) -> qc.Corpus:
        """The documents that hold these units (a qualcode Corpus)."""
        return self.task.corpus.subset(self.doc_ids)

    @property
    def labels(self) -> np.ndarray | None:
        """Training labels (``task.train_ref``); ``None`` on the test side."""
        return self.task.labels[self.task.train_ref][self.idx] if self.is_train else None

    @property
    def human(self) -> qc.Codings | None:
        """The training Codings restricted to this part's documents; ``None`` on the test side."""
        if not self.is_train:
            return None
        return self.task.codings[self.task.train_ref].filter(doc_id=self.doc_ids)

    @property
    def vectors(self) -> np.ndarray:
        return self.task.vectors[self.idx]

    @property
    def features(self) -> np.ndarray:
        return self.task.context_features[self.idx]


FitPredict = Callable[[Part, Part], np.ndarray]


# ------------------------------------------------------------------------------------ splits
def group_folds(task: Task, n_folds: int, seed: int = 0) -> list[np.ndarray]:
    """Test-unit indices of ``n_folds`` folds; every group (abstract, respondent, document) in one fold."""
    idx = np.flatnonzero(task.mask)
    groups = task.groups[idx]
    uniq = np.unique(groups)
    rng = np.random.default_rng(seed)
    fold_of = dict(zip(rng.permutation(uniq).tolist(), np.arange(len(uniq)) % n_folds, strict=True))
    f = np.array([fold_of[g] for g in groups.tolist()])
    return [idx[f == k] for k in range(n_folds)]


def few_shot_split(task: Task, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(train, test)`` unit indices: per code, ``min(k, n_pos // 2)`` random positives go to training.

    Positives are counted in the training labels over the scored units; the training set is
    the union of the sampled units (a unit sampled for one code brings all its labels), so at
    least half of every code's positives stay in the test set, unless other codes' samples
    take them.
    """
    rng = np.random.default_rng(seed)
    idx = np.flatnonzero(task.mask)
    y = task.labels[task.train_ref][idx]
    chosen: set[int] = set()
    for j in range(len(task.codes)):
        pos = idx[y[:, j]]
        take = min(k, len(pos) // 2)
        if take:
            chosen.update(rng.choice(pos, size=take, replace=False).tolist())
    train = np.array(sorted(chosen), dtype=np.int64)
    return train, np.setdiff1d(idx, train)


# -------------------------------------------------------------------------------- scoring
def _as_bool(pred: Any, n: int, k: int) -> np.ndarray:
    p = np.asarray(pred)
    if p.shape != (n, k):
        msg = f"fit_predict returned shape {p.shape}, expected {(n, k)}"
        raise ValueError(msg)
    return p if p.dtype == bool else p >= 0.5


def code_table(task: Task, pred: np.ndarray, idx: np.ndarray) -> pd.DataFrame:
    """Per code: positives per reference and predicted, κ vs each reference, human κ between the first two references.

    Each reference is compared on the units it coded (:meth:`Task.coded_by`), the human κ on
    the units both coded.
    """
    rows = []
    on = {ref: task.coded_by(ref)[idx] for ref in task.refs}
    children = getattr(task.codebook, "children", None)
    for j, c in enumerate(task.codes):
        r: dict[str, Any] = {"code": c, "main": c in task.main,
                             "parent": bool(children(c)) if children is not None else False}
        for ref in task.refs:
            r[f"n_{ref}"] = int(task.labels[ref][idx, j][on[ref]].sum())
        r["n_pred"] = int(pred[:, j].sum())
        for ref in task.refs:
            r[f"k_{ref}"] = kappa(pred[on[ref], j], task.labels[ref][idx, j][on[ref]])
        if len(task.refs) >= 2:
            a, b = task.refs[:2]
            both = on[a] & on[b]
            r["k_human"] = kappa(task.labels[a][idx, j][both], task.labels[b][idx, j][both])
        rows.append(r)
    return pd.DataFrame(rows)


def macro(table: pd.DataFrame, col: str, rows: pd.Series | None = None) -> float:
    """Mean κ over the main codes (and ``rows``, if given); NaN where κ is undefined are skipped."""
    sel = table["main"] if rows is None else table["main"] & rows
    v = table.loc[sel, col].to_numpy(dtype=float)
    return float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")


@dataclass
class Outcome:
    """The result of one protocol for one task and one predictor."""

    task: Task
    setting: str
    method: str
    tables: list[pd.DataFrame]
    seconds: float
    n_test: float
    n_train: float
    errors: list[str] = field(default_factory=list)

    def macro(self, col: str) -> tuple[float, float]:
        """Mean and standard deviation over repeats of the macro κ in ``col``."""
        vals = np.array([macro(t, col) for t in self.tables], dtype=float)
        if not np.isfinite(vals).any():
            return float("nan"), float("nan")
        return float(np.nanmean(vals)), float(np.nanstd(vals)) if len(vals) > 1 else 0.0

    def mean_table(self) -> pd.DataFrame:
        """Per-code table averaged over repeats."""
        if len(self.tables) == 1:
            return self.tables[0]
        t = pd.concat(self.tables).groupby(["code", "main", "parent"], sort=False).mean(numeric_only=True)
        return t.reset_index()


def _run(fit_predict: FitPredict, task: Task, train: np.ndarray, test: np.ndarray,
         errors: list[str]) -> np.ndarray:
    try:
        pred = fit_predict(task.part(train, train=True), task.part(test, train=False))
        return _as_bool(pred, len(test), len(task.codes))
    except Exception as exc:  # a failing predictor is a result, not a crash of the harness
        errors.append(f"{type(exc).__name__}: {exc}")
        return np.zeros((len(test), len(task.codes)), dtype=bool)


def evaluate(task: Task, fit_predict: FitPredict, *, protocol: str = "zero-shot", method: str = "",
             folds: int = 5, seeds: Sequence[int] = (0,), k: int = 1) -> Outcome:
    """Run one protocol of ``fit_predict`` on ``task``.

    Args:
        task: the task.
        fit_predict: the predictor (see the module docstring).
        protocol: ``zero-shot`` (no training, all scored units); ``cv`` (grouped cross-validation
            with ``folds`` folds: every group is predicted by a model that did not see it;
            out-of-fold predictions pooled, one table per seed); ``half`` (two folds: train on
            one half of the groups, predict the other, and swap); ``few-shot`` (``k`` examples per
            code sampled with each seed, scored on the rest; one table per seed).
        method: a label for printing.
        folds: folds of ``cv``.
        seeds: split seeds (one repeat each).
        k: examples per code for ``few-shot``.

    Returns:
        An :class:`Outcome` (per-code tables, time, mean train/test sizes, predictor errors).
    """
    t0 = time.time()
    tables: list[pd.DataFrame] = []
    errors: list[str] = []
    n_train: list[int] = []
    n_test: list[int] = []
    if protocol == "zero-shot":
        test = np.flatnonzero(task.mask)
        pred = _run(fit_predict, task, np.zeros(0, dtype=np.int64), test, errors)
        tables.append(code_table(task, pred, test))
        n_train.append(0)
        n_test.append(len(test))
    elif protocol in ("cv", "half"):
        nf = 2 if protocol == "half" else folds
        for seed in seeds:
            fold_idx = group_folds(task, nf, seed)
            allidx = np.concatenate(fold_idx)
            pred = np.zeros((len(task.units), len(task.codes)), dtype=bool)
            for test in fold_idx:
                train = np.setdiff1d(allidx, test)
                pred[test] = _run(fit_predict, task, train, test, errors)
                n_train.append(len(train))
            order = np.sort(allidx)
            tables.append(code_table(task, pred[order], order))
            n_test.append(len(order))
    elif protocol == "few-shot":
        for seed in seeds:
            train, test = few_shot_split(task, k, seed)
            pred = _run(fit_predict, task, train, test, errors)
            tables.append(code_table(task, pred, test))
            n_train.append(len(train))
            n_test.append(len(test))
    else:
        msg = f"unknown protocol {protocol!r}"
        raise ValueError(msg)
    return Outcome(task, protocol if protocol != "few-shot" else f"few-shot k={k}", method, tables,
                   time.time() - t0, float(np.mean(n_test)), float(np.mean(n_train)), errors)
