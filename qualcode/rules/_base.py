"""The contract of a rule kind, and what every kind shares.

A rule kind (keyword, pattern, regex, proximity, ...) is one :class:`RuleKind` subclass in its
own module. The class owns everything about its kind:

* its **schema**: the field(s) it adds to a code's ``rules:`` mapping (:meth:`RuleKind.fields`);
* its **ids**: :meth:`RuleKind.items` turns the validated entries into :class:`RuleItem` with
  final ids ``"{code}.{short}.{lang}.{n}"`` (through :class:`RuleIds`, so the format exists once);
* its **canonical YAML** (:meth:`RuleKind.to_yaml`) and plain data (:meth:`RuleKind.to_plain`);
* its **compilation** (:meth:`RuleKind.compile`, one :class:`CompiledRule` per item);
* its **matching**: an instance is built per language pipeline with the compiled rules of that
  language, and :meth:`RuleKind.match` yields the hits of one batch.

The registry (:data:`qualcode.rules.RULE_KINDS`) lists the kinds; the codebook's ``Rules``
schema is assembled from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Protocol

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

__all__ = [
    "ALL_LANGUAGES",
    "Batch",
    "CompiledRule",
    "Frozen",
    "NonEmptyStr",
    "PerLanguage",
    "Pipeline",
    "RuleIds",
    "RuleItem",
    "RuleKind",
    "per_language",
    "yaml_flow",
    "yaml_lang_dict",
    "yaml_text",
]

#: Key used in per-language dicts (keywords, exclusion terms) for "every language".
ALL_LANGUAGES = "*"

NonEmptyStr = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class Frozen(BaseModel):
    """Base of every codebook model: immutable, unknown fields are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def per_language(v: Any) -> Any:
    """A plain list means "every language" (``{"*": [...]}``); ``None`` means none."""
    if v is None:
        return {}
    if isinstance(v, list):
        return {ALL_LANGUAGES: v}
    return v


#: ``{lang: [terms]}``, also written as a plain list (every language).
PerLanguage = Annotated[dict[str, list[NonEmptyStr]], BeforeValidator(per_language)]


# --------------------------------------------------------------------------- items and ids
@dataclass(frozen=True)
class RuleItem:
    """One normalised rule entry.

    Attributes:
        id: the final rule id (explicit or ``"{code}.{kind}.{lang}.{n}"``).
        code: the code id.
        kind: the kind's name: ``"keyword"``, ``"pattern"``, ``"regex"``, ``"proximity"``, or a
            registered kind's :attr:`RuleKind.name`.
        lang: the language the rule applies to, or None for every language.
        value: a keyword/phrase (str), a spaCy token pattern (list of dicts), a regular
            expression (str), for proximity a pair ``(a_terms, b_terms)`` of tuples; whatever
            a registered kind needs.
        match_on: ``"lemma"`` or ``"lower"`` (keywords and proximity terms).
        ignore_case: regex only.
        within: proximity only, the maximum distance in tokens.
    """

    id: str
    code: str
    kind: str
    lang: str | None
    value: Any
    match_on: str = "lemma"
    ignore_case: bool = True
    within: int | None = None


class RuleIds:
    """Final rule ids of one code: explicit ``id`` or ``"{code}.{short}.{lang}.{n}"``.

    ``n`` counts from 1 within (kind, language), explicit ids included, so adding an explicit
    id never renumbers the other rules.

    Args:
        code_id: the code the rules belong to.
    """

    def __init__(self, code_id: str) -> None:
        self.code_id = code_id
        self._counters: dict[tuple[str, str | None], int] = {}

    def next(self, kind: type[RuleKind], lang: str | None, explicit: str | None = None) -> str:
        """The id of the next rule of ``kind`` in ``lang`` (None: every language)."""
        key = (kind.name, lang)
        self._counters[key] = n = self._counters.get(key, 0) + 1
        if explicit:
            return explicit
        return f"{self.code_id}.{kind.short}.{lang or 'all'}.{n}"


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """One rule of one code, compiled.

    Attributes:
        rule_id: explicit id or ``"{code}.{kind}.{lang}.{n}"``.
        code: the code id.
        kind: the kind's short name (``kw``, ``pat``, ``re``, ``prox``...), also the ``kind``
            column of the hits table.
        lang: language code, or ``"*"`` for every language.
        value: keyword (str), token pattern (list), compiled regex, ``(a, b, within)``, or
            whatever a registered kind compiles to.
        attr: ``LEMMA`` or ``LOWER`` (keywords and proximity terms).
    """

    rule_id: str
    code: str
    kind: str
    lang: str
    value: Any
    attr: str = "LEMMA"


