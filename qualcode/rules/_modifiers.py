"""Modifiers: what happens to the hits of every rule kind of a code.

They are not rule kinds (they find nothing on their own); they are fields of ``rules:``:

* ``exclude``: terms that veto a hit within ``window`` tokens of it (``0``: anywhere in the
  segment);
* ``negation``: a hit preceded by a negation cue (:data:`NEGATION_CUES`: not, no, never,
  without, tidak, bukan, belum, tanpa, tak, jangan...) within ``negation_window`` tokens does
  not count;
* ``scope``: only segments of these speaker roles and/or speakers are matched;
* ``min_hits``: the code fires on a segment when it has at least this many valid hits.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, StrictInt

from ..corpus import ROLES
from ._base import ALL_LANGUAGES, Frozen, NonEmptyStr, PerLanguage, yaml_lang_dict

__all__ = [
    "NEGATION_CUES",
    "CodeModifiers",
    "Exclude",
    "Scope",
    "modifier_fields",
    "modifiers_language_refs",
    "modifiers_to_plain",
    "modifiers_to_yaml",
]

#: Built-in negation cues (lower case), English and Indonesian.
NEGATION_CUES: frozenset[str] = frozenset(
    {
        "not", "no", "never", "without", "nor", "neither", "none", "nobody", "nothing",
        "n't", "cannot", "hardly", "barely", "lack", "lacks", "lacking",
        "tidak", "bukan", "belum", "tanpa", "tak", "jangan", "enggak", "nggak", "gak",
        "ga", "ndak", "tiada", "kurang",
    }
)  # fmt: skip


class Exclude(Frozen):
    """Terms that veto a hit within ``window`` tokens (0 = anywhere in the segment)."""

    terms: PerLanguage = Field(default_factory=dict)
    window: Annotated[StrictInt, Field(ge=0, le=1000)] = 0


class Scope(Frozen):
    """Only code turns of these roles / speakers (empty = no restriction)."""

    roles: list[Literal[ROLES]] = Field(default_factory=list)  # type: ignore[valid-type]  # Literal[<tuple variable>] is valid at run time (pydantic)
    speakers: list[NonEmptyStr] = Field(default_factory=list)


def modifier_fields() -> dict[str, tuple[Any, Any]]:
    """The modifier fields of ``Rules``, in order: ``{name: (annotation, default)}``."""
    return {
        "exclude": (Exclude, Field(default_factory=Exclude)),
        "negation": (StrictBool, False),
        "negation_window": (Annotated[StrictInt, Field(ge=1, le=20)], 3),
        "scope": (Scope, Field(default_factory=Scope)),
        "min_hits": (Annotated[StrictInt, Field(ge=1, le=1000)], 1),
    }


def modifiers_language_refs(raw: Mapping[str, Any]) -> Iterator[tuple[tuple[Any, ...], Any, bool]]:
    """The language keys of ``exclude.terms`` in raw ``rules`` data (see ``RuleKind``)."""
    exclude = raw.get("exclude")
    terms = exclude.get("terms") if isinstance(exclude, Mapping) else None
    if isinstance(terms, Mapping):
        for k in terms:
            yield ("exclude", "terms", k), k, True


def modifiers_to_yaml(rules: Any, out: Any) -> None:
    """Add the non-default modifiers of ``rules`` to ``out`` (a ruamel ``CommentedMap``)."""
    from ruamel.yaml.comments import CommentedMap

    if rules.exclude != Exclude():
        em = CommentedMap()
        if rules.exclude.terms:
            em["terms"] = yaml_lang_dict(rules.exclude.terms, True)
        if rules.exclude.window:
            em["window"] = rules.exclude.window
        out["exclude"] = em
    for f in ("negation", "negation_window", "min_hits"):
        if getattr(rules, f) != type(rules).model_fields[f].default:
            out[f] = getattr(rules, f)
    if rules.scope != Scope():
        out["scope"] = CommentedMap(rules.scope.model_dump(exclude_defaults=True))


def modifiers_to_plain(rules: Any, data: dict[str, Any]) -> None:
    """Drop default ``exclude``/``scope`` from ``model_dump(exclude_defaults=True)`` data."""
    if rules.exclude == Exclude():
        data.pop("exclude", None)
    if rules.scope == Scope():
        data.pop("scope", None)


@dataclass(slots=True)
class CodeModifiers:
    """The modifiers of one code, ready for matching.

    Attributes:
        code: the code id.
        exclude: exclusion terms by language (``"*"``: every language).
        exclude_window: tokens around a hit in which a term vetoes it (0: whole segment).
        negation, negation_window: whether a cue that many tokens before a hit negates it.
        roles, speakers: the scope (empty: no restriction).
        min_hits: valid hits a segment needs for the code to fire.
    """

    code: str
    exclude: dict[str, list[str]] = field(default_factory=dict)
    exclude_window: int = 0
    negation: bool = False
    negation_window: int = 3
    roles: frozenset[str] = frozenset()
    speakers: frozenset[str] = frozenset()
    min_hits: int = 1

    @classmethod
    def from_rules(cls, code_id: str, rules: Any) -> CodeModifiers:
        """The modifiers of a validated ``Rules`` model."""
        return cls(
            code=code_id,
            exclude={str(k): list(v) for k, v in rules.exclude.terms.items()},
            exclude_window=int(rules.exclude.window),
            negation=bool(rules.negation),
            negation_window=int(rules.negation_window),
            roles=frozenset(str(r) for r in rules.scope.roles),
            speakers=frozenset(str(s) for s in rules.scope.speakers),
            min_hits=max(1, int(rules.min_hits)),
        )

    def exclusion_terms(self, lang: str) -> list[str]:
        """The exclusion terms that apply in ``lang``."""
        return self.exclude.get(lang, []) + self.exclude.get(ALL_LANGUAGES, [])
