"""Agreement between two Codings tables on predefined units (sentences, turns, paragraphs).

Mapping spans onto units: a unit gets code k from a coder when one of the coder's codings
of k overlaps the unit by at least half of the unit's characters, or lies wholly inside
the unit.  Multi-label data is handled the standard way: one binary decision (coded /
not coded) per (unit, code) and coder.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._codings import Codings
from ..matrices._common import check_codings, check_corpus, check_option, text_index
from ._measures import cohen_kappa, krippendorff_alpha, percent_agreement

__all__ = ["agreement", "agreement_report", "bootstrap_ci", "disagreements", "unit_codes"]

UNIT_CHOICES = ("turn", "paragraph", "sentence")


def _units(corpus: Any, unit: str | pd.DataFrame, func: str) -> pd.DataFrame:
    if isinstance(unit, pd.DataFrame):
        u = unit.copy()
    else:
        check_option(func, "unit", unit, UNIT_CHOICES)
        u = corpus.segments(unit, attributes=False)
    tidx = text_index(corpus)
    u = u.reset_index(drop=True)
    u["gstart"] = u["doc_id"].map(tidx.base).to_numpy(np.int64) + u["start"].to_numpy(np.int64)
    u["gend"] = u["doc_id"].map(tidx.base).to_numpy(np.int64) + u["end"].to_numpy(np.int64)
    return u.sort_values("gstart", kind="stable").reset_index(drop=True)


def unit_codes(codings: Any, corpus: Any, units: pd.DataFrame, codes: Sequence[str]) -> np.ndarray:
    """Boolean units × codes array: which codes each unit gets from ``codings`` (rule above)."""
    f = check_codings("unit_codes", codings).to_frame()
    tidx = text_index(corpus)
    f = f[f["code"].isin(list(codes)) & f["doc_id"].isin(tidx.base.keys())]
    out = np.zeros((len(units), len(codes)), dtype=bool)
    if f.empty or units.empty:
        return out
    base = f["doc_id"].map(tidx.base).to_numpy(np.int64)
    s = base + f["start"].to_numpy(np.int64)
    e = base + f["end"].to_numpy(np.int64)
    us, ue = units["gstart"].to_numpy(np.int64), units["gend"].to_numpy(np.int64)
    first = np.searchsorted(ue, s, side="right")
    last = np.searchsorted(us, np.maximum(e, s + 1), side="left") - 1
    n = np.maximum(last - first + 1, 0)
    ci = np.repeat(np.arange(len(f)), n)
    ui = np.repeat(first, n) + (np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n))
    ov = np.minimum(e[ci], ue[ui]) - np.maximum(s[ci], us[ui])
    ulen = ue[ui] - us[ui]
    inside = (s[ci] >= us[ui]) & (e[ci] <= ue[ui])
    ok = (2 * ov >= ulen) | inside
    cmap = {c: i for i, c in enumerate(codes)}
    kc = f["code"].map(cmap).to_numpy()[ci[ok]]
    out[ui[ok], kc] = True
    return out


def _prepare(a: Any, b: Any, corpus: Any, unit: Any, codes: Sequence[str] | None, func: str):
    corpus = check_corpus(func, corpus)
    ca, cb = check_codings(func, a), check_codings(func, b)
    labels = list(codes) if codes is not None else sorted(set(ca.codes) | set(cb.codes))
    units = _units(corpus, unit, func)
    return units, labels, unit_codes(ca, corpus, units, labels), unit_codes(cb, corpus, units, labels), ca, cb


def _table(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    both = int(np.sum(x & y))
    neither = int(np.sum(~x & ~y))
    only_a = int(np.sum(x & ~y))
    only_b = int(np.sum(~x & y))
    n = len(x)
    return {
        "n_units": n,
        "pa": (both + neither) / n if n else np.nan,
        "kappa": cohen_kappa(x.astype(int), y.astype(int)) if n else np.nan,
        "alpha": krippendorff_alpha(np.vstack([x, y]).astype(int)) if n else np.nan,
        "both": both,
        "neither": neither,
        "only_a": only_a,
        "only_b": only_b,
    }


def _name(c: Codings, default: str) -> str:
    cs = c.coders
    return cs[0] if len(cs) == 1 else default


def agreement_report(
    a: Any, b: Any, corpus: Any, *, unit: str | pd.DataFrame = "sentence", codes: Sequence[str] | None = None,
    by_document: bool = True,
) -> pd.DataFrame:
    """Coding comparison per code × document, NVivo style, with pooled rows.

    Args:
        a: the first coder's Codings.
        b: the second coder's Codings.
        corpus: the Corpus.
        unit: ``sentence`` (default), ``paragraph``, ``turn``, or a units DataFrame with
            ``doc_id, start, end`` (for instance a coder run's own segments).
        codes: the codes to compare (default: every code either coder used).
        by_document: one row per (code, document); otherwise per code only.

    Returns:
        Columns ``code, document, n_units, pa, kappa, alpha, both, neither, only_a,
        only_b`` (counts of units).  Rows with ``document == "(pooled)"`` sum the units of
        every document before applying the formulas (pooled kappa, not an average); the
        last row (``code == "(pooled)"``) pools every (unit, code) decision.  ``attrs``:
        ``unit``, ``coders``, ``method``.  κ/α are NaN where undefined (a code no coder
        used in a document).
    """
    func = "agreement_report"
    units, labels, xa, xb, ca, cb = _prepare(a, b, corpus, unit, codes, func)
    rows = []
    docs = units["doc_id"].to_numpy()
    for k, code in enumerate(labels):
        if by_document:
            for d in pd.unique(docs):
                m = docs == d
                rows.append({"code": code, "document": d, **_table(xa[m, k], xb[m, k])})
        rows.append({"code": code, "document": "(pooled)", **_table(xa[:, k], xb[:, k])})
    rows.append({"code": "(pooled)", "document": "(pooled)", **_table(xa.ravel(), xb.ravel())})
    out = pd.DataFrame(rows, columns=["code", "document", "n_units", "pa", "kappa", "alpha", "both", "neither", "only_a", "only_b"])
    out.attrs = {
        "unit": unit if isinstance(unit, str) else "custom",
        "coders": [_name(ca, "a"), _name(cb, "b")],
        "method": "binary decision per (unit, code); span -> unit when it covers >= 50% of the unit or lies inside it",
    }
    return out


def agreement(
    reference: Any, other: Any, corpus: Any, *, unit: str | pd.DataFrame = "sentence", codes: Sequence[str] | None = None
) -> pd.DataFrame:
    """Per-code agreement of ``other`` (for instance the machine) with a ``reference`` coding.

    Args:
        reference: the reference (gold, human) Codings.
        other: the Codings to evaluate (another coder or the auto-coder).
        corpus: the Corpus.
        unit: as in :func:`agreement_report`.
        codes: the codes (default: every code either table used).

    Returns:
        One row per code (``index.name == "code"``) plus a ``(pooled)`` row (micro-averaged
        over every (unit, code) decision), columns ``support`` (reference units),
        ``predicted`` (other's units), ``tp, precision, recall, f1, kappa, alpha, pa``.
        precision/recall/F1 are NaN when their denominator is 0.
    """
    func = "agreement"
    units, labels, xa, xb, ca, cb = _prepare(reference, other, corpus, unit, codes, func)
    rows = []
    for k, code in [*enumerate(labels), (None, "(pooled)")]:
        x = xa[:, k] if k is not None else xa.ravel()
        y = xb[:, k] if k is not None else xb.ravel()
        tp = int(np.sum(x & y))
        sup, pred = int(x.sum()), int(y.sum())
        p = tp / pred if pred else np.nan
        r = tp / sup if sup else np.nan
        f1 = 2 * tp / (sup + pred) if (sup + pred) else np.nan
        t = _table(x, y)
        rows.append({"code": code, "support": sup, "predicted": pred, "tp": tp, "precision": p, "recall": r,
                     "f1": f1, "kappa": t["kappa"], "alpha": t["alpha"], "pa": t["pa"]})
    out = pd.DataFrame(rows).set_index("code")
    out.columns.name = "measure"
    out.attrs = {"unit": unit if isinstance(unit, str) else "custom", "coders": [_name(ca, "reference"), _name(cb, "other")],
                 "n_units": len(units)}
    return out


def disagreements(a: Any, b: Any, corpus: Any, *, unit: str | pd.DataFrame = "sentence", codes: Sequence[str] | None = None) -> pd.DataFrame:
    """Units the two codings treat differently, for adjudication.

    Returns:
        One row per unit where the code sets differ: ``segment_id, doc_id, case_id,
        speaker, start, end, text, codes_a, codes_b, only_a, only_b`` (codes ``"; "``
        separated), in text order.
    """
    func = "disagreements"
    units, labels, xa, xb, _, _ = _prepare(a, b, corpus, unit, codes, func)
    diff = np.flatnonzero((xa != xb).any(axis=1))
    lab = np.asarray(labels, dtype=object)

    def join(mask: np.ndarray) -> list[str]:
        return ["; ".join(lab[row]) for row in mask]

    u = units.iloc[diff]
    out = pd.DataFrame({
        "segment_id": u["segment_id"].to_numpy() if "segment_id" in u else (u["doc_id"] + "@" + u["start"].astype(str) + "-" + u["end"].astype(str)).to_numpy(),
        "doc_id": u["doc_id"].to_numpy(),
        "case_id": u["case_id"].to_numpy() if "case_id" in u else None,
        "speaker": u["speaker"].to_numpy() if "speaker" in u else None,
        "start": u["start"].to_numpy(),
        "end": u["end"].to_numpy(),
        "text": u["text"].to_numpy() if "text" in u else None,
        "codes_a": join(xa[diff]),
        "codes_b": join(xb[diff]),
        "only_a": join(xa[diff] & ~xb[diff]),
        "only_b": join(xb[diff] & ~xa[diff]),
    })
    return out


def _stat_from_tables(both: np.ndarray, neither: np.ndarray, oa: np.ndarray, ob: np.ndarray, statistic: str) -> np.ndarray:
    n = both + neither + oa + ob
    with np.errstate(divide="ignore", invalid="ignore"):
        po = (both + neither) / n
        if statistic == "pa":
            return po
        if statistic == "kappa":
            pa1, pb1 = (both + oa) / n, (both + ob) / n
            pe = pa1 * pb1 + (1 - pa1) * (1 - pb1)
            return (po - pe) / (1 - pe)
        # alpha, two coders, binary, no missing values
        nv = 2 * n
        n1 = 2 * both + oa + ob
        n0 = 2 * neither + oa + ob
        return 1 - (nv - 1) * (oa + ob) / (n0 * n1)


def bootstrap_ci(
    a: Any, b: Any, corpus: Any = None, *, unit: str | pd.DataFrame = "sentence", statistic: str = "kappa",
    code: str | None = None, n_boot: int = 1000, seed: int = 0, level: float = 0.95,
) -> dict[str, float]:
    """Percentile bootstrap confidence interval over units.

    With two Codings tables and the corpus, units are resampled with replacement and the
    pooled statistic over the (unit, code) decisions (or one ``code``) is recomputed.  With
    two label sequences (and ``corpus=None``) the pairs are resampled.

    Args:
        a, b: two Codings tables, or two label sequences.
        corpus: the Corpus (Codings input only).
        unit: as in :func:`agreement_report`.
        statistic: ``kappa`` (default), ``alpha`` or ``pa``.
        code: restrict to one code (Codings input).
        n_boot: bootstrap replicates.
        seed: random seed (results are reproducible).
        level: confidence level.

    Returns:
        ``{"statistic", "estimate", "low", "high", "level", "n_boot"}``; replicates where the
        statistic is undefined are skipped.
    """
    func = "bootstrap_ci"
    check_option(func, "statistic", statistic, ("kappa", "alpha", "pa"))
    rng = np.random.default_rng(seed)
    if corpus is None:
        x, y = np.asarray(list(a), dtype=object), np.asarray(list(b), dtype=object)
        fn = {"kappa": cohen_kappa, "pa": percent_agreement, "alpha": lambda p, q: krippendorff_alpha([list(p), list(q)])}[statistic]
        est = fn(x, y)
        idx = rng.integers(0, len(x), size=(int(n_boot), len(x)))
        reps = np.array([fn(x[i], y[i]) for i in idx])
    else:
        codes = [code] if code is not None else None
        _, _, xa, xb, _, _ = _prepare(a, b, corpus, unit, codes, func)
        both_u = (xa & xb).sum(axis=1)
        neither_u = (~xa & ~xb).sum(axis=1)
        oa_u = (xa & ~xb).sum(axis=1)
        ob_u = (~xa & xb).sum(axis=1)
        nu = len(both_u)
        est = float(_stat_from_tables(both_u.sum(), neither_u.sum(), oa_u.sum(), ob_u.sum(), statistic))
        w = np.stack([np.bincount(rng.integers(0, nu, size=nu), minlength=nu) for _ in range(int(n_boot))])
        reps = _stat_from_tables(w @ both_u, w @ neither_u, w @ oa_u, w @ ob_u, statistic)
    reps = reps[np.isfinite(reps)]
    lo, hi = (np.quantile(reps, [(1 - level) / 2, 1 - (1 - level) / 2]) if len(reps) else (np.nan, np.nan))
    return {"statistic": statistic, "estimate": float(est), "low": float(lo), "high": float(hi), "level": float(level), "n_boot": int(n_boot)}
