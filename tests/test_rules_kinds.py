"""The rule-kind extension point is real: a kind defined here (a ``starts_with`` kind, as in the
recipe of docs/architecture.md) is registered with one call, and a codebook using it
validates (with positions), round-trips through YAML, and matches like the built-in kinds."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Any

import pytest
from pydantic import Field

import qualcode.codebook
from qualcode.codebook import Codebook
from qualcode.errors import CodebookError
from qualcode.rules import (
    RULE_KINDS,
    Batch,
    CompiledRule,
    Frozen,
    NonEmptyStr,
    RuleItem,
    RuleKind,
    RuleKindRegistry,
    RuleMatcher,
    aggregate_hits,
)


# ---------------------------------------------------------------- the new kind (one "file")
class StartsWithRule(Frozen):
    """A segment that opens with one of ``words`` (case-insensitive, whole words)."""

    id: str | None = None
    lang: str | None = None
    words: Annotated[list[NonEmptyStr], Field(min_length=1)]


class StartsWithKind(RuleKind):
    name = "starts_with"
    short = "sw"
    field = "starts_with"
    entry = StartsWithRule
    unit = "char"

    @classmethod
    def value(cls, entry: Any, rules: Any) -> Any:
        return tuple(entry.words)

    @classmethod
    def compile(cls, item: RuleItem) -> CompiledRule:
        words = "|".join(re.escape(w) for w in sorted(item.value, key=len, reverse=True))
        rx = re.compile(rf"\s*({words})\b", re.IGNORECASE)
        return CompiledRule(item.id, item.code, cls.short, item.lang or "*", rx)

    def match(self, batch: Batch) -> Iterable[tuple[int, CompiledRule, int, int]]:
        for r in self.rules:
            for j, text in enumerate(batch.parts):
                m = r.value.match(text)
                if m:
                    yield j, r, m.start(1), m.end(1)


@pytest.fixture
def starts_with():
    RULE_KINDS.register(StartsWithKind)  # the one registration line
    yield StartsWithKind
    RULE_KINDS.unregister("starts_with")


YAML = """\
name: survey
version: "1"
languages: [en, id]
codes:
  - id: refusal
    definition: The respondent declines.
    rules:
      keywords: [refuse]
      starts_with:
        - words: [no, nope]       # comments survive saving
        - lang: id
          words: [tidak]
      negation: true
