"""The data model: a Corpus of Documents made of speaker Turns.

Character offsets into ``Document.text`` are the single source of truth:
every Turn and every segment is a ``(start, end)`` pair with
``doc.text[start:end] == segment.text``.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._params import Interval, Options, validate_params, validated
from ..errors import IngestError

__all__ = ["KINDS", "ROLES", "UNITS", "Corpus", "Document", "SourceInfo", "Turn"]

Kind = Literal["interview", "fgd", "notes", "survey", "other"]
Role = Literal["interviewer", "respondent", "moderator", "participant", "unknown"]
Unit = Literal["turn", "paragraph", "sentence", "window"]

KINDS: tuple[str, ...] = ("interview", "fgd", "notes", "survey", "other")
ROLES: tuple[str, ...] = ("interviewer", "respondent", "moderator", "participant", "unknown")
UNITS: tuple[str, ...] = ("turn", "paragraph", "sentence", "window")
#: the declared constraints of ``Corpus.segments(unit="window", window=, stride=)``
_WINDOW_PARAMS: dict[str, list[Any]] = {"window": [Interval(int, 1, None)], "stride": [Interval(int, 1, None), None]}

#: Columns every segments table starts with, in this order.
SEGMENT_COLUMNS: tuple[str, ...] = (
    "doc_id",
    "case_id",
    "segment_id",
    "unit",
    "speaker",
    "role",
    "turn",
    "start",
    "end",
    "text",
    "time_start",
    "time_end",
    "language",
    "kind",
    "n_words",
)


@dataclass(frozen=True, slots=True)
class Turn:
    """One speaker's uninterrupted contribution.

    Attributes:
        speaker: the label as written in the transcript (``"R"``, ``"Pak Budi"``...),
            or ``"unknown"`` when the document has no labels.
        role: ``interviewer``, ``respondent``, ``moderator``, ``participant`` or ``unknown``.
        start: offset of the first character of the contribution (the label excluded).
        end: offset one past its last character.
        time_start: start time in seconds, when the transcript has timestamps.
        time_end: end time in seconds, when known.
        case_id: the case this speaker belongs to when speakers are cases of their own
            (focus groups); ``None`` means the document's case.
    """

    speaker: str
    role: str
    start: int
    end: int
    time_start: float | None = None
    time_end: float | None = None
    case_id: str | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            msg = f"Turn role must be one of {ROLES}. Got {self.role!r} instead."
            raise ValueError(msg)
        if not 0 <= self.start <= self.end:
            msg = f"Turn offsets must satisfy 0 <= start <= end. Got ({self.start}, {self.end})."
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class SourceInfo:
    r"""How the document was stored on disk, so that exports can map offsets back.

    Attributes:
        path: the file the document was read from (``None`` when built in memory).
        format: reader name (``txt``, ``md``, ``docx``, ``vtt``, ``srt``, ``csv``, ``xlsx``...).
        encoding: the encoding the bytes were decoded with.
        bom: whether the file began with a byte-order mark.
        newline: the original line-ending style (``"\n"``, ``"\r\n"``, ``"\r"`` or ``"mixed"``).
        sha256: hash of the raw bytes.
    """

    path: str | None = None
    format: str = "text"
    encoding: str = "utf-8"
    bom: bool = False
    newline: str = "\n"
    sha256: str | None = None


@dataclass(frozen=True, slots=True)
class Document:
    r"""One transcript, set of notes or survey response table row.

    Attributes:
        doc_id: unique id within the corpus (by default the file stem).
        text: the full text, line endings normalised to ``\n``.
        case_id: the case the document belongs to (by default ``doc_id``).
        kind: ``interview``, ``fgd``, ``notes``, ``survey`` or ``other``.
        language: ISO 639-1 code (``en``, ``id``...).
        attributes: document metadata (front matter, sidecar columns).
        turns: speaker turns in order; their spans never overlap.
        source: where and how the text was stored.
    """

    doc_id: str
    text: str
    case_id: str | None = None
    kind: str = "interview"
    language: str = "en"
    attributes: Mapping[str, Any] = field(default_factory=dict)
    turns: tuple[Turn, ...] = ()
    source: SourceInfo = field(default_factory=SourceInfo)

    def __post_init__(self) -> None:
        if not isinstance(self.doc_id, str) or not self.doc_id:
            msg = f"Document doc_id must be a non-empty str. Got {self.doc_id!r} instead."
            raise ValueError(msg)
        if self.kind not in KINDS:
            msg = f"Document kind must be one of {KINDS}. Got {self.kind!r} instead."
            raise ValueError(msg)
        if self.case_id is None:
            object.__setattr__(self, "case_id", self.doc_id)
        object.__setattr__(self, "attributes", MappingProxyType(dict(self.attributes)))
        object.__setattr__(self, "turns", tuple(self.turns))
        prev_end = 0
        for i, t in enumerate(self.turns):
            if t.end > len(self.text) or t.start < prev_end:
                msg = (
                    f"Document {self.doc_id!r}: turn {i} span ({t.start}, {t.end}) is outside the "
                    f"text or overlaps the previous turn."
                )
                raise ValueError(msg)
            prev_end = t.end

    @property
    def speakers(self) -> list[str]:
        """Speaker labels in order of first appearance."""
        return list(dict.fromkeys(t.speaker for t in self.turns))

    def turn_indices(self, offsets: Iterable[int]) -> np.ndarray:
        """Index of the turn containing each character offset, ``-1`` where none does.

        A zero-length turn contains its own start offset.
        """
        off = np.asarray(list(offsets), dtype=np.int64)
        if not self.turns:
            return np.full(len(off), -1, dtype=np.int64)
        starts = np.fromiter((t.start for t in self.turns), dtype=np.int64, count=len(self.turns))
        ends = np.fromiter((max(t.end, t.start + 1) for t in self.turns), dtype=np.int64,
                           count=len(self.turns))
        i = np.searchsorted(starts, off, side="right") - 1
        inside = (i >= 0) & (off < ends[np.clip(i, 0, None)])
        return np.where(inside, i, -1)

    def turn_at(self, offset: int) -> Turn | None:
        """The turn containing the character ``offset``, or ``None``."""
        i = int(self.turn_indices([offset])[0])
        return self.turns[i] if i >= 0 else None

    def turn_text(self, i: int) -> str:
        """Text of turn ``i``."""
        t = self.turns[i]
        return self.text[t.start : t.end]

    def with_(self, **changes: Any) -> Document:
        """Return a copy with some fields replaced."""
        return replace(self, **changes)

    def __repr__(self) -> str:
        return (
            f"Document(doc_id={self.doc_id!r}, kind={self.kind!r}, language={self.language!r}, "
            f"case_id={self.case_id!r}, turns={len(self.turns)}, chars={len(self.text)})"
        )


class Corpus:
    """A collection of Documents plus a table of case attributes.

    Args:
        documents: the documents; their ``doc_id`` must be unique.
        cases: case attributes, one row per case, indexed by ``case_id``.  Cases that
            documents or speakers refer to but that have no row get an empty row.

    Examples:
        >>> from qualcode.testing import tiny_corpus
        >>> corpus = tiny_corpus()
        >>> len(corpus) > 0
        True
        >>> seg = corpus.segments(unit="sentence")
        >>> row = seg.iloc[0]
        >>> corpus[row.doc_id].text[row.start:row.end] == row.text
        True
    """

    def __init__(self, documents: Iterable[Document], cases: pd.DataFrame | None = None):
        docs = list(documents)
        seen: dict[str, Document] = {}
        for d in docs:
            if not isinstance(d, Document):
                msg = f"Corpus takes Document objects. Got {type(d).__name__} instead."
                raise TypeError(msg)
            if d.doc_id in seen:
                where = d.source.path or d.doc_id
                other = seen[d.doc_id].source.path or d.doc_id
                msg = f"duplicate doc_id {d.doc_id!r} (also used by {other})"
                raise IngestError(msg, path=where)
            seen[d.doc_id] = d
        self._docs: dict[str, Document] = seen
        self._cases = self._build_cases(cases)
        self._seg_cache: dict[tuple[Any, ...], pd.DataFrame] = {}

    # -- containers -----------------------------------------------------------------
    @property
    def documents(self) -> list[Document]:
        """The documents, in reading order."""
        return list(self._docs.values())

    @property
    def doc_ids(self) -> list[str]:
        """The document ids, in reading order."""
        return list(self._docs)

    def __getitem__(self, doc_id: str) -> Document:
        try:
            return self._docs[doc_id]
        except KeyError:
            msg = f"No document {doc_id!r} in this corpus. Known ids: {', '.join(self._docs)[:300]}"
            raise KeyError(msg) from None

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._docs

    def __iter__(self) -> Iterator[Document]:
        return iter(self._docs.values())

    def __len__(self) -> int:
        return len(self._docs)

    @property
    def cases(self) -> pd.DataFrame:
        """Case attributes, one row per case, indexed by ``case_id`` (a copy)."""
        return self._cases.copy()

    def _build_cases(self, cases: pd.DataFrame | None) -> pd.DataFrame:
        needed: list[str] = []
        for d in self._docs.values():
            assert d.case_id is not None
            needed.append(d.case_id)
            needed.extend(t.case_id for t in d.turns if t.case_id)
        needed = list(dict.fromkeys(needed))
        if cases is None:
            table = pd.DataFrame(index=pd.Index(needed, name="case_id"))
        else:
            table = cases.copy()
            table.index = table.index.astype(str)
            table.index.name = "case_id"
            missing = [c for c in needed if c not in table.index]
            if missing:
                table = pd.concat([table, pd.DataFrame(index=pd.Index(missing, name="case_id"))])
        return table

    def case_of(self, doc_id: str, speaker: str | None = None) -> str:
        """The case id of a document, or of one speaker in it."""
        d = self[doc_id]
        if speaker is not None:
            for t in d.turns:
                if t.speaker == speaker and t.case_id:
                    return t.case_id
        assert d.case_id is not None
        return d.case_id

    # -- segments --------------------------------------------------------------------
    @validated({"unit": [Options(str, UNITS)]}, caller="Corpus.segments")
    def segments(
        self,
        unit: str = "sentence",
        *,
        window: int = 3,
        stride: int | None = None,
        attributes: bool = True,
    ) -> pd.DataFrame:
        """Cut every document into segments and return them as a tidy DataFrame.

        Args:
            unit: ``turn``, ``paragraph`` (blank-line or line-break separated blocks
                inside a turn), ``sentence``, or ``window`` (``window`` consecutive
                sentences of one turn).
            window: number of sentences in a window (``unit="window"`` only).
            stride: sentences between window starts; defaults to ``window`` (no overlap).
            attributes: add the case attributes as extra columns.  An attribute whose
                name clashes with a segment column is added as ``case_<name>``.

        Returns:
            One row per segment with the columns ``doc_id, case_id, segment_id, unit,
            speaker, role, turn, start, end, text, time_start, time_end, language, kind,
            n_words`` followed by the case attributes.  ``segment_id`` is
            ``"{doc_id}@{start}-{end}"``: stable across runs and units.

        Raises:
            InvalidParameterError: an unknown unit, or a window or stride smaller than 1 (a
                ``ValueError``).
        """
        from ._segment import segment_document

        if unit == "window":  # window and stride only matter for windows
            validate_params(_WINDOW_PARAMS, {"window": window, "stride": stride}, "Corpus.segments")
        key = (unit, window, stride if stride is not None else window, attributes)
        cached = self._seg_cache.get(key)
        if cached is not None:
            return cached.copy()
        rows: list[dict[str, Any]] = []
        for d in self._docs.values():
            rows.extend(segment_document(d, unit, window=window, stride=stride))
        frame = pd.DataFrame(rows, columns=list(SEGMENT_COLUMNS))
        frame = frame.astype(
            {"start": "int64", "end": "int64", "turn": "int64", "n_words": "int64"}
        )
        frame["time_start"] = frame["time_start"].astype("float64")
        frame["time_end"] = frame["time_end"].astype("float64")
        if attributes and len(self._cases.columns):
            attrs = self._cases.copy()
            attrs.columns = [
                f"case_{c}" if c in SEGMENT_COLUMNS else c for c in attrs.columns.astype(str)
            ]
            frame = frame.join(attrs, on="case_id")
        frame.attrs = {"unit": unit, "window": window if unit == "window" else None}
        self._seg_cache[key] = frame
        return frame.copy()

    # -- summaries -------------------------------------------------------------------
    def summary(self) -> pd.DataFrame:
        """One row per document: format, kind, language, speakers, turns, sentences, words."""
        sent = self.segments("sentence", attributes=False)
        n_sent = sent.groupby("doc_id").size()
        rows = []
        for d in self._docs.values():
            rows.append(
                {
                    "doc_id": d.doc_id,
                    "format": d.source.format,
                    "kind": d.kind,
                    "language": d.language,
                    "case_id": d.case_id,
                    "speakers": len(d.speakers),
                    "turns": len(d.turns),
                    "sentences": int(n_sent.get(d.doc_id, 0)),
                    "words": sum(len(d.text[t.start : t.end].split()) for t in d.turns),
                }
            )
        return pd.DataFrame(rows).set_index("doc_id")

    @property
    def fingerprint(self) -> str:
        """A stable hash of every document's id, text, turns and the case table."""
        h = hashlib.sha256()
        for d in self._docs.values():
            h.update(d.doc_id.encode())
            h.update(b"\0")
            h.update(d.text.encode())
            h.update(b"\0")
            for t in d.turns:
                h.update(f"{t.speaker}|{t.role}|{t.start}|{t.end}|{t.case_id}".encode())
        h.update(self._cases.to_csv().encode())
        return h.hexdigest()[:16]

    # -- display ---------------------------------------------------------------------
    def __repr__(self) -> str:
        n_turns = sum(len(d.turns) for d in self._docs.values())
        langs = sorted({d.language for d in self._docs.values()})
        return (
            f"Corpus({len(self)} documents, {len(self._cases)} cases, {n_turns} turns, "
            f"languages={langs})"
        )

    def _repr_html_(self) -> str:
        summ = self.summary()
        head = html.escape(repr(self))
        table = summ.to_html(max_rows=30, border=0, classes="qualcode-table")
        return f"<div><strong>{head}</strong>{table}</div>"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        return {"text/plain": repr(self), "text/html": self._repr_html_()}

    def subset(self, doc_ids: Iterable[str]) -> Corpus:
        """A new Corpus with only the given documents (same case table)."""
        docs = [self[i] for i in doc_ids]
        needed = {d.case_id for d in docs} | {t.case_id for d in docs for t in d.turns if t.case_id}
        return Corpus(docs, cases=self._cases[self._cases.index.isin(needed)])
