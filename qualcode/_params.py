"""Declarative checks of public parameters, with one message format for every function.

Modelled on scikit-learn's ``_parameter_constraints`` / ``validate_params``: a class or a
function declares, per parameter, the list of constraints a value may satisfy, and one helper
checks them and raises :class:`~qualcode.errors.InvalidParameterError` with the message::

    The 'unit' parameter of Coder must be a str among {'passage', 'sentence'}. Got 'word' instead.

Constraints: :class:`Options` (a value among a set), :class:`Interval` (a number in a range),
:class:`InstanceOf` (an instance of a type, with a hint for common mistakes), :class:`ListOf`
(a list whose items meet a constraint), ``None`` (the
value may be None), ``"boolean"`` (a real bool, not 0/1), and any other :class:`Constraint`.

Examples:
    >>> from qualcode._params import Interval, Options, validate_params
    >>> validate_params({"k": [Interval(int, 1, None)]}, {"k": 3}, "f")
    >>> validate_params({"how": [Options(str, {"a", "b"})]}, {"how": "c"}, "f")
    Traceback (most recent call last):
    ...
    qualcode.errors.InvalidParameterError: The 'how' parameter of f must be a str among {'a', 'b'}. Got 'c' instead.
"""

from __future__ import annotations

import functools
import inspect
import numbers
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from .errors import InvalidParameterError

__all__ = [
    "Constraint",
    "InstanceOf",
    "Interval",
    "ListOf",
    "Options",
    "check_param",
    "validate_params",
    "validated",
]

F = TypeVar("F", bound=Callable[..., Any])

_TYPE_NAMES = {int: "an int", float: "a float", str: "a str", bool: "a bool", numbers.Real: "a float"}


class Constraint:
    """A condition a parameter value may satisfy (subclass and implement both methods)."""

    def is_satisfied_by(self, value: Any) -> bool:
        """Whether ``value`` meets the constraint."""
        raise NotImplementedError

    def __str__(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def hint(self, value: Any) -> str:
        """An extra sentence for a value that fails (``""`` for none)."""
        return ""


class Options(Constraint):
    """A value among ``options`` (of type ``type_``).

    Args:
        type_: the type of the options (``str`` in practice).
        options: the accepted values.
    """

    def __init__(self, type_: type, options: Iterable[Any]):
        self.type = type_
        self.options = frozenset(options)

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, self.type) and value in self.options

    def __str__(self) -> str:
        shown = "{" + ", ".join(repr(o) for o in sorted(self.options, key=str)) + "}"
        return f"{_TYPE_NAMES.get(self.type, 'a ' + self.type.__name__)} among {shown}"


class Interval(Constraint):
    """A number of type ``type_`` within ``[left, right]`` (``None``: unbounded).

    Args:
        type_: ``int`` (bools refused) or ``float`` (ints accepted).
        left: lower bound or None.
        right: upper bound or None.
        closed: which bounds belong to the interval: ``"both"``, ``"left"``, ``"right"`` or
            ``"neither"``.
    """

    def __init__(self, type_: type, left: float | None, right: float | None, *, closed: str = "both"):
        self.type = type_
        self.left = left
        self.right = right
        self.closed = closed

    def is_satisfied_by(self, value: Any) -> bool:
        if isinstance(value, bool):
            return False
        if self.type is int:
            if not isinstance(value, numbers.Integral):
                return False
        elif not isinstance(value, numbers.Real):
            return False
        v = float(value)
        if v != v:  # NaN
            return False
        lo_ok = self.left is None or (v >= self.left if self.closed in ("both", "left") else v > self.left)
        hi_ok = self.right is None or (v <= self.right if self.closed in ("both", "right") else v < self.right)
        return lo_ok and hi_ok

    def __str__(self) -> str:
        name = _TYPE_NAMES.get(self.type, "a number")
        lo_in = self.closed in ("both", "left")
        hi_in = self.closed in ("both", "right")
        if self.right is None and self.left is not None:
            return f"{name} {'>=' if lo_in else '>'} {_num(self.left)}"
        if self.left is None and self.right is not None:
            return f"{name} {'<=' if hi_in else '<'} {_num(self.right)}"
        if self.left is None:
            return name
        return f"{name} in {'[' if lo_in else '('}{_num(self.left)}, {_num(self.right)}{']' if hi_in else ')'}"


