"""The ``rules:`` mapping of a code, assembled from the rule kinds and the modifiers.

:func:`build_rules_model` makes a frozen pydantic model named ``Rules`` whose fields are, in
order, the fields of each kind (:meth:`RuleKind.fields`) and then the modifiers
(``exclude``, ``negation``, ``negation_window``, ``scope``, ``min_hits``). Its methods come from
:class:`RulesBase` and go through the kinds, so normalisation, YAML output and plain data
exist once, in the kinds.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

from pydantic import create_model

from ._base import Frozen, RuleIds, RuleItem, RuleKind
from ._modifiers import (
    modifier_fields,
    modifiers_language_refs,
    modifiers_to_plain,
    modifiers_to_yaml,
)

__all__ = ["RulesBase", "build_rules_model"]


class RulesBase(Frozen):
    """Base of the assembled ``Rules`` model: matching rules of one code.

    The concrete model (``qualcode.codebook.Rules``) has one or more fields per rule kind
    (``keywords``, ``match_on``, ``patterns``, ``regex``, ``proximity`` for the built-in
    kinds) and the modifiers ``exclude``, ``negation``, ``negation_window``, ``scope`` and
    ``min_hits``; see ``docs/architecture.md`` (section "Codebook and rules").
    """

    #: The kinds this model was assembled from, in order.
    rule_kinds: ClassVar[tuple[type[RuleKind], ...]] = ()

    @property
    def is_empty(self) -> bool:
        """True when the code has no rule of any kind (modifiers alone match nothing)."""
        return next(self.items("_"), None) is None

    def items(self, code_id: str) -> Iterator[RuleItem]:
        """Yield every rule entry of ``code_id`` normalised, with its final rule id.

        Args:
            code_id: the id of the code these rules belong to (part of generated ids).

        Returns:
            An iterator of :class:`RuleItem` in a stable order: kind by kind in registry order
            (keywords, patterns, regex, proximity, then registered kinds), entries in file
            order.
        """
        ids = RuleIds(code_id)
        for kind in self.rule_kinds:
            yield from kind.items(code_id, self, ids)

    @classmethod
    def language_refs(cls, raw: Mapping[str, Any]) -> list[tuple[tuple[Any, ...], Any, bool]]:
        """Languages named in raw ``rules`` data: ``(location under rules, language, is_key)``.

        Each kind reports its own (:meth:`RuleKind.language_refs`), then the modifiers
        (``exclude.terms``); a mapping key ``"*"`` means every language.
        """
        refs = [ref for kind in cls.rule_kinds for ref in kind.language_refs(raw.get(kind.field))]
        refs.extend(modifiers_language_refs(raw))
        return refs

    def to_yaml(self) -> Any:
        """The non-default fields as a ruamel ``CommentedMap`` in canonical order and style."""
        from ruamel.yaml.comments import CommentedMap

        out = CommentedMap()
        for kind in self.rule_kinds:
            kind.to_yaml(self, out)
        modifiers_to_yaml(self, out)
        return out

    def to_plain(self) -> dict[str, Any]:
        """The non-default fields as plain data (JSON types), compact."""
        data = self.model_dump(mode="json", exclude_defaults=True)
        for kind in self.rule_kinds:
            kind.to_plain(data)
        modifiers_to_plain(self, data)
        return data


def build_rules_model(kinds: Sequence[type[RuleKind]]) -> type[RulesBase]:
    """Assemble the ``Rules`` model from ``kinds`` and the modifiers.

    Args:
        kinds: rule kinds in order; their fields must not clash.

    Returns:
        A frozen pydantic model class (a subclass of :class:`RulesBase`).

    Raises:
        ValueError: two kinds (or a kind and a modifier) declare the same field.
    """
    fields: dict[str, tuple[Any, Any]] = {}
    owner: dict[str, str] = {}
    for kind in kinds:
        for name, spec in kind.fields().items():
            if name in fields:
                msg = f"rule kind {kind.name!r} declares field {name!r}, already declared by {owner[name]}"
                raise ValueError(msg)
            fields[name] = spec
            owner[name] = f"rule kind {kind.name!r}"
    for name, spec in modifier_fields().items():
        if name in fields:
            msg = f"{owner[name]} declares field {name!r}, which is a modifier"
            raise ValueError(msg)
        fields[name] = spec
    model = create_model(  # type: ignore[call-overload]  # fields built at run time
        "Rules",
        __base__=RulesBase,
        __module__=__name__,
        __doc__=RulesBase.__doc__,
        **fields,
    )
    model.rule_kinds = tuple(kinds)
    return model
