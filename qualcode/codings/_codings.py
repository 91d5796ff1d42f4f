"""The Codings table: every coding, human or machine, in one tidy table.

One row per (segment or span, code, coder) with the columns
``doc_id, case_id, segment_id, start, end, code, coder, source, score, evidence``.
Extra columns (``text``, ``speaker``, ``role``, ``unit``, ``codebook``, ``model_id``,
``status``...) may ride along; analysis never requires them.  Codings of a corpus with PDF
sources also carry ``page`` and ``page_end`` (nullable integers, see
:meth:`Codings.with_pages`).
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..errors import CodingsError
from ._pages import PAGE_COLUMNS, has_pages, page_columns
from ._review import explain as _explain
from ._review import review as _review
from ._review import suggestions as _suggestions

__all__ = ["CODING_COLUMNS", "SOURCES", "Codings"]

CODING_COLUMNS: tuple[str, ...] = (
    "doc_id",
    "case_id",
    "segment_id",
    "start",
    "end",
    "code",
    "coder",
    "source",
    "score",
    "evidence",
)
SOURCES: tuple[str, ...] = ("human", "rule", "embedding", "classifier")


class Codings:
    """A table of codings.

    Args:
        frame: a DataFrame with at least the columns in :data:`CODING_COLUMNS`
            (``case_id``, ``segment_id``, ``score`` and ``evidence`` may be missing and are
            then filled: ``case_id`` with ``doc_id``, ``segment_id`` with
            ``"{doc_id}@{start}-{end}"``, ``score`` with 1.0, ``evidence`` with ``""``).
        meta: provenance of a machine run (codebook fingerprint, model id, thresholds...).

    Raises:
        CodingsError: a required column is missing, an offset is negative or reversed,
            or ``source`` holds an unknown value.

    Examples:
        >>> import pandas as pd
        >>> c = Codings(pd.DataFrame({"doc_id": ["d1"], "start": [0], "end": [5],
        ...                           "code": ["x"], "coder": ["ana"], "source": ["human"]}))
        >>> c.to_frame().loc[0, "segment_id"]
        'd1@0-5'
    """

    def __init__(self, frame: pd.DataFrame | None = None, *, meta: Mapping[str, Any] | None = None):
        if frame is None:
            frame = pd.DataFrame(columns=list(CODING_COLUMNS))
        if not isinstance(frame, pd.DataFrame):
            msg = f"Codings takes a DataFrame. Got {type(frame).__name__} instead."
            raise TypeError(msg)
        self._frame = _normalise(frame)
        self.meta: dict[str, Any] = dict(meta or {})

    # -- construction ----------------------------------------------------------------
    @classmethod
    def from_records(
        cls, records: Iterable[Mapping[str, Any]], *, meta: Mapping[str, Any] | None = None
    ) -> Codings:
        """Build from an iterable of dicts with the coding columns."""
        rows = list(records)
        frame = pd.DataFrame(rows) if rows else pd.DataFrame(columns=list(CODING_COLUMNS))
        return cls(frame, meta=meta)

    @classmethod
    def concat(cls, parts: Iterable[Codings]) -> Codings:
        """Stack several Codings tables (for instance human and machine) into one."""
        items = list(parts)
        frames = [p._frame for p in items if len(p._frame)]
        meta: dict[str, Any] = {}
        for p in items:
            meta.update(p.meta)
        if not frames:
            return cls(meta=meta)
        return cls(pd.concat(frames, ignore_index=True), meta=meta)

    def __add__(self, other: Codings) -> Codings:
        if not isinstance(other, Codings):
            return NotImplemented
        return Codings.concat([self, other])

    # -- access ----------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """The table as a DataFrame (a copy): coding columns first, extras after."""
        return self._frame.copy()

    def __len__(self) -> int:
        return len(self._frame)

    @property
    def codes(self) -> list[str]:
        """Codes present, sorted."""
        return sorted(self._frame["code"].unique().tolist())

    @property
    def coders(self) -> list[str]:
        """Coders present, sorted."""
        return sorted(self._frame["coder"].unique().tolist())

    @property
    def doc_ids(self) -> list[str]:
        """Documents with at least one coding, sorted."""
        return sorted(self._frame["doc_id"].unique().tolist())

    def filter(
        self,
        *,
        coder: str | Iterable[str] | None = None,
        source: str | Iterable[str] | None = None,
        code: str | Iterable[str] | None = None,
        doc_id: str | Iterable[str] | None = None,
        min_score: float | None = None,
        role: str | Iterable[str] | None = None,
        corpus: Any = None,
    ) -> Codings:
        """Keep the rows matching every given condition.

        Args:
            coder: a coder id or a list of them.
            source: ``human``, ``rule``, ``embedding``, ``classifier``, or a list of them.
            code: a code id or a list of them.
            doc_id: a document id or a list of them.
            min_score: keep rows with ``score >= min_score``.
            role: speaker role(s) (``respondent``, ``participant``...).  Uses the ``role``
                column when present, otherwise looks roles up in ``corpus``.
            corpus: the Corpus, needed for ``role`` when the table has no ``role`` column.

        Raises:
            CodingsError: ``role`` is given but neither a ``role`` column nor ``corpus`` is.
        """
        f = self._frame
        mask = pd.Series(True, index=f.index)
        for col, val in (("coder", coder), ("source", source), ("code", code), ("doc_id", doc_id)):
            if val is not None:
                vals = [val] if isinstance(val, str) else list(val)
                mask &= f[col].isin(vals)
        if min_score is not None:
            mask &= f["score"].fillna(np.inf) >= float(min_score)
        if role is not None:
            roles = [role] if isinstance(role, str) else list(role)
            if "role" in f.columns:
                role_col = f["role"]
            elif corpus is not None:
                role_col = self.with_roles(corpus)._frame["role"]
            else:
                msg = "filter(role=...) needs a 'role' column or the corpus (corpus=...)."
                raise CodingsError(msg)
            mask &= role_col.isin(roles)
        return Codings(f[mask].reset_index(drop=True), meta=self.meta)

    def with_ancestors(self, codebook: Any) -> Codings:
        """These codings plus, for every coding, a copy for each ancestor of its code.

        qualcode stores each coding once, under its most specific code, and the matrices roll
        children up on demand (``aggregate="children"``).  Some coders instead write the parent
        next to the child; to compare with them (or to export to a tool that expects it),
        roll up explicitly.  A span carries an ancestor once per coder, however many of its
        descendants it has.

        Args:
            codebook: the codebook that gives the hierarchy.

        Returns:
            A new Codings; the added rows have ``evidence`` ``"rolled up from <code>"``.
        """
        f = self._frame
        if f.empty:
            return Codings(f.copy(), meta=self.meta)
        extra = []
        for code in f["code"].unique():
            ancestors = codebook.ancestors(code) if code in codebook else []
            rows = f[f["code"] == code]
            for a in ancestors:
                extra.append(rows.assign(code=a, evidence=f"rolled up from {code}"))
        if not extra:
            return Codings(f.copy(), meta=self.meta)
        out = pd.concat([f, *extra], ignore_index=True)
        out = out.drop_duplicates(["doc_id", "start", "end", "code", "coder"], keep="first")
        return Codings(out.reset_index(drop=True), meta=self.meta)

    def with_roles(self, corpus: Any) -> Codings:
        """Add ``speaker`` and ``role`` columns looked up from the corpus turns."""
        f = self._frame.copy()
        speakers = pd.Series(None, index=f.index, dtype=object)
        roles = pd.Series(None, index=f.index, dtype=object)
        for doc_id, rows in f.groupby("doc_id", sort=False).groups.items():
            if doc_id not in corpus:
                continue
            doc = corpus[doc_id]
            idx = doc.turn_indices(f.loc[rows, "start"])
            speakers.loc[rows] = [doc.turns[i].speaker if i >= 0 else None for i in idx]
            roles.loc[rows] = [doc.turns[i].role if i >= 0 else None for i in idx]
        f["speaker"] = speakers
        f["role"] = roles
        return Codings(f, meta=self.meta)

    def with_pages(self, corpus: Any) -> Codings:
        r"""Add (or recompute) ``page`` and ``page_end``: the pages each coding's span is on.

        ``page`` is the page of the span's first character and ``page_end`` that of its last
        one, for documents read from a PDF (``Document.attributes["pages"]``); rows of other
        documents keep the pages the table already had, else are empty (``<NA>``).  When no
        document of ``corpus`` has pages, the table is returned as it is.

        Args:
            corpus: the Corpus the codings refer to.

        Returns:
            A new Codings.

        Examples:
            >>> import pandas as pd, qualcode as qc
            >>> doc = qc.Document("r", "page one\n\npage two", attributes={"pages": [0, 10]})
            >>> c = Codings(pd.DataFrame({"doc_id": ["r"], "start": [10], "end": [18], "code": ["x"]}))
            >>> int(c.with_pages(qc.Corpus([doc])).to_frame().loc[0, "page"])
            2
        """
        if not has_pages(corpus):  # nothing to add: a copy, without checking the table again
            out = Codings.__new__(Codings)
            out._frame, out.meta = self._frame.copy(), dict(self.meta)
            return out
        return Codings(page_columns(self._frame, corpus), meta=self.meta)

    # -- review and explanations (implemented in _review.py) --------------------------
    def explain(self, segment_id: str) -> pd.DataFrame:
        """Why each code was given to ``segment_id``: rule and matched text, or nearest example."""
        return _explain(self, segment_id)

    def suggestions(self, **kwargs: Any) -> pd.DataFrame:
        """Machine codings awaiting review, highest score first."""
        return _suggestions(self, **kwargs)

    def review(self, *args: Any, **kwargs: Any) -> Codings:
        """Accept, reject or recode machine codings; decisions persist to a file."""
        return _review(self, *args, **kwargs)

    # -- output ----------------------------------------------------------------------
    def to_csv(self, path: str | os.PathLike[str], *, overwrite: bool = True) -> None:
        """Write the table to CSV atomically (UTF-8).

        Text cells a spreadsheet would evaluate as formulas (starting with ``= + - @``) get
        an apostrophe in front (``qualcode._io.protect_formulas``); :func:`qualcode.read_codings`
        removes it again.  The table itself is not changed.
        """
        from .._io import write_csv

        write_csv(self._frame, path, overwrite=overwrite)

    def __repr__(self) -> str:
        f = self._frame
        src = ", ".join(f"{k}={v}" for k, v in f["source"].value_counts().sort_index().items())
        return (
            f"Codings({len(f)} codings, {f['code'].nunique()} codes, "
            f"{f['doc_id'].nunique()} documents, coders={self.coders}{', ' + src if src else ''})"
        )

    def _repr_html_(self) -> str:
        f = self._frame
        head = html.escape(repr(self))
        cols = [c for c in ("doc_id", "code", "coder", "source", "score", "text", "evidence") if c in f]
        return f"<div><strong>{head}</strong>{f[cols].head(20).to_html(border=0)}</div>"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        return {"text/plain": repr(self), "text/html": self._repr_html_()}


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    f = frame.copy()
    missing = [c for c in ("doc_id", "start", "end", "code") if c not in f.columns]
    if missing:
        msg = f"Codings table lacks the required column(s) {missing}; it has {list(f.columns)}."
        raise CodingsError(msg)
    f["doc_id"] = f["doc_id"].astype(str)
    f["code"] = f["code"].astype(str)
    try:
        f["start"] = pd.to_numeric(f["start"], errors="raise").astype("int64")
        f["end"] = pd.to_numeric(f["end"], errors="raise").astype("int64")
    except (ValueError, TypeError) as exc:
        msg = f"Codings 'start' and 'end' must be integer character offsets: {exc}"
        raise CodingsError(msg) from exc
    bad = f[(f["start"] < 0) | (f["end"] < f["start"])]
    if len(bad):
        r = bad.iloc[0]
        msg = f"Codings row {bad.index[0]} has invalid offsets ({r['start']}, {r['end']}) in {r['doc_id']!r}."
        raise CodingsError(msg)
    if "case_id" not in f.columns:
        f["case_id"] = f["doc_id"]
    f["case_id"] = f["case_id"].where(f["case_id"].notna(), f["doc_id"]).astype(str)
    if "segment_id" not in f.columns:
        f["segment_id"] = f["doc_id"] + "@" + f["start"].astype(str) + "-" + f["end"].astype(str)
    if "coder" not in f.columns:
        f["coder"] = "unknown"
    f["coder"] = f["coder"].fillna("unknown").astype(str)
    if "source" not in f.columns:
        f["source"] = "human"
    f["source"] = f["source"].fillna("human").astype(str)
    unknown = sorted(set(f["source"]) - set(SOURCES))
    if unknown:
        msg = f"Codings 'source' must be among {SOURCES}. Got {unknown} instead."
        raise CodingsError(msg)
    if "score" not in f.columns:
        f["score"] = 1.0
    f["score"] = pd.to_numeric(f["score"], errors="coerce").astype("float64")
    if "evidence" not in f.columns:
        f["evidence"] = ""
    f["evidence"] = f["evidence"].fillna("").astype(str)
    for col in PAGE_COLUMNS:
        if col in f.columns:
            f[col] = _page_numbers(f[col], col)
    extras = [c for c in f.columns if c not in CODING_COLUMNS]
    return f[list(CODING_COLUMNS) + extras].reset_index(drop=True)


def _page_numbers(values: pd.Series, col: str) -> pd.Series:
    """A ``page``/``page_end`` column as nullable integers (empty cells become ``<NA>``)."""
    if str(values.dtype) == "Int64":
        return values
    raw = values.where(values.notna() & (values.astype(str).str.strip() != ""), None)
    num = pd.to_numeric(raw, errors="coerce")
    bad = num.isna() & raw.notna() | (num.notna() & ((num % 1 != 0) | (num < 1)))
    if bad.any():
        i = bad.idxmax()
        msg = f"Codings row {i}: {col} must be a whole page number >= 1 or empty. Got {values[i]!r} instead."
        raise CodingsError(msg)
    return num.astype("Int64")
