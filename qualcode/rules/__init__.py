"""Rule matching: a codebook's rules compiled into spaCy matchers on blank pipelines."""

from ._matcher import (
    HIT_COLUMNS,
    NEGATION_CUES,
    CompiledRule,
    Lemmatizer,
    RuleMatcher,
    aggregate_hits,
    rule_score,
)

__all__ = ["HIT_COLUMNS", "NEGATION_CUES", "CompiledRule", "Lemmatizer", "RuleMatcher", "aggregate_hits", "rule_score"]
