"""The declarative parameter checks of qualcode._params: one message format for every function."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
import pytest

from qualcode._params import (
    HasMethods,
    InstanceOf,
    Interval,
    ListOf,
    Options,
    check_param,
    validate_params,
    validated,
)
from qualcode.errors import CodingsError, InvalidParameterError, QualcodeError


def _message(value, constraints, name="x", caller="f"):
    with pytest.raises(InvalidParameterError) as info:
        check_param(name, value, constraints, caller)
    return str(info.value)


def test_invalid_parameter_error_is_a_value_and_type_error():
    assert issubclass(InvalidParameterError, ValueError)
    assert issubclass(InvalidParameterError, TypeError)
    assert issubclass(InvalidParameterError, QualcodeError)


def test_options_message_lists_the_options_sorted():
    assert _message("word", [Options(str, {"sentence", "passage"})], "unit", "Coder") == (
        "The 'unit' parameter of Coder must be a str among {'passage', 'sentence'}. Got 'word' instead."
    )
    check_param("unit", "passage", [Options(str, {"sentence", "passage"})], "Coder")
    # a value of another type never matches, even if equal
    assert _message(1, [Options(str, {"1"})]).endswith("Got 1 instead.")


@pytest.mark.parametrize(
    ("interval", "good", "bad", "text"),
    [
        (Interval(int, 1, None), [1, 5, np.int64(2)], [0, 1.0, True, "3", None], "an int >= 1"),
        (Interval(int, 0, None), [0, 7], [-1], "an int >= 0"),
        (Interval(float, 0, 1), [0, 0.5, 1, np.float32(0.2)], [-0.1, 1.01, float("nan")], "a float in [0, 1]"),
        (Interval(float, 0, 1, closed="right"), [1, 0.001], [0, 2], "a float in (0, 1]"),
        (Interval(float, 0, None, closed="neither"), [0.1], [0, -1], "a float > 0"),
        (Interval(numbers.Real, None, None), [-3, 2.5], ["1", float("nan")], "a float"),
    ],
)
def test_interval_bounds_types_and_message(interval, good, bad, text):
    for v in good:
        check_param("n", v, [interval], "f")
    for v in bad:
        msg = _message(v, [interval], "n")
        assert msg.startswith(f"The 'n' parameter of f must be {text}")
        assert msg.endswith(f"Got {v!r} instead.")


def test_none_is_named_last_and_boolean_refuses_ints():
    msg = _message(0, [None, Interval(int, 1, None)], "top_k", "Coder")
    assert msg == "The 'top_k' parameter of Coder must be an int >= 1 or None. Got 0 instead."
    check_param("top_k", None, [None, Interval(int, 1, None)], "Coder")
    check_param("flag", True, ["boolean"], "f")
    check_param("flag", np.bool_(False), ["boolean"], "f")
    assert _message(1, ["boolean"], "flag") == "The 'flag' parameter of f must be a bool. Got 1 instead."


def test_instance_of_shows_the_type_and_the_hint():
    cons = [InstanceOf(pd.DataFrame, name="a table", hints={str: "Read it first.", object: "Any other."})]
    assert _message([1], cons, "t") == "The 't' parameter of f must be a table. Got list instead. Any other."
    # a type constraint names the type, even of a scalar
    assert _message("a.csv", cons, "t") == "The 't' parameter of f must be a table. Got str instead. Read it first."
    # a bare class is short for InstanceOf(cls)
    check_param("t", pd.DataFrame(), [pd.DataFrame], "f")
    assert "must be a DataFrame or None" in _message(3, [pd.DataFrame, None], "t")


class _Duck:
    model_id = "duck"

    def embed(self, texts):
        return texts


def test_has_methods_is_duck_typing_with_attributes():
    cons = [HasMethods(["embed"], "an embedder", attributes=["model_id"], hints={str: "Use get_embedder."})]
    check_param("e", _Duck(), cons, "f")
    no_attr = type("NoId", (), {"embed": lambda self, t: t})()
    assert _message(no_attr, cons, "e") == "The 'e' parameter of f must be an embedder. Got NoId instead."
    not_callable = type("Odd", (), {"embed": 3, "model_id": "x"})()
    _message(not_callable, cons, "e")
    assert _message("e5", cons, "e").endswith("Got str instead. Use get_embedder.")


def test_list_of_accepts_collections_and_names_the_first_bad_item():
    cons = [str, ListOf(str, non_empty=False), None]
    for v in (["a", "b"], ("a",), {"a"}, pd.Index(["a"]), np.array(["a", "b"]), {"a": 1}.keys(), [], "a", None):
        check_param("coder", v, cons, "m")
    assert _message(["a", 2], cons, "coder", "m") == (
        "The 'coder' parameter of m must be a str, a list of str or None. Got a list with 2 at position 1 instead."
    )
    assert _message(5, cons, "coder", "m").endswith("Got 5 instead.")
    assert _message({"a": 1}, [ListOf(str)], "codes").endswith("Got {'a': 1} instead.")
    # an iterator would be consumed by the check: refused
    assert _message((x for x in ["a"]), [ListOf(str)], "codes").startswith(
        "The 'codes' parameter of f must be a non-empty list of str. Got <generator"
    )
    # a bare str is not a list of str, and the message says what to do
    assert _message("lead", [ListOf(str, non_empty=False), None], "codes") == (
        "The 'codes' parameter of f must be a list of str or None. Got 'lead' instead. "
        "Give a list even for one value: ['lead']."
    )


def test_list_of_is_non_empty_unless_told():
    assert _message([], [ListOf(str)], "roles", "Coder") == (
        "The 'roles' parameter of Coder must be a non-empty list of str. Got an empty list instead."
    )
    check_param("roles", [], [ListOf(str, non_empty=False)], "Coder")


def test_list_of_an_item_constraint():
    cons = [ListOf(Options(str, {"case", "code"}))]
    check_param("by", ("case", "code"), cons, "long_table")
    assert _message(["case", "doc"], cons, "by", "long_table") == (
        "The 'by' parameter of long_table must be a non-empty list of str among {'case', 'code'}. "
        "Got a list with 'doc' at position 1 instead."
    )
    # the Coder's roles: one keyword or a list of roles
    roles = [Options(str, {"informants", "all"}), ListOf(Options(str, {"interviewer", "respondent"}))]
    check_param("roles", ["respondent"], roles, "Coder")
    assert _message(["boss"], roles, "roles", "Coder") == (
        "The 'roles' parameter of Coder must be a str among {'all', 'informants'} or a non-empty list of str "
        "among {'interviewer', 'respondent'}. Got a list with 'boss' at position 0 instead."
    )


def test_error_class_can_be_chosen():
    with pytest.raises(CodingsError, match=r"^The 'action' parameter of review must be a str among"):
        check_param("action", "maybe", [Options(str, {"accept"})], "review", error=CodingsError)
    with pytest.raises(CodingsError):
        validate_params({"a": [Options(str, {"x"})]}, {"a": "y"}, "f", error=CodingsError)


def test_validate_params_checks_only_the_given_declared_parameters():
    constraints = {"k": [Interval(int, 1, None)], "how": [Options(str, {"a"})]}
    validate_params(constraints, {"k": 2, "other": object()}, "f")
    with pytest.raises(InvalidParameterError, match="'how' parameter of f"):
        validate_params(constraints, {"k": 2, "how": "b"}, "f")


def test_validated_decorator_checks_each_call_and_keeps_the_signature():
    @validated({"k": [Interval(int, 1, None)], "how": [Options(str, {"a", "b"})]})
    def f(x, k=1, *, how="a"):
        """Doc."""
        return x * k

    assert f(2, 3) == 6
    assert f(2, k=2, how="b") == 4
    with pytest.raises(InvalidParameterError, match=r"The 'k' parameter of test_validated.*f must be an int >= 1\. Got 0"):
        f(1, 0)
    with pytest.raises(InvalidParameterError, match="'how' parameter"):
        f(1, how="c")
    # defaults are not checked, unknown keywords name the function
    with pytest.raises(TypeError, match=r"f\(\) got an unexpected keyword argument 'kk'"):
        f(1, kk=2)
    import inspect

    assert list(inspect.signature(f).parameters) == ["x", "k", "how"]
    assert f.__doc__ == "Doc."

    @validated({"n": [Interval(int, 0, None)]}, caller="g", error=CodingsError)
    def g(n):
        return n

    with pytest.raises(CodingsError, match="The 'n' parameter of g "):
        g(-1)


def test_validated_refuses_constraints_on_missing_parameters():
    with pytest.raises(TypeError, match="does not have"):
        validated({"nope": [int]})(lambda x: x)
    with pytest.raises(TypeError, match="unknown parameter constraint"):
        check_param("x", 1, ["integer"], "f")
