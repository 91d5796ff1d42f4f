"""Predictors (``fit_predict(train, test) -> array``) for the accuracy benchmark.

* :func:`qualcode_coder`: qualcode's public API only: ``qc.Coder(codebook, unit=...)``, then
  ``.fit(train corpus, train human Codings)`` when the train part is not empty, then
  ``.code(test corpus)``; the machine rows (``source != "human"``), rolled up to their
  ancestors (``Codings.with_ancestors``, as the human labels are), become unit labels.
* :func:`baseline_lr`: the simple baseline: default-model embedding of the unit and of its
  previous and next unit in the same document (``[v, v_prev, v_next]``), standardised on the
  training units, one scikit-learn logistic regression per code (sklearn defaults: C=1,
  lbfgs; threshold 0.5), optionally class-balanced.  (Without standardisation, C=1 on these
  unit-norm vectors predicts almost nothing: macro κ 0.16 on qabstracts 5-fold CV, against
  0.53 standardised; decided on qabstracts, not on the sample.)

Write your own the same way to try a coder variant, e.g.::

    def my_fit_predict(train, test):
        ...  # train.corpus, train.human, train.labels, train.features, test.corpus, test.units
        return scores  # (len(test), len(test.task.codes)), >= 0.5 is positive

and run ``evaluate(task, my_fit_predict, protocol="cv")`` (see bench_accuracy.py --help).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import qualcode as qc

from .core import Part, span_labels


def qualcode_coder(*, fit: bool, coder_kw: dict[str, Any] | None = None,
                   fit_kw: dict[str, Any] | None = None) -> Any:
    """qualcode zero-shot (``fit=False``: the train part is ignored) or trained (``fit=True``)."""

    def fit_predict(train: Part, test: Part) -> np.ndarray:
        t = test.task
        coder = qc.Coder(t.codebook, unit=t.unit, cache_dir=t.cache_dir, progress=False,
                         **(coder_kw or {}))
        if fit and len(train):
            coder.fit(train.corpus, train.human, **(fit_kw or {}))
        # embeddings come from the shared cache; the human labels carry a parent wherever a
        # child is coded (the coders' convention), so the machine's codings are rolled up too
        out = coder.code(test.corpus).with_ancestors(t.codebook)
        frame = out.to_frame()
        frame = frame[frame["source"] != "human"]
        return span_labels(frame, test.units, t.codes)

    return fit_predict


def baseline_lr(*, balanced: bool = False, C: float = 1.0) -> Any:
    """Embeddings + neighbour context, one logistic regression per code."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    def fit_predict(train: Part, test: Part) -> np.ndarray:
        k = len(test.task.codes)
        out = np.zeros((len(test), k))
        if not len(train):
            return out
        y = train.labels
        scaler = StandardScaler().fit(train.features)
        x, xt = scaler.transform(train.features), scaler.transform(test.features)
        for j in range(k):
            yj = y[:, j]
            if yj.all() or not yj.any():
                out[:, j] = float(yj.all())
                continue
            m = LogisticRegression(C=C, max_iter=2000, class_weight="balanced" if balanced else None)
            m.fit(x, yj)
            out[:, j] = m.predict_proba(xt)[:, 1]
        return out

    return fit_predict
