"""The evidence text of a machine coding, written and read back in one place.

Every machine coding carries a human-readable ``evidence`` string: the source that decided
(``[rule]``, ``[embedding]``, ``[classifier]``) followed by every source's explanation, joined by
``" | "``::

    [rule] rule convergence.kw.en.1 matched 'nomenclature' [120:132] | nearest example
    (convergence.example.en.2) 'We copy last year's list' cos=0.912; score 0.81 >= 0.50

The coder writes these pieces with the functions below, and :func:`parse` reads them back
(``Codings.explain``), so the format is defined once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

__all__ = [
    "classifier_part",
    "FILL_NOTE",
    "combine",
    "decided_without_threshold",
    "decision_part",
    "item_label",
    "nearest_part",
    "parse",
    "rule_part",
    "sequence_part",
]

_RULE_RE = re.compile(r"rule (\S+) matched (?P<q>['\"])(.*?)(?P=q) \[(\d+):(\d+)\]")
_NEAR_RE = re.compile(r"nearest (\w+) \(([^)]*)\) (?P<q>['\"])(.*?)(?P=q) cos=([0-9.]+)")
#: How qualcode 0.1 marked stored parent roll-ups (no longer written; such rows are skipped on review).
VIA_CHILDREN = "via children: "


def rule_part(rule_id: str, matched: str, start: int, end: int, *, negated_by: str | None = None,
              vetoed_by: str | None = None) -> str:
    """One rule hit: ``rule <id> matched '<text>' [start:end]`` (or why it did not count)."""
    span = f" [{start}:{end}]"
    if vetoed_by is not None:
        return f"rule {rule_id} {matched!r}{span} vetoed by exclusion {vetoed_by!r}"
    if negated_by is not None:
        return f"rule {rule_id} {matched!r}{span} negated by {negated_by!r}"
    return f"rule {rule_id} matched {matched!r}{span}"


def item_label(kind: str, item_id: str, text: str) -> str:
    """``nearest <kind> (<item_id>) '<text>'`` with the text cut at 80 characters."""
    text = str(text)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"nearest {kind} ({item_id}) {text!r}"


def nearest_part(label: str, cos: float, counter_id: str | None = None, counter_cos: float | None = None) -> str:
    """The nearest codebook item and its cosine, and the nearest counterexample if any."""
    out = f"{label} cos={cos:.3f}"
    if counter_id is not None:
        out += f"; counterexample ({counter_id}) cos={counter_cos:.3f}"
    return out


def decision_part(score: float, threshold: float) -> str:
    """``score 0.73 >= 0.50``: a calibrated score against its threshold."""
    return f"score {score:.2f} {'>=' if score >= threshold else '<'} {threshold:.2f}"


def classifier_part(probability: float, threshold: float, decided: bool) -> str:
    """``classifier p=0.81 >= 0.40``."""
    return f"classifier p={probability:.2f} {'>=' if decided else '<'} {threshold:.2f}"


def sequence_part(posterior: float, stage: int, n_stages: int, before: str) -> str:
    """``sequence stage 3/8 after objective p=0.83``: a code decoded in the codebook's order."""
    return f"sequence stage {stage}/{n_stages} {before} p={posterior:.2f}"


#: How the fill of an ``exhaustive`` codebook explains a coding.
FILL_NOTE = "exhaustive codebook: the best code of a segment no code reached"


def decided_without_threshold(evidence: str) -> bool:
    """Whether a coding was decided by the sequence decoder or an exhaustive fill, not a threshold."""
    head = evidence.split(" | ", 1)[0]
    return head.startswith("[") and ("] sequence stage " in head or head.endswith(FILL_NOTE))


def combine(source: str, parts: Sequence[str]) -> str:
    """``[<source>] part | part``: the deciding source first, then every explanation."""
    return f"[{source}] " + " | ".join(parts)


def parse(evidence: str) -> list[dict[str, Any]]:
    """The rule hits and nearest items named in an evidence string.

    Returns:
        One dict per piece: ``rule_id, matched, start, end`` for a rule hit, or
        ``nearest_kind, nearest_item, nearest_text, similarity`` for an embedding match;
        an empty list when the string names neither.
    """
    out: list[dict[str, Any]] = []
    for m in _RULE_RE.finditer(evidence):
        out.append({"rule_id": m.group(1), "matched": m.group(3), "start": int(m.group(4)),
                    "end": int(m.group(5))})
    for m in _NEAR_RE.finditer(evidence):
        out.append({"nearest_kind": m.group(1), "nearest_item": m.group(2), "nearest_text": m.group(4),
                    "similarity": float(m.group(5))})
    return out
