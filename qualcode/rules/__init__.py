"""Rule matching: one class per rule kind, a registry, and the matcher built from a codebook.

- :data:`RULE_KINDS` lists the rule kinds (:class:`KeywordKind`, :class:`PatternKind`,
  :class:`RegexKind`, :class:`ProximityKind`); each owns its YAML schema, rule ids, canonical
  YAML, compilation and matching. The codebook's ``Rules`` model is assembled from it.
- :class:`RuleMatcher` compiles a codebook's rules and finds every hit in segments;
  :func:`aggregate_hits` turns hits into one row per (segment, code).
- :func:`language_resources` gives the shared per-language blank spaCy pipeline, lemmatiser and
  caches; :func:`cache_info` and :func:`clear_caches` inspect and drop them.

This package never imports :mod:`qualcode.codebook` (the codebook imports it).
"""

from ._base import (
    ALL_LANGUAGES,
    Batch,
    CompiledRule,
    Frozen,
    NonEmptyStr,
    PerLanguage,
    Pipeline,
    RuleIds,
    RuleItem,
    RuleKind,
    yaml_flow,
    yaml_lang_dict,
    yaml_text,
)
from ._keyword import KeywordKind
from ._matcher import HIT_COLUMNS, CodeRules, LangPipeline, RuleMatcher, aggregate_hits, rule_score
from ._modifiers import NEGATION_CUES, CodeModifiers, Exclude, Scope
from ._pattern import PatternKind, PatternRule
from ._proximity import ProximityKind, ProximityRule
from ._regex import RegexKind, RegexRule
from ._registry import RULE_KINDS, RuleKindRegistry
from ._resources import (
    LanguageResources,
    Lemmatizer,
    ResourceRegistry,
    cache_info,
    clear_caches,
    language_resources,
)
from ._schema import RulesBase

__all__ = [
    "ALL_LANGUAGES",
    "HIT_COLUMNS",
    "NEGATION_CUES",
    "RULE_KINDS",
    "Batch",
    "CodeModifiers",
    "CodeRules",
    "CompiledRule",
    "Exclude",
    "Frozen",
    "KeywordKind",
    "LangPipeline",
    "LanguageResources",
    "Lemmatizer",
    "NonEmptyStr",
    "PatternKind",
    "PatternRule",
    "PerLanguage",
    "Pipeline",
    "ProximityKind",
    "ProximityRule",
    "RegexKind",
    "RegexRule",
    "ResourceRegistry",
    "RuleIds",
    "RuleItem",
    "RuleKind",
    "RuleKindRegistry",
    "RuleMatcher",
    "RulesBase",
    "Scope",
    "aggregate_hits",
    "cache_info",
    "clear_caches",
    "language_resources",
    "rule_score",
    "yaml_flow",
    "yaml_lang_dict",
    "yaml_text",
]
