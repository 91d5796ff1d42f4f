"""Token-pattern rules: spaCy ``Matcher`` patterns (full syntax), validated by spaCy itself.

YAML::

    patterns:
      - id: convergence.given          # optional explicit id
        lang: en                       # optional; default every language
        pattern: [{LOWER: {IN: [programs, activities]}}, {LOWER: are}, {LOWER: given}]

Ids: ``{code}.pat.{lang}.{n}``. ``LEMMA`` in a pattern refers to the lookup lemma of the text.
Before running the Matcher, a batch is cut down to the segments holding a token every pattern
needs (see :meth:`PatternKind._required_tokens`); matches never cross a segment, so the hits
are those of the whole batch.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Annotated, Any

import numpy as np
from pydantic import Field, field_validator

from ..errors import CodebookError
from ._base import Batch, CompiledRule, Frozen, RuleItem, RuleKind, yaml_flow

__all__ = ["PatternKind", "PatternRule"]


def validate_token_pattern(pattern: list[dict[str, Any]]) -> list[str]:
    """Run spaCy's own token-pattern validator; return readable problems (never raise)."""
    try:
        from spacy.schemas import validate_token_pattern as spacy_validate
    except Exception:  # pragma: no cover - spaCy is a core dependency
        return []
    try:
        errors = spacy_validate(pattern)
    except Exception as exc:  # never leak spaCy's traceback
        return [str(exc).splitlines()[0] if str(exc) else type(exc).__name__]
    out = []
    for e in errors:
        m = re.match(r"\[(.*?)\]\s*(.*)", e)
        if m:
            parts = [p.strip() for p in m.group(1).split("->")]
            if parts and parts[0] == "pattern":
                parts = parts[1:]
            where = ""
            if parts and parts[0].isdigit():
                where = f"token {parts[0]}"
                parts = parts[1:]
            if parts:
                where += (": " if where else "") + ".".join(parts)
            out.append(f"{where}: {m.group(2)}" if where else m.group(2))
        else:
            out.append(e)
    return out


#: the most tokens in one pattern, and the most repeating tokens (``*``, ``+``, ``{n,}``)
MAX_PATTERN_TOKENS = 50
MAX_REPEATING_TOKENS = 3
_REPEATS = re.compile(r"^[*+]$|^\{\d*,\}$")


def bounded_pattern_problems(pattern: list[dict[str, Any]]) -> list[str]:
    """Why a token pattern could make the Matcher's work explode, or [] when it is bounded.

    The Matcher returns every match, so ``[{"OP": "*"}, {"OP": "*"}]`` has a number of matches
    growing with the square or cube of a segment's length.

    A repeating token (``*``, ``+``, ``{n,}``) must constrain the token (``{"IS_ALPHA": true,
    "OP": "*"}``); an unconstrained gap is written with a bound (``{"OP": "{0,5}"}``).
    """
    out = []
    if len(pattern) > MAX_PATTERN_TOKENS:
        out.append(f"{len(pattern)} tokens, more than {MAX_PATTERN_TOKENS}")
    repeating = 0
    for i, spec in enumerate(pattern):
        if not isinstance(spec, dict):
            continue
        op = str(spec.get("OP", ""))
        if _REPEATS.match(op):
            repeating += 1
            if not [k for k in spec if str(k).upper() != "OP"]:
                out.append(
                    f"token {i}: an unconstrained {op!r} matches any run of tokens; give it a "
                    'bound ({"OP": "{0,5}"}) or a condition ({"IS_ALPHA": true, "OP": "*"})'
                )
    if repeating > MAX_REPEATING_TOKENS:
        out.append(f"{repeating} repeating tokens (* + {{n,}}), more than {MAX_REPEATING_TOKENS}")
    return out


class PatternRule(Frozen):
    """A spaCy token pattern (full Matcher syntax), checked with spaCy's own validator."""

    id: str | None = None
    lang: str | None = None
    pattern: Annotated[list[dict[str, Any]], Field(min_length=1)]

    @field_validator("pattern")
    @classmethod
    def _spacy_valid(cls, v: list[dict[str, Any]]) -> list[dict[str, Any]]:
        problems = validate_token_pattern(v) or bounded_pattern_problems(v)
        if problems:
            msg = "invalid spaCy token pattern: " + "; ".join(problems)
            raise ValueError(msg)
        return v


