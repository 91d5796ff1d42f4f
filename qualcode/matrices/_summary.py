"""Cross-case (nomothetic) summary: prevalence, group presence, disconfirming cases, saturation."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._params import Interval, ListOf, Options, check_param, validated
from ..corpus._model import Corpus
from ._common import CODINGS, CORPUS, check_cases, code_order, prepare_selection, unit_of
from ._selection import Selection, shares_selection
from ._tables import group_labels, group_order

__all__ = ["CrossCaseSummary", "cross_case_summary"]


@dataclass
class CrossCaseSummary:
    """The result of :func:`cross_case_summary`; also usable as a dict of DataFrames.

    Attributes:
        codes: one row per code (``index.name == "code"``): ``n_cases``, ``share_cases``,
            ``n_segments``, ``n_docs`` and, per case attribute ``a``, ``present_in_a`` and
            ``absent_in_a`` (the groups with / without a case having the code, ``"; "``
            separated).
        disconfirming: one row per (code, case) where the code is held by at least
            ``threshold`` of the cases but not by this case: ``code, case_id, n_cases,
            share_cases`` plus the case's attributes.
        saturation: one row per document in the given order: ``step`` (1-based),
            ``doc_id``, ``n_new`` (codes not seen in earlier documents), ``new_codes``,
            ``cumulative`` (distinct codes so far).
        attrs: the options used (``coder``, ``threshold``, ``n_cases``...).
    """

    codes: pd.DataFrame
    disconfirming: pd.DataFrame
    saturation: pd.DataFrame
    attrs: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> pd.DataFrame:
        if key not in ("codes", "disconfirming", "saturation"):
            raise KeyError(key)
        return getattr(self, key)

    def keys(self) -> list[str]:
        """The table names."""
        return ["codes", "disconfirming", "saturation"]

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def _repr_html_(self) -> str:
        return "".join(f"<h4>{k}</h4>{self[k].head(20).to_html(border=0)}" for k in self.keys())


def _presence(f: pd.DataFrame, cases: pd.Index, labels: pd.Index) -> pd.DataFrame:
    """Boolean cases × codes table: does the case have at least one coding with the code."""
    arr = np.zeros((len(cases), len(labels)), dtype=bool)
    if len(f):
        cc = f[["case_id", "code"]].drop_duplicates()
        ri = cases.get_indexer(cc["case_id"].to_numpy(dtype=object))
        ci = labels.get_indexer(cc["code"].to_numpy(dtype=object))
        ok = (ri >= 0) & (ci >= 0)
        arr[ri[ok], ci[ok]] = True
    return pd.DataFrame(arr, index=cases, columns=labels)


@validated({"codings": CODINGS, "corpus": CORPUS, "threshold": [Interval(float, 0, 1, closed="right")]})
@shares_selection
def cross_case_summary(
    codings: Any,
    corpus: Corpus,
    *,
    order: Sequence[str] | None = None,
    attributes: Sequence[str] | None = None,
    cases: Sequence[str] | None = None,
    threshold: float = 2 / 3,
    **filters: Any,
) -> CrossCaseSummary:
    """Nomothetic overview of every code across cases.

    Args:
        codings: the Codings table.
        corpus: the Corpus.
        order: document order for the saturation curve (default: corpus order).  Documents
            not listed are left out of the curve.
        attributes: case attributes to report group presence for (default: all columns of
            ``corpus.cases``).
        cases: the cases to summarise (default: every corpus case; for focus groups you
            may want only the participant cases).
        threshold: share of cases from which a code counts as common, so that a case
            lacking it is listed as disconfirming (default 2/3).
        **filters: which codings are counted (:class:`Selection`).

    Returns:
        A :class:`CrossCaseSummary`.

    Raises:
        ValueError: an unknown case or document.
        InvalidParameterError: an unknown attribute, a threshold outside (0, 1], ``codings``
            or ``corpus`` of the wrong type, or a bad filter (a ``ValueError`` and a
            ``TypeError``).
    """
    func = "cross_case_summary"
    table = corpus.cases
    table.index = table.index.astype(str)
    if cases is not None:
        unknown = [c for c in cases if str(c) not in table.index]
        if unknown:
            msg = f"{func}: unknown case(s) {unknown[:10]}."
            raise ValueError(msg)
        table = table.loc[[str(c) for c in cases]]
    if attributes is not None:  # the options are the corpus's case attributes
        check_param("attributes", attributes, [ListOf(Options(str, map(str, table.columns)), non_empty=False)], func)
    attrs_used = [str(a) for a in table.columns] if attributes is None else list(attributes)
    sel = Selection.from_keywords(func, filters)
    prep = prepare_selection(func, codings, corpus, sel)
    codebook, codes, aggregate = sel.codebook, sel.codes, sel.aggregate
    f_all = check_cases(func, prep, pd.Index(corpus.cases.index.astype(str)))
    f = f_all[f_all["case_id"].isin(table.index)]
    labels = code_order(f["code"].unique().tolist(), codebook, codes)
    n_total = len(table)
    pres = _presence(f, table.index, pd.Index(labels))
    out = pd.DataFrame(index=pd.Index(labels, name="code"))
    out["n_cases"] = pres.sum(axis=0).astype("int64")
    out["share_cases"] = out["n_cases"] / n_total if n_total else np.nan
    out["n_segments"] = f.groupby("code").size().reindex(labels).fillna(0).astype("int64")
    out["n_docs"] = f.groupby("code")["doc_id"].nunique().reindex(labels).fillna(0).astype("int64")
    pres_arr = pres.to_numpy(dtype=bool)  # stays boolean when no code is used
    for a in attrs_used:
        grp = group_labels(table[a])
        by_group = pres.groupby(grp).any()
        groups = group_order(by_group.index)
        bg = by_group.reindex(groups).to_numpy()  # groups × codes
        out[f"present_in_{a}"] = ["; ".join(g for g, p in zip(groups, bg[:, j], strict=True) if p) for j in range(len(labels))]
        out[f"absent_in_{a}"] = ["; ".join(g for g, p in zip(groups, bg[:, j], strict=True) if not p) for j in range(len(labels))]
    out.columns.name = "measure"

    share = out["share_cases"].to_numpy(dtype=np.float64)
    n_cases_arr = out["n_cases"].to_numpy(dtype=np.int64)
    common = np.flatnonzero(share >= float(threshold) - 1e-12) if n_total else np.zeros(0, dtype=np.int64)
    ci, ri = np.nonzero(~pres_arr[:, common].T)  # code-major, cases in table order
    cj = common[ci]
    dis = pd.DataFrame(
        {
            "code": np.asarray(labels, dtype=object)[cj] if len(cj) else np.zeros(0, dtype=object),
            "case_id": table.index.to_numpy(dtype=object)[ri],
            "n_cases": n_cases_arr[cj],
            "share_cases": share[cj],
        }
    )
    if len(dis) and attrs_used:
        dis = dis.join(table[attrs_used], on="case_id")
    dis.attrs = {"threshold": float(threshold)}
    out.attrs = {"kind": "cross_case_summary", "coder": prep.coder, "n_cases": n_total, "aggregate": aggregate}

    doc_order = list(corpus.doc_ids) if order is None else [str(d) for d in order]
    unknown_docs = [d for d in doc_order if d not in corpus]
    if unknown_docs:
        msg = f"{func}: unknown document(s) in 'order': {unknown_docs[:10]}."
        raise ValueError(msg)
    dc = f_all[["doc_id", "code"]].drop_duplicates().sort_values(["doc_id", "code"], kind="stable")
    d_arr, c_arr = dc["doc_id"].to_numpy(dtype=object), dc["code"].to_numpy(dtype=object)
    bounds = np.flatnonzero(np.r_[True, d_arr[1:] != d_arr[:-1]]) if len(d_arr) else np.zeros(0, dtype=np.int64)
    codes_by_doc = (
        dict(zip(d_arr[bounds].tolist(), (x.tolist() for x in np.split(c_arr, bounds[1:])), strict=True))
        if len(d_arr) else {}
    )
    seen: set[str] = set()
    srows = []
    for step, d in enumerate(doc_order, start=1):
        here = codes_by_doc.get(d, [])
        new = [c for c in here if c not in seen]
        seen.update(new)
        srows.append({"step": step, "doc_id": d, "n_new": len(new), "new_codes": "; ".join(new), "cumulative": len(seen)})
    sat = pd.DataFrame(srows, columns=["step", "doc_id", "n_new", "new_codes", "cumulative"])
    sat.attrs = {"order": doc_order}
    return CrossCaseSummary(
        codes=out,
        disconfirming=dis,
        saturation=sat,
        attrs={"coder": prep.coder, "coders": prep.coders, "threshold": float(threshold), "n_cases": n_total,
               "unit": unit_of(codings), "aggregate": aggregate},
    )
