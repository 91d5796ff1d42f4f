"""Behaviour of the Codings table."""

from __future__ import annotations

import pandas as pd
import pytest

from qualcode import Codings
from qualcode.errors import CodingsError
from qualcode.testing import tiny_corpus


def _frame(**extra):
    base = {
        "doc_id": ["int_a", "int_a", "int_b"],
        "start": [47, 183, 77],
        "end": [108, 244, 101],
        "code": ["convergence", "data_based_policy", "elite_involvement"],
        "coder": ["ana", "ana", "budi"],
        "source": ["human", "rule", "embedding"],
        "score": [1.0, 0.9, 0.6],
    }
    base.update(extra)
    return pd.DataFrame(base)


def test_missing_optional_columns_are_filled() -> None:
    c = Codings(_frame())
    f = c.to_frame()
    assert f.columns[:10].tolist() == [
        "doc_id", "case_id", "segment_id", "start", "end", "code", "coder", "source", "score", "evidence",
    ]
    assert f.loc[0, "segment_id"] == "int_a@47-108"
    assert f.loc[0, "case_id"] == "int_a"


def test_filters_combine() -> None:
    c = Codings(_frame())
    assert len(c.filter(coder="ana")) == 2
    assert len(c.filter(source=["rule", "embedding"], min_score=0.7)) == 1
    assert c.filter(code="elite_involvement").coders == ["budi"]


def test_role_filter_uses_the_corpus_turns() -> None:
    corpus = tiny_corpus()
    frame = _frame()
    frame.loc[2, "start"], frame.loc[2, "end"] = 13, 63  # the interviewer question in int_b
    c = Codings(frame)
    assert len(c.filter(role="respondent", corpus=corpus)) == 2
    with pytest.raises(CodingsError, match="needs a 'role' column or the corpus"):
        c.filter(role="respondent")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"source": ["human", "guess", "rule"]}, "'source' must be among"),
        ({"start": [5, 0, 0], "end": [1, 1, 1]}, "invalid offsets"),
        ({"start": ["a", 0, 0]}, "integer character offsets"),
    ],
)
def test_bad_tables_are_refused_with_clear_messages(change, message) -> None:
    with pytest.raises(CodingsError, match=message):
        Codings(_frame(**change))


def test_missing_required_column_is_named() -> None:
    with pytest.raises(CodingsError, match=r"\['code'\]"):
        Codings(pd.DataFrame({"doc_id": ["a"], "start": [0], "end": [1]}))


def test_concat_and_csv_round_trip(tmp_path) -> None:
    a = Codings(_frame())
    b = Codings(_frame(coder=["x", "x", "x"]))
    both = a + b
    assert len(both) == 6 and both.coders == ["ana", "budi", "x"]
    path = tmp_path / "c.csv"
    both.to_csv(path)
    back = Codings(pd.read_csv(path, keep_default_na=False))
    pd.testing.assert_frame_equal(back.to_frame(), both.to_frame(), check_dtype=False)


def test_with_ancestors_rolls_codings_up_once_per_span_and_coder():
    import qualcode as qc
    from qualcode import Codings

    cb = qc.Codebook.from_dict({"name": "t", "codes": [
        {"id": "top", "name": "Top", "codable": False},
        {"id": "mid", "name": "Mid", "parent": "top", "definition": "m"},
        {"id": "a", "name": "A", "parent": "mid", "definition": "a"},
        {"id": "b", "name": "B", "parent": "mid", "definition": "b"},
    ]})
    rows = [{"doc_id": "d", "start": 0, "end": 5, "code": c, "coder": "ana", "source": "human"} for c in ("a", "b")]
    rows.append({"doc_id": "d", "start": 0, "end": 5, "code": "a", "coder": "bob", "source": "human"})
    up = Codings.from_records(rows).with_ancestors(cb).to_frame()
    counts = up.groupby(["code", "coder"]).size().to_dict()
    # two children on one span by ana give one 'mid' and one 'top' row for ana; bob's child gives his own
    assert counts == {("a", "ana"): 1, ("a", "bob"): 1, ("b", "ana"): 1, ("mid", "ana"): 1, ("mid", "bob"): 1,
                      ("top", "ana"): 1, ("top", "bob"): 1}
    assert set(up.loc[up["code"] == "top", "evidence"]) <= {"rolled up from a", "rolled up from b"}
    assert len(Codings.from_records(rows)) == 3  # the original is unchanged
