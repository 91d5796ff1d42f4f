"""The codebook's pydantic models: Code, EmbeddingSettings, CodebookMetadata and Rules.

``Rules`` is assembled from :data:`qualcode.rules.RULE_KINDS`. Every model is frozen and
forbids unknown fields. Single-field checks live here as validators; checks that need the whole
codebook (duplicate ids, parents, cycles, language keys, rule ids) live in :mod:`._validate`.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    Field,
    SerializeAsAny,
    StrictBool,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ..rules import RULE_KINDS, Frozen, NonEmptyStr, RuleItem, RulesBase

__all__ = [
    "COLOR_RE",
    "LANG_RE",
    "SLUG_RE",
    "Code",
    "CodebookMetadata",
    "EmbeddingSettings",
    "Rules",
    "SequenceSettings",
    "slugify",
]

SLUG_RE = re.compile(r"^[a-z][a-z0-9_]*$")
LANG_RE = re.compile(r"^[a-z]{2,3}$")
COLOR_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")

#: The ``rules:`` model of the built-in rule kinds (see :class:`qualcode.rules.RulesBase`).
Rules = RULE_KINDS.rules_model

if TYPE_CHECKING:
    _RulesField = RulesBase  # what type checkers see: the assembled model is dynamic
else:
    _RulesField = Rules  # what pydantic sees (JSON schema); validation uses the registry


def slugify(name: str, taken: set[str] | None = None) -> str:
    """A code-id slug for ``name`` (ASCII, lowercase, ``_``), unique among ``taken``.

    Args:
        name: any label, e.g. ``"Data-based policy (DBP)"``.
        taken: ids already used; the result is added to it.

    Returns:
        e.g. ``"data_based_policy_dbp"``; ``"_2"``, ``"_3"``... appended on clashes.

    Examples:
        >>> slugify("Data-based policy (DBP)")
        'data_based_policy_dbp'
    """
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "code"
    if not slug[0].isalpha():
        slug = "c_" + slug
    if taken is None:
        return slug
    base, n = slug, 2
    while slug in taken:
        slug = f"{base}_{n}"
        n += 1
    taken.add(slug)
    return slug


def _strip(v: Any) -> Any:
    return v.strip() if isinstance(v, str) else v


def _default_rules() -> RulesBase:
    return RULE_KINDS.rules_model()


class EmbeddingSettings(Frozen):
    """How a code takes part in embedding similarity."""

    enabled: StrictBool = True
    threshold: float | None = None
    use_definition: StrictBool = True
    use_examples: StrictBool = True
    use_counterexamples: StrictBool = True

    @field_validator("threshold", mode="before")
    @classmethod
    def _number(cls, v: Any) -> Any:
        if isinstance(v, (bool, str)):
            msg = f"threshold must be a number between 0 and 1 (or null). Got {v!r}."
            raise ValueError(msg)
        return v

    @field_validator("threshold")
    @classmethod
    def _in_range(cls, v: float | None) -> float | None:
        if v is not None and not 0.0 <= v <= 1.0:
            msg = f"threshold out of range: must be between 0 and 1 (a cosine similarity). Got {v}."
            raise ValueError(msg)
        return v


class Code(Frozen):
    """One code of a codebook (immutable).

    Attributes:
        id: slug (``^[a-z][a-z0-9_]*$``), unique in the codebook.
        name: human label (defaults to the id).
        parent: id of the parent code, or None for a root.
        definition, inclusion, exclusion: what a coder looks for / includes / excludes.
        examples, counterexamples: passages per language (``{"en": [...], "id": [...]}``).
        color: ``#RRGGBB`` or None.
        codable: whether a coder (or the machine) may assign this code directly; ``false``
            for a theme that only groups its children (REFI-QDA ``isCodable``).  Leaves are
            always codable.  A codable parent is matched on its own definition and examples
            like a leaf; roll-ups from its children are computed by the matrices.
        rules: ``Rules``, validated with the rule kinds registered in
            :data:`qualcode.rules.RULE_KINDS`.
        embedding: :class:`EmbeddingSettings`.
    """

    id: str
    name: NonEmptyStr
    parent: str | None = None
    definition: str = ""
    inclusion: str = ""
    exclusion: str = ""
    examples: dict[str, list[NonEmptyStr]] = Field(default_factory=dict)
    counterexamples: dict[str, list[NonEmptyStr]] = Field(default_factory=dict)
    color: str | None = None
    codable: StrictBool = True
    rules: SerializeAsAny[_RulesField] = Field(default_factory=_default_rules)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.id))

    @model_validator(mode="before")
    @classmethod
    def _default_name(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and data.get("name") is None and isinstance(data.get("id"), str):
            data = dict(data)
            data["name"] = data["id"]
        return data

    @field_validator("id")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not SLUG_RE.match(v):
            msg = (
                "code ids must be slugs: lowercase letters, digits and '_', starting with a "
                f"letter (e.g. 'data_based_policy'). Got {v!r}."
            )
            raise ValueError(msg)
        return v

    @field_validator("parent")
    @classmethod
    def _parent_slug(cls, v: str | None) -> str | None:
        if v is not None and not SLUG_RE.match(v):
            msg = f"parent must be the id of another code (a slug). Got {v!r}."
            raise ValueError(msg)
        return v

    v_text = field_validator("definition", "inclusion", "exclusion", mode="before")(
        lambda cls, v: "" if v is None else _strip(v)
    )

    @field_validator("examples", "counterexamples", mode="before")
    @classmethod
    def _by_language(cls, v: Any, info: ValidationInfo) -> Any:
        if v is None:
            return {}
        if isinstance(v, list):
            langs = (info.context or {}).get("languages") or ["en"]
            return {langs[0]: v}
        return v

    @field_validator("color")
    @classmethod
    def _color(cls, v: str | None) -> str | None:
        if v is not None and not COLOR_RE.match(v):
            msg = f"bad colour {v!r}: use '#RRGGBB' hex, e.g. '#1f77b4'."
            raise ValueError(msg)
        return v

    @field_validator("rules", mode="wrap")
    @classmethod
    def _registered_kinds(cls, v: Any, handler: Any, info: ValidationInfo) -> Any:
        """Validate with the ``Rules`` model of the kinds registered now (not at import)."""
        model = RULE_KINDS.rules_model
        if isinstance(v, model):
            return v
        if isinstance(v, RulesBase):
            v = v.model_dump()
        return model.model_validate(v, context=info.context)

    def rule_items(self) -> list[RuleItem]:
        """Every rule of this code, normalised, with its final id (see ``Rules.items``)."""
        return list(self.rules.items(self.id))

    def all_examples(self) -> list[str]:
        """Examples of every language, in language order."""
        return [t for texts in self.examples.values() for t in texts]

    def all_counterexamples(self) -> list[str]:
        """Counterexamples of every language, in language order."""
        return [t for texts in self.counterexamples.values() for t in texts]


class SequenceSettings(Frozen):
    """Codes that follow an order within each document, decoded together (``sequence:``).

    Some texts have a known structure: a research abstract moves from background to
    objective, method, results and conclusion, and its coders read each sentence in that
    order ("the archetype guides the coding").  ``order`` lists the stages; a stage is one
    code or a list of codes that may alternate.  Every coded segment of a document then gets
    exactly one code of the sequence: the most probable path of codes through the document,
    where each segment's evidence is its zero-shot score (or its classifier's probability
    after ``fit``) and a path goes forward through the stages, or steps back ``d`` stages at
    the cost ``back ** d``.  Codes not in ``order`` are decided on their own as usual.

    Attributes:
        order: the stages in document order, e.g. ``[background, [gap, need], objective]``.
        skip: codes whose segments are left out of the sequence (e.g. a rule-coded
            ``heading``): a segment assigned one of them gets no sequence code.
        back: the probability of a step back by one stage, relative to a step forward
            (0 < back <= 1; 1 means no order at all); ``d`` stages back: ``back ** d``.
    """

    order: list[list[NonEmptyStr]]
    skip: list[NonEmptyStr] = Field(default_factory=list)
    back: Annotated[float, Field(gt=0.0, le=1.0)] = 0.01

    @field_validator("order", mode="before")
    @classmethod
    def _order(cls, v: Any) -> Any:
        """A stage is a code id or a list of code ids; at least two stages."""
        if not isinstance(v, list) or len(v) < 2:
            msg = "sequence.order must list at least two stages, each a code id or a list of code ids."
            raise ValueError(msg)
        out = [x if isinstance(x, list) else [x] for x in v]
        seen: set[Any] = set()
        for stage in out:
            if not stage:
                msg = "sequence.order has an empty stage; write a code id or a list of code ids."
                raise ValueError(msg)
            for x in stage:
                if isinstance(x, str) and x in seen:
                    msg = f"sequence.order lists {x!r} twice; a code belongs to one stage."
                    raise ValueError(msg)
                seen.add(x if isinstance(x, str) else id(x))
        return out

    v_skip = field_validator("skip", mode="before")(
        lambda cls, v: [v] if isinstance(v, str) else ([] if v is None else v)
    )

    @property
    def codes(self) -> list[str]:
        """The codes of the sequence, in stage order."""
        return [c for stage in self.order for c in stage]

    def stage_of(self) -> dict[str, int]:
        """``{code: stage index}``."""
        return {c: i for i, stage in enumerate(self.order) for c in stage}


class CodebookMetadata(Frozen):
    """Top-level metadata of a codebook.

    ``scope`` names the documents the codebook applies to, by document or case attributes:
    ``{study: technocratic_planning}`` (a list of values means any of them; several keys must
    all match).  Empty: every document.  ``sequence`` declares codes that follow an order
    within each document (see :class:`SequenceSettings`).  ``exhaustive: true`` says that the
    coders give every segment at least one code (every survey answer, every sentence of an
    abstract): the coder then gives a segment no code reached its best-scoring code.
    """

    name: NonEmptyStr
    version: NonEmptyStr = "0.1.0"
    languages: Annotated[list[str], Field(min_length=1)] = Field(default_factory=lambda: ["en"])
    authors: list[NonEmptyStr] = Field(default_factory=list)
    description: str = ""
    scope: dict[NonEmptyStr, list[NonEmptyStr]] = Field(default_factory=dict)
    sequence: SequenceSettings | None = None
    exhaustive: StrictBool = False
    license: str | None = None
    created: str | None = None
    changed: str | None = None

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, v: Any) -> Any:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            msg = f"version must be a string; quote it in YAML (version: '{v}')."
            raise ValueError(msg)
        return v

    @field_validator("languages")
    @classmethod
    def _langs(cls, v: list[str]) -> list[str]:
        bad = [x for x in v if not LANG_RE.match(x)]
        if bad:
            msg = f"languages must be ISO 639 codes such as 'en' or 'id'. Got {bad}."
            raise ValueError(msg)
        if len(set(v)) != len(v):
            msg = f"languages lists a language twice: {v}."
            raise ValueError(msg)
        return v

    v_authors = field_validator("authors", mode="before")(
        lambda cls, v: [v] if isinstance(v, str) else ([] if v is None else v)
    )
    v_description = field_validator("description", mode="before")(
        lambda cls, v: "" if v is None else _strip(v)
    )

    @field_validator("scope", mode="before")
    @classmethod
    def _scope(cls, v: Any) -> Any:
        """``{key: value}`` or ``{key: [values]}``; scalars become one-item lists of strings."""
        if v is None:
            return {}
        if not isinstance(v, Mapping):
            msg = "scope must map document or case attributes to a value or a list of values ({study: my_study})."
            raise ValueError(msg)  # noqa: TRY004 - pydantic turns ValueError into a validation problem
        out = {}
        for k, val in v.items():
            vals = val if isinstance(val, list) else [val]
            if not vals or any(x is None or isinstance(x, (Mapping, list)) for x in vals):
                msg = f"scope.{k} must be a value or a non-empty list of values. Got {val!r}."
                raise ValueError(msg)
            out[k] = [str(x).lower() if isinstance(x, bool) else str(x) for x in vals]
        return out

    @field_validator("created", "changed", mode="before")
    @classmethod
    def _date(cls, v: Any) -> Any:
        if isinstance(v, (_dt.date, _dt.datetime)):
            return v.isoformat()
        return v
