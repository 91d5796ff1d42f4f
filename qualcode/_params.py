"""Declarative checks of public parameters, with one message format for every function.

Modelled on scikit-learn's ``_parameter_constraints`` / ``validate_params``: a class or a
function declares, per parameter, the list of constraints a value may satisfy, and one helper
checks them and raises :class:`~qualcode.errors.InvalidParameterError` with the message::

    The 'unit' parameter of Coder must be a str among {'passage', 'sentence'}. Got 'word' instead.

Constraints: :class:`Options` (a value among a set), :class:`Interval` (a number in a range),
:class:`InstanceOf` (an instance of a type, with a hint for common mistakes), :class:`HasMethods`
(duck typing: an object with some methods and attributes), :class:`ListOf` (a list, tuple,
array... whose items meet a constraint; never a bare str), ``None`` (the value may be None),
``"boolean"`` (a real bool, not 0/1), a class (short for ``InstanceOf(cls)``) and any other
:class:`Constraint`.

Where a function documents another :class:`~qualcode.errors.QualcodeError` for a bad parameter,
``error=`` names it (the message stays the same).

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
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, TypeVar

import numpy as np

from .errors import InvalidParameterError

__all__ = [
    "Constraint",
    "HasMethods",
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

    def shown(self, value: Any) -> str | None:
        """How to show a failing ``value`` after "Got" (None: its repr, or its type's name)."""
        return None


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
        if self.left is None or self.right is None:  # both None (one None returned above)
            return name
        return f"{name} in {'[' if lo_in else '('}{_num(self.left)}, {_num(self.right)}{']' if hi_in else ')'}"


class _Hinted(Constraint):
    """A constraint on the type or shape of a value, with hints for common mistakes."""

    def __init__(self, name: str, hints: Mapping[Any, str] | None):
        self.name = name
        self.hints = dict(hints or {})

    def __str__(self) -> str:
        return self.name

    def hint(self, value: Any) -> str:
        for types, sentence in self.hints.items():
            if isinstance(value, types):
                return sentence
        return ""


class InstanceOf(_Hinted):
    """An instance of ``type_``.

    Args:
        type_: the expected class (or a tuple of classes).
        name: how to name it in the message (default: ``a <ClassName>``).
        hints: ``{type or tuple of types: sentence}`` added when the value is of that type
            (``{str: "Load it first: qc.Codebook.load(path)."}``; ``{object: ...}`` for any value).
    """

    def __init__(
        self,
        type_: type | tuple[type, ...],
        name: str | None = None,
        hints: Mapping[Any, str] | None = None,
    ):
        self.type = type_
        types = type_ if isinstance(type_, tuple) else (type_,)
        super().__init__(name or " or ".join(f"a {t.__name__}" for t in types), hints)

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, self.type)


class HasMethods(_Hinted):
    """Any object with the given methods (callable) and attributes: duck typing.

    Args:
        methods: names of methods the value must have.
        name: how to name it in the message (``"a Codebook"``).
        attributes: names of (non-method) attributes it must have too.
        hints: as for :class:`InstanceOf`.
    """

    def __init__(
        self,
        methods: Iterable[str],
        name: str,
        *,
        attributes: Iterable[str] = (),
        hints: Mapping[Any, str] | None = None,
    ):
        self.methods = tuple(methods)
        self.attributes = tuple(attributes)
        super().__init__(name, hints)

    def is_satisfied_by(self, value: Any) -> bool:
        return all(callable(getattr(value, m, None)) for m in self.methods) and all(
            hasattr(value, a) for a in self.attributes
        )


