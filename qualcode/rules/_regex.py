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

Codebooks come from other people, and a backtracking engine can take exponential time on
some expressions (``(a+)+$`` on a long run of ``a``).  So expressions are bounded twice:
validation refuses what cannot be bounded in size (longer than :data:`MAX_PATTERN_CHARS`,
a repetition count above :data:`MAX_REPEAT_COUNT`, nested counts multiplying past
:data:`MAX_REPEAT_PRODUCT`: ``a{1000000000}`` is one clean error, not an ``OverflowError`` or
gigabytes), and matching runs on the ``regex`` engine (the same syntax and Unicode semantics
as ``re``, version 0) with a hard time budget per rule and batch (:data:`TIME_BUDGET_S`, or
``$QUALCODE_REGEX_BUDGET_S``): an expression that backtracks catastrophically stops with a
:class:`~qualcode.errors.CodebookError` naming the rule, within seconds.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable
from typing import Any

import numpy as np
import regex
from pydantic import StrictBool, field_validator

from ..errors import CodebookError
from ._base import Batch, CompiledRule, Frozen, NonEmptyStr, RuleItem, RuleKind

__all__ = ["RegexKind", "RegexRule"]

_ANCHORED = re.compile(r"(?<!\\)[$^]|\\[AZ]")

#: the longest expression accepted (characters)
MAX_PATTERN_CHARS = 2000
#: the largest count in ``{m}`` / ``{m,n}``
MAX_REPEAT_COUNT = 1000
#: the largest product of nested counts (``(x{100}){100}`` is 10,000)
MAX_REPEAT_PRODUCT = 100_000
#: seconds one rule may spend on one batch (about 400,000 characters) before it is stopped
TIME_BUDGET_S = 5.0


def time_budget() -> float:
    """The time budget per rule and batch: ``$QUALCODE_REGEX_BUDGET_S`` or :data:`TIME_BUDGET_S`."""
    env = os.environ.get("QUALCODE_REGEX_BUDGET_S", "").strip()
    try:
        value = float(env) if env else TIME_BUDGET_S
    except ValueError:
        value = TIME_BUDGET_S
    return value if value > 0 else TIME_BUDGET_S


def _repeat_problem(pattern: str) -> str | None:
    """Why an expression's repetition counts cannot be bounded, or None."""
    try:
        from re import _parser as sre_parse  # type: ignore[attr-defined]  # private; not in typeshed
    except ImportError:  # Python 3.10
        import sre_parse

    unbounded = sre_parse.MAXREPEAT
    try:
        tree = sre_parse.parse(pattern)
    except (re.error, OverflowError, RecursionError, ValueError) as exc:
        return f"invalid regular expression: {exc}"

    def walk(items: Any, factor: int) -> str | None:
        for op, av in items:
            name = str(op)
            if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                lo, hi, sub = av
                counts = [c for c in (lo, hi) if c != unbounded]
                top = max(counts, default=1)
                if top > MAX_REPEAT_COUNT:
                    return f"the repetition count {top} is above {MAX_REPEAT_COUNT}"
                f = factor * max(top, 1)
                if f > MAX_REPEAT_PRODUCT:
                    return f"nested repetition counts multiply to {f:,}, above {MAX_REPEAT_PRODUCT:,}"
                why = walk(sub, f)
            elif name in ("SUBPATTERN", "ATOMIC_GROUP", "ASSERT", "ASSERT_NOT"):
                why = walk(av[-1], factor)
            elif name == "BRANCH":
                why = next((w for b in av[1] if (w := walk(b, factor))), None)
            elif name == "GROUPREF_EXISTS":
                why = next((w for b in av[1:] if b is not None and (w := walk(b, factor))), None)
            else:
                why = None
            if why:
                return why
        return None

    return walk(tree, 1)


def bounded_problem(pattern: str) -> str | None:
    """Why ``pattern`` is refused (syntax, size, repetition counts), or None when it is fine."""
    if len(pattern) > MAX_PATTERN_CHARS:
        return f"the expression is {len(pattern)} characters long, above {MAX_PATTERN_CHARS}"
    try:
        re.compile(pattern)
    except (re.error, OverflowError, RecursionError, ValueError) as exc:
        return f"invalid regular expression {pattern!r}: {exc}"
    why = _repeat_problem(pattern)
    if why:
        return f"{why} in {pattern!r}; qualcode refuses expressions it cannot match in bounded memory"
    try:
        regex.compile(pattern, regex.V0)
    except (regex.error, OverflowError, RecursionError, ValueError, MemoryError) as exc:
        return f"invalid regular expression {pattern!r}: {exc}"
    return None


class RegexRule(Frozen):
    """A regular expression matched on the segment text (``re`` syntax)."""

    id: str | None = None
    lang: str | None = None
    pattern: NonEmptyStr
    ignore_case: StrictBool = True

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        why = bounded_problem(v)
        if why:
            raise ValueError(why)
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
        why = bounded_problem(item.value)
        if why:
            msg = f"rule {rule.rule_id}: {why}"
            raise CodebookError(msg)
        flags = regex.V0 | (regex.IGNORECASE if item.ignore_case else 0)
        return CompiledRule(rule.rule_id, rule.code, rule.kind, rule.lang, regex.compile(item.value, flags))

    def match(self, batch: Batch) -> Iterable[tuple[int, CompiledRule, int, int]]:
        """Character spans within one segment."""
        parts, starts, seg_ends, big = batch.parts, batch.starts, batch.seg_ends, batch.text
        budget = time_budget()
        for r in self.rules:
            deadline = time.monotonic() + budget
            try:
                if _ANCHORED.search(r.value.pattern):  # ^ $ \A \Z refer to each segment
                    for j, text in enumerate(parts):
                        left = deadline - time.monotonic()
                        if left <= 0:
                            raise TimeoutError
                        for m in r.value.finditer(text, timeout=left):
                            if m.end() > m.start():
                                yield j, r, m.start(), m.end()
                    continue
                for m in r.value.finditer(big, timeout=budget):
                    a, b = m.start(), m.end()
                    if b <= a:
                        continue
                    j = int(np.searchsorted(starts, a, side="right")) - 1
                    if b > seg_ends[j]:
                        continue
                    yield j, r, a - int(starts[j]), b - int(starts[j])
            except TimeoutError:
                msg = (
                    f"rule {r.rule_id}: the regular expression {r.value.pattern!r} ran longer than "
                    f"{budget:g} s on {len(big):,} characters of text and was stopped; it backtracks "
                    "catastrophically on this text (nested repeats such as (a+)+ or (\\w+\\s?)+); "
                    "rewrite it without a repeat inside a repeat"
                )
                raise CodebookError(msg) from None
