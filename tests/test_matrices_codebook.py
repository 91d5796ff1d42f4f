"""Matrices with a real qualcode.Codebook (hierarchy methods return ids): aggregation, order, themes."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _matrix_fixtures import make_codings, make_corpus, span  # noqa: E402

import qualcode as qc  # noqa: E402
from qualcode import Codings  # noqa: E402
from qualcode import matrices as M  # noqa: E402

# file order deliberately not alphabetical; three levels under "resources"
SPEC = [
    ("planning", None),
    ("resources", None),
    ("budget", "resources"),
    ("budget_cuts", "budget"),
    ("staff", "resources"),
    ("data", None),
    ("forum", None),
]


@pytest.fixture(scope="module")
def cb():
    codes = []
    for i, p in SPEC:
        c = {"id": i, "name": i.replace("_", " ").title(), "definition": f"Talk about {i}."}
        if p:
            c["parent"] = p
        codes.append(c)
    return qc.Codebook.from_dict({"name": "hand", "codes": codes})


@pytest.fixture(scope="module")
def corpus():
    return make_corpus()


@pytest.fixture(scope="module")
def codings(corpus):
    """The hand-made coding plus one deep code: "Budget cuts hurt us." also budget_cuts by ana,
    and "Budget is tight." budget_cuts by ana (already budget + staff by ana)."""
    extra = []
    for doc, quote in (("d2", "Budget cuts hurt us."), ("d1", "Budget is tight.")):
        a, b = span(corpus, doc, quote)
        extra.append({"doc_id": doc, "start": a, "end": b, "code": "budget_cuts", "coder": "ana", "source": "human",
                      "score": 1.0, "case_id": corpus[doc].case_id})
    return make_codings(corpus) + Codings.from_records(extra)


def test_real_codebook_hierarchy_returns_ids(cb):
    assert cb.ancestors("budget_cuts") == ["budget", "resources"]
    assert cb.descendants("resources") == ["budget", "budget_cuts", "staff"]
    assert cb.roots == ["planning", "resources", "data", "forum"]


def test_parent_aggregation_counts_each_span_once_per_coder(corpus, codings, cb):
    m = M.case_by_code(codings, corpus, codebook=cb, aggregate="children", margins=True)
    # columns follow the codebook's file order, then the margin
    assert list(m.columns) == [*cb.ids, "All"]
    # c1 (ana): "Budget is tight." coded budget, staff, budget_cuts -> once for resources; "Budget" -> once
    assert m.loc["c1", "resources"] == 2
    # budget: "Budget is tight." (budget, and budget_cuts below it) once, "Budget" once
    assert m.loc["c1", "budget"] == 2
    assert m.loc["c1", "budget_cuts"] == 1
    # c2: "Budget cuts hurt us." ana (budget, budget_cuts) and bob (staff): one per coder
    assert m.loc["c2", "resources"] == 2
    assert m.loc["c2", "budget"] == 1
    # worked from the raw table: distinct (doc, span, coder) among the subtree's codings
    f = codings.to_frame()
    for parent in ("resources", "budget"):
        sub = f[f["code"].isin([parent, *cb.descendants(parent)])]
        want = sub.drop_duplicates(["doc_id", "start", "end", "coder"]).groupby("case_id").size()
        got = m[parent].drop("All")
        assert got[got > 0].to_dict() == want.to_dict()
    # the margin counts each original coding once: 12 + 2 = 14
    assert m.loc["All", "All"] == len(f) == 14
    # with a codebook, children roll up by default; without aggregation a parent only has
    # its own codings (none here)
    assert M.case_by_code(codings, corpus, codebook=cb).equals(m.drop(index="All", columns="All"))
    plain = M.case_by_code(codings, corpus, codebook=cb, aggregate="none")
    assert plain["resources"].sum() == 0 and plain["budget_cuts"].sum() == 2
    rows = M.cell(m, "c2", "resources")
    assert len(rows) == 2 and sorted(rows["coder"]) == ["ana", "bob"]


def test_coverage_of_a_parent_is_the_union_of_its_subtree(corpus, codings, cb):
    cov = M.case_by_code(codings, corpus, "n_chars", codebook=cb, aggregate="children")
    assert cov.loc["c1", "resources"] == len("Budget is tight.")
    assert cov.loc["c2", "resources"] == len("Budget cuts hurt us.")


def test_themes_multiindex_uses_the_root(corpus, codings, cb):
    m = M.case_by_code(codings, corpus, codebook=cb, aggregate="children", themes=True, margins=True)
    assert m.columns.names == ["theme", "code"]
    assert list(m.columns) == [
        ("planning", "planning"), ("resources", "resources"), ("resources", "budget"),
        ("resources", "budget_cuts"), ("resources", "staff"), ("data", "data"), ("forum", "forum"), ("All", "All"),
    ]
    assert m.loc["c1", ("resources", "budget_cuts")] == 1
    by_attr = M.code_by_attribute(codings, corpus, "region", codebook=cb, aggregate="children", themes=True)
    assert by_attr.index.names == ["theme", "code"]
    assert ("resources", "budget_cuts") in by_attr.index
    fm = M.framework_matrix(codings, corpus, codebook=cb, themes=True)
    assert fm.columns.names == ["theme", "code"] and fm.columns[0] == ("planning", "planning")


def test_codes_outside_the_codebook_come_after_it_sorted(corpus, codings, cb):
    a, b = span(corpus, "d3", "Nothing to add.")
    extra = Codings.from_records(
        [{"doc_id": "d3", "start": a, "end": b, "code": k, "coder": "ana", "source": "human", "score": 1.0, "case_id": "c3"}
         for k in ("zeta", "alpha")]
    )
    m = M.case_by_code(codings + extra, corpus, codebook=cb)
    assert list(m.columns) == [*cb.ids, "alpha", "zeta"]
    themed = M.case_by_code(codings + extra, corpus, codebook=cb, themes=True)
    assert ("alpha", "alpha") in themed.columns  # an unknown code is its own theme
    co = M.cooccurrence(codings + extra, corpus, codebook=cb)
    assert list(co.index) == list(co.columns)
    assert list(co.index) == [c for c in [*cb.ids, "alpha", "zeta"] if c in co.index]


def test_shipped_codebook_aggregates_leaves_into_themes(corpus, cb):
    tp = qc.Codebook.load(Path(__file__).parents[1] / "codebooks" / "technocratic_planning.yaml")
    leaf = tp.children(tp.roots[0])
    a, b = span(corpus, "d1", "We plan every year.")
    rows = [{"doc_id": "d1", "start": a, "end": b, "code": k, "coder": "ana", "source": "human", "score": 1.0,
             "case_id": "c1"} for k in leaf[:2]]
    m = M.case_by_code(Codings.from_records(rows), corpus, codebook=tp, aggregate="children")
    assert list(m.columns) == tp.ids
    assert m.loc["c1", tp.roots[0]] == 1  # two leaves on one span, one coder: counted once
    assert m.loc["c1", leaf[0]] == 1 and m.loc["c1", leaf[1]] == 1
    assert m.drop(columns=[tp.roots[0], *leaf[:2]]).to_numpy().sum() == 0
    assert isinstance(m, pd.DataFrame)


def test_heatmap_of_a_themed_matrix_labels_theme_and_code(corpus, codings, cb):
    import matplotlib

    matplotlib.use("Agg")
    from qualcode import plotting

    m = M.case_by_code(codings, corpus, codebook=cb, aggregate="children", themes=True)
    fig = plotting.heatmap(m)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "theme / code"
    labels = ["".join(t.get_text().split()) for t in ax.get_xticklabels()]
    assert labels == cb.ids  # ticks name the code; the theme is shown once per group
    top = ax.child_axes  # the secondary x axis with the theme names
    assert len(top) == 1
    assert ["".join(t.get_text().split()) for t in top[0].get_xticklabels()] == cb.roots
    # white separators between the four themes
    assert len([ln for ln in ax.get_lines() if ln.get_color() == "white"]) == len(cb.roots) - 1
