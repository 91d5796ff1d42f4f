"""Case × code and code × attribute matrices, and the long (tidy) table they pivot."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._params import ListOf, Options, check_param, validated
from ..corpus._model import Corpus
from ._common import (
    CODINGS,
    CORPUS,
    Prepared,
    check_cases,
    code_order,
    finish_matrix,
    group_stats,
    prepare_selection,
    unit_of,
)
from ._framework import framework_matrix
from ._selection import Selection, shares_selection

__all__ = ["case_by_code", "code_by_attribute", "long_table"]

CASE_VALUES = (
    "n_segments",
    "present",
    "n_docs",
    "n_cases",
    "n_words",
    "n_chars",
    "coverage",
    "row_pct",
    "col_pct",
    "table_pct",
    "normalized",
    "quotes",
)
ATTR_VALUES = (
    "n_segments",
    "present",
    "n_cases",
    "share_cases",
    "per_case",
    "n_docs",
    "n_words",
    "n_chars",
    "coverage",
    "row_pct",
    "col_pct",
    "table_pct",
    "normalized",
)
LONG_BY = ("case", "doc_id", "code", "coder")
MISSING_GROUP = "(missing)"



def group_labels(column: pd.Series) -> pd.Series:
    """Each value of an attribute column as its group label (a str), :data:`MISSING_GROUP` where it is missing."""
    return column.astype("object").where(column.notna(), MISSING_GROUP).astype(str)


def group_order(labels: Any) -> list[str]:
    """The distinct group labels, sorted, with :data:`MISSING_GROUP` last."""
    return sorted(set(labels), key=lambda x: (x == MISSING_GROUP, x))


def _stat_of(value: str) -> str:
    if value in ("coverage",):
        return "n_chars"
    if value in ("present", "row_pct", "col_pct", "table_pct", "normalized", "per_case"):
        return "n_segments"
    if value == "share_cases":
        return "n_cases"
    return value


def _stat_matrix(
    f: pd.DataFrame,
    rkey: str,
    ckey: str,
    rows: pd.Index,
    cols: pd.Index,
    stat: str,
    prep: Prepared,
    *,
    margins: bool,
    code_axis: str,
    name: str = "All",
) -> pd.DataFrame:
    """The statistic per (row, column); margins pool the codings of the row/column."""
    tidx = prep.tidx
    s = group_stats(f, [rkey, ckey], [stat], tidx)[stat]
    m = s.unstack(ckey) if len(s) else pd.DataFrame(index=rows, columns=cols)
    m = m.reindex(index=rows, columns=cols).fillna(0).astype("int64")
    if not margins:
        return m
    # pooling over the code axis must count each original coding once (parents!)
    pooled = f.drop_duplicates("_rid") if len(f) else f
    f_for_col = pooled if code_axis == "columns" else f
    f_for_row = pooled if code_axis == "index" else f
    col_m = group_stats(f_for_col, [rkey], [stat], tidx)[stat] if len(f) else pd.Series(dtype="int64")
    row_m = group_stats(f_for_row, [ckey], [stat], tidx)[stat] if len(f) else pd.Series(dtype="int64")
    if len(f):
        corner = int(group_stats(pooled.assign(_all=0), ["_all"], [stat], tidx)[stat].iloc[0])
    else:
        corner = 0
    m[name] = col_m.reindex(rows).fillna(0).astype("int64").to_numpy()
    row = row_m.reindex(cols).fillna(0).astype("int64").tolist() + [corner]
    m.loc[name] = row
    return m.astype("int64")


def _pct(counts: pd.DataFrame, value: str, margins: bool, name: str) -> pd.DataFrame:
    c = counts.astype("float64")
    if margins:
        inner = c.drop(index=name, columns=name)
        c.loc[:, name] = inner.sum(axis=1).reindex(c.index).to_numpy()
        c.loc[name, :] = c.drop(index=name).sum(axis=0)
    else:
        inner = c
    with np.errstate(divide="ignore", invalid="ignore"):
        if value == "row_pct":
            tot = c[name] if margins else c.sum(axis=1)
            out = c.div(tot.where(tot != 0), axis=0)
        elif value == "col_pct":
            tot = c.loc[name] if margins else c.sum(axis=0)
            out = c.div(tot.where(tot != 0), axis=1)
        else:
            grand = float(inner.to_numpy().sum())
            out = c / grand if grand else c * np.nan
    return out


def _values(
    counts: pd.DataFrame, value: str, den: pd.Series | None, *, axis: int, margins: bool, name: str
) -> pd.DataFrame:
    """The cell values from the statistic matrix of :func:`_stat_matrix`.

    Counts stay as they are, ``present`` is 0/1; with a denominator ``den`` (one size per
    row for ``axis=0``, per column for ``axis=1``; its margin is the sum) the value is
    ``counts / den``, times 1,000 for ``normalized``, NaN where the size is 0; without
    one it is a percentage (:func:`_pct`).
    """
    if value in ("n_segments", "n_docs", "n_cases", "n_chars", "n_words"):
        return counts
    if value == "present":
        return (counts > 0).astype("int64")
    if den is None:
        return _pct(counts, value, margins, name)
    den = den.astype("float64")
    if margins:
        den = pd.concat([den, pd.Series([den.sum()], index=[name])])
    scale = 1000.0 if value == "normalized" else 1.0
    return counts.astype("float64").div(den.where(den > 0).to_numpy(), axis=axis) * scale


@validated({"codings": CODINGS, "corpus": CORPUS, "value": [Options(str, CASE_VALUES)]})
@shares_selection
def case_by_code(
    codings: Any,
    corpus: Corpus,
    value: str = "n_segments",
    *,
    margins: bool = False,
    themes: bool = False,
    quotes: int = 3,
    **filters: Any,
) -> pd.DataFrame:
    """Cases × codes matrix (NVivo matrix coding query, MAXQDA Code Matrix Browser).

    Rows are every case of ``corpus.cases`` (uncoded cases included, in corpus order);
    columns the codes (codebook order when a codebook is given, else sorted).  A coding
    belongs to the case in its ``case_id`` column, so a focus-group speaker who is a case
    of their own gets their own row.

    Cell values (``value=``):

    * ``n_segments`` (default): number of codings (a coding is one (span, code, coder)
      row, so two coders coding the same passage count twice with ``coder="all"``);
    * ``present``: 1 when ``n_segments > 0`` else 0;
    * ``n_docs`` / ``n_cases``: distinct documents / cases with a coding;
    * ``n_chars`` / ``n_words``: characters / words in the union of the coded spans
      (overlaps counted once);
    * ``coverage``: ``n_chars / n_chars(case)`` as a fraction in [0, 1], where
      ``n_chars(case)`` is the length of the case's documents, or for a focus-group
      speaker case the length of that speaker's turns only;
    * ``row_pct``, ``col_pct``, ``table_pct``: ``n_segments`` divided by the row, column or
      grand total, as ``pd.crosstab(normalize="index"/"columns"/"all")``;
    * ``normalized``: ``n_segments`` per 1,000 words of the case;
    * ``quotes``: the ``quotes`` most representative quotes (see :func:`framework_matrix`).

    Empty cells are 0 (strings: ``""``).  NaN appears only where a value is undefined:
    a percentage whose total is 0, or coverage/normalized for a case with no text.

    Args:
        codings: the Codings table.
        corpus: the Corpus.
        value: the cell value (above).
        margins: add an ``"All"`` row and column.  A margin is the value computed over all
            codings of the row or column together (each coding counted once even when it
            counts for a parent and a child); for percentages the margins are sums.
        themes: columns as a ``(theme, code)`` MultiIndex (theme = root code; needs the
            codebook).
        quotes: quotes per cell for ``value="quotes"``.
        **filters: which codings are counted (:class:`Selection`).

    Returns:
        DataFrame with ``index.name == "case"`` and ``columns.name == "code"``;
        ``attrs`` holds ``value, coder, coders, unit, aggregate, kind`` and the data
        :func:`cell` needs to list the segments behind a cell.

    Raises:
        InvalidParameterError: a parameter or filter of the wrong type or value (an unknown
            ``value``, ``codings`` or ``corpus`` of the wrong type, ``aggregate="children"``
            without a codebook...).  It is a ``ValueError`` and a ``TypeError``.

    Examples:
        >>> from qualcode.testing import tiny_corpus
        >>> from qualcode import Codings
        >>> corpus = tiny_corpus()
        >>> c = Codings.from_records([{"doc_id": "int_b", "start": 0, "end": 10,
        ...                            "code": "lead", "coder": "ana"}])
        >>> m = case_by_code(c, corpus)
        >>> int(m.loc["int_b", "lead"]), int(m.loc["int_a", "lead"])
        (1, 0)
    """
    func = "case_by_code"
    sel = Selection.from_keywords(func, filters)
    if value == "quotes":
        return framework_matrix(codings, corpus, quotes=quotes, themes=themes, selection=sel)
    prep = prepare_selection(func, codings, corpus, sel)
    codebook, codes = sel.codebook, sel.codes
    assert prep.tidx is not None
    rows = pd.Index(corpus.cases.index.astype(str), name="case")
    f = check_cases(func, prep, rows)
    cols = pd.Index(code_order(f["code"].unique().tolist(), codebook, codes), name="code")
    name = "All"
    stat = _stat_of(value)
    counts = _stat_matrix(f, "case_id", "code", rows, cols, stat, prep, margins=margins, code_axis="columns", name=name)
    sizes = None
    if value in ("coverage", "normalized"):
        sizes = (prep.tidx.case_chars if value == "coverage" else prep.tidx.case_words).reindex(rows)
    m = _values(counts, value, sizes, axis=0, margins=margins, name=name)
    attrs = {
        "kind": "case_by_code",
        "value": value,
        "coder": prep.coder,
        "coders": prep.coders,
        "unit": unit_of(codings),
        "aggregate": sel.aggregate,
        "margins": margins,
        "filters": {"source": sel.source, "min_score": sel.min_score, "role": sel.role},
        "rows": "case_id",
        "columns": "code",
        "prepared": prep,
    }
    return finish_matrix(m, index_name="case", columns_name="code", attrs=attrs, themes=themes,
                   codebook=codebook, code_axis="columns", name=name)


def _groups(
    func: str, prep: Prepared, corpus: Corpus, attribute: str, f: pd.DataFrame
) -> tuple[pd.DataFrame, pd.Series, pd.Series, pd.Series]:
    """Group label per coding, and per group: number of cases, characters, words."""
    tidx = prep.tidx
    assert tidx is not None
    cases = corpus.cases
    cases.index = cases.index.astype(str)
    if attribute == "role":
        t = tidx.turns
        if t.empty:
            msg = f"{func}: attribute='role' needs documents with speaker turns."
            raise ValueError(msg)
        f = f.assign(_group=f["role"].fillna(MISSING_GROUP).astype(str))
        t = t.assign(
            chars=(t["gend"] - t["gstart"]),
            words=tidx.words(t["gstart"].to_numpy(), t["gend"].to_numpy()),
        )
        gsize = t.groupby("role")["case_id"].nunique()
        gchars = t.groupby("role")["chars"].sum()
        gwords = t.groupby("role")["words"].sum()
        return f, gsize, gchars, gwords
    if attribute not in cases.columns:  # the options are the corpus's case attributes
        check_param("attribute", attribute, [Options(str, [*map(str, cases.columns), "role"])], func)
    labels = group_labels(cases[attribute])
    gpos = labels.index.get_indexer(f["case_id"].to_numpy(dtype=object))
    f = f.assign(_group=np.where(gpos >= 0, labels.to_numpy(dtype=object)[gpos], MISSING_GROUP))
    gsize = labels.groupby(labels).size()
    gchars = tidx.case_chars.reindex(labels.index).groupby(labels).sum()
    gwords = tidx.case_words.reindex(labels.index).groupby(labels).sum()
    order = group_order(labels)
    return f, gsize.reindex(order), gchars.reindex(order), gwords.reindex(order)


@validated({"codings": CODINGS, "corpus": CORPUS, "value": [Options(str, ATTR_VALUES)]})
@shares_selection
def code_by_attribute(
    codings: Any,
    corpus: Corpus,
    attribute: str,
    value: str = "n_segments",
    *,
    margins: bool = False,
    themes: bool = False,
    **filters: Any,
) -> pd.DataFrame:
    """Codes × groups of a case attribute (group comparison; MAXQDA "Compare groups").

    Args:
        codings: the Codings table.
        corpus: the Corpus; its ``cases`` table holds the attribute.
        attribute: a column of ``corpus.cases`` (cases without a value form the group
            ``"(missing)"``), or ``"role"`` (the speaker role of each coding; a group's
            size is then the number of cases with turns of that role).
        value: ``n_segments`` (default), ``present``, ``n_cases`` (cases of the group with
            the code), ``share_cases`` (``n_cases`` / cases in the group), ``per_case``
            (``n_segments`` / cases in the group), ``n_docs``, ``n_words``, ``n_chars``,
            ``coverage`` (coded characters / characters of the group's cases),
            ``normalized`` (codings per 1,000 words of the group), ``row_pct``,
            ``col_pct``, ``table_pct``.
        margins: add ``"All"`` totals.
        themes: put a ``(theme, code)`` MultiIndex on the code axis.
        **filters: which codings are counted (:class:`Selection`).

    Returns:
        DataFrame with ``index.name == "code"`` and ``columns.name == attribute``.
        ``attrs["group_sizes"]`` maps each group to its number of cases (and
        ``attrs["group_chars"]``, ``attrs["group_words"]`` to its size in text).  NaN
        only for ratios whose group size or total is 0.

    Raises:
        InvalidParameterError: unknown ``attribute`` or ``value``, ``codings`` or ``corpus``
            of the wrong type, or a bad filter (a ``ValueError`` and a ``TypeError``).
    """
    func = "code_by_attribute"
    sel = Selection.from_keywords(func, filters)
    prep = prepare_selection(func, codings, corpus, sel)
    codebook, codes = sel.codebook, sel.codes
    f = check_cases(func, prep, pd.Index(corpus.cases.index.astype(str)))
    f, gsize, gchars, gwords = _groups(func, prep, corpus, attribute, f)
    groups = list(gsize.index)
    extra = [g for g in f["_group"].unique() if g not in groups]
    groups += sorted(extra)
    gsize, gchars, gwords = (s.reindex(groups).fillna(0) for s in (gsize, gchars, gwords))
    cols = pd.Index(groups, name=attribute)
    rows = pd.Index(code_order(f["code"].unique().tolist(), codebook, codes), name="code")
    name = "All"
    stat = _stat_of(value)
    counts = _stat_matrix(f, "code", "_group", rows, cols, stat, prep, margins=margins, code_axis="index", name=name)
    den = {"share_cases": gsize, "per_case": gsize, "coverage": gchars, "normalized": gwords}.get(value)
    m = _values(counts, value, den, axis=1, margins=margins, name=name)
    attrs = {
        "kind": "code_by_attribute",
        "value": value,
        "coder": prep.coder,
        "coders": prep.coders,
        "unit": unit_of(codings),
        "aggregate": sel.aggregate,
        "attribute": attribute,
        "group_sizes": {str(k): int(v) for k, v in gsize.items()},
        "group_chars": {str(k): int(v) for k, v in gchars.items()},
        "group_words": {str(k): int(v) for k, v in gwords.items()},
        "margins": margins,
        "filters": {"source": sel.source, "min_score": sel.min_score, "role": sel.role},
        "rows": "code",
        "columns": "_group",
        "prepared": prep,
        "frame_groups": f[["_rid", "code", "_group"]] if len(f) else None,
    }
    return finish_matrix(m, index_name="code", columns_name=attribute, attrs=attrs, themes=themes,
                   codebook=codebook, code_axis="index", name=name)


@validated({"codings": CODINGS, "corpus": CORPUS, "by": [ListOf(Options(str, LONG_BY))]})
@shares_selection
def long_table(
    codings: Any,
    corpus: Corpus,
    *,
    by: Sequence[str] = ("case", "code"),
    **filters: Any,
) -> pd.DataFrame:
    """The long (tidy) table every wide matrix is a pivot of.

    Args:
        codings: the Codings table.
        corpus: the Corpus.
        by: grouping columns among ``case``, ``doc_id``, ``code``, ``coder`` (default
            ``("case", "code")``).
        **filters: which codings are counted (:class:`Selection`).

    Returns:
        One row per group that has at least one coding, with the ``by`` columns and
        ``n_segments, present, n_docs, n_chars, n_words, coverage``.  ``coverage`` is
        relative to the case's characters (or the case's part of the document when
        ``doc_id`` is in ``by``); it is NaN when ``case`` is not in ``by``.

    Raises:
        InvalidParameterError: an unknown column in ``by``, ``codings`` or ``corpus`` of the
            wrong type, or a bad filter (a ``ValueError`` and a ``TypeError``).
    """
    func = "long_table"
    sel = Selection.from_keywords(func, filters)
    prep = prepare_selection(func, codings, corpus, sel)
    assert prep.tidx is not None
    f = check_cases(func, prep, pd.Index(corpus.cases.index.astype(str))).rename(columns={"case_id": "case"})
    keys = list(by)
    stats = group_stats(f, keys, ["n_segments", "n_docs", "n_chars", "n_words"], prep.tidx)
    out = stats.reset_index()
    out["present"] = (out["n_segments"] > 0).astype("int64")
    if "case" in keys and "doc_id" in keys:
        den = prep.tidx.case_doc_chars
        idx = pd.MultiIndex.from_arrays([out["case"], out["doc_id"]])
        out["coverage"] = out["n_chars"] / den.reindex(idx).to_numpy()
    elif "case" in keys:
        out["coverage"] = out["n_chars"] / out["case"].map(prep.tidx.case_chars).replace(0, np.nan)
    else:
        out["coverage"] = np.nan
    out = out[keys + ["n_segments", "present", "n_docs", "n_chars", "n_words", "coverage"]]
    out = out.sort_values(keys, kind="stable").reset_index(drop=True)
    out.attrs = {"kind": "long_table", "coder": prep.coder, "coders": prep.coders, "aggregate": sel.aggregate, "unit": unit_of(codings)}
    return out