# --------------------------------------------------------------------------- what kinds see
class Pipeline(Protocol):
    """What a rule kind may use of the language pipeline it is built in."""

    lang: str
    vocab: Any  # the spaCy Vocab shared by the language's matchers

    def add_phrases(self, attr: str, label: str, terms: Iterable[str]) -> None:
        """Match ``terms`` (lemmatised like the text) on ``attr`` (``LEMMA``/``LOWER``).

        Their matches in a batch appear in ``batch.phrases[label]``; every phrase of every
        kind is found in one pass of spaCy's PhraseMatcher.
        """
        ...


@dataclass(slots=True)
class Batch:
    """Segments of one language, joined by one space and tokenised as one spaCy Doc.

    Attributes:
        doc: the Doc of ``text`` (with lookup lemmas in ``LEMMA``).
        text: the segments joined by ``" "`` (whitespace normalised, offsets unchanged).
        parts: the segment texts.
        starts: character offset of each segment in ``text``.
        seg_ends: character end of each segment in ``text``.
        tok_start, tok_end: character span of each token in ``text``.
        tok_seg: the segment (index into ``parts``) of each token.
        seg_first, seg_last: the token range ``[first, last)`` of each segment.
        phrases: label -> ``[(segment, first token, end token)]`` of the phrases added with
            :meth:`Pipeline.add_phrases` (matches crossing a segment boundary removed).
    """

    doc: Any
    text: str
    parts: list[str]
    starts: np.ndarray
    seg_ends: np.ndarray
    tok_start: np.ndarray
    tok_end: np.ndarray
    tok_seg: np.ndarray
    seg_first: np.ndarray
    seg_last: np.ndarray
    phrases: dict[str, list[tuple[int, int, int]]]


