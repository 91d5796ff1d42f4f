"""Reliability coefficients against METHODS.md test vectors and reference implementations."""

from __future__ import annotations

import sys
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

sys.path.insert(0, str(Path(__file__).parent))
from _matrix_fixtures import make_codings, make_corpus, span  # noqa: E402

from qualcode import Codings  # noqa: E402
from qualcode import reliability as R  # noqa: E402

A = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]
B = [0, 1, 1, 0, 0, 1, 0, 1, 0, 0]


def test_atlas_ti_binary_example():
    assert R.percent_agreement(A, B) == pytest.approx(0.60)
    assert R.cohen_kappa(A, B) == pytest.approx(0.091, abs=5e-4)
    assert R.krippendorff_alpha([A, B]) == pytest.approx(0.095, abs=5e-4)


def test_krippendorff_c_data_from_r_docs():
    # irr::kripp.alpha / DescTools::KrippAlpha "nmm": 4 coders x 12 units, filled by column
    nan = np.nan
    vals = [1, 1, nan, 1, 2, 2, 3, 2, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 1, 2, 3, 4, 4, 4, 4, 4,
            1, 1, 2, 1, 2, 2, 2, 2, nan, 5, 5, 5, nan, nan, 1, 1, nan, nan, 3, nan]
    data = np.array(vals, dtype=float).reshape(12, 4).T
    assert R.krippendorff_alpha(data) == pytest.approx(0.7434, abs=5e-5)
    assert R.krippendorff_alpha(data, "ordinal") == pytest.approx(0.815, abs=5e-4)
    assert R.krippendorff_alpha(data, "interval") == pytest.approx(0.849, abs=5e-4)


def test_nvivo_character_example_and_holsti():
    a = np.array([1] * 50 + [1] * 75 + [0] * 75 + [0] * 800)
    b = np.array([1] * 50 + [0] * 75 + [1] * 75 + [0] * 800)
    assert R.percent_agreement(a, b) == pytest.approx(0.85)
    assert R.holsti(8, 10, 10) == pytest.approx(0.8)


@pytest.mark.parametrize("seed", range(5))
def test_against_sklearn_and_krippendorff_package(seed):
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    b[:120] = a[:120]
    assert R.cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b), abs=1e-9)
    data = rng.integers(0, 5, (4, 60)).astype(float)
    data[rng.random(data.shape) < 0.2] = np.nan
    ref = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert R.krippendorff_alpha(data) == pytest.approx(ref, abs=1e-9)
    labels = np.where(np.isnan(data), None, np.array(["x", "y", "z", "u", "v"], dtype=object)[np.nan_to_num(data).astype(int)])
    assert R.krippendorff_alpha(labels) == pytest.approx(ref, abs=1e-9)


def test_undefined_values_are_nan_and_bad_input():
    assert np.isnan(R.cohen_kappa([1, 1], [1, 1]))
    assert np.isnan(R.krippendorff_alpha([[1, 1], [1, 1]]))
    with pytest.raises(ValueError, match="same length"):
        R.percent_agreement([1], [1, 2])
    with pytest.raises(ValueError, match="The 'level' parameter"):
        R.krippendorff_alpha([[1]], level="fuzzy")


@pytest.fixture(scope="module")
def corpus():
    return make_corpus()


def _coder(corpus, rows, name):
    out = []
    for doc, quote, code in rows:
        a, b = span(corpus, doc, quote)
        out.append({"doc_id": doc, "start": a, "end": b, "code": code, "coder": name})
    return Codings.from_records(out)


def _sid(corpus, doc, quote):
    a, b = span(corpus, doc, quote)
    return f"{doc}@{a}-{b}"


def test_agreement_report_units_and_pooled_rows(corpus):
    ana = _coder(corpus, [("d1", "We plan every year.", "planning"), ("d1", "Budget is tight.", "budget"),
                          ("d2", "Planning is late.", "planning")], "ana")
    # bob codes only "Budget" (inside the sentence -> counts for it) and a different sentence
    bob = _coder(corpus, [("d1", "We plan every year.", "planning"), ("d1", "Budget", "budget"),
                          ("d2", "Budget cuts hurt us.", "planning")], "bob")
    rep = R.agreement_report(ana, bob, corpus, unit="sentence")
    assert list(rep.columns) == ["code", "document", "n_units", "pa", "kappa", "alpha", "both", "neither", "only_a", "only_b"]
    assert rep.attrs["coders"] == ["ana", "bob"] and rep.attrs["unit"] == "sentence"
    seg = corpus.segments("sentence")
    n_units = len(seg)
    pooled = rep[(rep.code == "planning") & (rep.document == "(pooled)")].iloc[0]
    assert pooled.n_units == n_units
    assert (pooled.both, pooled.only_a, pooled.only_b) == (1, 1, 1)
    x = np.zeros(n_units, int)
    y = np.zeros(n_units, int)
    ids = seg["segment_id"].tolist()
    x[ids.index(_sid(corpus, "d1", "We plan every year."))] = 1
    x[ids.index(_sid(corpus, "d2", "Planning is late."))] = 1
    y[ids.index(_sid(corpus, "d1", "We plan every year."))] = 1
    y[ids.index(_sid(corpus, "d2", "Budget cuts hurt us."))] = 1
    assert pooled.kappa == pytest.approx(cohen_kappa_score(x, y), abs=1e-9)
    bud = rep[(rep.code == "budget") & (rep.document == "d1")].iloc[0]
    assert (bud.both, bud.only_a, bud.only_b) == (1, 0, 0)
    last = rep.iloc[-1]
    assert last.code == "(pooled)" and last.n_units == 2 * n_units

    ag = R.agreement(ana, bob, corpus)
    assert ag.loc["planning", "precision"] == pytest.approx(0.5)
    assert ag.loc["planning", "recall"] == pytest.approx(0.5)
    assert ag.loc["budget", "f1"] == pytest.approx(1.0)
    assert ag.loc["(pooled)", "tp"] == 2

    dis = R.disagreements(ana, bob, corpus)
    assert dis["text"].tolist() == ["Budget cuts hurt us.", "Planning is late."]
    assert dis["only_b"].tolist() == ["planning", ""]

    ci = R.bootstrap_ci(ana, bob, corpus, n_boot=200, seed=1)
    assert ci["low"] <= ci["estimate"] <= ci["high"]
    assert ci["estimate"] == pytest.approx(last.kappa, abs=1e-9)
    assert R.bootstrap_ci(ana, bob, corpus, n_boot=200, seed=1) == ci


def test_bootstrap_sequences_and_alpha_closed_form(corpus):
    ci = R.bootstrap_ci(A, B, statistic="pa", n_boot=300, seed=0)
    assert ci["estimate"] == pytest.approx(0.6) and 0.2 <= ci["low"] <= 0.6 <= ci["high"] <= 1.0
    hum = make_codings(corpus)
    ana = Codings(hum.to_frame().query("coder == 'ana'"))
    bob = Codings(hum.to_frame().query("coder == 'bob'"))
    rep = R.agreement_report(ana, bob, corpus, unit="turn")
    ci2 = R.bootstrap_ci(ana, bob, corpus, unit="turn", statistic="alpha", n_boot=50)
    assert ci2["estimate"] == pytest.approx(rep.iloc[-1].alpha, abs=1e-9)
    assert isinstance(rep, pd.DataFrame)
