"""Character-level coding comparison (NVivo's units): the NVivo example, hand counts and oracles."""

from __future__ import annotations

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from qualcode import Codings, Corpus, Document
from qualcode import reliability as R


def _cod(rows, coder):
    return Codings.from_records(
        [{"doc_id": d, "start": a, "end": b, "code": k, "coder": coder, "source": "human", "score": 1.0} for d, a, b, k in rows]
    )


def test_nvivo_character_example():
    # 1000-character source: A codes 0-150, B codes 100-200 -> 50 both, 150 one only, 800 neither
    corpus = Corpus([Document("src", "x" * 1000)])
    a = _cod([("src", 0, 150, "k")], "A")
    b = _cod([("src", 100, 200, "k")], "B")
    rep = R.agreement_report(a, b, corpus, unit="character")
    row = rep[(rep["code"] == "k") & (rep["document"] == "src")].iloc[0]
    assert (row["n_units"], row["both"], row["neither"], row["only_a"], row["only_b"]) == (1000, 50, 800, 100, 50)
    assert row["pa"] == pytest.approx(0.85, abs=1e-12)
    assert row["agreement_pct"] == pytest.approx(85.0)
    # NVivo's steps: EF1 = 150*100/1000 = 15, EF2 = 850*900/1000 = 765, K = (850 - 780)/(1000 - 780)
    assert row["kappa"] == pytest.approx(70 / 220, abs=1e-12)
    assert (row["a_and_b_pct"], row["not_a_and_not_b_pct"], row["disagreement_pct"]) == pytest.approx((5.0, 80.0, 15.0))
    assert (row["a_and_not_b_pct"], row["b_and_not_a_pct"]) == pytest.approx((10.0, 5.0))
    # binary alpha by hand: n = 2000 values, n1 = 250, n0 = 1750, 150 disagreeing pairs
    assert row["alpha"] == pytest.approx(1 - 1999 * 150 / (250 * 1750), abs=1e-12)
    assert rep.attrs["unit"] == "character" and rep.attrs["coders"] == ["A", "B"]


def _chars(rows, doc, n, code):
    v = np.zeros(n, dtype=int)
    for d, a, b, k in rows:
        if d == doc and k == code:
            v[a:b] = 1
    return v


@pytest.mark.parametrize("seed", range(3))
def test_character_tables_match_expanded_vectors(seed):
    rng = np.random.default_rng(seed)
    lens = {"d1": 300, "d2": 180}
    corpus = Corpus([Document(d, "y" * n) for d, n in lens.items()])
    rows = {}
    for coder in ("A", "B"):
        rows[coder] = []
        for _ in range(12):  # overlapping codings of one coder are counted once
            d = str(rng.choice(list(lens)))
            a = int(rng.integers(0, lens[d] - 5))
            rows[coder].append((d, a, int(min(lens[d], a + rng.integers(1, 60))), str(rng.choice(["p", "q"]))))
    rep = R.agreement_report(_cod(rows["A"], "A"), _cod(rows["B"], "B"), corpus, unit="character")
    all_a, all_b = [], []
    for code in ("p", "q"):
        va_code, vb_code = [], []
        for d, n in lens.items():
            va, vb = _chars(rows["A"], d, n, code), _chars(rows["B"], d, n, code)
            va_code.append(va)
            vb_code.append(vb)
            row = rep[(rep["code"] == code) & (rep["document"] == d)]
            if not len(row):
                continue  # a code neither coder used is not in the report
            row = row.iloc[0]
            assert row["n_units"] == n
            assert row["both"] == int((va & vb).sum()) and row["neither"] == int((1 - (va | vb)).sum())
            assert row["only_a"] == int((va & (1 - vb)).sum()) and row["only_b"] == int(((1 - va) & vb).sum())
            assert row["pa"] == pytest.approx(float((va == vb).mean()), abs=1e-12)
            if len(set(va) | set(vb)) > 1:
                assert row["kappa"] == pytest.approx(cohen_kappa_score(va, vb), abs=1e-9)
                assert row["alpha"] == pytest.approx(
                    krippendorff.alpha(np.vstack([va, vb]), level_of_measurement="nominal"), abs=1e-9)
            else:
                assert np.isnan(row["kappa"])
        va, vb = np.concatenate(va_code), np.concatenate(vb_code)
        all_a.append(va)
        all_b.append(vb)
        pooled = rep[(rep["code"] == code) & (rep["document"] == "(pooled)")]
        if len(pooled):
            assert pooled.iloc[0]["n_units"] == sum(lens.values())
            assert pooled.iloc[0]["kappa"] == pytest.approx(cohen_kappa_score(va, vb), abs=1e-9)
    va, vb = np.concatenate(all_a), np.concatenate(all_b)
    last = rep.iloc[-1]
    assert (last["code"], last["document"]) == ("(pooled)", "(pooled)")
    assert last["n_units"] == len(va)
    assert last["kappa"] == pytest.approx(cohen_kappa_score(va, vb), abs=1e-9)
    assert last["pa"] == pytest.approx(float((va == vb).mean()), abs=1e-12)