# --------------------------------------------------------------------------- the contract
class RuleKind:
    """Base class of a rule kind (how to add one: ``docs/architecture.md``, "Codebook and rules").

    Class attributes to set:
        name: the kind's name in :class:`RuleItem` (``"keyword"``).
        short: the kind in generated ids and in the hits table (``"kw"``); unique.
        field: the key under ``rules:`` holding the kind's entries (``"keywords"``).
        entry: the pydantic model of one entry of a list-valued field (``None`` otherwise).
        unit: ``"token"`` when :meth:`match` yields token spans, ``"char"`` for character
            spans within the segment text.

    An instance matches the compiled rules of one language; the pipeline builds it with
    ``kind(pipeline, rules)`` and calls :meth:`match` once per batch.
    """

    name: ClassVar[str]
    short: ClassVar[str]
    field: ClassVar[str]
    entry: ClassVar[type[BaseModel] | None] = None
    unit: ClassVar[str] = "token"

    # -- schema ------------------------------------------------------------------------
    @classmethod
    def fields(cls) -> dict[str, tuple[Any, Any]]:
        """Fields this kind adds to ``Rules``, in order: ``{name: (annotation, default)}``.

        The default is a list of :attr:`entry` under :attr:`field`.
        """
        if cls.entry is None:  # pragma: no cover - a kind without entry must override
            msg = f"rule kind {cls.__name__} has no 'entry' model; override fields()"
            raise TypeError(msg)
        return {cls.field: (list[cls.entry], Field(default_factory=list))}  # type: ignore[name-defined]  # a run-time type for pydantic

    @classmethod
    def entries(cls, rules: Any) -> Sequence[Any]:
        """The validated entries of this kind in a ``Rules`` model."""
        return getattr(rules, cls.field)

    @classmethod
    def language_refs(cls, raw: Any) -> Iterator[tuple[tuple[Any, ...], Any, bool]]:
        """Languages named by the raw (unvalidated) value of :attr:`field`.

        Yields ``(location under rules, language, is_mapping_key)`` so that the codebook can
        check them against its ``languages`` and point at the right line. The default reads
        the ``lang`` of each entry of a list.
        """
        if isinstance(raw, list):
            for j, e in enumerate(raw):
                if isinstance(e, Mapping) and e.get("lang") is not None:
                    yield (cls.field, j, "lang"), e["lang"], False

    # -- normalisation -----------------------------------------------------------------
    @classmethod
    def items(cls, code_id: str, rules: Any, ids: RuleIds) -> Iterator[RuleItem]:
        """Normalised items of this kind, with final ids (default: one per entry)."""
        for e in cls.entries(rules):
            lang = getattr(e, "lang", None)
            yield RuleItem(ids.next(cls, lang, getattr(e, "id", None)), code_id, cls.name, lang,
                           cls.value(e, rules), **cls.options(e, rules))

    @classmethod
    def value(cls, entry: Any, rules: Any) -> Any:
        """The :attr:`RuleItem.value` of one entry (default: the entry model itself)."""
        return entry

    @classmethod
    def options(cls, entry: Any, rules: Any) -> dict[str, Any]:
        """Extra :class:`RuleItem` fields of one entry (``match_on``, ``ignore_case``...)."""
        return {}

    # -- output ------------------------------------------------------------------------
    @classmethod
    def to_yaml(cls, rules: Any, out: Any) -> None:
        """Add this kind's non-default fields to ``out`` (a ruamel ``CommentedMap``).

        The default writes each entry without its default values.
        """
        from ruamel.yaml.comments import CommentedMap

        entries = cls.entries(rules)
        if entries:
            out[cls.field] = [CommentedMap(e.model_dump(exclude_defaults=True)) for e in entries]

    @classmethod
    def to_plain(cls, data: dict[str, Any]) -> None:
        """Tidy this kind's part of ``rules.model_dump(exclude_defaults=True)`` in place."""

    # -- compilation and matching ------------------------------------------------------
    @classmethod
    def compile(cls, item: RuleItem) -> CompiledRule:
        """The compiled form of one item (default: the value as it is)."""
        return CompiledRule(item.id, item.code, cls.short, _lang_key(item.lang), item.value)

    def __init__(self, pipeline: Pipeline, rules: list[CompiledRule]) -> None:
        self.pipeline = pipeline
        self.rules = rules

    def match(self, batch: Batch) -> Iterable[tuple[int, CompiledRule, int, int]]:
        """Hits of this kind's rules in one batch: ``(segment, rule, start, end)``.

        ``segment`` indexes ``batch.parts``; ``start``/``end`` are token indices into
        ``batch.doc`` (``unit = "token"``) or character offsets within the segment text
        (``unit = "char"``). Token hits must not cross a segment (``batch.tok_seg``).
        """
        raise NotImplementedError


def _lang_key(lang: str | None) -> str:
    return ALL_LANGUAGES if lang in (None, ALL_LANGUAGES) else str(lang)


# --------------------------------------------------------------------------- YAML style
def yaml_text(v: str) -> Any:
    """A string, written as a literal block when it holds a newline."""
    from ruamel.yaml.scalarstring import LiteralScalarString

    return LiteralScalarString(v + "\n") if "\n" in v else v


def yaml_flow(seq: Iterable[Any]) -> Any:
    """A sequence written in flow style (``[a, b]``)."""
    from ruamel.yaml.comments import CommentedSeq

    s = CommentedSeq(list(seq))
    s.fa.set_flow_style()
    return s


def yaml_lang_dict(d: Mapping[str, list[str]], collapse_all: bool) -> Any:
    """``{lang: [texts]}`` as YAML; ``{"*": [...]}`` as a plain list when ``collapse_all``."""
    from ruamel.yaml.comments import CommentedMap

    if collapse_all and set(d) == {ALL_LANGUAGES}:
        return [yaml_text(x) for x in d[ALL_LANGUAGES]]
    return CommentedMap((k, [yaml_text(x) for x in v]) for k, v in d.items())
