"""Shared machinery of the matrix builders.

* one filter helper (:func:`prepare`) applied by every public function: coder, source,
  minimum score, speaker role, the coder rule (a coder id, ``"all"`` or ``"consensus"``)
  and parent-code aggregation;
* a per-corpus text index (concatenated text, word starts, case sizes) so that character
  and word counts over unions of spans are computed with numpy, never per coding;
* vectorised interval unions (sort once, running maximum of the ends).
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._params import InstanceOf, check_param
from ..codings._codings import Codings
from ..codings._pages import page_columns
from ..corpus._model import Corpus
from ..errors import CodingsError, QualcodeWarning
from ._selection import Selection, shares_selection

logger = logging.getLogger("qualcode")

#: Whitespace code points, exactly those ``str.split()`` splits on.
_WS = np.array([c for c in range(0x3001) if chr(c).isspace()], dtype=np.uint32)

COUNT_VALUES = ("n_segments", "present", "n_docs", "n_cases", "n_words", "n_chars")
PCT_VALUES = ("row_pct", "col_pct", "table_pct")


class MatrixWarning(QualcodeWarning):
    """Codings were left out of a matrix (unknown document or case)."""


#: the qualcode package folder, as code objects name their files
_PACKAGE = os.path.dirname(os.path.dirname(__file__)) + os.sep


def warn_caller(message: str, category: type[Warning] = MatrixWarning) -> None:
    """Warn, pointing at the first caller outside qualcode (however deep the call inside it)."""
    frame = sys._getframe(1)
    level = 2
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)


# ----------------------------------------------------------------------------------
# the declared constraints of the first two parameters of every matrix function
# (the filters they share are declared in _selection.py)
# ----------------------------------------------------------------------------------
#: ``codings``: a Codings table, or a DataFrame with the codings columns (see :func:`as_codings`)
CODINGS = [
    InstanceOf(
        (Codings, pd.DataFrame),
        name="a Codings table",
        hints={object: "Make sure to supply qc.read_codings(...) or a Coder's output."},
    )
]
#: ``corpus``: a Corpus only
CORPUS = [
    InstanceOf(
        Corpus,
        hints={
            object: "Make sure to supply the Corpus the codings refer to (qc.read_corpus(...)), not a DataFrame."
        },
    )
]


def as_codings(codings: Codings | pd.DataFrame) -> Codings:
    """A checked ``codings`` argument (see :data:`CODINGS`) as a Codings table."""
    return codings if isinstance(codings, Codings) else Codings(codings)


def as_list(value: str | Iterable[str] | None) -> list[str] | None:
    """None, one value or several values -> None or a list."""
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


# ----------------------------------------------------------------------------------
# corpus text index
# ----------------------------------------------------------------------------------
@dataclass
class TextIndex:
    """Concatenated text of a corpus with word-start counts and case sizes."""

    doc_ids: list[str]
    base: dict[str, int]  # global offset of each document's first character
    base_arr: np.ndarray  # the same, in doc order
    total: int
    nonspace: np.ndarray  # bool per global character
    word_cum: np.ndarray  # cumulative count of word starts, length total + 1
    turns: pd.DataFrame  # doc_id, turn, speaker, role, case_id, gstart, gend (sorted)
    case_chars: pd.Series  # n_chars per case (index case_id)
    case_words: pd.Series  # n_words per case
    case_doc_chars: pd.Series  # n_chars per (case_id, doc_id)
    case_doc_words: pd.Series
    doc_case: dict[str, str]
    doc_len: dict[str, int]
    doc_index: pd.Index | None = None  # doc_ids as an Index, for vectorised lookups

    def doc_base(self, doc_ids: Any) -> np.ndarray:
        """Global offset of each document's first character (ids must be known)."""
        if self.doc_index is None:
            self.doc_index = pd.Index(self.doc_ids)
        pos = self.doc_index.get_indexer(np.asarray(doc_ids, dtype=object))
        return self.base_arr[pos]

    def words(self, gstart: np.ndarray, gend: np.ndarray) -> np.ndarray:
        """Number of whitespace-separated words in each global span (``str.split`` semantics)."""
        gstart = np.asarray(gstart, dtype=np.int64)
        gend = np.asarray(gend, dtype=np.int64)
        out = np.zeros(len(gstart), dtype=np.int64)
        ok = gend > gstart
        a, b = gstart[ok], gend[ok]
        out[ok] = self.word_cum[b] - self.word_cum[a + 1] + self.nonspace[a].astype(np.int64)
        return out


