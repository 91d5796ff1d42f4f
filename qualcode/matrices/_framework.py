"""Framework matrix (quotes per case × code) and within-case views (profile, timeline)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._params import Interval, ListOf, Options, check_param, validated
from ..codings._pages import page_label
from ..corpus._model import UNITS, Corpus
from ..errors import InvalidParameterError
from ._common import (
    CODINGS,
    CORPUS,
    check_cases,
    code_order,
    finish_matrix,
    group_stats,
    prepare_selection,
    unit_of,
)
from ._selection import Selection, shares_selection

__all__ = ["case_profile", "case_timeline", "framework_matrix", "ranked_quotes", "top_quotes"]


def _codes(values: np.ndarray) -> np.ndarray:
    """Integer codes of ``values`` that sort like the values themselves."""
    return pd.factorize(values, sort=True)[0].astype(np.int64)


def _pack(parts: list[tuple[np.ndarray, int]]) -> np.ndarray | None:
    """Mixed-radix packing of non-negative integer keys into one int64 (None if it may overflow)."""
    total = 1
    out = np.zeros(len(parts[0][0]), dtype=np.int64)
    for values, radix in parts:
        total *= max(int(radix), 1)
        if total >= 2**62:
            return None
        out = out * max(int(radix), 1) + values
    return out


def top_quotes(f: pd.DataFrame, keys: list[str], k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the most representative distinct spans of each group of ``keys``.

    Within a group, codings are ordered human-coded first, then by highest score (NaN
    last), then by ``doc_id``, ``start`` and ``end``; the same span (document, start, end)
    is kept once (its best-ranked coding).  Everything is done on integer arrays (one
    ``np.lexsort``), never per group.

    Args:
        f: prepared codings.
        keys: grouping columns (groups come out in ascending order of their values).
        k: keep at most this many spans per group (None: all).

    Returns:
        ``(positions, rank)``: row positions in ``f`` ordered by group then rank, and the
        0-based rank of each within its group.
    """
    n = len(f)
    if n == 0:
        e = np.zeros(0, dtype=np.int64)
        return e, e
    group = np.zeros(n, dtype=np.int64)
    for col in keys:
        c = _codes(f[col].to_numpy(dtype=object))
        group = group * (int(c.max()) + 1) + c
    not_human = (f["source"].to_numpy(dtype=object) != "human").astype(np.int64)
    score = f["score"].to_numpy(dtype=np.float64, na_value=np.nan)
    neg = np.where(np.isnan(score), np.inf, -score)
    doc = _codes(f["doc_id"].to_numpy(dtype=object))
    start = f["start"].to_numpy(dtype=np.int64)
    end = f["end"].to_numpy(dtype=np.int64)
    # Sort keys packed into as few int64 columns as fit (mixed radix), else kept apart.
    size = int(max(int(end.max()), int(start.max()), 0)) + 1
    primary = _pack([(group, int(group.max()) + 1), (not_human, 2)])
    span = _pack([(doc, int(doc.max()) + 1), (start, size), (end, size)])
    sort_keys: list[np.ndarray] = [span] if span is not None else [end, start, doc]
    sort_keys.append(neg)
    sort_keys.extend([primary] if primary is not None else [not_human, group])
    order = np.lexsort(tuple(sort_keys))
    # one row per (group, span): the first in rank order (hash-based, no second sort)
    ident = {"g": group[order]}
    if span is not None:
        ident["s"] = span[order]
    else:
        ident.update(d=doc[order], a=start[order], b=end[order])
    pos = order[~pd.DataFrame(ident, copy=False).duplicated(keep="first").to_numpy()]
    gk = group[pos]
    new = np.ones(len(pos), dtype=bool)
    new[1:] = gk[1:] != gk[:-1]
    starts = np.flatnonzero(new)
    rank = np.arange(len(pos)) - np.repeat(starts, np.diff(np.append(starts, len(pos))))
    if k is not None:
        sel = rank < int(k)
        pos, rank = pos[sel], rank[sel]
    return pos, rank


