"""The registry of rule kinds: :data:`RULE_KINDS`.

The codebook's ``Rules`` schema is assembled from it (:attr:`RuleKindRegistry.rules_model`),
and :class:`~qualcode.rules.RuleMatcher` builds one matcher per registered kind. Adding a rule
kind is one new module under ``qualcode/rules/`` plus its class in the tuple below (or, from
outside the package, ``RULE_KINDS.register(MyKind)``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator

from ._base import RuleKind
from ._keyword import KeywordKind
from ._pattern import PatternKind
from ._proximity import ProximityKind
from ._regex import RegexKind
from ._schema import RulesBase, build_rules_model

__all__ = ["RULE_KINDS", "RuleKindRegistry"]


class RuleKindRegistry:
    """Rule kinds in order, and the ``Rules`` model assembled from them.

    Args:
        kinds: the kinds to register, in order.

    Examples:
        >>> from qualcode.rules import RULE_KINDS
        >>> RULE_KINDS.names
        ['keyword', 'pattern', 'regex', 'proximity']
        >>> list(RULE_KINDS.rules_model.model_fields)[:3]
        ['keywords', 'match_on', 'patterns']
    """

    def __init__(self, kinds: Iterable[type[RuleKind]] = ()) -> None:
        self._lock = threading.Lock()
        self._kinds: dict[str, type[RuleKind]] = {}
        self._models: dict[tuple[type[RuleKind], ...], type[RulesBase]] = {}
        for kind in kinds:
            self.register(kind)

    def register(self, kind: type[RuleKind]) -> type[RuleKind]:
        """Add a rule kind (usable as a class decorator); codebooks validated later accept it.

        Args:
            kind: a :class:`RuleKind` subclass with ``name``, ``short`` and ``field`` set.

        Returns:
            ``kind``.

        Raises:
            TypeError: ``kind`` is not a RuleKind subclass.
            ValueError: its name, short name or a field is taken.
        """
        if not (isinstance(kind, type) and issubclass(kind, RuleKind)):
            msg = f"a rule kind must be a RuleKind subclass. Got {kind!r} instead."
            raise TypeError(msg)
        for attr in ("name", "short", "field"):
            if not isinstance(getattr(kind, attr, None), str) or not getattr(kind, attr):
                msg = f"rule kind {kind.__name__} must set the class attribute {attr!r} (a string)"
                raise TypeError(msg)
        with self._lock:
            for other in self._kinds.values():
                if kind.name == other.name or kind.short == other.short:
                    msg = (f"rule kind {kind.__name__} ({kind.name!r}, {kind.short!r}) clashes with "
                           f"{other.__name__} ({other.name!r}, {other.short!r})")
                    raise ValueError(msg)
            kinds = (*self._kinds.values(), kind)
            self._model_for(kinds)  # raises on clashing fields before anything changes
            self._kinds[kind.name] = kind
        return kind

    def unregister(self, name: str) -> None:
        """Remove the kind called ``name`` (a ``KeyError`` names the known kinds)."""
        with self._lock:
            if name not in self._kinds:
                msg = f"no rule kind {name!r}; known: {', '.join(self._kinds)}"
                raise KeyError(msg)
            del self._kinds[name]

    def _model_for(self, kinds: tuple[type[RuleKind], ...]) -> type[RulesBase]:
        model = self._models.get(kinds)
        if model is None:
            model = build_rules_model(kinds)
            self._models[kinds] = model
        return model

    @property
    def rules_model(self) -> type[RulesBase]:
        """The ``Rules`` model of the registered kinds (the same class for the same kinds)."""
        with self._lock:
            return self._model_for(tuple(self._kinds.values()))

    @property
    def names(self) -> list[str]:
        """The kinds' names in order."""
        return list(self._kinds)

    def __getitem__(self, name: str) -> type[RuleKind]:
        return self._kinds[name]

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    def __iter__(self) -> Iterator[type[RuleKind]]:
        return iter(tuple(self._kinds.values()))

    def __len__(self) -> int:
        return len(self._kinds)

    def __repr__(self) -> str:
        return f"RuleKindRegistry({', '.join(k.__name__ for k in self._kinds.values())})"


#: Every rule kind, in the order of their fields, ids and YAML output. A new kind: one line here.
RULE_KINDS = RuleKindRegistry((KeywordKind, PatternKind, RegexKind, ProximityKind))