_INDEX_CACHE: weakref.WeakKeyDictionary[Corpus, tuple[tuple[Any, ...], TextIndex]] = weakref.WeakKeyDictionary()


def _cache_key(corpus: Corpus) -> tuple[Any, ...]:
    """What the text index depends on: the (frozen) Document objects and the case ids.

    Documents are immutable, so comparing them by identity is enough and much cheaper
    than hashing every text (``corpus.fingerprint``) on each matrix call.
    """
    return (tuple(corpus.documents), tuple(corpus.cases.index.astype(str)))


def text_index(corpus: Corpus) -> TextIndex:
    """Build (or fetch from cache) the text index of ``corpus``."""
    key = _cache_key(corpus)
    hit = _INDEX_CACHE.get(corpus)
    if hit is not None and len(hit[0][0]) == len(key[0]) and all(
        a is b for a, b in zip(hit[0][0], key[0], strict=True)
    ) and hit[0][1] == key[1]:
        return hit[1]
    docs = corpus.documents
    doc_ids = [d.doc_id for d in docs]
    lens = np.array([len(d.text) for d in docs], dtype=np.int64)
    base_arr = (np.cumsum(lens + 1) - (lens + 1)).astype(np.int64)  # each text's start; empty for no documents
    big = "\n".join(d.text for d in docs)
    total = len(big)
    codepoints = np.frombuffer(big.encode("utf-32-le"), dtype=np.uint32)
    space = np.isin(codepoints, _WS)
    nonspace = ~space
    starts = nonspace.copy()
    if total:
        starts[1:] &= space[:-1]
    word_cum = np.concatenate([[0], np.cumsum(starts, dtype=np.int64)])
    base = dict(zip(doc_ids, base_arr.tolist(), strict=True))
    rows: list[tuple[Any, ...]] = []
    for d, b in zip(docs, base_arr.tolist(), strict=True):
        for i, t in enumerate(d.turns):
            rows.append((d.doc_id, i, t.speaker, t.role, t.case_id or d.case_id, b + t.start, b + t.end, t.case_id is not None))
    turns = pd.DataFrame(
        rows, columns=["doc_id", "turn", "speaker", "role", "case_id", "gstart", "gend", "own_case"]
    ).astype({"turn": "int64", "gstart": "int64", "gend": "int64"})
    idx = TextIndex(
        doc_ids=doc_ids,
        base=base,
        base_arr=base_arr,
        total=total,
        nonspace=nonspace,
        word_cum=word_cum,
        turns=turns,
        case_chars=pd.Series(dtype="int64"),
        case_words=pd.Series(dtype="int64"),
        case_doc_chars=pd.Series(dtype="int64"),
        case_doc_words=pd.Series(dtype="int64"),
        doc_case={d.doc_id: str(d.case_id) for d in docs},
        doc_len=dict(zip(doc_ids, lens.tolist(), strict=True)),
    )
    # Case sizes: a speaker who is a case of its own owns its turns; the document's case
    # owns the rest of the text (other turns, labels, front matter).
    whole = pd.DataFrame(
        {
            "case_id": [str(d.case_id) for d in docs],
            "doc_id": doc_ids,
            "chars": lens,
            "words": idx.words(base_arr, base_arr + lens),
        }
    )
    own = turns[turns["own_case"]]
    parts = [whole]
    if len(own):
        own_chars = (own["gend"] - own["gstart"]).to_numpy()
        own_words = idx.words(own["gstart"].to_numpy(), own["gend"].to_numpy())
        parts.append(
            pd.DataFrame(
                {"case_id": own["case_id"].to_numpy(), "doc_id": own["doc_id"].to_numpy(), "chars": own_chars, "words": own_words}
            )
        )
        parts.append(
            pd.DataFrame(
                {
                    "case_id": [idx.doc_case[x] for x in own["doc_id"]],
                    "doc_id": own["doc_id"].to_numpy(),
                    "chars": -own_chars,
                    "words": -own_words,
                }
            )
        )
    sizes = pd.concat(parts, ignore_index=True).groupby(["case_id", "doc_id"], sort=False)[["chars", "words"]].sum()
    idx.case_doc_chars = sizes["chars"]
    idx.case_doc_words = sizes["words"]
    per_case = sizes.groupby(level="case_id", sort=False).sum()
    cases = corpus.cases.index.astype(str)
    idx.case_chars = per_case["chars"].reindex(cases, fill_value=0).astype("int64")
    idx.case_words = per_case["words"].reindex(cases, fill_value=0).astype("int64")
    _INDEX_CACHE[corpus] = (key, idx)
    return idx


