"""Agreement between two Codings tables on predefined units (sentences, turns, paragraphs).

Mapping spans onto units: a unit gets code k from a coder when one of the coder's codings
of k overlaps the unit by at least half of the unit's characters, or lies wholly inside
the unit.  Multi-label data is handled the standard way: one binary decision (coded /
not coded) per (unit, code) and coder.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, TypedDict, TypeVar

import numpy as np
import pandas as pd

from .._params import InstanceOf, Options, validate_params, validated
from ..codings._codings import Codings
from ..errors import CodingsError, QualcodeWarning
from ..matrices._common import CODINGS, CORPUS, as_codings, text_index, union_spans
from ._measures import cohen_kappa, krippendorff_alpha, percent_agreement

__all__ = ["agreement", "agreement_report", "bootstrap_ci", "disagreements", "unit_codes"]

UNIT_CHOICES = ("turn", "paragraph", "sentence")
REPORT_UNITS = (*UNIT_CHOICES, "character")
COLUMNS = ["code", "document", "n_units", "pa", "kappa", "alpha", "both", "neither", "only_a", "only_b"]
#: ``unit``: predefined segments, or a units table (``doc_id, start, end``)
UNITS_TABLE = InstanceOf(pd.DataFrame, name="a DataFrame of units (doc_id, start, end)")
UNIT = [Options(str, UNIT_CHOICES), UNITS_TABLE]
REPORT_UNIT = [Options(str, REPORT_UNITS), UNITS_TABLE]
#: two codings tables compared on a corpus
COMPARED = {"a": CODINGS, "b": CODINGS, "corpus": CORPUS}
PCT_COLUMNS = ["agreement_pct", "a_and_b_pct", "not_a_and_not_b_pct", "disagreement_pct", "a_and_not_b_pct", "b_and_not_a_pct"]


def _units(corpus: Any, unit: str | pd.DataFrame) -> pd.DataFrame:
    if isinstance(unit, pd.DataFrame):
        u = unit.copy()
    else:
        u = corpus.segments(unit, attributes=False)
    tidx = text_index(corpus)
    u = u.reset_index(drop=True)
    u["gstart"] = u["doc_id"].map(tidx.base).to_numpy(np.int64) + u["start"].to_numpy(np.int64)
    u["gend"] = u["doc_id"].map(tidx.base).to_numpy(np.int64) + u["end"].to_numpy(np.int64)
    return u.sort_values("gstart", kind="stable").reset_index(drop=True)


@validated({"codings": CODINGS, "corpus": CORPUS})
def unit_codes(codings: Any, corpus: Any, units: pd.DataFrame, codes: Sequence[str]) -> np.ndarray:
    """Boolean units × codes array: which codes each unit gets from ``codings`` (rule above)."""
    f = as_codings(codings).to_frame()
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


def _prepare(a: Any, b: Any, corpus: Any, unit: Any, codes: Sequence[str] | None):
    ca, cb = as_codings(a), as_codings(b)
    labels = list(codes) if codes is not None else sorted(set(ca.codes) | set(cb.codes))
    units = _units(corpus, unit)
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


def _char_tables(
    ca: Codings, cb: Codings, corpus: Any, labels: Sequence[str]
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Character-level 2 × 2 tables per (code, document), NVivo's units.

    Each character of a document is one unit; a coder codes it with ``k`` when one of the
    coder's codings of ``k`` covers it (overlapping codings of one coder count once).

    Returns:
        ``(doc_ids, both, neither, only_a, only_b)``, the counts as int64 arrays of shape
        ``(len(labels), len(doc_ids))`` over every corpus document.
    """
    tidx = text_index(corpus)
    docs = list(tidx.doc_ids)
    nk, nd = len(labels), len(docs)
    size = np.array([tidx.doc_len[d] for d in docs], dtype=np.int64)
    code_ix = pd.Index(list(labels))
    doc_ix = pd.Index(docs)

    def spans(c: Codings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        f = c.to_frame()
        k = code_ix.get_indexer(f["code"].to_numpy(dtype=object))
        d = doc_ix.get_indexer(f["doc_id"].to_numpy(dtype=object))
        ok = (k >= 0) & (d >= 0)
        k, d = k[ok].astype(np.int64), d[ok].astype(np.int64)
        s = np.clip(f["start"].to_numpy(np.int64)[ok], 0, size[d])
        e = np.clip(f["end"].to_numpy(np.int64)[ok], 0, size[d])
        keep = e > s
        return k[keep] * nd + d[keep], s[keep], e[keep]

    def covered(g: np.ndarray, s: np.ndarray, e: np.ndarray) -> np.ndarray:
        grp, us, ue = union_spans(g, s, e)
        return np.bincount(grp, weights=ue - us, minlength=nk * nd).astype(np.int64).reshape(nk, nd)

    ga, sa, ea = spans(ca)
    gb, sb, eb = spans(cb)
    n_a, n_b = covered(ga, sa, ea), covered(gb, sb, eb)
    n_union = covered(np.concatenate([ga, gb]), np.concatenate([sa, sb]), np.concatenate([ea, eb]))
    both = n_a + n_b - n_union
    only_a, only_b = n_a - both, n_b - both
    neither = size[None, :] - n_union
    return docs, both, neither, only_a, only_b


def _table_from_counts(both: int, neither: int, only_a: int, only_b: int) -> dict[str, float]:
    """PA, κ (NVivo: K = (TA − ΣEF)/(TU − ΣEF)) and binary α from a 2 × 2 table of units."""
    n = both + neither + only_a + only_b
    stats = {s: float(_stat_from_tables(np.float64(both), np.float64(neither), np.float64(only_a), np.float64(only_b), s))
             for s in ("pa", "kappa", "alpha")} if n else {"pa": np.nan, "kappa": np.nan, "alpha": np.nan}
    return {"n_units": int(n), **stats, "both": int(both), "neither": int(neither), "only_a": int(only_a),
            "only_b": int(only_b)}


def _add_percentages(out: pd.DataFrame) -> pd.DataFrame:
    """NVivo's coding-comparison percentages (of the units of the row)."""
    n = out["n_units"].astype(float).replace(0, np.nan)
    out["agreement_pct"] = 100 * (out["both"] + out["neither"]) / n
    out["a_and_b_pct"] = 100 * out["both"] / n
    out["not_a_and_not_b_pct"] = 100 * out["neither"] / n
    out["disagreement_pct"] = 100 * (out["only_a"] + out["only_b"]) / n
    out["a_and_not_b_pct"] = 100 * out["only_a"] / n
    out["b_and_not_a_pct"] = 100 * out["only_b"] / n
    return out


def _name(c: Codings, default: str) -> str:
    cs = c.coders
    return cs[0] if len(cs) == 1 else default


@validated({**COMPARED, "unit": REPORT_UNIT})
def agreement_report(
    a: Any, b: Any, corpus: Any, *, unit: str | pd.DataFrame = "sentence", codes: Sequence[str] | None = None,
    by_document: bool = True, percentages: bool | None = None,
) -> pd.DataFrame:
    """Coding comparison per code × document, NVivo style, with pooled rows.

    Args:
        a: the first coder's Codings.
        b: the second coder's Codings.
        corpus: the Corpus.
        unit: ``sentence`` (default), ``paragraph``, ``turn``, a units DataFrame with
            ``doc_id, start, end`` (for instance a coder run's own segments), or
            ``character``: NVivo's units, every character of every corpus document, where a
            coder codes a character with a code when one of their codings of it covers the
            character (``n_units`` is then the source size in characters).
        codes: the codes to compare (default: every code either coder used).
        by_document: one row per (code, document); otherwise per code only.
        percentages: add NVivo's percentage columns ``agreement_pct, a_and_b_pct,
            not_a_and_not_b_pct, disagreement_pct, a_and_not_b_pct, b_and_not_a_pct``
            (default: only for ``unit="character"``).

    Returns:
        Columns ``code, document, n_units, pa, kappa, alpha, both, neither, only_a,
        only_b`` (counts of units), then the percentages if asked.  κ is Cohen's (NVivo's
        ``K = (TA − ΣEF)/(TU − ΣEF)``), α Krippendorff's for two coders on binary data.
        Rows with ``document == "(pooled)"`` sum the units of every document before
        applying the formulas (pooled kappa, not an average); the last row
        (``code == "(pooled)"``) pools every (unit, code) decision.  ``attrs``: ``unit``,
        ``coders``, ``method``.  κ/α are NaN where undefined (a code no coder used in a
        document, or used on every unit by both).

    Raises:
        InvalidParameterError: an unknown ``unit``, or ``a``, ``b`` or ``corpus`` of the
            wrong type (a ``ValueError`` and a ``TypeError``).
    """
    if isinstance(unit, str) and unit == "character":
        ca, cb = as_codings(a), as_codings(b)
        labels = list(codes) if codes is not None else sorted(set(ca.codes) | set(cb.codes))
        docs, both, neither, only_a, only_b = _char_tables(ca, cb, corpus, labels)
        rows = []
        for k, code in enumerate(labels):
            if by_document:
                for j, d in enumerate(docs):
                    rows.append({"code": code, "document": d,
                                 **_table_from_counts(both[k, j], neither[k, j], only_a[k, j], only_b[k, j])})
            rows.append({"code": code, "document": "(pooled)",
                         **_table_from_counts(both[k].sum(), neither[k].sum(), only_a[k].sum(), only_b[k].sum())})
        rows.append({"code": "(pooled)", "document": "(pooled)",
                     **_table_from_counts(both.sum(), neither.sum(), only_a.sum(), only_b.sum())})
        method = ("binary decision per (character, code): a character is coded when one of the coder's codings "
                  "covers it; n_units = characters of the source")
    else:
        units, labels, xa, xb, ca, cb = _prepare(a, b, corpus, unit, codes)
        rows = []
        docs = units["doc_id"].to_numpy()
        for k, code in enumerate(labels):
            if by_document:
                for d in pd.unique(docs):
                    m = docs == d
                    rows.append({"code": code, "document": d, **_table(xa[m, k], xb[m, k])})
            rows.append({"code": code, "document": "(pooled)", **_table(xa[:, k], xb[:, k])})
        rows.append({"code": "(pooled)", "document": "(pooled)", **_table(xa.ravel(), xb.ravel())})
        method = "binary decision per (unit, code); span -> unit when it covers >= 50% of the unit or lies inside it"
    out = pd.DataFrame(rows, columns=COLUMNS)
    if percentages or (percentages is None and unit is not None and isinstance(unit, str) and unit == "character"):
        out = _add_percentages(out)
    out.attrs = {
        "unit": unit if isinstance(unit, str) else "custom",
        "coders": [_name(ca, "a"), _name(cb, "b")],
        "method": method,
    }
    return out


def _check_not_circular(reference: Any, other: Any) -> None:
    """Refuse agreement of a table with itself; warn about in-sample agreement after ``fit``."""
    ref, oth = as_codings(reference), as_codings(other)
    rf, of = ref.to_frame(), oth.to_frame()
    # the same span, code and coder: a row passed through, not a second coder who agrees
    keys = ["doc_id", "start", "end", "code", "coder"]
    human = of[of["source"] == "human"]
    if len(human) and len(rf):
        shared = human[keys].merge(rf[keys].drop_duplicates(), on=keys)
        if len(shared):
            msg = (f"agreement: {len(shared)} of the compared codings are the reference's own human codings "
                   "(passed through by Coder.code(human=...)); agreement with them is circular. Compare the "
                   "machine rows only (other.filter(source=['rule', 'embedding', 'classifier'])) or "
                   "out-of-fold codings from Coder.cross_validate(corpus, human).")
            raise CodingsError(msg)
    trained = set(oth.meta.get("trained_on_docs") or [])
    if trained and not oth.meta.get("cross_validated") and trained & set(rf["doc_id"].astype(str)):
        n = len(trained & set(rf["doc_id"].astype(str)))
        msg = (f"agreement: the coder behind these codings was fitted on human codings of {n} of the compared "
               "documents, so this agreement is in-sample and optimistic. For an honest estimate use "
               "Coder.cross_validate(corpus, human) or compare on documents it did not learn from.")
        warnings.warn(msg, QualcodeWarning, stacklevel=3)


@validated({"reference": CODINGS, "other": CODINGS, "corpus": CORPUS, "unit": REPORT_UNIT})
def agreement(
    reference: Any, other: Any, corpus: Any, *, unit: str | pd.DataFrame = "sentence", codes: Sequence[str] | None = None
) -> pd.DataFrame:
    """Per-code agreement of ``other`` (for instance the machine) with a ``reference`` coding.

    Args:
        reference: the reference (gold, human) Codings.
        other: the Codings to evaluate (another coder or the auto-coder).
        corpus: the Corpus.
        unit: as in :func:`agreement_report` (``character`` counts characters).
        codes: the codes (default: every code either table used).

    Returns:
        One row per code (``index.name == "code"``) plus a ``(pooled)`` row (micro-averaged
        over every (unit, code) decision), columns ``support`` (reference units),
        ``predicted`` (other's units), ``tp, precision, recall, f1, kappa, alpha, pa``.
        precision/recall/F1 are NaN when their denominator is 0.

    An honest estimate compares codings the coder did not learn from: ``other`` may not carry
    the reference's own rows (a Codings that passed human codings through would agree with
    itself), and a warning says when ``other`` comes from a coder fitted on the reference's
    documents (use :meth:`qualcode.Coder.cross_validate` or a held-out split instead).

    Raises:
        InvalidParameterError: an unknown ``unit``, or ``reference``, ``other`` or
            ``corpus`` of the wrong type (a ``ValueError`` and a ``TypeError``).
        CodingsError: ``other`` holds human rows identical to rows of ``reference`` (same span,
            code and coder).
    """
    _check_not_circular(reference, other)
    if isinstance(unit, str) and unit == "character":
        ca, cb = as_codings(reference), as_codings(other)
        labels = list(codes) if codes is not None else sorted(set(ca.codes) | set(cb.codes))
        _, both, neither, only_a, only_b = _char_tables(ca, cb, corpus, labels)
        tables = [(code, both[k].sum(), neither[k].sum(), only_a[k].sum(), only_b[k].sum())
                  for k, code in enumerate(labels)]
        tables.append(("(pooled)", both.sum(), neither.sum(), only_a.sum(), only_b.sum()))
        n_units = int(sum(text_index(corpus).doc_len.values()))
    else:
        units, labels, xa, xb, ca, cb = _prepare(reference, other, corpus, unit, codes)
        tables = []
        for k, code in [*enumerate(labels), (None, "(pooled)")]:
            x = xa[:, k] if k is not None else xa.ravel()
            y = xb[:, k] if k is not None else xb.ravel()
            tables.append((code, np.sum(x & y), np.sum(~x & ~y), np.sum(x & ~y), np.sum(~x & y)))
        n_units = len(units)
    rows = []
    for code, both_n, neither_n, a_n, b_n in tables:
        t = _table_from_counts(int(both_n), int(neither_n), int(a_n), int(b_n))
        tp = t["both"]
        sup, pred = tp + t["only_a"], tp + t["only_b"]
        p = tp / pred if pred else np.nan
        r = tp / sup if sup else np.nan
        f1 = 2 * tp / (sup + pred) if (sup + pred) else np.nan
        rows.append({"code": code, "support": sup, "predicted": pred, "tp": tp, "precision": p, "recall": r,
                     "f1": f1, "kappa": t["kappa"], "alpha": t["alpha"], "pa": t["pa"]})
    out = pd.DataFrame(rows).set_index("code")
    out.columns.name = "measure"
    out.attrs = {"unit": unit if isinstance(unit, str) else "custom", "coders": [_name(ca, "reference"), _name(cb, "other")],
                 "n_units": n_units}
    return out


@validated({**COMPARED, "unit": UNIT})
def disagreements(a: Any, b: Any, corpus: Any, *, unit: str | pd.DataFrame = "sentence", codes: Sequence[str] | None = None) -> pd.DataFrame:
    """Units the two codings treat differently, for adjudication.

    Returns:
        One row per unit where the code sets differ: ``segment_id, doc_id, case_id,
        speaker, start, end, text, codes_a, codes_b, only_a, only_b`` (codes ``"; "``
        separated), in text order.

    Raises:
        InvalidParameterError: an unknown ``unit``, or ``a``, ``b`` or ``corpus`` of the
            wrong type (a ``ValueError`` and a ``TypeError``).
    """
    units, labels, xa, xb, _, _ = _prepare(a, b, corpus, unit, codes)
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


_Counts = TypeVar("_Counts", np.ndarray, np.float64)


def _stat_from_tables(both: _Counts, neither: _Counts, oa: _Counts, ob: _Counts, statistic: str) -> _Counts:
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


class BootstrapCI(TypedDict):
    """What :func:`bootstrap_ci` returns."""

    statistic: str
    estimate: float
    low: float
    high: float
    level: float
    n_boot: int


@validated({"unit": UNIT, "statistic": [Options(str, ("kappa", "alpha", "pa"))]})
def bootstrap_ci(
    a: Any, b: Any, corpus: Any = None, *, unit: str | pd.DataFrame = "sentence", statistic: str = "kappa",
    code: str | None = None, n_boot: int = 1000, seed: int = 0, level: float = 0.95,
) -> BootstrapCI:
    """Percentile bootstrap confidence interval over units.

    With two Codings tables and the corpus, units are resampled with replacement and the
    pooled statistic over the (unit, code) decisions (or one ``code``) is recomputed.  With
    two label sequences (and ``corpus=None``) the pairs are resampled.

    Args:
        a: the first Codings table, or a label sequence.
        b: the second Codings table, or a label sequence of the same length.
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

    Raises:
        InvalidParameterError: an unknown ``unit`` or ``statistic``, or (with a corpus)
            ``a``, ``b`` or ``corpus`` of the wrong type (a ``ValueError`` and a ``TypeError``).
    """
    rng = np.random.default_rng(seed)
    if corpus is None:
        x, y = np.asarray(list(a), dtype=object), np.asarray(list(b), dtype=object)
        fn = {"kappa": cohen_kappa, "pa": percent_agreement, "alpha": lambda p, q: krippendorff_alpha([list(p), list(q)])}[statistic]
        est = fn(x, y)
        idx = rng.integers(0, len(x), size=(int(n_boot), len(x)))
        reps = np.array([fn(x[i], y[i]) for i in idx])
    else:
        validate_params(COMPARED, {"a": a, "b": b, "corpus": corpus}, "bootstrap_ci")  # Codings input only
        codes = [code] if code is not None else None
        _, _, xa, xb, _, _ = _prepare(a, b, corpus, unit, codes)
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
