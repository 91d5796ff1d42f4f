"""The filters every matrix function shares (Selection): one signature, one docstring, one check."""

from __future__ import annotations

import dataclasses
import inspect
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _matrix_fixtures import CODEBOOK_SPEC, StubCodebook, make_codings, make_corpus  # noqa: E402

from qualcode import matrices as M  # noqa: E402
from qualcode.errors import InvalidParameterError  # noqa: E402
from qualcode.matrices._selection import FILTERS  # noqa: E402


@pytest.fixture(scope="module")
def corpus():
    return make_corpus()


@pytest.fixture(scope="module")
def codings(corpus):
    return make_codings(corpus)


@pytest.fixture(scope="module")
def cb():
    return StubCodebook(CODEBOOK_SPEC)


# every public function that counts codings, called with its required arguments
CALLS = {
    "case_by_code": lambda c, corpus, **kw: M.case_by_code(c, corpus, **kw),
    "code_by_attribute": lambda c, corpus, **kw: M.code_by_attribute(c, corpus, "region", **kw),
    "long_table": lambda c, corpus, **kw: M.long_table(c, corpus, **kw),
    "framework_matrix": lambda c, corpus, **kw: M.framework_matrix(c, corpus, **kw),
    "case_profile": lambda c, corpus, **kw: M.case_profile(c, corpus, "c1", **kw),
    "case_timeline": lambda c, corpus, **kw: M.case_timeline(c, corpus, "d1", **kw),
    "cross_case_summary": lambda c, corpus, **kw: M.cross_case_summary(c, corpus, **kw),
    "cooccurrence": lambda c, corpus, **kw: M.cooccurrence(c, corpus, **kw),
    "cell": lambda c, corpus, **kw: M.cell(c, "c1", "budget", corpus=corpus, **kw),
    "prepare": lambda c, corpus, **kw: M.prepare("prepare", c, corpus, **kw),
}


def test_the_seven_filters_are_declared_once_with_a_constraint_and_a_description():
    assert FILTERS == ("coder", "source", "min_score", "role", "codebook", "aggregate", "codes")
    assert set(M.Selection._parameter_constraints) == set(FILTERS)
    doc = inspect.getdoc(M.Selection)
    for name in FILTERS:
        assert f"\n    {name}: " in doc


@pytest.mark.parametrize("name", sorted(CALLS))
def test_every_matrix_function_shows_and_documents_every_filter(name):
    func = getattr(M, name)
    params = inspect.signature(func).parameters
    for f in ("selection", *FILTERS):
        assert params[f].kind is inspect.Parameter.KEYWORD_ONLY
    assert params["aggregate"].default is None and params["coder"].default is None  # None: children with a codebook
    doc = inspect.getdoc(func)
    assert "**filters" not in doc
    args = doc[doc.index("Args:"):]
    for f in ("selection", *FILTERS):
        assert f"\n    {f}: " in args, f
    assert "(every coder's codings, counted separately)" in args


@pytest.mark.parametrize("name", sorted(CALLS))
def test_every_matrix_function_checks_the_filters_with_one_message(name, codings, corpus, cb):
    call = CALLS[name]
    with pytest.raises(InvalidParameterError) as info:
        call(codings, corpus, aggregate="kids")
    assert str(info.value) == (
        f"The 'aggregate' parameter of {name} must be a str among {{'children', 'none'}} or None. Got 'kids' instead."
    )
    with pytest.raises(ValueError, match=rf"^{name}\(aggregate='children'\) needs the codebook"):
        call(codings, corpus, aggregate="children")
    with pytest.raises(TypeError, match=rf"The 'min_score' parameter of {name} must be a float or None\. Got '0\.5'"):
        call(codings, corpus, min_score="0.5")
    with pytest.raises(TypeError, match=rf"^{name}\(\) got an unexpected keyword argument 'coders'"):
        call(codings, corpus, coders="ana")