class InstanceOf(Constraint):
    """An instance of ``type_``.

    Args:
        type_: the expected class (or a tuple of classes).
        name: how to name it in the message (default: ``a <ClassName>``).
        hints: ``{type or tuple of types: sentence}`` added when the value is of that type
            (``{str: "Load it first: qc.Codebook.load(path)."}``).
    """

    def __init__(
        self,
        type_: type | tuple[type, ...],
        name: str | None = None,
        hints: Mapping[Any, str] | None = None,
    ):
        self.type = type_
        types = type_ if isinstance(type_, tuple) else (type_,)
        self.name = name or " or ".join(f"a {t.__name__}" for t in types)
        self.hints = dict(hints or {})

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, self.type)

    def __str__(self) -> str:
        return self.name

    def hint(self, value: Any) -> str:
        for types, sentence in self.hints.items():
            if isinstance(value, types):
                return sentence
        return ""


class ListOf(Constraint):
    """A non-empty list, tuple or set whose every item satisfies ``item``.

    Args:
        item: the constraint on each item (e.g. ``Options(str, ROLES)``).
    """

    def __init__(self, item: Constraint):
        self.item = item

    def is_satisfied_by(self, value: Any) -> bool:
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, set, frozenset)):
            return False
        return bool(value) and all(self.item.is_satisfied_by(v) for v in value)

    def __str__(self) -> str:
        return f"a non-empty list of {self.item}".replace("of a ", "of ").replace("of an ", "of ")


class _NoneConstraint(Constraint):
    def is_satisfied_by(self, value: Any) -> bool:
        return value is None

    def __str__(self) -> str:
        return "None"


class _Boolean(Constraint):
    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, bool) or type(value).__name__ == "bool_"

    def __str__(self) -> str:
        return "a bool"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _as_constraint(c: Any) -> Constraint:
    if c is None:
        return _NoneConstraint()
    if c == "boolean":
        return _Boolean()
    if isinstance(c, Constraint):
        return c
    if isinstance(c, type):
        return InstanceOf(c)
    msg = f"unknown parameter constraint {c!r}"
    raise TypeError(msg)


def _describe(constraints: list[Constraint]) -> str:
    # None last, as in "an int >= 1 or None"
    parts = [str(c) for c in constraints if not isinstance(c, _NoneConstraint)]
    if any(isinstance(c, _NoneConstraint) for c in constraints):
        parts.append("None")
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " or " + parts[-1]


def check_param(name: str, value: Any, constraints: list[Any], caller: str) -> None:
    """Check one parameter value against its constraints.

    Args:
        name: the parameter's name.
        value: its value.
        constraints: the accepted forms (see the module docstring).
        caller: the function or class named in the message (``"Coder"``, ``"Coder.fit"``).

    Raises:
        InvalidParameterError: ``value`` satisfies none of the constraints.
    """
    cons = [_as_constraint(c) for c in constraints]
    if any(c.is_satisfied_by(value) for c in cons):
        return
    # a type is named by its type ("Got DataFrame instead"), a value by its repr ("Got 'word' instead")
    typed = all(isinstance(c, (InstanceOf, _NoneConstraint)) for c in cons)
    shown = type(value).__name__ if typed else repr(value)
    hint = next((h for c in cons if (h := c.hint(value))), "")
    msg = f"The {name!r} parameter of {caller} must be {_describe(cons)}. Got {shown} instead."
    if hint:
        msg += " " + hint
    raise InvalidParameterError(msg)


def validate_params(constraints: Mapping[str, list[Any]], params: Mapping[str, Any], caller: str) -> None:
    """Check every parameter in ``params`` that has constraints (see :func:`check_param`)."""
    for name, cons in constraints.items():
        if name in params:
            check_param(name, params[name], cons, caller)


def validated(constraints: Mapping[str, list[Any]], *, caller: str | None = None) -> Callable[[F], F]:
    """Decorate a function so that its arguments are checked against ``constraints`` on each call.

    Args:
        constraints: parameter name -> accepted forms.
        caller: the name used in messages (default: the function's ``__qualname__``).
    """

    def deco(func: F) -> F:
        sig = inspect.signature(func)
        unknown = set(constraints) - set(sig.parameters)
        if unknown:
            msg = f"constraints name parameters {sorted(unknown)} that {func.__qualname__} does not have"
            raise TypeError(msg)
        name = caller or func.__qualname__

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            bound = sig.bind(*args, **kwargs)
            validate_params(constraints, bound.arguments, name)
            return func(*args, **kwargs)

        wrapper.__wrapped_constraints__ = dict(constraints)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return deco
