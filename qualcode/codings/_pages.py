"""Page numbers of codings from paged sources (PDF): computed here, and only here.

A document read from a PDF carries its page start offsets (``Document.attributes["pages"]``,
see :mod:`qualcode.readers._pages`).  A coding (or any span table with ``doc_id, start,
end``) then cites:

* ``page``: the page its span starts on;
* ``page_end``: the page its last character is on (equal to ``page`` unless the span
  crosses a page break).

Both are nullable integers (``Int64``): empty for codings of documents without pages.
The columns are added only when the corpus has at least one paged document, so that
tables of interviews read from text files keep their columns.  :func:`page_label` turns the
pair into the ``p. 12`` / ``pp. 12–13`` that the framework matrix and the reports print.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["PAGE_COLUMNS", "has_pages", "page_columns", "page_label"]

#: the columns :func:`page_columns` adds, in this order
PAGE_COLUMNS: tuple[str, ...] = ("page", "page_end")


def _paged(corpus: Any) -> dict[str, np.ndarray]:
    """doc_id -> page start offsets, for the documents of ``corpus`` that have pages."""
    from ..readers._pages import page_starts  # lazy: importing the readers is not cheap

    out: dict[str, np.ndarray] = {}
    for doc in getattr(corpus, "documents", ()):
        starts = page_starts(doc)
        if starts is not None:
            out[doc.doc_id] = np.asarray(starts, dtype=np.int64)
    return out


def has_pages(corpus: Any) -> bool:
    """Whether any document of ``corpus`` has page boundaries (was read from a PDF)."""
    from ..readers._pages import page_starts

    return any(page_starts(d) is not None for d in getattr(corpus, "documents", ()))


def page_columns(frame: pd.DataFrame, corpus: Any) -> pd.DataFrame:
    """``frame`` with ``page`` and ``page_end`` computed from the documents' page starts.

    Args:
        frame: a table with ``doc_id``, ``start`` and ``end`` (codings, segments, a matrix
            cell's rows); ``end`` is exclusive.
        corpus: the Corpus the spans refer to.

    Returns:
        A copy of ``frame`` with the two columns (``Int64``) placed right after ``end``.
        Rows of documents with pages get computed values; other rows keep the values
        ``frame`` had (a codings file written from a PDF whose text is now read from a
        ``.txt``), else ``<NA>``.  When no document of the corpus has pages, ``frame`` is
        returned unchanged (a copy).
    """
    out = frame.copy()
    paged = _paged(corpus)
    if not paged:
        return out
    n = len(out)
    page = np.zeros(n, dtype=np.int64)
    page_end = np.zeros(n, dtype=np.int64)
    for col, values in (("page", page), ("page_end", page_end)):
        if col in out.columns:  # values already there stand where no pages are known
            had = pd.to_numeric(out[col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
            ok = np.isfinite(had) & (had >= 1)
            values[ok] = had[ok].astype(np.int64)
    if n:
        doc = out["doc_id"].astype(str).to_numpy(dtype=object)
        start = pd.to_numeric(out["start"]).to_numpy(dtype=np.int64)
        end = pd.to_numeric(out["end"]).to_numpy(dtype=np.int64)
        last = np.maximum(end - 1, start)  # the last character (end is exclusive)
        codes, uniques = pd.factorize(doc)
        order = np.argsort(codes, kind="stable")  # the rows of each document, together
        bounds = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=len(uniques)))])
        for k, doc_id in enumerate(uniques):
            starts = paged.get(doc_id)
            if starts is None:
                continue
            rows = order[bounds[k] : bounds[k + 1]]
            page[rows] = np.searchsorted(starts, start[rows], side="right")
            page_end[rows] = np.searchsorted(starts, last[rows], side="right")
    out = out.drop(columns=[c for c in PAGE_COLUMNS if c in out.columns])
    at = list(out.columns).index("end") + 1 if "end" in out.columns else len(out.columns)
    missing = page == 0
    first = pd.array(page, dtype="Int64")
    first[missing] = pd.NA
    final = pd.array(page_end, dtype="Int64")
    final[missing | (page_end == 0)] = pd.NA
    out.insert(at, "page", first)
    out.insert(at + 1, "page_end", final)
    return out


def page_label(page: Any, page_end: Any = None) -> str:
    """``"p. 12"``, ``"pp. 12–13"`` or ``""`` (no page known).

    Args:
        page: the page a span starts on (``None`` / ``<NA>`` / 0 when unknown).
        page_end: the page it ends on (``None`` or equal to ``page`` for one page).

    Returns:
        The citation, or an empty string.

    Examples:
        >>> page_label(12), page_label(12, 13), page_label(None)
        ('p. 12', 'pp. 12–13', '')
    """
    p = _whole(page)
    if p is None:
        return ""
    q = _whole(page_end)
    if q is not None and q > p:
        return f"pp. {p}\u2013{q}"
    return f"p. {p}"


def _whole(value: Any) -> int | None:
    if value is None or value is pd.NA:
        return None
    try:
        if pd.isna(value):
            return None
        v = int(value)
    except (TypeError, ValueError):
        return None
    return v if v > 0 else None