def test_character_report_ignores_unknown_documents_and_clips_to_the_text():
    corpus = Corpus([Document("d", "z" * 100)])
    a = _cod([("d", 90, 150, "k"), ("ghost", 0, 10, "k")], "A")
    b = _cod([("d", 95, 100, "k")], "B")
    rep = R.agreement_report(a, b, corpus, unit="character", by_document=False, percentages=False)
    assert list(rep.columns) == ["code", "document", "n_units", "pa", "kappa", "alpha", "both", "neither", "only_a", "only_b"]
    row = rep.iloc[0]
    assert (row["n_units"], row["both"], row["only_a"], row["only_b"], row["neither"]) == (100, 5, 5, 0, 90)


def test_unknown_unit_message():
    corpus = Corpus([Document("d", "z" * 10)])
    a = _cod([("d", 0, 5, "k")], "A")
    with pytest.raises(ValueError, match=r"The 'unit' parameter of agreement_report must be a str among .*'character'"):
        R.agreement_report(a, a, corpus, unit="word")


def test_agreement_on_characters_is_precision_recall_over_characters():
    corpus = Corpus([Document("d", "w" * 200), Document("e", "v" * 100)])
    ref = _cod([("d", 0, 100, "k"), ("e", 10, 30, "k"), ("d", 50, 120, "k")], "gold")  # overlap counted once: 140
    oth = _cod([("d", 80, 160, "k"), ("e", 0, 20, "j")], "auto")
    ag = R.agreement(ref, oth, corpus, unit="character")
    k = ag.loc["k"]
    # reference k: d 0-120 (120) + e 10-30 (20) = 140; other k: d 80-160 (80); overlap d 80-120 = 40
    assert (k["support"], k["predicted"], k["tp"]) == (140, 80, 40)
    assert k["precision"] == pytest.approx(40 / 80) and k["recall"] == pytest.approx(40 / 140)
    assert k["f1"] == pytest.approx(2 * 40 / 220)
    va = np.r_[_chars([("d", 0, 120, "k")], "d", 200, "k"), _chars([("e", 10, 30, "k")], "e", 100, "k")]
    vb = np.r_[_chars([("d", 80, 160, "k")], "d", 200, "k"), np.zeros(100, int)]
    assert k["kappa"] == pytest.approx(cohen_kappa_score(va, vb), abs=1e-9)
    j = ag.loc["j"]
    assert (j["support"], j["predicted"], j["tp"]) == (0, 20, 0) and np.isnan(j["recall"])
    pooled = ag.loc["(pooled)"]
    assert (pooled["support"], pooled["predicted"], pooled["tp"]) == (140, 100, 40)
    assert ag.attrs["n_units"] == 300 and ag.attrs["unit"] == "character"
