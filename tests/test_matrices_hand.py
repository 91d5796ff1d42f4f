"""Every matrix on a hand-made corpus; expected values worked out by hand in the comments."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _matrix_fixtures import CODEBOOK_SPEC, StubCodebook, make_codings, make_corpus, span  # noqa: E402

from qualcode import Codings  # noqa: E402
from qualcode import matrices as M  # noqa: E402


@pytest.fixture(scope="module")
def corpus():
    return make_corpus()


@pytest.fixture(scope="module")
def codings(corpus):
    return make_codings(corpus)


@pytest.fixture(scope="module")
def cb():
    return StubCodebook(CODEBOOK_SPEC)


def test_case_by_code_counts_per_coder_and_keeps_uncoded_cases(corpus, codings):
    m = M.case_by_code(codings, corpus)
    assert list(m.index) == ["c1", "c2", "c3", "fg", "p_ani", "p_budi"]
    # c1 planning: ana and bob both coded "We plan every year." -> two references
    assert m.loc["c1", "planning"] == 2
    assert m.loc["c1", "budget"] == 2  # "Budget is tight." and "Budget"
    assert m.loc["c3"].sum() == 0
    # FGD speaker cases come from the case_id column
    assert (m.loc["fg", "forum"], m.loc["p_ani", "forum"], m.loc["p_budi", "forum"]) == (1, 1, 1)
    ana = M.case_by_code(codings, corpus, coder="ana")
    assert ana.loc["c1", "planning"] == 1 and ana.attrs["coder"] == "ana"
    assert m.attrs["coder"] == "all" and m.attrs["coders"] == ["ana", "bob"]


def test_case_by_code_parent_aggregation_without_double_counting(corpus, codings, cb):
    m = M.case_by_code(codings, corpus, codebook=cb, aggregate="children", margins=True)
    assert list(m.columns) == ["planning", "resources", "budget", "staff", "data", "forum", "All"]
    # c1: "Budget is tight." coded budget+staff by ana counts once, "Budget" once -> 2 (not 3)
    assert m.loc["c1", "resources"] == 2
    # c2: the same span by ana (budget) and bob (staff): two coders -> 2
    assert m.loc["c2", "resources"] == 2
    # margins count each original coding once: 12 codings in all
    assert m.loc["All", "All"] == 12
    assert m.loc["c1", "All"] == 6
    rows = M.cell(m, "c1", "resources")
    assert len(rows) == 2 and sorted(rows["text"]) == ["Budget", "Budget is tight."]
    assert set(rows["code"]) == {"resources"}
    themed = M.case_by_code(codings, corpus, codebook=cb, aggregate="children", themes=True)
    assert themed.columns.names == ["theme", "code"]
    assert ("resources", "budget") in themed.columns and ("planning", "planning") in themed.columns
    with pytest.raises(ValueError, match="needs the codebook"):
        M.case_by_code(codings, corpus, aggregate="children")


def test_case_by_code_coverage_counts_overlaps_once_and_fgd_speaker_denominator(corpus, codings):
    m = M.case_by_code(codings, corpus, "coverage")
    d1 = corpus["d1"].text
    # "Budget" lies inside "Budget is tight.": union = 16 characters
    assert m.loc["c1", "budget"] == pytest.approx(16 / len(d1))
    # a speaker case's denominator is that speaker's turns only
    assert m.loc["p_ani", "forum"] == pytest.approx(1.0)
    fg = corpus["fg"].text
    own = len("The forum is useful.") + len("The forum wastes time.")
    assert m.loc["fg", "forum"] == pytest.approx(len("What about the forum?") / (len(fg) - own))
    chars = M.case_by_code(codings, corpus, "n_chars")
    assert chars.loc["c1", "budget"] == 16
    words = M.case_by_code(codings, corpus, "n_words")
    assert words.loc["c1", "budget"] == 3
    norm = M.case_by_code(codings, corpus, "normalized")
    assert norm.loc["c2", "planning"] == pytest.approx(1000 / len(corpus["d2"].text.split()))
    assert norm.loc["c3", "planning"] == 0


def test_case_by_code_percentages_match_crosstab(corpus, codings):
    f = codings.to_frame()
    counts = M.case_by_code(codings, corpus)
    for value, norm in (("row_pct", "index"), ("col_pct", "columns"), ("table_pct", "all")):
        m = M.case_by_code(codings, corpus, value)
        ref = pd.crosstab(f["case_id"], f["code"], normalize=norm)
        got = m.loc[ref.index, ref.columns]
        np.testing.assert_allclose(got.to_numpy(), ref.to_numpy(), rtol=0, atol=1e-12)
    rp = M.case_by_code(codings, corpus, "row_pct")
    assert rp.loc["c3"].isna().all()  # undefined: the row total is 0
    present = M.case_by_code(codings, corpus, "present")
    assert (present == (counts > 0).astype(int)).all().all()


def test_case_by_code_role_filter_and_consensus(corpus, codings):
    m = M.case_by_code(codings, corpus, role="respondent")
    assert m.loc["fg"].sum() == 0 and m.loc["p_ani"].sum() == 0
    assert m.loc["c1", "planning"] == 2
    parts = M.case_by_code(codings, corpus, role=["participant"])
    assert parts["forum"].sum() == 2
    cons = M.case_by_code(codings, corpus, coder="consensus")
    # only "We plan every year." was coded with the same code by both coders
    assert cons.to_numpy().sum() == 1 and cons.loc["c1", "planning"] == 1
    assert cons.attrs["coder"] == "consensus"


def test_consensus_on_documents_without_speaker_turns():
    # plain notes: no turns.  Coders x (0-10) and y (2-12) agree on characters 2-10.
    from qualcode import Corpus, Document

    corpus = Corpus([Document("d", "hello world there friends")])
    codings = Codings.from_records([
        {"doc_id": "d", "start": 0, "end": 10, "code": "a", "coder": "x"},
        {"doc_id": "d", "start": 2, "end": 12, "code": "a", "coder": "y"},
    ])
    chars = M.case_by_code(codings, corpus, "n_chars", coder="consensus")
    assert chars.loc["d", "a"] == 8
    rows = M.cell(chars, "d", "a")
    assert list(rows["text"]) == ["llo worl"] and rows["turn"].tolist() == [-1]
    assert rows["case_id"].tolist() == ["d"]


def test_code_by_attribute_groups_and_sizes(corpus, codings):
    m = M.code_by_attribute(codings, corpus, "region")
    assert m.index.name == "code" and m.columns.name == "region"
    assert list(m.columns) == ["north", "south", "(missing)"]
    assert m.attrs["group_sizes"] == {"north": 3, "south": 2, "(missing)": 1}
    assert m.loc["budget", "north"] == 2 and m.loc["budget", "south"] == 1
    share = M.code_by_attribute(codings, corpus, "region", "share_cases")
    assert share.loc["budget", "north"] == pytest.approx(1 / 3)  # c1 of c1, c3, p_ani
    assert share.loc["forum", "south"] == pytest.approx(1 / 2)  # fg of c2, fg
    per = M.code_by_attribute(codings, corpus, "region", "per_case")
    assert per.loc["budget", "north"] == pytest.approx(2 / 3)
    roles = M.code_by_attribute(codings, corpus, "role")
    assert roles.loc["forum", "participant"] == 2 and roles.loc["forum", "moderator"] == 1
    rows = M.cell(m, "budget", "south")
    assert rows["text"].tolist() == ["Budget cuts hurt us."]
    with pytest.raises(ValueError, match="The 'attribute' parameter of code_by_attribute"):
        M.code_by_attribute(codings, corpus, "nope")


def test_cooccurrence_levels_and_measures(corpus, codings):
    m = M.cooccurrence(codings, corpus)
    # ana: budget("Budget is tight.") x staff, budget("Budget") x staff -> 2 pairs;
    # d2 budget (ana) and staff (bob) are different coders -> not counted
    assert m.loc["budget", "staff"] == 2 and m.loc["staff", "budget"] == 2
    assert m.loc["budget", "budget"] == 3 and m.loc["planning", "data"] == 0
    c = M.cooccurrence(codings, corpus, measure="c")
    assert c.loc["budget", "staff"] == pytest.approx(2 / (3 + 2 - 2))
    doc = M.cooccurrence(codings, corpus, level="document", measure="c")
    assert doc.loc["planning", "data"] == pytest.approx(1 / (2 + 1 - 1))
    win0 = M.cooccurrence(codings, corpus, level="window", window=0)
    # same turn, same coder: d1 turn 1 planning x budget (2 budget codings) + d2 turn 1 -> 3
    assert win0.loc["planning", "budget"] == 3 and win0.loc["data", "planning"] == 0
    win2 = M.cooccurrence(codings, corpus, level="window", window=2)
    assert win2.loc["data", "budget"] == 2  # turn 1 and turn 3 of d1, same coder
    jac = M.cooccurrence(codings, corpus, measure="jaccard")
    assert jac.loc["budget", "staff"] == pytest.approx(1.0)  # identical coded characters
    pairs = M.cell(m, "budget", "staff")
    assert pairs["pair"].nunique() == 2 and len(pairs) == 4


def test_cooccurrence_atlas_ti_c_coefficient_example():
    # 100 codings of A, 10 of B, 5 of which overlap an A coding: c = 5 / 105
    rows = [{"doc_id": "d", "start": 100 * i, "end": 100 * i + 50, "code": "A", "coder": "x"} for i in range(100)]
    rows += [{"doc_id": "d", "start": 100 * i + 10, "end": 100 * i + 20, "code": "B", "coder": "x"} for i in range(5)]
    rows += [{"doc_id": "d", "start": 100 * i + 60, "end": 100 * i + 70, "code": "B", "coder": "x"} for i in range(5, 10)]
    m = M.cooccurrence(Codings.from_records(rows), measure="c")
    assert m.loc["A", "B"] == pytest.approx(5 / 105)
    assert m.attrs["frequencies"] == {"A": 100, "B": 10}


def test_framework_matrix_quotes_human_first_and_location(corpus, codings):
    a, b = span(corpus, "d2", "Budget cuts hurt us.")
    auto = Codings.from_records(
        [{"doc_id": "d2", "start": a, "end": b, "code": "planning", "coder": "auto", "source": "rule", "score": 0.99, "case_id": "c2"}]
    )
    fm = M.framework_matrix(codings + auto, corpus, quotes=1)
    assert fm.loc["c2", "planning"] == "\u201cPlanning is late.\u201d [d2 \u00b62, R]"
    fm2 = M.framework_matrix(codings + auto, corpus, quotes=2)
    assert fm2.loc["c2", "planning"].split("\n")[1].startswith("\u201cBudget cuts")
    # the same span coded by ana and bob is shown once
    assert fm.loc["c1", "planning"].count("We plan") == 1
    assert fm.loc["c3", "planning"] == ""
    assert fm.loc["p_ani", "forum"] == "\u201cThe forum is useful.\u201d [fg \u00b62, Ani]"
    rows = M.cell(fm2, "c2", "planning")
    assert rows["source"].tolist() == ["human", "rule"]


def test_case_profile_ranks_codes(corpus, codings):
    p = M.case_profile(codings, corpus, "c1")
    # planning 2 (19 chars) before budget 2 (16 chars), then data 1 (20) before staff 1 (16)
    assert list(p.index) == ["planning", "budget", "data", "staff"]
    d1 = corpus["d1"].text
    assert p.loc["data", "first"] == pytest.approx(d1.index("Data is") / len(d1))
    assert p.loc["budget", "first"] == pytest.approx(d1.index("Budget") / len(d1))
    assert p.loc["planning", "n_cases"] == 2 and p.loc["planning", "share_cases"] == pytest.approx(2 / 6)
    assert "\u201cWe plan every year.\u201d" in p.loc["planning", "quotes"]
    with pytest.raises(ValueError, match="case_id"):
        M.case_profile(codings, corpus, "zzz")


def test_case_timeline_turn_presence(corpus, codings):
    t = M.case_timeline(codings, corpus, "d1")
    assert t.columns.name == "turn" and list(t.columns) == [0, 1, 2, 3]
    assert t.loc["data"].tolist() == [0, 0, 0, 1]
    assert t.loc["budget"].tolist() == [0, 1, 0, 0]
    n = M.case_timeline(codings, corpus, "d1", value="n_segments")
    assert n.loc["planning", 1] == 2
    long = M.case_timeline(codings, corpus, "d1", wide=False)
    assert set(long.columns) >= {"position", "speaker", "code", "present"}
    assert len(M.cell(t, "budget", 1)) == 2
    sent = M.case_timeline(codings, corpus, "d1", unit="sentence")
    assert sent.loc["budget"].tolist() == [0, 0, 1, 0, 0]  # 5 sentences; budget in the 3rd


def test_cross_case_summary_disconfirming_and_saturation(corpus, codings):
    s = M.cross_case_summary(codings, corpus, cases=["c1", "c2", "c3"], order=["d2", "d1", "fg", "d3"])
    assert s["codes"].loc["planning", "n_cases"] == 2
    assert s.codes.loc["data", "present_in_region"] == "north"
    assert s.codes.loc["data", "absent_in_region"] == "south"
    dis = s.disconfirming
    assert sorted(dis["code"]) == ["budget", "planning", "staff"] and set(dis["case_id"]) == {"c3"}
    assert s.saturation["n_new"].tolist() == [3, 1, 1, 0]
    assert s.saturation["cumulative"].tolist() == [3, 4, 5, 5]


def test_long_table_is_what_the_matrices_pivot(corpus, codings):
    long = M.long_table(codings, corpus)
    wide = M.case_by_code(codings, corpus)
    piv = long.pivot(index="case", columns="code", values="n_segments")
    for (case, code), v in piv.stack().dropna().items():
        assert wide.loc[case, code] == v
    cov = M.case_by_code(codings, corpus, "coverage")
    for r in long.itertuples():
        assert cov.loc[r.case, r.code] == pytest.approx(r.coverage)


def test_bad_value_message(corpus, codings):
    with pytest.raises(ValueError, match=r"The 'value' parameter of case_by_code must be a str among \{.*\}. Got 'count' instead."):
        M.case_by_code(codings, corpus, "count")
    with pytest.raises(TypeError, match="Make sure to supply"):
        M.case_by_code(codings, corpus.cases)