# ----------------------------------------------------------------------------------
# interval unions
# ----------------------------------------------------------------------------------
def unique_inverse(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` for object arrays, hash-based (much faster).

    Returns the sorted distinct values and, for each input, the position of its value.
    """
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), sort=True)
    return np.asarray(uniques, dtype=object), codes.astype(np.int64)


def union_spans(group: np.ndarray, gstart: np.ndarray, gend: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge overlapping (or touching) spans within each group.

    Args:
        group: integer group code per span (0..G-1).
        gstart: global start offset of each span (documents never overlap globally).
        gend: global end offset of each span.

    Returns:
        ``(group, start, end)`` of the merged, disjoint spans.
    """
    if len(gstart) == 0:
        e = np.zeros(0, dtype=np.int64)
        return e, e, e
    group = np.asarray(group, dtype=np.int64)
    span = int(max(int(np.max(gend)), 1)) + 1
    key_s = group * span + np.asarray(gstart, dtype=np.int64)
    key_e = group * span + np.asarray(gend, dtype=np.int64)
    order = np.argsort(key_s, kind="stable")
    s, e = key_s[order], key_e[order]
    run_max = np.maximum.accumulate(e)
    new = np.ones(len(s), dtype=bool)
    new[1:] = s[1:] > run_max[:-1]
    first = np.flatnonzero(new)
    ends = np.maximum.reduceat(e, first)
    starts = s[first]
    g = starts // span
    return g, starts - g * span, ends - g * span


# ----------------------------------------------------------------------------------
# the prepared codings frame
# ----------------------------------------------------------------------------------
def _turn_lookup(tidx: TextIndex, gstart: np.ndarray) -> np.ndarray:
    """Row position in ``tidx.turns`` of the turn containing each offset, -1 if none."""
    t = tidx.turns
    if not len(t) or not len(gstart):
        return np.full(len(gstart), -1, dtype=np.int64)
    ts = t["gstart"].to_numpy()
    te = t["gend"].to_numpy()
    pos = np.searchsorted(ts, gstart, side="right") - 1
    ok = pos >= 0
    pos_c = np.where(ok, pos, 0)
    inside = ok & (gstart < np.maximum(te[pos_c], ts[pos_c] + 1))
    return np.where(inside, pos, -1)


def _locate(f: pd.DataFrame, tidx: TextIndex) -> tuple[pd.DataFrame, Callable[[str, Any], np.ndarray]]:
    """Add global offsets (``gstart``, ``gend``) and a lookup of the turn each coding starts in.

    The lookup ``at(col, fill)`` gives the ``tidx.turns[col]`` value of that turn, and
    ``fill`` for a coding that starts outside every turn (or when there are no turns).
    """
    base = tidx.doc_base(f["doc_id"].to_numpy(dtype=object))
    f = f.assign(gstart=base + f["start"].to_numpy(), gend=base + f["end"].to_numpy())
    pos = _turn_lookup(tidx, f["gstart"].to_numpy())
    t = tidx.turns
    has = pos >= 0
    posc = np.where(has, pos, 0)

    def at(col: str, fill: Any) -> np.ndarray:
        return np.where(has, t[col].to_numpy()[posc] if len(t) else fill, fill)

    return f, at


def _consensus(f: pd.DataFrame, coders: list[str], tidx: TextIndex | None) -> pd.DataFrame:
    """Characters coded with a code by every coder, as maximal spans."""
    cols = ["doc_id", "case_id", "start", "end", "code", "coder", "source", "score"]
    if f.empty or not coders:
        return f.iloc[0:0]
    n = len(coders)
    docs_u, doc_codes = unique_inverse(f["doc_id"].to_numpy())
    lens = f.groupby("doc_id")["end"].max().reindex(docs_u).to_numpy().astype(np.int64) + 1
    bases = np.concatenate([[0], np.cumsum(lens)[:-1]])
    codes_u, code_codes = unique_inverse(f["code"].to_numpy())
    coder_map = dict.fromkeys(coders)
    coder_codes = pd.Index(list(coder_map)).get_indexer(f["coder"].to_numpy(dtype=object))
    gs = bases[doc_codes] + f["start"].to_numpy()
    ge = bases[doc_codes] + f["end"].to_numpy()
    grp = code_codes * n + coder_codes
    g, us, ue = union_spans(grp, gs, ge)
    code_of = g // n
    pos = np.concatenate([us, ue])
    delta = np.concatenate([np.ones(len(us), dtype=np.int64), -np.ones(len(ue), dtype=np.int64)])
    codeg = np.concatenate([code_of, code_of])
    order = np.lexsort((delta, pos, codeg))  # ends (-1) before starts at the same offset
    pos, delta, codeg = pos[order], delta[order], codeg[order]
    level = np.cumsum(delta)
    nxt = np.append(pos[1:], pos[-1])
    keep = (level == n) & (nxt > pos)
    s, e, c = pos[keep], nxt[keep], codeg[keep]
    # stitch adjacent pieces of the same code
    if len(s):
        cont = np.zeros(len(s), dtype=bool)
        cont[1:] = (c[1:] == c[:-1]) & (s[1:] == e[:-1])
        first = np.flatnonzero(~cont)
        last = np.append(first[1:] - 1, len(s) - 1)
        s, e, c = s[first], e[last], c[first]
    d = np.searchsorted(bases, s, side="right") - 1
    out = pd.DataFrame(
        {
            "doc_id": docs_u[d],
            "start": s - bases[d],
            "end": e - bases[d],
            "code": codes_u[c],
        }
    )
    first_case = f.groupby("doc_id")["case_id"].first()
    out["case_id"] = out["doc_id"].map(first_case)
    out["coder"] = "consensus"
    src = f["source"].unique()
    out["source"] = "human" if set(src) == {"human"} else str(f["source"].mode().iloc[0])
    out["score"] = 1.0
    return out[cols]


def expand_codes(f: pd.DataFrame, codebook: Any, aggregate: str) -> pd.DataFrame:
    """Add parent codes: each coding also counts for every ancestor, without double counting.

    The returned frame has a ``code`` column (the code counted) and ``coded_as`` (the code
    as given).  With ``aggregate="children"`` a segment (same document, span and coder)
    coded with two children of a parent counts once for that parent.
    """
    f = f.copy()
    f["coded_as"] = f["code"]
    f["_rid"] = np.arange(len(f), dtype=np.int64)
    if aggregate == "none" or codebook is None or f.empty:
        return f
    pairs: list[tuple[str, str]] = []
    for code in f["code"].unique():
        pairs.append((code, code))
        if code in codebook:
            for anc in codebook.ancestors(code):
                pairs.append((code, anc))
    m = pd.DataFrame(pairs, columns=["coded_as", "code"])
    out = f.drop(columns=["code"]).merge(m, on="coded_as", how="inner", sort=False)
    # a code's own codings come first, so that de-duplication keeps them
    out["_own"] = out["code"] != out["coded_as"]
    out = out.sort_values(["_own"], kind="stable")
    dup = out.duplicated(["doc_id", "start", "end", "coder", "code"], keep="first") & out["_own"]
    out = out[~dup]
    return out.drop(columns=["_own"]).sort_index(kind="stable").reset_index(drop=True)


def code_order(present: Sequence[str], codebook: Any, codes: Sequence[str] | None = None) -> list[str]:
    """Columns: ``codes`` if given; else the codebook's order, then other codes sorted."""
    if codes is not None:
        return list(codes)
    if codebook is None:
        return sorted(set(present))
    ids = list(codebook.ids)
    extra = sorted(set(present) - set(ids))
    return ids + extra


def theme_of(code: str, codebook: Any) -> str:
    """The root ancestor of ``code`` (itself for a root or an unknown code)."""
    if codebook is None or code not in codebook:
        return code
    anc = list(codebook.ancestors(code))
    if not anc:
        return code
    # ancestors may be nearest-first or root-first: the root is the one without parent
    for a in anc:
        if getattr(codebook[a], "parent", None) in (None, ""):
            return a
    return anc[-1]


@dataclass
class Prepared:
    """Filtered, rule-applied codings plus what the drill-down needs."""

    frame: pd.DataFrame
    coder: str
    coders: list[str]
    aggregate: str
    tidx: TextIndex | None
    corpus: Corpus | None
    codebook: Any

    def __deepcopy__(self, memo: dict[int, Any]) -> Prepared:
        # pandas deep-copies df.attrs on most operations; this object is read-only.
        return self

    def __repr__(self) -> str:
        return f"<{len(self.frame)} codings, coder={self.coder!r}, aggregate={self.aggregate!r}>"


@shares_selection
def prepare(func: str, codings: Any, corpus: Corpus | None, **filters: Any) -> Prepared:
    """Apply the common filters, the coder rule and aggregation.

    Args:
        func: the calling function's name (for messages).
        codings: the Codings table.
        corpus: the Corpus (adds ``speaker``, ``role``, ``turn`` and checks ids) or None.
        **filters: which codings are counted (:class:`Selection`).

    Returns:
        A :class:`Prepared` object; ``frame`` has the coding columns plus ``coded_as``,
        ``speaker``, ``role``, ``turn`` and ``gstart``/``gend`` (global offsets, corpus given),
        and ``page``/``page_end`` when the corpus has PDF sources.
    """
    return prepare_selection(func, codings, corpus, Selection.from_keywords(func, filters))


def prepare_selection(func: str, codings: Any, corpus: Corpus | None, sel: Selection) -> Prepared:
    """:func:`prepare` with the filters already checked and held in ``sel``."""
    check_param("codings", codings, CODINGS, func)
    if corpus is not None:
        check_param("corpus", corpus, CORPUS, func)
    cod = as_codings(codings)
    coder, source, min_score, role = sel.coder, sel.source, sel.min_score, sel.role
    codebook, aggregate, codes = sel.codebook, sel.aggregate, sel.codes
    assert aggregate is not None  # Selection fills in its default on creation
    f = cod._frame  # read-only use; every step below copies
    mask = np.ones(len(f), dtype=bool)
    coder_rule = "all"
    coder_ids = as_list(coder)
    if coder_ids is not None and coder_ids not in (["all"], ["consensus"]):
        unknown = sorted(set(coder_ids) - set(f["coder"].unique()))
        if unknown:
            logger.warning("%s: coder(s) %s have no codings", func, unknown)
        mask &= f["coder"].isin(coder_ids).to_numpy()
        coder_rule = coder_ids[0] if len(coder_ids) == 1 else ",".join(coder_ids)
    elif coder_ids == ["consensus"]:
        coder_rule = "consensus"
    src = as_list(source)
    if src is not None:
        mask &= f["source"].isin(src).to_numpy()
    if min_score is not None:
        mask &= (f["score"].fillna(np.inf) >= float(min_score)).to_numpy()
    f = f[mask]
    tidx = None
    if corpus is not None:
        tidx = text_index(corpus)
        known = f["doc_id"].isin(tidx.base.keys())
        if not known.all():
            bad = sorted(f.loc[~known, "doc_id"].unique())
            msg = f"{func}: {int((~known).sum())} coding(s) refer to documents not in the corpus and were left out: {bad[:10]}"
            warn_caller(msg)
            f = f[known]
        f, at = _locate(f, tidx)
        f["turn"] = at("turn", -1)
        if "speaker" not in f.columns or f["speaker"].isna().all():
            f["speaker"] = at("speaker", None)
        if "role" not in f.columns or f["role"].isna().all():
            f["role"] = at("role", None)
        f = page_columns(f, corpus)  # page and page_end of PDF sources (unchanged otherwise)
    roles = as_list(role)
    if roles is not None:
        if "role" not in f.columns:
            msg = f"{func}(role=...) needs the corpus or a 'role' column in the codings."
            raise CodingsError(msg)
        f = f[f["role"].isin(roles)]
    coders_present = sorted(f["coder"].unique().tolist())
    if coder_rule == "consensus":
        f = _consensus(f, coders_present, tidx)
        if tidx is not None and len(f):
            f, at = _locate(f, tidx)
            f["turn"] = at("turn", -1)
            f["speaker"] = at("speaker", None)
            f["role"] = at("role", None)
            f["case_id"] = at("case_id", f["doc_id"].map(tidx.doc_case).to_numpy())
            f = page_columns(f, corpus)
    f = expand_codes(f.reset_index(drop=True), codebook, aggregate)
    if codes is not None:
        f = f[f["code"].isin(list(codes))].reset_index(drop=True)
    return Prepared(
        frame=f,
        coder=coder_rule,
        coders=coders_present,
        aggregate=aggregate,
        tidx=tidx,
        corpus=corpus,
        codebook=codebook,
    )


def check_cases(func: str, prep: Prepared, cases: pd.Index) -> pd.DataFrame:
    """Drop (with a warning) codings whose case is not a case of the corpus."""
    f = prep.frame
    ok = f["case_id"].isin(cases)
    if not ok.all():
        bad = sorted(f.loc[~ok, "case_id"].unique())
        msg = f"{func}: {int((~ok).sum())} coding(s) have a case_id that is not a corpus case and were left out: {bad[:10]}"
        warn_caller(msg)
        f = f[ok]
    return f


# ----------------------------------------------------------------------------------
# cell statistics
# ----------------------------------------------------------------------------------
def group_stats(
    f: pd.DataFrame, keys: list[str], stats: Iterable[str], tidx: TextIndex | None
) -> pd.DataFrame:
    """Count statistics per group of ``keys``.

    ``n_segments`` counts rows; ``n_docs``/``n_cases`` distinct documents/cases;
    ``n_chars``/``n_words`` the characters/words inside the union of the group's spans
    (overlaps counted once).
    """
    stats = list(stats)
    if f.empty:
        return pd.DataFrame(columns=keys + stats).set_index(keys)
    g = f.groupby(keys, sort=False, observed=True)
    out = pd.DataFrame(index=g.size().index)
    if "n_segments" in stats:
        out["n_segments"] = g.size()
    if "n_docs" in stats:
        out["n_docs"] = g["doc_id"].nunique()
    if "n_cases" in stats:
        out["n_cases"] = g["case_id"].nunique()
    if "n_chars" in stats or "n_words" in stats:
        if tidx is None:
            msg = "character and word counts need the corpus"
            raise ValueError(msg)
        gcode = g.ngroup().to_numpy()
        grp, us, ue = union_spans(gcode, f["gstart"].to_numpy(), f["gend"].to_numpy())
        ngroups = len(out)
        if "n_chars" in stats:
            out["n_chars"] = np.bincount(grp, weights=ue - us, minlength=ngroups).astype(np.int64)
        if "n_words" in stats:
            out["n_words"] = np.bincount(grp, weights=tidx.words(us, ue), minlength=ngroups).astype(np.int64)
    return out


def finish_matrix(
    m: pd.DataFrame,
    *,
    index_name: str,
    columns_name: str,
    attrs: dict[str, Any],
    themes: bool,
    codebook: Any,
    code_axis: str,
    name: str,
) -> pd.DataFrame:
    """Name the axes, optionally group codes under their themes, attach ``attrs``."""
    m.index.name = index_name
    m.columns.name = columns_name
    if themes:
        labels = m.columns if code_axis == "columns" else m.index
        tuples = [(name, name) if c == name else (theme_of(str(c), codebook), str(c)) for c in labels]
        mi = pd.MultiIndex.from_tuples(tuples, names=["theme", "code"])
        if code_axis == "columns":
            m.columns = mi
        else:
            m.index = mi
    m.attrs = attrs
    return m


def unit_of(codings: Any) -> str:
    """The segment unit of a Codings table (``meta["unit"]``, a single ``unit`` value, else "span")."""
    meta = getattr(codings, "meta", {}) or {}
    unit = meta.get("unit")
    if unit:
        return str(unit)
    f = codings.to_frame() if hasattr(codings, "to_frame") else codings
    if "unit" in f.columns and f["unit"].nunique() == 1:
        return str(f["unit"].iloc[0])
    return "span"