"""


# ---------------------------------------------------------------- tests
def test_rules_kind_registered_validates_and_numbers_ids(starts_with):
    cb = Codebook.loads(YAML)
    items = cb["refusal"].rule_items()
    assert [(i.id, i.kind, i.lang) for i in items] == [
        ("refusal.kw.all.1", "keyword", None),
        ("refusal.sw.all.1", "starts_with", None),
        ("refusal.sw.id.1", "starts_with", "id"),
    ]
    assert items[1].value == ("no", "nope")
    assert list(RULE_KINDS.rules_model.model_fields)[5] == "starts_with"  # after the built-in kinds
    assert cb.to_frame().loc[0, "n_rules"] == 3


def test_rules_kind_registered_reports_problems_with_positions(starts_with):
    bad = YAML.replace("- words: [no, nope]", "- wrds: [no, nope]").replace("lang: id", "lang: fr")
    with pytest.raises(CodebookError) as info:
        Codebook.loads(bad, source="s.yaml")
    problems = info.value.problems
    assert any(p.startswith("s.yaml:10:11: codes[0].rules.starts_with[0].wrds: unknown field 'wrds'; "
                            "did you mean 'words'?") for p in problems), problems
    assert any(p.startswith("s.yaml:11:17: codes[0].rules.starts_with[1].lang: unknown language key 'fr'")
               for p in problems), problems


def test_rules_kind_registered_round_trips_through_yaml(starts_with, tmp_path):
    cb = Codebook.loads(YAML)
    saved = cb.save(tmp_path / "s.yaml").read_text(encoding="utf-8")
    assert saved == YAML  # written back from the document, comments kept
    canonical = Codebook.from_dict(cb.to_dict()).to_yaml()
    assert "starts_with:\n" in canonical and "- words:\n" in canonical
    back = Codebook.loads(canonical)
    assert back == cb and back.fingerprint == cb.fingerprint
    assert back["refusal"].rules.to_plain()["starts_with"] == [
        {"words": ["no", "nope"]}, {"lang": "id", "words": ["tidak"]}]


def test_rules_kind_registered_matches_with_modifiers(starts_with):
    cb = Codebook.loads(YAML)
    texts = ["No, I never went.", "  Nope.", "Nobody knows.", "I said no.", "Tidak mau.", "Tidak mau.",
             "Why not: no."]
    langs = ["en", "en", "en", "en", "id", "en", "en"]
    offsets = [10 * i for i in range(len(texts))]
    m = RuleMatcher(cb)
    hits = m.match(texts, languages=langs, offsets=offsets)
    assert hits["segment"].tolist() == [0, 1, 4]  # "Nobody" is not "no"; "tidak" only in id
    assert hits["rule_id"].tolist() == ["refusal.sw.all.1", "refusal.sw.all.1", "refusal.sw.id.1"]
    assert set(hits["kind"]) == {"sw"}
    for h in hits.itertuples():
        assert texts[h.segment][h.start - offsets[h.segment]: h.end - offsets[h.segment]] == h.matched
    assert hits["matched"].tolist() == ["No", "Nope", "Tidak"]
    agg = aggregate_hits(hits, m)
    assert agg["fired"].all() and agg["score"].tolist() == pytest.approx([0.8, 0.8, 0.8])
    # the modifiers judge the new kind's hits like any other: scope and exclusion
    scoped = Codebook.loads(YAML.replace("negation: true", "scope: {roles: [respondent]}\n"
                                         "      exclude: {terms: [thanks], window: 2}"))
    judged = RuleMatcher(scoped).match(["No.", "No.", "No thanks."], roles=["interviewer", "respondent", "respondent"])
    assert judged["segment"].tolist() == [1, 2]
    assert judged["vetoed"].tolist() == [False, True] and judged.loc[1, "veto"] == "thanks"


def test_rules_kind_unregistered_is_an_unknown_field_again(starts_with):
    cb = Codebook.loads(YAML)
    RULE_KINDS.unregister("starts_with")
    try:
        assert RULE_KINDS.rules_model is qualcode.codebook.Rules  # the built-in model again
        with pytest.raises(CodebookError, match="unknown field 'starts_with'"):
            Codebook.loads(YAML)
        # a codebook validated while the kind was registered still matches
        assert RuleMatcher(cb).match(["Nope."])["rule_id"].tolist() == ["refusal.sw.all.1"]
    finally:
        RULE_KINDS.register(StartsWithKind)


def test_rules_kind_registry_refuses_clashes():
    class Twin(StartsWithKind):
        name = "keyword"

    class ShortTwin(StartsWithKind):
        short = "kw"

    class ModifierField(StartsWithKind):
        name, short, field = "veto", "veto", "exclude"

    class NoField(RuleKind):
        name, short = "bare", "bare"

    registry = RuleKindRegistry(RULE_KINDS)
    for kind in (Twin, ShortTwin):
        with pytest.raises(ValueError, match="clashes with KeywordKind"):
            registry.register(kind)
    with pytest.raises(ValueError, match="declares field 'exclude', which is a modifier"):
        registry.register(ModifierField)
    with pytest.raises(TypeError, match="must set the class attribute 'field'"):
        registry.register(NoField)
    with pytest.raises(TypeError, match="must be a RuleKind subclass"):
        registry.register(dict)  # type: ignore[arg-type]
    assert registry.names == ["keyword", "pattern", "regex", "proximity"]
    with pytest.raises(KeyError, match="no rule kind 'veto'"):
        registry.unregister("veto")