class PatternKind(RuleKind):
    """spaCy token patterns; owns ``patterns``."""

    name = "pattern"
    short = "pat"
    field = "patterns"
    entry = PatternRule

    @classmethod
    def value(cls, entry: Any, rules: Any) -> Any:
        """A copy of the token pattern."""
        return [dict(t) for t in entry.pattern]

    @classmethod
    def to_yaml(cls, rules: Any, out: Any) -> None:
        """Each pattern on one line, each token spec in flow style."""
        from ruamel.yaml.comments import CommentedMap

        pats = []
        for p in rules.patterns:
            pm = CommentedMap()
            if p.id:
                pm["id"] = p.id
            if p.lang:
                pm["lang"] = p.lang
            pm["pattern"] = yaml_flow(CommentedMap(tok) for tok in p.pattern)
            for tok in pm["pattern"]:
                tok.fa.set_flow_style()
            pats.append(pm)
        if pats:
            out["patterns"] = pats

    @classmethod
    def compile(cls, item: RuleItem) -> CompiledRule:
        """The token pattern as a list of dicts."""
        rule = super().compile(item)
        return CompiledRule(rule.rule_id, rule.code, rule.kind, rule.lang, [dict(t) for t in item.value])

    def __init__(self, pipeline: Any, rules: list[CompiledRule]) -> None:
        from spacy.matcher import Matcher

        super().__init__(pipeline, rules)
        self.vocab = pipeline.vocab
        self.matcher = Matcher(self.vocab, validate=True)
        self.by_id = {r.rule_id: r for r in rules}
        errors = []
        for r in rules:
            try:
                self.matcher.add(r.rule_id, [r.value])
            except (ValueError, KeyError) as exc:
                errors.append(f"code {r.code!r}: pattern {r.rule_id}: {exc}")
        if errors:
            msg = "invalid token pattern(s):\n" + "\n".join(errors)
            raise CodebookError(msg, errors)
        self.required = self._required_tokens()
        # a repeating token can match across many segments of a joined span: match each
        # segment on its own then, so the Matcher's work is bounded by segment length
        self.per_segment = any(
            _REPEATS.match(str(spec.get("OP", ""))) for r in rules for spec in r.value if isinstance(spec, dict)
        )

    def _required_tokens(self) -> list[tuple[int, np.ndarray]] | None:
        """Token values that every token pattern needs, as ``[(attr id, sorted hashes)]``.

        For each pattern, the first token that must occur (no ``OP`` or ``OP: "+"``) and
        is constrained by ``LOWER``/``ORTH``/``TEXT``/``NORM``/``LEMMA`` equal to a string or
        ``IN`` a list of strings gives a necessary condition: a segment without any such
        token cannot match that pattern.  ``None`` when some pattern has no such token (the
        Matcher then runs on every segment).
        """
        from spacy.attrs import LEMMA, LOWER, NORM, ORTH

        ids = {"LOWER": LOWER, "ORTH": ORTH, "TEXT": ORTH, "NORM": NORM, "LEMMA": LEMMA}
        by_attr: dict[int, set[int]] = {}
        strings = self.vocab.strings
        for pattern in (r.value for r in self.by_id.values()):
            found = False
            for spec in pattern:
                if spec.get("OP", "") not in ("", "+"):
                    continue
                for key, val in spec.items():
                    attr = ids.get(str(key).upper())
                    if attr is None:
                        continue
                    if isinstance(val, str):
                        values = [val]
                    elif isinstance(val, Mapping) and set(val) == {"IN"} and isinstance(val["IN"], list):
                        values = val["IN"]
                    else:
                        continue
                    if not values or not all(isinstance(v, str) for v in values):
                        continue
                    by_attr.setdefault(attr, set()).update(strings.add(v) for v in values)
                    found = True
                    break
                if found:
                    break
            if not found:
                return None
        return [(a, np.array(sorted(h), dtype=np.uint64)) for a, h in by_attr.items()]

    def _spans(self, batch: Batch) -> Iterable[tuple[int, Any]]:
        """``(first token, Doc or Span)`` to run the Matcher on.

        Only runs of consecutive segments holding a token every pattern needs; runs fewer
        than 64 tokens apart are matched together (one Matcher call per short run costs more
        than the tokens in between).
        """
        doc = batch.doc
        if self.required is None:
            if not self.per_segment:
                return [(0, doc)]
            segs = np.unique(batch.tok_seg)
        else:
            cand = np.zeros(len(doc), dtype=bool)
            for attr, hashes in self.required:
                cand |= np.isin(doc.to_array(attr).astype(np.uint64), hashes)
            segs = np.unique(batch.tok_seg[cand])
        if not len(segs):
            return []
        first, last = batch.seg_first[segs], batch.seg_last[segs]
        if self.per_segment:
            return [(int(a), doc[int(a) : int(b)]) for a, b in zip(first, last, strict=True) if b > a]
        breaks = np.flatnonzero(first[1:] - last[:-1] >= 64) + 1
        lo = np.r_[0, breaks]
        hi = np.r_[breaks, len(segs)] - 1
        return [(int(a), doc[int(a) : int(b)]) for a, b in zip(first[lo], last[hi], strict=True)]

    def match(self, batch: Batch) -> Iterable[tuple[int, CompiledRule, int, int]]:
        """Matcher hits within one segment."""
        if not len(self.matcher):
            return
        strings = self.vocab.strings
        tok_seg = batch.tok_seg
        for base, sub in self._spans(batch):
            for mid, s, e in self.matcher(sub):
                s, e = s + base, e + base
                seg = int(tok_seg[s])
                if tok_seg[e - 1] != seg:
                    continue
                yield seg, self.by_id[strings[mid]], s, e
