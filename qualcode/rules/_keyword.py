"""Keyword rules: words or phrases, matched on lemmas (default) or lower-case forms.

YAML (a plain list applies to every language)::

    keywords: {en: [nomenclature, national priority], id: [nomenklatur]}
    match_on: lemma        # or lower

Ids: ``{code}.kw.{lang}.{n}`` (``n`` counts the keywords of that language, from 1). Matching
uses the pipeline's shared ``PhraseMatcher`` on ``LEMMA`` (each keyword is lemmatised like
the text, so "budget delay" also matches "Budget delays") or ``LOWER``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Literal

from pydantic import Field

from ._base import (
    ALL_LANGUAGES,
    Batch,
    CompiledRule,
    PerLanguage,
    RuleIds,
    RuleItem,
    RuleKind,
    yaml_lang_dict,
)

__all__ = ["KeywordKind"]


class KeywordKind(RuleKind):
    """Keywords and phrases per language; owns ``keywords`` and ``match_on``."""

    name = "keyword"
    short = "kw"
    field = "keywords"

    @classmethod
    def fields(cls) -> dict[str, tuple[Any, Any]]:
        """``keywords: {lang: [terms]}`` and ``match_on`` (also read by proximity rules)."""
        return {
            "keywords": (PerLanguage, Field(default_factory=dict)),
            "match_on": (Literal["lemma", "lower"], "lemma"),
        }

    @classmethod
    def language_refs(cls, raw: Any) -> Iterator[tuple[tuple[Any, ...], Any, bool]]:
        """The language keys of the ``keywords`` mapping."""
        if isinstance(raw, dict):
            for k in raw:
                yield (cls.field, k), k, True

    @classmethod
    def items(cls, code_id: str, rules: Any, ids: RuleIds) -> Iterator[RuleItem]:
        """One item per keyword, ids counted per language (no explicit ids)."""
        for lang_key, words in rules.keywords.items():
            lang = None if lang_key == ALL_LANGUAGES else lang_key
            for word in words:
                yield RuleItem(ids.next(cls, lang), code_id, cls.name, lang, word,
                               match_on=rules.match_on)

    @classmethod
    def to_yaml(cls, rules: Any, out: Any) -> None:
        """``keywords`` (a plain list when it applies to every language), ``match_on``."""
        if rules.keywords:
            out["keywords"] = yaml_lang_dict(rules.keywords, True)
        if rules.match_on != "lemma":
            out["match_on"] = rules.match_on

    @classmethod
    def to_plain(cls, data: dict[str, Any]) -> None:
        """Keywords of every language as a plain list."""
        if set(data.get("keywords", {})) == {ALL_LANGUAGES}:
            data["keywords"] = data["keywords"][ALL_LANGUAGES]

    @classmethod
    def compile(cls, item: RuleItem) -> CompiledRule:
        """The keyword (stripped) and the attribute to match on."""
        rule = super().compile(item)
        attr = "LOWER" if item.match_on == "lower" else "LEMMA"
        return CompiledRule(rule.rule_id, rule.code, rule.kind, rule.lang, str(item.value).strip(), attr)

    def __init__(self, pipeline: Any, rules: list[CompiledRule]) -> None:
        super().__init__(pipeline, rules)
        for r in rules:
            pipeline.add_phrases(r.attr, r.rule_id, [r.value])

    def match(self, batch: Batch) -> Iterable[tuple[int, CompiledRule, int, int]]:
        """Every phrase match of every keyword."""
        phrases = batch.phrases
        for r in self.rules:
            for seg, s, e in phrases.get(r.rule_id, ()):
                yield seg, r, s, e
