"""Codebooks: the YAML schema, validation, the Codebook (hierarchy, diff, fingerprint), table import."""

from ._codebook import (
    ALL_LANGUAGES,
    Code,
    Codebook,
    CodebookMetadata,
    EmbeddingSettings,
    Exclude,
    PatternRule,
    ProximityRule,
    RegexRule,
    RuleItem,
    Rules,
    Scope,
)
from ._table import TABLE_COLUMNS, read_table

__all__ = [
    "ALL_LANGUAGES",
    "TABLE_COLUMNS",
    "Code",
    "Codebook",
    "CodebookMetadata",
    "EmbeddingSettings",
    "Exclude",
    "PatternRule",
    "ProximityRule",
    "RegexRule",
    "RuleItem",
    "Rules",
    "Scope",
    "read_table",
]
