"""Proximity rules: a term of list ``a`` within ``within`` tokens of a term of list ``b``.

YAML::

    proximity:
      - lang: id                       # optional; default every language
        a: [menu, daftar]
        b: [pusat, kementerian]
        within: 8                      # tokens between the two terms (1..100, default 5)

Ids: ``{code}.prox.{lang}.{n}``. The terms are matched like keywords (on ``match_on``, lemmas
by default) in the pipeline's shared phrase pass; a segment gives at most one hit per rule,
spanning both terms, in either order.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import Field, StrictInt

from ._base import Batch, CompiledRule, Frozen, NonEmptyStr, RuleItem, RuleKind, yaml_flow

__all__ = ["ProximityKind", "ProximityRule"]


class ProximityRule(Frozen):
    """A term of list ``a`` within ``within`` tokens of a term of list ``b`` (either order)."""

    id: str | None = None
    lang: str | None = None
    a: Annotated[list[NonEmptyStr], Field(min_length=1)]
    b: Annotated[list[NonEmptyStr], Field(min_length=1)]
    within: Annotated[StrictInt, Field(ge=1, le=100)] = 5


class ProximityKind(RuleKind):
    """Two term lists near each other; owns ``proximity`` (and reads ``match_on``)."""

    name = "proximity"
    short = "prox"
    field = "proximity"
    entry = ProximityRule

    @classmethod
    def value(cls, entry: Any, rules: Any) -> Any:
        """``(a_terms, b_terms)`` as tuples."""
        return (tuple(entry.a), tuple(entry.b))

    @classmethod
    def options(cls, entry: Any, rules: Any) -> dict[str, Any]:
        """``within`` and the code's ``match_on``."""
        return {"within": entry.within, "match_on": rules.match_on}

    @classmethod
    def to_yaml(cls, rules: Any, out: Any) -> None:
        """Each rule with ``a``/``b`` in flow style and ``within`` always written."""
        from ruamel.yaml.comments import CommentedMap

        prox = []
        for x in rules.proximity:
            pm = CommentedMap()
            if x.id:
                pm["id"] = x.id
            if x.lang:
                pm["lang"] = x.lang
            pm["a"] = yaml_flow(x.a)
            pm["b"] = yaml_flow(x.b)
            pm["within"] = x.within
            prox.append(pm)
        if prox:
            out["proximity"] = prox

    @classmethod
    def compile(cls, item: RuleItem) -> CompiledRule:
        """``([a terms], [b terms], within)`` and the attribute to match on."""
        rule = super().compile(item)
        a, b = item.value
        value = ([str(x) for x in a], [str(x) for x in b], int(item.within or 5))
        attr = "LOWER" if item.match_on == "lower" else "LEMMA"
        return CompiledRule(rule.rule_id, rule.code, rule.kind, rule.lang, value, attr)

    def __init__(self, pipeline: Any, rules: list[CompiledRule]) -> None:
        super().__init__(pipeline, rules)
        for r in rules:
            a, b, _within = r.value
            pipeline.add_phrases(r.attr, f"\x00a\x00{r.rule_id}", a)
            pipeline.add_phrases(r.attr, f"\x00b\x00{r.rule_id}", b)

    def match(self, batch: Batch) -> Iterable[tuple[int, CompiledRule, int, int]]:
        """Per segment, the first ``b`` term with an ``a`` term close enough."""
        phrases = batch.phrases
        for r in self.rules:
            within = r.value[2]
            a_by_seg: dict[int, list[tuple[int, int]]] = {}
            for seg, s, e in phrases.get(f"\x00a\x00{r.rule_id}", ()):
                a_by_seg.setdefault(seg, []).append((s, e))
            if not a_by_seg:
                continue
            b_by_seg: dict[int, list[tuple[int, int]]] = {}
            for seg, s, e in phrases.get(f"\x00b\x00{r.rule_id}", ()):
                b_by_seg.setdefault(seg, []).append((s, e))
            for seg, a_spans in a_by_seg.items():
                hit = _first_pair(a_spans, b_by_seg.get(seg, ()), within)
                if hit is not None:
                    yield seg, r, hit[0], hit[1]


def _first_pair(a_spans: list[tuple[int, int]], b_spans: Iterable[tuple[int, int]],
                within: int) -> tuple[int, int] | None:
    for bs, be in b_spans:
        for as_, ae in a_spans:
            if max(bs - ae, as_ - be, 0) <= within:
                return min(as_, bs), max(ae, be)
    return None
