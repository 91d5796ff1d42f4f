r"""Regular-expression rules, searched in the segment text (Python ``re`` syntax).

YAML::

    regex:
      - pattern: \b(DAK|DAU)\b
        ignore_case: false             # default true
        lang: id                       # optional; default every language
        id: my.rule                    # optional explicit id

Ids: ``{code}.re.{lang}.{n}``. An expression is searched once in a whole batch (the segments
joined by one space) and hits that cross a segment boundary are dropped; an anchored
expression (``^ $ \A \Z``) is searched in each segment, where the anchors mean what they say.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np
from pydantic import StrictBool, field_validator

from ._base import Batch, CompiledRule, Frozen, NonEmptyStr, RuleItem, RuleKind

__all__ = ["RegexKind", "RegexRule"]

_ANCHORED = re.compile(r"(?<!\\)[$^]|\\[AZ]")


class RegexRule(Frozen):
    """A regular expression matched on the segment text (``re`` syntax)."""

    id: str | None = None
    lang: str | None = None
    pattern: NonEmptyStr
    ignore_case: StrictBool = True

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            msg = f"invalid regular expression {v!r}: {exc}"
            raise ValueError(msg) from None
        return v


class RegexKind(RuleKind):
    """Regular expressions; owns ``regex``."""

    name = "regex"
    short = "re"
    field = "regex"
    entry = RegexRule
    unit = "char"

    @classmethod
    def value(cls, entry: Any, rules: Any) -> Any:
        """The expression (a string)."""
        return entry.pattern

    @classmethod
    def options(cls, entry: Any, rules: Any) -> dict[str, Any]:
        """``ignore_case``."""
        return {"ignore_case": entry.ignore_case}

    @classmethod
    def compile(cls, item: RuleItem) -> CompiledRule:
        """The compiled expression (``re.IGNORECASE`` unless ``ignore_case`` is false)."""
        rule = super().compile(item)
        flags = re.IGNORECASE if item.ignore_case else 0
        return CompiledRule(rule.rule_id, rule.code, rule.kind, rule.lang, re.compile(item.value, flags))

    def match(self, batch: Batch) -> Iterable[tuple[int, CompiledRule, int, int]]:
        """Character spans within one segment."""
        parts, starts, seg_ends, big = batch.parts, batch.starts, batch.seg_ends, batch.text
        for r in self.rules:
            if _ANCHORED.search(r.value.pattern):  # ^ $ \A \Z refer to each segment
                for j, text in enumerate(parts):
                    for m in r.value.finditer(text):
                        if m.end() > m.start():
                            yield j, r, m.start(), m.end()
                continue
            for m in r.value.finditer(big):
                a, b = m.start(), m.end()
                if b <= a:
                    continue
                j = int(np.searchsorted(starts, a, side="right")) - 1
                if b > seg_ends[j]:
                    continue
                yield j, r, a - int(starts[j]), b - int(starts[j])