def ranked_quotes(f: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Order codings by representativeness inside each group of ``keys``.

    Human codings first, then highest score, then position; one row per distinct span.
    """
    pos, _ = top_quotes(f, keys)
    return f.iloc[pos]


def _format_quotes(sel: pd.DataFrame, corpus: Corpus, max_chars: int) -> list[str]:
    """``“text” [doc_id ¶n, speaker]`` for each row (whitespace collapsed, cut to ``max_chars``).

    A quote from a PDF source also cites its page: ``“text” [doc_id ¶n, speaker, p. 12]``
    (``pp. 12–13`` when it crosses a page break).
    """
    docs = {d.doc_id: d.text for d in corpus.documents}
    cut = max(max_chars - 1, 1)
    cols = [sel[c].to_numpy(dtype=object).tolist() for c in ("doc_id", "start", "end")]
    texts = []
    for d, a, b in zip(*cols, strict=True):
        t = " ".join(docs[d][a:b].split())
        texts.append(t if len(t) <= max_chars else t[:cut].rstrip() + "\u2026")
    # locations repeat a lot: format each distinct (doc, turn, speaker) once
    doc_c, doc_u = pd.factorize(sel["doc_id"].to_numpy(dtype=object))
    sp_c, sp_u = pd.factorize(sel["speaker"].to_numpy(dtype=object))  # missing -> -1
    turn = sel["turn"].to_numpy(dtype=np.int64)
    t_size = int(turn.max()) + 2 if len(turn) else 1
    key = (doc_c.astype(np.int64) * t_size + turn + 1) * (len(sp_u) + 1) + sp_c + 1
    _, first, codes = np.unique(key, return_index=True, return_inverse=True)
    labels = []
    for i in first.tolist():
        d, turn_i, sp = doc_u[doc_c[i]], int(turn[i]), (sp_u[sp_c[i]] if sp_c[i] >= 0 else None)
        where = d if turn_i < 0 else f"{d} \u00b6{turn_i + 1}"
        if isinstance(sp, str) and sp:
            where = f"{where}, {sp}"
        labels.append(where)
    if "page" in sel.columns:
        pages = [page_label(p, q) for p, q in zip(sel["page"].tolist(), sel["page_end"].tolist(), strict=True)]
        return [f"\u201c{t}\u201d [{labels[c]}{', ' + pg if pg else ''}]"
                for t, c, pg in zip(texts, codes.tolist(), pages, strict=True)]
    return [f"\u201c{t}\u201d [{labels[c]}]" for t, c in zip(texts, codes.tolist(), strict=True)]


def _join_cells(quotes: list[str], rank: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Join consecutive quotes of one group (rank 0 starts a group) with newlines."""
    starts = np.flatnonzero(rank == 0)
    bounds = np.append(starts, len(quotes)).tolist()
    cells = ["\n".join(quotes[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    return starts, cells


def _quote_cells(
    f: pd.DataFrame, keys: list[str], corpus: Corpus, quotes: int, max_chars: int
) -> tuple[dict[str, np.ndarray], list[str]]:
    """Each group's ``quotes`` best quotes (:func:`top_quotes`) formatted and joined into one cell.

    Returns:
        ``(groups, texts)``: the ``keys`` values of each group (one array per key) and its
        cell text, in the same order.
    """
    pos, rank = top_quotes(f, keys, quotes)
    sel = f.iloc[pos]
    starts, texts = _join_cells(_format_quotes(sel, corpus, max_chars), rank)
    return {k: sel[k].to_numpy(dtype=object)[starts] for k in keys}, texts


@validated({"codings": CODINGS, "corpus": CORPUS, "quotes": [Interval(int, 1, None)]})
@shares_selection
def framework_matrix(
    codings: Any,
    corpus: Corpus,
    *,
    quotes: int = 3,
    max_chars: int = 200,
    themes: bool = False,
    sort_by: str | Sequence[str] | None = None,
    **filters: Any,
) -> pd.DataFrame:
    """Framework Method matrix: cases × codes, each cell the case's most representative quotes.

    Quotes are chosen human-coded first, then by highest score, then in text order; the
    same span coded by two coders is shown once.  Each quote reads
    ``“text” [doc_id ¶n, speaker]`` where ``n`` is the 1-based turn number (the ``turn``
    column of ``Corpus.segments`` plus one), and ``“text” [doc_id ¶n, speaker, p. 12]`` for
    a PDF source (``pp. 12–13`` when the quote crosses a page break); quotes are separated
    by newlines and cut to ``max_chars`` characters with an ellipsis.

    Args:
        codings: the Codings table.
        corpus: the Corpus.
        quotes: at most this many quotes per cell.
        max_chars: longest quote shown.
        themes: put a ``(theme, code)`` MultiIndex on the code axis.
        sort_by: case attribute(s) to sort the rows by (up to four, as in NVivo).
        **filters: which codings are counted (:class:`Selection`).

    Returns:
        DataFrame of strings, ``index.name == "case"``, ``columns.name == "code"``; a cell
        with nothing coded is ``""`` (never NaN).

    Raises:
        InvalidParameterError: ``quotes < 1``, an unknown ``sort_by`` attribute, ``codings``
            or ``corpus`` of the wrong type, or a bad filter (a ``ValueError`` and a
            ``TypeError``).
    """
    func = "framework_matrix"
    sel = Selection.from_keywords(func, filters)
    prep = prepare_selection(func, codings, corpus, sel)
    codebook, codes = sel.codebook, sel.codes
    cases = corpus.cases
    cases.index = cases.index.astype(str)
    if sort_by is not None:
        columns = Options(str, [str(c) for c in cases.columns])  # the corpus's case attributes
        check_param("sort_by", sort_by, [columns, ListOf(columns, non_empty=False)], func)
        keys = [sort_by] if isinstance(sort_by, str) else list(sort_by)
        cases = cases.sort_values(keys, kind="stable")
    rows = pd.Index(cases.index, name="case")
    f = check_cases(func, prep, rows)
    cols = pd.Index(code_order(f["code"].unique().tolist(), codebook, codes), name="code")
    m = pd.DataFrame("", index=rows, columns=cols, dtype=object)
    groups, texts = _quote_cells(f, ["case_id", "code"], corpus, int(quotes), int(max_chars))
    if len(texts):
        ri = rows.get_indexer(groups["case_id"])
        ci = cols.get_indexer(groups["code"])
        ok = (ri >= 0) & (ci >= 0)
        values = m.to_numpy(dtype=object, copy=True)
        values[ri[ok], ci[ok]] = np.asarray(texts, dtype=object)[ok]
        m = pd.DataFrame(values, index=rows, columns=cols, dtype=object)
    m = m.astype(object)
    attrs = {
        "kind": "framework_matrix",
        "value": "quotes",
        "quotes": int(quotes),
        "coder": prep.coder,
        "coders": prep.coders,
        "unit": unit_of(codings),
        "aggregate": sel.aggregate,
        "filters": {"source": sel.source, "min_score": sel.min_score, "role": sel.role},
        "rows": "case_id",
        "columns": "code",
        "prepared": prep,
    }
    return finish_matrix(m, index_name="case", columns_name="code", attrs=attrs, themes=themes,
                   codebook=codebook, code_axis="columns", name="All")


@validated({"codings": CODINGS, "corpus": CORPUS})
@shares_selection
def case_profile(
    codings: Any,
    corpus: Corpus,
    case_id: str,
    *,
    quotes: int = 3,
    max_chars: int = 200,
    **filters: Any,
) -> pd.DataFrame:
    """Ideographic profile of one case: its codes ranked, with coverage, position and quotes.

    Args:
        codings: the Codings table.
        corpus: the Corpus.
        case_id: the case (a row of ``corpus.cases``).
        quotes: at most this many quotes per code (as in :func:`framework_matrix`).
        max_chars: longest quote shown.
        **filters: which codings are counted (:class:`Selection`).

    Returns:
        One row per code present in the case (``index.name == "code"``), ranked by
        ``n_segments`` then ``n_chars``, with columns ``n_segments, n_docs, n_chars,
        coverage`` (of the case's characters), ``first``, ``last`` (relative position of the
        earliest and latest coding start in its document, 0 = beginning, 1 = end),
        ``n_cases`` and ``share_cases`` (how many corpus cases have the code: the link back
        to the cross-case view) and ``quotes``.  ``attrs["case"]`` names the case.

    Raises:
        InvalidParameterError: ``case_id`` is not a case of the corpus, ``codings`` or
            ``corpus`` of the wrong type, or a bad filter (a ``ValueError`` and a
            ``TypeError``).
    """
    func = "case_profile"
    all_cases = pd.Index(corpus.cases.index.astype(str))
    if str(case_id) not in all_cases:  # hand-written: the options are the corpus's cases, shown up to 20
        shown = ", ".join(repr(c) for c in all_cases[:20])
        msg = f"The 'case_id' parameter of {func} must be a case of the corpus ({shown}...). Got {case_id!r} instead."
        raise InvalidParameterError(msg)
    sel = Selection.from_keywords(func, filters)
    prep = prepare_selection(func, codings, corpus, sel)
    assert prep.tidx is not None
    f_all = check_cases(func, prep, all_cases)
    n_cases = f_all.groupby("code")["case_id"].nunique()
    f = f_all[f_all["case_id"] == str(case_id)]
    cols = ["n_segments", "n_docs", "n_chars", "coverage", "first", "last", "n_cases", "share_cases", "quotes"]
    if f.empty:
        out = pd.DataFrame(columns=cols, index=pd.Index([], name="code"))
    else:
        out = group_stats(f, ["code"], ["n_segments", "n_docs", "n_chars"], prep.tidx)
        size = float(prep.tidx.case_chars.get(str(case_id), 0))
        out["coverage"] = out["n_chars"] / size if size else np.nan
        rel = f["start"] / f["doc_id"].map(prep.tidx.doc_len).clip(lower=1)
        out["first"] = rel.groupby(f["code"]).min()
        out["last"] = rel.groupby(f["code"]).max()
        out["n_cases"] = n_cases.reindex(out.index).astype("int64")
        out["share_cases"] = out["n_cases"] / len(all_cases)
        groups, texts = _quote_cells(f, ["code"], corpus, int(quotes), int(max_chars))
        qs = pd.Series(texts, index=groups["code"], dtype=object)
        out["quotes"] = qs.reindex(out.index).fillna("")
        out = out.reset_index().sort_values(["n_segments", "n_chars", "code"], ascending=[False, False, True], kind="stable")
        out = out.set_index("code")[cols]
    out.index.name = "code"
    out.columns.name = "measure"
    out.attrs = {
        "kind": "case_profile",
        "case": str(case_id),
        "value": "profile",
        "coder": prep.coder,
        "coders": prep.coders,
        "unit": unit_of(codings),
        "aggregate": sel.aggregate,
        "prepared": prep,
    }
    return out


def _positions(corpus: Corpus, doc_id: str, unit: str) -> pd.DataFrame:
    doc = corpus[doc_id]
    if unit == "turn":
        return pd.DataFrame(
            {
                "position": np.arange(len(doc.turns), dtype=np.int64),
                "speaker": [t.speaker for t in doc.turns],
                "role": [t.role for t in doc.turns],
                "start": [t.start for t in doc.turns],
                "end": [t.end for t in doc.turns],
                "turn": np.arange(len(doc.turns), dtype=np.int64),
            }
        )
    seg = corpus.segments(unit, attributes=False)
    seg = seg[seg["doc_id"] == doc_id].sort_values("start").reset_index(drop=True)
    return pd.DataFrame(
        {
            "position": np.arange(len(seg), dtype=np.int64),
            "speaker": seg["speaker"].to_numpy(),
            "role": seg["role"].to_numpy(),
            "start": seg["start"].to_numpy(np.int64),
            "end": seg["end"].to_numpy(np.int64),
            "turn": seg["turn"].to_numpy(np.int64),
        }
    )


def map_to_positions(f: pd.DataFrame, pos: pd.DataFrame) -> pd.DataFrame:
    """One row per (coding, position it overlaps).

    A coding lying between positions (in a speaker label) goes to the next position.
    """
    if f.empty or pos.empty:
        return f.iloc[0:0].assign(position=pd.Series(dtype="int64"))
    ps = pos["start"].to_numpy(np.int64)
    pe = pos["end"].to_numpy(np.int64)
    s = f["start"].to_numpy(np.int64)
    e = f["end"].to_numpy(np.int64)
    first = np.searchsorted(pe, s, side="right")
    last = np.searchsorted(ps, np.maximum(e, s + 1), side="left") - 1
    last = np.maximum(last, first)
    valid = first < len(ps)
    first, last = first[valid], np.minimum(last[valid], len(ps) - 1)
    ff = f[valid]
    n = last - first + 1
    rep = np.repeat(np.arange(len(ff)), n)
    offs = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    out = ff.iloc[rep].copy()
    out["position"] = np.repeat(first, n) + offs
    return out


@validated(
    {
        "codings": CODINGS,
        "corpus": CORPUS,
        "unit": [Options(str, [u for u in UNITS if u != "window"])],
        "value": [Options(str, ("present", "n_segments"))],
    }
)
@shares_selection
def case_timeline(
    codings: Any,
    corpus: Corpus,
    doc_id: str,
    *,
    unit: str = "turn",
    value: str = "present",
    wide: bool = True,
    **filters: Any,
) -> pd.DataFrame:
    """The sequence of codes through one document (MAXQDA Document Portrait / time-ordered matrix).

    A coding marks every position (turn, paragraph or sentence) its span overlaps.

    Args:
        codings: the Codings table.
        corpus: the Corpus.
        doc_id: the document.
        unit: ``turn`` (default), ``paragraph`` or ``sentence``.
        value: ``present`` (0/1, default) or ``n_segments`` (codings touching the position).
        wide: return codes × positions (default) or the long table.
        **filters: which codings are counted (:class:`Selection`).

    Returns:
        Wide: ``index.name == "code"``, columns the positions 0..n-1 (``columns.name ==
        unit``), 0 where a code is absent; ``attrs["positions"]`` lists each position's
        ``speaker, role, start, end``.  Long: one row per (position, code) with a coding,
        with ``position, speaker, role, start, end, code, n_segments, present``.

    Raises:
        InvalidParameterError: unknown ``unit`` or ``value``, ``codings`` or ``corpus`` of
            the wrong type, or a bad filter (a ``ValueError`` and a ``TypeError``).
        KeyError: unknown ``doc_id``.
    """
    func = "case_timeline"
    if doc_id not in corpus:
        msg = f"case_timeline: no document {doc_id!r} in the corpus."
        raise KeyError(msg)
    sel = Selection.from_keywords(func, filters)
    prep = prepare_selection(func, codings, corpus, sel)
    codebook, codes = sel.codebook, sel.codes
    f = prep.frame[prep.frame["doc_id"] == doc_id]
    pos = _positions(corpus, doc_id, unit)
    mapped = map_to_positions(f, pos)
    counts = mapped.groupby(["code", "position"]).size().rename("n_segments")
    labels = code_order(f["code"].unique().tolist(), codebook, codes)
    positions_attr = pos[["position", "speaker", "role", "start", "end"]].to_dict("records")
    attrs = {
        "kind": "case_timeline",
        "doc_id": doc_id,
        "unit": unit,
        "value": value,
        "coder": prep.coder,
        "coders": prep.coders,
        "aggregate": sel.aggregate,
        "positions": positions_attr,
        "prepared": prep,
    }
    if not wide:
        long = counts.reset_index().merge(pos, on="position", how="left")
        long["present"] = (long["n_segments"] > 0).astype("int64")
        long = long[["position", "speaker", "role", "start", "end", "code", "n_segments", "present"]]
        long = long.sort_values(["position", "code"]).reset_index(drop=True)
        long.attrs = attrs
        return long
    m = counts.unstack("position") if len(counts) else pd.DataFrame()
    m = m.reindex(index=pd.Index(labels, name="code"), columns=pd.Index(pos["position"], name=unit)).fillna(0).astype("int64")
    if value == "present":
        m = (m > 0).astype("int64")
    m.index.name = "code"
    m.columns.name = unit
    m.attrs = attrs
    return m

