"""Code × code co-occurrence (ATLAS.ti Code Co-occurrence Table, MAXQDA Code Relations Browser)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._params import Interval, Options, validated
from ..corpus._model import Corpus
from ..errors import InvalidParameterError
from ._common import CODINGS, CORPUS, code_order, prepare_selection, union_spans, unique_inverse
from ._selection import Selection, shares_selection

__all__ = ["cooccurrence", "pairs_sorted"]

LEVELS = ("segment", "document", "window")
MEASURES = ("count", "c", "jaccard")


def global_offsets(f: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Global (corpus-wide) offsets: from the corpus index, or built from the codings."""
    if "gstart" in f.columns:
        return f["gstart"].to_numpy(np.int64), f["gend"].to_numpy(np.int64)
    docs_u, inv = unique_inverse(f["doc_id"].to_numpy())
    lens = f.groupby("doc_id")["end"].max().reindex(docs_u).to_numpy(np.int64) + 1
    bases = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64)
    return bases[inv] + f["start"].to_numpy(np.int64), bases[inv] + f["end"].to_numpy(np.int64)


def pairs_sorted(group: np.ndarray, pos: np.ndarray, reach: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All pairs (i, j), i before j, in the same group with ``pos[j] < reach[i]``.

    Rows are sorted by ``(group, pos)`` inside; returned indices refer to the input order.
    With ``pos = start`` and ``reach = end`` these are the overlapping spans; each
    overlapping pair is returned exactly once.
    """
    n = len(pos)
    if n == 0:
        e = np.zeros(0, dtype=np.int64)
        return e, e
    group = np.asarray(group, dtype=np.int64)
    pos = np.asarray(pos, dtype=np.int64)
    reach = np.asarray(reach, dtype=np.int64)
    lo = int(min(pos.min(), reach.min()))
    span = int(max(pos.max(), reach.max())) - lo + 2
    key = group * span + (pos - lo)
    order = np.argsort(key, kind="stable")
    k = key[order]
    lim = group[order] * span + (reach[order] - lo)
    last = np.searchsorted(k, lim, side="left") - 1
    counts = np.maximum(last - np.arange(n), 0)
    total = int(counts.sum())
    i = np.repeat(np.arange(n), counts)
    first_j = np.repeat(np.cumsum(counts) - counts, counts)
    j = i + 1 + (np.arange(total) - first_j)
    return order[i], order[j]


def cooccurring_pairs(f: pd.DataFrame, level: str, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Row positions ``(i, j)`` of the pairs of codings that co-occur, each pair once.

    ``level="segment"``: same coder, overlapping spans; ``level="window"``: same coder and
    document, starting turns at most ``window`` apart (codings outside turns never pair).
    """
    _, coder_g = unique_inverse(f["coder"].to_numpy())
    if level == "segment":
        gs, ge = global_offsets(f)
        return pairs_sorted(coder_g, gs, ge)
    ok = f["turn"].to_numpy() >= 0
    docs, dinv = unique_inverse(f["doc_id"].to_numpy())
    grp = (coder_g * max(len(docs), 1) + dinv)[ok]
    turn = f["turn"].to_numpy(np.int64)[ok]
    idx = np.flatnonzero(ok)
    i, j = pairs_sorted(grp, turn, turn + int(window) + 1)
    return idx[i], idx[j]


def _pair_matrix(ci: np.ndarray, cj: np.ndarray, ncodes: int, weights: np.ndarray | None = None) -> np.ndarray:
    diff = ci != cj
    ci, cj = ci[diff], cj[diff]
    w = None if weights is None else weights[diff]
    flat = np.bincount(ci * ncodes + cj, weights=w, minlength=ncodes * ncodes)
    flat = flat + np.bincount(cj * ncodes + ci, weights=w, minlength=ncodes * ncodes)
    return flat.reshape(ncodes, ncodes)


def _lineage_pairs(labels: list[str], codebook: Any) -> np.ndarray:
    """Bool ``(k, k)``: ``labels[i]`` is an ancestor or a descendant of ``labels[j]``."""
    k = len(labels)
    out = np.zeros((k, k), dtype=bool)
    if codebook is None:
        return out
    index = {c: i for i, c in enumerate(labels)}
    for i, c in enumerate(labels):
        if c not in codebook:
            continue
        for a in codebook.ancestors(c):
            j = index.get(a)
            if j is not None:
                out[i, j] = out[j, i] = True
    return out


@validated(
    {
        "codings": CODINGS,
        "corpus": [*CORPUS, None],
        "level": [Options(str, LEVELS)],
        "measure": [Options(str, MEASURES)],
        "window": [Interval(int, 0, None)],
    }
)
@shares_selection
def cooccurrence(
    codings: Any,
    corpus: Corpus | None = None,
    *,
    level: str = "segment",
    measure: str = "count",
    window: int = 1,
    **filters: Any,
) -> pd.DataFrame:
    """Code × code co-occurrence matrix.

    Levels (what "co-occur" means):

    * ``segment``: a coding of A and a coding of B by the *same coder* in the same document
      whose spans overlap (share at least one character).  ``n12`` is the number of such
      pairs; the diagonal ``n_k`` is the number of codings of k.
    * ``window``: as ``segment``, but the two codings start in turns at most ``window``
      turns apart (``window=0``: the same turn).  Needs the corpus.
    * ``document``: ``n12`` is the number of documents where both codes appear; ``n_k``
      the number of documents with k.

    A code is never paired with its own ancestors or descendants (with a codebook, those cells
    are 0 and ``attrs["excluded"]`` says so): a child's passage is its parent's passage by
    definition, so the pair carries no information.

    Measures: ``count`` (``n12``, diagonal ``n_k``); ``c`` (ATLAS.ti's c-coefficient
    ``n12 / (n1 + n2 − n12)``, diagonal 1; at segment and window level it can exceed 1 when
    one coding overlaps several codings of the other code, and ``attrs["c_out_of_range"]``
    then says so); ``jaccard`` (``|A ∩ B| / |A ∪ B|`` over documents at document level and
    over coded characters at segment level; not defined for windows).

    Args:
        codings: the Codings table.
        corpus: the Corpus (needed for ``role`` and ``level="window"``).
        level: ``segment`` (default), ``document`` or ``window``.
        measure: ``count`` (default), ``c`` or ``jaccard``.
        window: turns apart for ``level="window"``.
        **filters: which codings are counted (:class:`Selection`).

    Returns:
        A symmetric DataFrame (``index.name == columns.name == "code"``), 0 where codes
        never co-occur; NaN only for ``c``/``jaccard`` between codes that are both unused.
        ``attrs``: ``value`` (= measure), ``level``, ``window``, ``frequencies`` (n_k per
        code), ``coder``, ``aggregate``, ``unit``.

    Raises:
        InvalidParameterError: unknown level or measure, a negative window, window level
            without a corpus, ``jaccard`` with windows, or a bad filter (a ``ValueError``
            and a ``TypeError``).

    Examples:
        >>> from qualcode import Codings
        >>> c = Codings.from_records([
        ...     {"doc_id": "d", "start": 0, "end": 10, "code": "a", "coder": "x"},
        ...     {"doc_id": "d", "start": 5, "end": 15, "code": "b", "coder": "x"}])
        >>> int(cooccurrence(c).loc["a", "b"])
        1
    """
    func = "cooccurrence"
    # hand-written: these depend on two parameters at once
    if level == "window" and corpus is None:
        msg = "cooccurrence(level='window') needs the corpus (turn positions)."
        raise InvalidParameterError(msg)
    if level == "window" and measure == "jaccard":
        msg = "The 'measure' parameter of cooccurrence must be a str among {'c', 'count'} when level='window'. Got 'jaccard' instead."
        raise InvalidParameterError(msg)
    sel = Selection.from_keywords(func, filters)
    prep = prepare_selection(func, codings, corpus, sel)
    codebook, codes, aggregate = sel.codebook, sel.codes, sel.aggregate
    f = prep.frame
    labels = code_order(f["code"].unique().tolist(), codebook, codes)
    k = len(labels)
    cmap = {c: i for i, c in enumerate(labels)}
    f = f[f["code"].isin(cmap)]
    cc = pd.Index(labels).get_indexer(f["code"].to_numpy(dtype=object)).astype(np.int64)
    if level == "document":
        docs, dinv = unique_inverse(f["doc_id"].to_numpy())
        pres = np.zeros((len(docs), k), dtype=np.int64)
        pres[dinv, cc] = 1
        n12 = pres.T @ pres
        freq = np.diag(n12).copy()
    else:
        freq = np.bincount(cc, minlength=k).astype(np.int64)
        i, j = cooccurring_pairs(f, level, window)
        n12 = _pair_matrix(cc[i], cc[j], k).astype(np.int64)
        np.fill_diagonal(n12, freq)
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "count":
            out = n12
        elif measure == "c" or level == "document":
            nn = freq[:, None] + freq[None, :] - n12
            out = np.where(nn > 0, n12 / np.where(nn > 0, nn, 1), np.nan)
            np.fill_diagonal(out, np.where(freq > 0, 1.0, np.nan))
        else:  # jaccard over coded characters
            gs, ge = global_offsets(f)
            g, us, ue = union_spans(cc, gs, ge)
            size = np.bincount(g, weights=ue - us, minlength=k)
            zero = np.zeros(len(us), dtype=np.int64)
            a, b = pairs_sorted(zero, us, ue)
            ov = np.minimum(ue[a], ue[b]) - np.maximum(us[a], us[b])
            inter = _pair_matrix(g[a], g[b], k, ov.astype(np.float64))
            np.fill_diagonal(inter, size)
            uni = size[:, None] + size[None, :] - inter
            out = np.where(uni > 0, inter / np.where(uni > 0, uni, 1), np.nan)
    related = _lineage_pairs(labels, codebook)
    if related.any():  # a code trivially co-occurs with its own ancestors: never paired
        out = np.where(related, 0, out)
    m = pd.DataFrame(out, index=pd.Index(labels, name="code"), columns=pd.Index(labels, name="code"))
    attrs: dict[str, Any] = {
        "kind": "cooccurrence",
        "excluded": "code-ancestor pairs (0)" if related.any() else None,
        "value": measure,
        "measure": measure,
        "level": level,
        "window": int(window) if level == "window" else None,
        "frequencies": {c: int(v) for c, v in zip(labels, freq, strict=True)},
        "coder": prep.coder,
        "coders": prep.coders,
        "aggregate": aggregate,
        "unit": "span" if level != "document" else "document",
        "prepared": prep,
    }
    if measure == "c":
        attrs["c_out_of_range"] = bool(np.nanmax(out, initial=0.0) > 1.0)
    m.attrs = attrs
    return m