class ListOf(Constraint):
    """Several values at once: a list, tuple, set, array, Index... whose every item meets ``item``.

    A bare str (or bytes, or a mapping) is never a list of values; an iterator (generator) is
    refused too, since checking it would consume it.

    Args:
        item: the constraint of each item: a class (``str``) or a :class:`Constraint`
            (``Options(str, ROLES)``).
        non_empty: whether an empty list is refused (default True).
    """

    def __init__(self, item: type | Constraint, *, non_empty: bool = True):
        self.item = item
        self.non_empty = non_empty

    def _item_ok(self, v: Any) -> bool:
        if isinstance(self.item, type):
            return isinstance(v, self.item)
        return self.item.is_satisfied_by(v)

    def _is_list(self, value: Any) -> bool:
        return isinstance(value, Collection) and not isinstance(value, (str, bytes, Mapping))

    def _first_bad(self, value: Any) -> tuple[int, Any] | None:
        for i, v in enumerate(value):
            if not self._item_ok(v):
                return i, v
        return None

    def is_satisfied_by(self, value: Any) -> bool:
        if not self._is_list(value) or (self.non_empty and len(value) == 0):
            return False
        return self._first_bad(value) is None

    def __str__(self) -> str:
        if isinstance(self.item, type):
            inner = self.item.__name__
        else:
            inner = str(self.item)
            for article in ("a ", "an "):
                if inner.startswith(article):
                    inner = inner[len(article):]
                    break
        return f"a {'non-empty ' if self.non_empty else ''}list of {inner}"

    def hint(self, value: Any) -> str:
        if isinstance(value, str):
            return f"Give a list even for one value: [{value!r}]."
        return ""

    def shown(self, value: Any) -> str | None:
        if not self._is_list(value):
            return None
        if len(value) == 0:
            return f"an empty {type(value).__name__}"
        bad = self._first_bad(value)
        if bad is None:
            return None
        i, v = bad
        item = repr(v) if isinstance(v, (str, int, float, type(None))) else f"a {type(v).__name__}"
        return f"a {type(value).__name__} with {item} at position {i}"


class _NoneConstraint(Constraint):
    def is_satisfied_by(self, value: Any) -> bool:
        return value is None

    def __str__(self) -> str:
        return "None"


class _Boolean(Constraint):
    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, (bool, np.bool_))

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


def check_param(
    name: str,
    value: Any,
    constraints: list[Any],
    caller: str,
    *,
    error: type[Exception] = InvalidParameterError,
) -> None:
    """Check one parameter value against its constraints.

    Args:
        name: the parameter's name.
        value: its value.
        constraints: the accepted forms (see the module docstring).
        caller: the function or class named in the message (``"Coder"``, ``"Coder.fit"``).
        error: the exception class to raise (default :class:`InvalidParameterError`).

    Raises:
        InvalidParameterError: ``value`` satisfies none of the constraints (or ``error``).
    """
    cons = [_as_constraint(c) for c in constraints]
    if any(c.is_satisfied_by(value) for c in cons):
        return
    # a type is named by its type ("Got DataFrame instead"), a value by its repr ("Got 'word'
    # instead"), a list by its first bad item ("Got a list with 'boss' at position 0 instead")
    typed = all(isinstance(c, (_Hinted, _NoneConstraint)) for c in cons)
    detail = next((d for c in cons if (d := c.shown(value)) is not None), None)
    shown = type(value).__name__ if typed else detail or repr(value)
    hint = next((h for c in cons if (h := c.hint(value))), "")
    msg = f"The {name!r} parameter of {caller} must be {_describe(cons)}. Got {shown} instead."
    if hint:
        msg += " " + hint
    raise error(msg)


def validate_params(
    constraints: Mapping[str, list[Any]],
    params: Mapping[str, Any],
    caller: str,
    *,
    error: type[Exception] = InvalidParameterError,
) -> None:
    """Check every parameter in ``params`` that has constraints (see :func:`check_param`)."""
    for name, cons in constraints.items():
        if name in params:
            check_param(name, params[name], cons, caller, error=error)


def validated(
    constraints: Mapping[str, list[Any]],
    *,
    caller: str | None = None,
    error: type[Exception] = InvalidParameterError,
) -> Callable[[F], F]:
    """Decorate a function so that its arguments are checked against ``constraints`` on each call.

    Args:
        constraints: parameter name -> accepted forms.
        caller: the name used in messages (default: the function's ``__qualname__``).
        error: the exception class to raise (default :class:`InvalidParameterError`).
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
            try:
                bound = sig.bind(*args, **kwargs)
            except TypeError as exc:  # name the function, as Python does
                msg = f"{name}() {exc}"
                raise TypeError(msg) from None
            validate_params(constraints, bound.arguments, name, error=error)
            return func(*args, **kwargs)

        wrapper.__wrapped_constraints__ = dict(constraints)  # type: ignore[attr-defined]  # a function attribute
        return wrapper  # type: ignore[return-value]  # functools.wraps: same call signature as func

    return deco
