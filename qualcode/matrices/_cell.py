"""Drill-down: the segments behind any matrix cell."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..codings._codings import Codings
from ._common import Prepared, prepare_selection
from ._cooc import cooccurring_pairs
from ._framework import _positions, map_to_positions, ranked_quotes
from ._selection import Selection, shares_selection

__all__ = ["cell"]

CELL_COLUMNS = [
    "doc_id", "case_id", "segment_id", "start", "end", "text", "speaker", "role", "turn",
    "code", "coded_as", "coder", "source", "score",
]


def _label(x: Any) -> str:
    # a (theme, code) MultiIndex label: the code is the last level
    return str(x[-1]) if isinstance(x, tuple) else str(x)


def _finish(rows: pd.DataFrame, prep: Prepared) -> pd.DataFrame:
    rows = rows.copy()
    if prep.corpus is not None:
        texts = {d.doc_id: d.text for d in prep.corpus.documents}
        rows["text"] = [texts[d][a:b] for d, a, b in zip(rows["doc_id"], rows["start"], rows["end"], strict=True)]
    elif "text" not in rows.columns:
        rows["text"] = ""
    for c in CELL_COLUMNS:
        if c not in rows.columns:
            rows[c] = None
    if rows["segment_id"].isna().any():
        sid = rows["doc_id"].astype(str) + "@" + rows["start"].astype(str) + "-" + rows["end"].astype(str)
        rows["segment_id"] = rows["segment_id"].where(rows["segment_id"].notna(), sid)
    cols = list(CELL_COLUMNS)
    if "page" in rows.columns:  # a PDF source: the pages the coding is on, after its turn
        at = cols.index("turn") + 1
        cols[at:at] = [c for c in ("page", "page_end") if c in rows.columns]
    extra = [c for c in ("pair",) if c in rows.columns]
    return rows[cols + extra].reset_index(drop=True)


@shares_selection
def cell(matrix_or_codings: Any, row: Any, col: Any, *, corpus: Any = None, **filters: Any) -> pd.DataFrame:
    """The codings behind one cell of a matrix, for reading them in context.

    Works on the results of :func:`case_by_code`, :func:`code_by_attribute`,
    :func:`cooccurrence`, :func:`framework_matrix` and :func:`case_timeline` (they keep
    what is needed in ``attrs``), or directly on a Codings table (then ``row`` is a case
    and ``col`` a code, and ``corpus`` plus the filters may be given).

    Args:
        matrix_or_codings: a matrix returned by this package, or a Codings table.
        row: the row label (``"All"`` for the margin).
        col: the column label (``"All"`` for the margin; a ``(theme, code)`` tuple works).
        corpus: the Corpus (only with a Codings table).
        **filters: which codings are counted, with a Codings table only (:class:`Selection`).

    Returns:
        One row per coding counted in the cell, with ``doc_id, case_id, segment_id, start,
        end, text, speaker, role, turn, code, coded_as, coder, source, score``, and ``page``,
        ``page_end`` after ``turn`` when the corpus has PDF sources (or, without a corpus,
        when the codings carry them).  ``code`` is
        the column's code and ``coded_as`` the code as given (they differ for a parent
        aggregating its children).  For ``n_segments`` cells the number of rows equals the
        cell value.  Co-occurrence cells list both codings of every co-occurring pair,
        with a ``pair`` number (document level: every coding of the two codes in documents
        having both).  Framework cells are in quote order (human first, highest score).

    Raises:
        ValueError: the matrix was not made by qualcode.matrices.
    """
    if isinstance(matrix_or_codings, (Codings,)) or (
        isinstance(matrix_or_codings, pd.DataFrame) and "prepared" not in matrix_or_codings.attrs
        and {"doc_id", "start", "end", "code"} <= set(matrix_or_codings.columns)
    ):
        prep = prepare_selection("cell", matrix_or_codings, corpus, Selection.from_keywords("cell", filters))
        kind = "case_by_code"
    elif isinstance(matrix_or_codings, pd.DataFrame) and "prepared" in matrix_or_codings.attrs:
        prep = matrix_or_codings.attrs["prepared"]
        kind = matrix_or_codings.attrs.get("kind")
    else:
        msg = "cell() takes a matrix made by qualcode.matrices (its attrs hold the drill-down data) or a Codings table."
        raise ValueError(msg)
    f = prep.frame
    r, c = _label(row), _label(col)
    if kind in ("case_by_code", "framework_matrix"):
        sel = f
        if r != "All":
            sel = sel[sel["case_id"] == r]
        if c != "All":
            sel = sel[sel["code"] == c]
        else:
            sel = sel.drop_duplicates("_rid")
        if kind == "framework_matrix":
            sel = ranked_quotes(sel, [])
        else:
            sel = sel.sort_values(["doc_id", "start", "end", "code", "coder"], kind="stable")
        return _finish(sel, prep)
    if kind == "code_by_attribute":
        groups = matrix_or_codings.attrs["frame_groups"]
        if groups is None:
            return _finish(f.iloc[0:0], prep)
        g = f.merge(groups, on=["_rid", "code"], how="inner")
        if r != "All":
            g = g[g["code"] == r]
        else:
            g = g.drop_duplicates("_rid")
        if c != "All":
            g = g[g["_group"] == c]
        return _finish(g.sort_values(["doc_id", "start", "end", "code"], kind="stable"), prep)
    if kind == "cooccurrence":
        level = matrix_or_codings.attrs["level"]
        window = matrix_or_codings.attrs.get("window") or 0
        sub = f[f["code"].isin([r, c])].reset_index(drop=True)
        if level == "document":
            docs_a = set(sub.loc[sub["code"] == r, "doc_id"])
            docs_b = set(sub.loc[sub["code"] == c, "doc_id"])
            both = sub[sub["doc_id"].isin(docs_a & docs_b)]
            return _finish(both.sort_values(["doc_id", "start"], kind="stable"), prep)
        i, j = cooccurring_pairs(sub, level, window)
        ci, cj = sub["code"].to_numpy()[i], sub["code"].to_numpy()[j]
        keep = ((ci == r) & (cj == c)) | ((ci == c) & (cj == r))
        if r == c:
            rows = sub[sub["code"] == r].assign(pair=np.arange(int((sub["code"] == r).sum())))
            return _finish(rows, prep)
        i, j = i[keep], j[keep]
        n = len(i)
        both = pd.concat(
            [sub.iloc[i].assign(pair=np.arange(n)), sub.iloc[j].assign(pair=np.arange(n))]
        ).sort_values(["pair", "start"], kind="stable")
        return _finish(both, prep)
    if kind == "case_timeline":
        doc_id = matrix_or_codings.attrs["doc_id"]
        unit = matrix_or_codings.attrs["unit"]
        sub = f[f["doc_id"] == doc_id]
        assert prep.corpus is not None  # case_timeline requires the corpus
        mapped = map_to_positions(sub, _positions(prep.corpus, doc_id, unit))
        mapped = mapped[(mapped["code"] == r) & (mapped["position"] == int(col))]
        return _finish(mapped, prep)
    msg = f"cell() does not support matrices of kind {kind!r}."
    raise ValueError(msg)
