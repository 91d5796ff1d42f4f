"""Every matrix function on the bundled sample and its gold coding, checked against the raw table."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import qualcode as qc
from qualcode import matrices as M

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "transcripts_sample"


@pytest.fixture(scope="module")
def corpus() -> qc.Corpus:
    return qc.read_corpus(SAMPLE)


@pytest.fixture(scope="module")
def gold(corpus):
    return qc.read_codings(SAMPLE / "gold_codings.csv", corpus)


@pytest.fixture(scope="module")
def raw(gold) -> pd.DataFrame:
    return gold.to_frame()


@pytest.fixture(scope="module")
def counts(gold, corpus) -> pd.DataFrame:
    return M.case_by_code(gold, corpus, margins=True)


@pytest.fixture(scope="module")
def codebooks():
    return {p.stem: qc.Codebook.load(p) for p in sorted((ROOT / "codebooks").glob("*.yaml"))}


def _collapse(s: str) -> str:
    return " ".join(s.split())


def test_case_by_code_totals_are_the_gold_codings(corpus, raw, counts):
    body = counts.drop(index="All", columns="All")
    assert list(body.index) == list(corpus.cases.index)  # every case, coded or not
    per_code = raw.groupby("code").size()
    assert body.sum().to_dict() == per_code.to_dict()
    assert counts.loc["All", "All"] == len(raw) == 576
    per_case = raw.groupby("case_id").size()
    assert body.sum(axis=1)[per_case.index].to_dict() == per_case.to_dict()
    assert (body.sum(axis=1).drop(per_case.index) == 0).all()


def test_fgd_participants_are_their_own_cases(corpus, raw, counts):
    for p in ("tp_fgd1_P1", "tp_fgd1_P2", "tp_fgd1_P5", "ai_fgd1_P7"):
        assert p in counts.index
        assert counts.loc[p].drop("All").sum() == (raw["case_id"] == p).sum() > 0
    # the forum document's own case only gets codings outside the participants' turns
    own = raw[(raw["doc_id"] == "tp_fgd1_planning_forum") & (raw["case_id"] == "tp_fgd1")]
    assert counts.loc["tp_fgd1"].drop("All").sum() == len(own)


def test_present_agrees_with_segments(gold, corpus, counts):
    present = M.case_by_code(gold, corpus, "present")
    body = counts.drop(index="All", columns="All")
    assert present.equals((body > 0).astype("int64"))


def test_coverage_is_a_share_and_matches_a_hand_union(gold, corpus, raw):
    cov = M.case_by_code(gold, corpus, "coverage")
    vals = cov.to_numpy(dtype=float)
    assert np.nanmin(vals) >= 0 and np.nanmax(vals) <= 1
    assert (cov.sum(axis=1) > 0).sum() == raw["case_id"].nunique()
    # a one-document interview case: union of the coded characters / characters of the text
    case, code = "tp08_opd_public_works_regency_c", "convergence"
    rows = raw[(raw["case_id"] == case) & (raw["code"] == code)]
    covered = set()
    for r in rows.itertuples():
        covered.update(range(r.start, r.end))
    assert len(rows) > 1
    assert cov.loc[case, code] == pytest.approx(len(covered) / len(corpus[case].text), abs=1e-12)


def test_code_by_gov_level_counts_cases(gold, corpus, raw):
    m = M.code_by_attribute(gold, corpus, "gov_level", "n_cases", margins=True)
    with_code = raw.groupby("code")["case_id"].nunique()
    assert m.drop(index="All", columns="All").sum(axis=1).to_dict() == with_code.to_dict()
    sizes = m.attrs["group_sizes"]
    assert sum(sizes.values()) == len(corpus.cases)
    share = M.code_by_attribute(gold, corpus, "gov_level", "share_cases")
    for g, n in sizes.items():
        if n:
            np.testing.assert_allclose(share[g].to_numpy(), m[g].drop("All").to_numpy() / n, atol=1e-12)
    assert ((share >= 0) & (share <= 1)).all().all()


def test_cooccurrence_document_level(gold, corpus, raw):
    co = M.cooccurrence(gold, corpus, level="document")
    assert list(co.index) == list(co.columns)
    assert (co.to_numpy() == co.to_numpy().T).all()
    docs_per_code = raw.groupby("code")["doc_id"].nunique()
    assert pd.Series(np.diag(co), index=co.index).to_dict() == docs_per_code.to_dict()
    by_doc = raw.groupby("doc_id")["code"].agg(set)
    a, b = "convergence", "elite_involvement"
    assert co.loc[a, b] == sum(1 for s in by_doc if a in s and b in s) > 0
    # codes of the two studies never share a document
    assert co.loc["convergence", "efficiency_gains"] == 0
    seg = M.cooccurrence(gold, corpus)
    assert (seg.to_numpy() == seg.to_numpy().T).all()
    assert (np.diag(seg) == raw.groupby("code").size()[seg.index].to_numpy()).all()
    # segment level by brute force for one pair: overlapping spans in the same document
    xa, xb = raw[raw["code"] == a], raw[raw["code"] == b]
    pairs = xa.merge(xb, on=["doc_id", "coder"])
    assert seg.loc[a, b] == int(((pairs["start_x"] < pairs["end_y"]) & (pairs["start_y"] < pairs["end_x"])).sum())


def test_framework_quotes_come_from_the_corpus(gold, corpus, counts):
    fm = M.framework_matrix(gold, corpus, quotes=2, max_chars=10_000)
    texts = {d.doc_id: _collapse(d.text) for d in corpus.documents}
    body = counts.drop(index="All", columns="All")
    assert ((fm != "") == (body.loc[fm.index, fm.columns] > 0)).all().all()
    pattern = re.compile(r"\u201c(.*?)\u201d \[([^\]\u00b6,]+?)(?: \u00b6(\d+))?(?:, ([^\]]+))?\]$")
    n = 0
    for cell in fm.to_numpy().ravel():
        if not cell:
            continue
        quotes = cell.split("\n")
        assert 1 <= len(quotes) <= 2
        for q in quotes:
            m = pattern.match(q)
            assert m, q
            doc = m.group(2).strip()
            assert m.group(1) in texts[doc]
            if m.group(3):
                turn = corpus[doc].turns[int(m.group(3)) - 1]
                assert m.group(1) in _collapse(corpus[doc].text[turn.start:turn.end])
            n += 1
    assert n >= 300


def test_cell_returns_the_codings_behind_a_count(gold, corpus, counts):
    texts = {d.doc_id: d.text for d in corpus.documents}
    body = counts.drop(index="All", columns="All")
    stacked = body.stack()
    for (case, code), v in stacked[stacked > 0].sample(12, random_state=0).items():
        rows = M.cell(counts, case, code)
        assert len(rows) == v
        assert set(rows["code"]) == {code}
        for r in rows.itertuples():
            assert r.text == texts[r.doc_id][r.start:r.end]


def test_role_filter_never_increases_counts(gold, corpus, counts, raw):
    resp = M.case_by_code(gold, corpus, role="respondent", margins=True)
    assert (resp.to_numpy() <= counts.loc[resp.index, resp.columns].to_numpy()).all()
    assert resp.loc["All", "All"] == (raw["role"] == "respondent").sum() < len(raw)
    assert resp.loc["tp_fgd1_P1"].sum() == 0  # participants are not respondents


def test_saturation_curve_on_the_sample(gold, corpus, raw):
    s = M.cross_case_summary(gold, corpus)
    sat = s.saturation
    assert len(sat) == len(corpus.documents)
    cum = sat["cumulative"].to_numpy()
    assert (np.diff(cum) >= 0).all()
    assert cum[-1] == raw["code"].nunique() == 16
    assert sat["n_new"].sum() == 16
    codes = s.codes
    assert codes["n_segments"].to_dict() == raw.groupby("code").size().to_dict()
    assert codes["n_cases"].to_dict() == raw.groupby("case_id")["code"].value_counts().reset_index().groupby("code").size().to_dict()
    # a disconfirming case lacks a code that at least 2/3 of the cases have (study 1 interviews)
    interviews = [c for c in corpus.cases.index if re.fullmatch(r"tp\d\d_.*", c)]
    s = M.cross_case_summary(gold, corpus, cases=interviews)
    have = raw[raw["case_id"].isin(interviews)].groupby("code")["case_id"].nunique()
    common = set(have[have >= 2 / 3 * len(interviews)].index)
    want = {(k, c) for k in common for c in interviews if not ((raw["case_id"] == c) & (raw["code"] == k)).any()}
    assert set(zip(s.disconfirming["code"], s.disconfirming["case_id"], strict=True)) == want
    assert len(want) >= 1
    for r in s.disconfirming.itertuples():
        assert r.share_cases >= 2 / 3 - 1e-12
        assert not ((raw["case_id"] == r.case_id) & (raw["code"] == r.code)).any()


def test_case_profile_and_timeline(gold, corpus, raw):
    case = "tp06_regent_expert_staff_regency_d"
    p = M.case_profile(gold, corpus, case)
    mine = raw[raw["case_id"] == case]
    assert p["n_segments"].to_dict() == mine.groupby("code").size().to_dict()
    assert p["n_segments"].is_monotonic_decreasing
    assert ((p["first"] >= 0) & (p["first"] <= p["last"]) & (p["last"] < 1)).all()
    t = M.case_timeline(gold, corpus, case)
    doc = corpus[case]
    assert t.shape[1] == len(doc.turns)
    for code in mine["code"].unique():
        turns = {i for i, tr in enumerate(doc.turns) for r in mine[mine["code"] == code].itertuples()
                 if r.start < tr.end and tr.start < r.end}
        assert set(np.flatnonzero(t.loc[code].to_numpy())) == turns


def test_long_table_and_codebook_aggregation(gold, corpus, raw, codebooks):
    long = M.long_table(gold, corpus)
    assert long["n_segments"].sum() == len(raw)
    tp = codebooks["technocratic_planning"]
    m = M.case_by_code(gold, corpus, codebook=tp, aggregate="children", themes=True)
    assert m.columns.names == ["theme", "code"]
    assert [c for _, c in m.columns][: len(tp.ids)] == tp.ids
    for root in tp.roots:
        sub = raw[raw["code"].isin(tp.descendants(root))]
        want = sub.drop_duplicates(["doc_id", "start", "end", "coder"]).groupby("case_id").size()
        got = m[(root, root)]
        assert got[got > 0].to_dict() == want.to_dict()
    ai = codebooks["ai_in_government"]
    by_level = M.code_by_attribute(gold, corpus, "gov_level", codebook=ai, aggregate="children")
    for root in ai.roots:
        sub = raw[raw["code"].isin(ai.descendants(root))]
        assert by_level.loc[root].sum() == len(sub.drop_duplicates(["doc_id", "start", "end", "coder"]))


def test_a_scoped_codebook_leaves_other_studies_out_without_a_warning(gold, corpus, codebooks):
    import warnings

    tp = codebooks["technocratic_planning"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the scope leaves the study-2 codings out; nothing is "missing"
        m = M.case_by_code(gold, corpus, codebook=tp)
    scoped = corpus.subset(tp.in_scope(corpus))
    assert set(m.index) <= set(scoped.cases.index) and not any(c.startswith("ai") for c in m.index)
    tp_rows = gold.to_frame()
    tp_rows = tp_rows[tp_rows["doc_id"].isin(scoped.doc_ids)]
    assert int(m["convergence"].sum()) == int((tp_rows["code"] == "convergence").sum())