def test_filter_messages_say_what_to_do(codings, corpus):
    with pytest.raises(InvalidParameterError) as info:
        M.case_by_code(codings, corpus, codebook="codebook.yaml")
    assert str(info.value) == (
        "The 'codebook' parameter of case_by_code must be a Codebook or None. Got str instead. "
        "Load it first: qc.Codebook.load(path)."
    )
    with pytest.raises(InvalidParameterError, match=r"Got 'budget' instead\. Give a list even for one value: \['budget'\]"):
        M.case_by_code(codings, corpus, codes="budget")
    with pytest.raises(InvalidParameterError, match=r"'coder' parameter of long_table must be a str, a list of str or None\. "
                       r"Got a list with 3 at position 1 instead"):
        M.long_table(codings, corpus, coder=["ana", 3])
    with pytest.raises(InvalidParameterError, match="'selection' parameter of cooccurrence must be a Selection or None"):
        M.cooccurrence(codings, corpus, selection={"coder": "ana"})


@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_selection_object_equals_its_keywords_and_keywords_override_it(name, codings, corpus, cb):
    call = CALLS[name]
    kw = {"coder": "ana", "source": "human", "min_score": 0.5, "role": ["respondent", "participant"],
          "codebook": cb, "aggregate": "children"}
    by_keywords = call(codings, corpus, **kw)
    by_object = call(codings, corpus, selection=M.Selection(**kw))
    wider = call(codings, corpus, selection=M.Selection(**kw), role=None)
    no_role = call(codings, corpus, **{**kw, "role": None})
    if isinstance(by_keywords, M.CrossCaseSummary):
        by_keywords, by_object, wider, no_role = (x.codes for x in (by_keywords, by_object, wider, no_role))
    if isinstance(by_keywords, M._common.Prepared):
        by_keywords, by_object, wider, no_role = (x.frame for x in (by_keywords, by_object, wider, no_role))
    pd.testing.assert_frame_equal(by_keywords, by_object)
    pd.testing.assert_frame_equal(wider, no_role)  # the keyword overrode the object's role


def test_the_filters_change_what_is_counted(codings, corpus, cb):
    everything = M.case_by_code(codings, corpus)
    ana = M.case_by_code(codings, corpus, selection=M.Selection(coder="ana"))
    assert ana.attrs["coder"] == "ana" and everything.attrs["coder"] == "all"
    assert int(ana.to_numpy().sum()) < int(everything.to_numpy().sum())
    parents = M.case_by_code(codings, corpus, selection=M.Selection(codebook=cb, aggregate="children", codes=["resources"]))
    assert list(parents.columns) == ["resources"]
    # "Budget is tight." coded budget and staff counts once for the parent, plus "Budget"
    assert parents.loc["c1", "resources"] == 2


def test_selection_is_frozen_checked_and_reusable(cb):
    sel = M.Selection(coder="ana", codebook=cb, aggregate="children")
    with pytest.raises(dataclasses.FrozenInstanceError):
        sel.coder = "bob"  # type: ignore[misc]
    assert dataclasses.replace(sel, coder="bob").coder == "bob"
    with pytest.raises(InvalidParameterError, match=r"^Selection\(aggregate='children'\) needs the codebook"):
        M.Selection(aggregate="children")
    with pytest.raises(InvalidParameterError, match="The 'min_score' parameter of Selection must be a float or None"):
        M.Selection(min_score=float("nan"))


def test_matrix_warnings_point_at_the_caller_however_deep_the_call(codings, corpus):
    from qualcode import Codings

    extra = Codings.from_records([{"doc_id": "nowhere", "start": 0, "end": 3, "code": "x", "coder": "ana"}])
    for call in (lambda: M.case_by_code(codings + extra, corpus, value="quotes"),  # -> framework_matrix
                 lambda: M.cell(codings + extra, "c1", "budget", corpus=corpus)):
        with pytest.warns(M.MatrixWarning, match="refer to documents not in the corpus") as rec:
            call()
        assert rec[0].filename == __file__
