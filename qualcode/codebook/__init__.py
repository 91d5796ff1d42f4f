"""Codebooks: the YAML schema, validation, the Codebook (hierarchy, diff, fingerprint), table import.

Modules: ``_schema`` (the pydantic models; ``Rules`` is assembled from
:data:`qualcode.rules.RULE_KINDS`), ``_validate`` (every problem at once, with line:col),
``_yaml`` (safe loading, saving with comments, canonical dump), ``_codebook`` (the
:class:`Codebook`), ``_display``, ``_diff`` and ``_table`` (CSV/XLSX import). The ``.qdc``
exchange is :func:`qualcode.refi.read_qdc` / :func:`qualcode.refi.write_qdc`.
"""

from ..rules import (
    ALL_LANGUAGES,
    Exclude,
    PatternRule,
    ProximityRule,
    RegexRule,
    RuleItem,
    Scope,
)
from ._codebook import Codebook, read_table
from ._schema import (
    SLUG_RE,
    Code,
    CodebookMetadata,
    EmbeddingSettings,
    Rules,
    SequenceSettings,
    slugify,
)
from ._table import TABLE_COLUMNS

__all__ = [
    "ALL_LANGUAGES",
    "SLUG_RE",
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
    "SequenceSettings",
    "read_table",
    "slugify",
]
