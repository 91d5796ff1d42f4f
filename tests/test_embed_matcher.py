import numpy as np
import pytest

from qualcode.backends import EmbeddingCache
from qualcode.codebook import Codebook
from qualcode.coding import EmbeddingMatcher, EmbeddingScores
from qualcode.errors import EmbeddingError

CODEBOOK = {
    "name": "mini",
    "version": "1",
    "languages": ["en", "id"],
    "codes": [
        {"id": "planning", "name": "Planning", "definition": "How programs and budgets are planned and chosen."},
        {
            "id": "top_down",
            "name": "Top-down programs",
            "parent": "planning",
            "definition": "Programs are dictated by the central ministry or its nomenclature, not chosen locally.",
            "examples": {
                "en": ["The program list comes from the ministry; we just adjust targets."],
                "id": ["Programnya sudah ditentukan dari pusat."],
            },
            "counterexamples": {"en": ["We designed our own programs after consulting the villagers."]},
        },
        {
            "id": "leadership",
            "name": "Leadership absence",
            "parent": "planning",
            "definition": "The regional head or leaders do not attend or engage with planning.",
            "examples": {"en": ["The head never comes to the planning forum."]},
        },
        {
            "id": "data_use",
            "name": "Use of data",
            "definition": "Monitoring data or evidence is used to make planning decisions.",
            "examples": {"en": ["We look at the budget absorption figures every quarter."]},
        },
        {
            "id": "off",
            "name": "Disabled",
            "definition": "A code excluded from embedding matching.",
            "embedding": {"enabled": False},
        },
    ],
}

SEGMENTS = [
    "Most programs are already given by the ministry nomenclature.",  # top_down
    "Programnya ditentukan oleh kementerian, kami tidak bisa memilih.",  # top_down (id)
    "The bupati rarely attends; he leaves everything to Bappeda.",  # leadership
    "We check the e-monev data on budget absorption every quarter.",  # data_use
    "We had lunch at the canteen.",  # off-topic
    "Yes.",  # off-topic
    "We designed our own programs after consulting the villagers in every hamlet.",  # counterexample-like
]


@pytest.fixture(scope="module")
def matcher(default_embedder):
    cb = Codebook.from_dict(CODEBOOK)
    return EmbeddingMatcher(cb, default_embedder, cache=EmbeddingCache(None), progress=False)


@pytest.fixture(scope="module")
def scores(matcher):
    return matcher.score(SEGMENTS)


def test_prototypes_cover_leaves_with_embedding_enabled(matcher):
    proto = matcher.fit_prototypes()
    assert proto.codes == ["top_down", "leadership", "data_use"]  # no parent, no disabled code
    items = proto.items
    assert set(items.columns) >= {"item_id", "code", "kind", "lang", "text"}
    td = items[items.code == "top_down"]
    assert sorted(td.kind) == ["counterexample", "definition", "example", "example"]
    assert set(td[td.kind == "example"].lang) == {"en", "id"}
    assert "top_down.example.id.1" in set(td.item_id)
    assert proto.vectors.shape == (len(items), 384)


def test_scores_shapes_and_ranges(scores):
    assert isinstance(scores, EmbeddingScores)
    n, k = len(SEGMENTS), 3
    assert scores.similarity.shape == scores.score.shape == scores.counter.shape == (n, k)
    assert scores.vectors.shape == (n, 384)
    assert ((scores.score >= 0) & (scores.score <= 1)).all()
    # only top_down has counterexamples
    assert np.isfinite(scores.counter[:, 0]).all()
    assert np.isnan(scores.counter[:, 1:]).all()
    assert len(scores.nearest) == n and len(scores.nearest[0]) == k
    kind, text, cos = scores.nearest[0][0]
    assert kind in {"definition", "example"} and isinstance(text, str)
    assert cos == pytest.approx(float(scores.similarity[0, 0]))


def test_on_topic_outscores_off_topic(scores):
    codes = scores.codes
    expected = {0: "top_down", 1: "top_down", 2: "leadership", 3: "data_use"}
    for i, code in expected.items():
        k = codes.index(code)
        # the right code is the best code for the segment ...
        assert scores.score[i].argmax() == k, (i, scores.score[i])
        # ... and scores higher than on the off-topic segments
        assert scores.score[i, k] > scores.score[4:6, k].max()
    dec = scores.decisions()
    assert dec.dtype == bool and dec.shape == scores.score.shape
    assert dec[0, codes.index("top_down")] and dec[3, codes.index("data_use")]
    assert not dec[4:6].any()  # small talk gets no code


def test_counterexample_pushes_a_segment_away(default_embedder, scores):
    d = {**CODEBOOK, "codes": [dict(c) for c in CODEBOOK["codes"]]}
    d["codes"][1]["embedding"] = {"use_counterexamples": False}
    without = EmbeddingMatcher(Codebook.from_dict(d), default_embedder, progress=False).score(SEGMENTS)
    k = scores.codes.index("top_down")
    assert scores.counter[6, k] > scores.similarity[6, k]  # the counterexample is the nearer item
    assert scores.score[6, k] < without.score[6, k]
    assert scores.score[6, k] < 0.5
    # segments far from the counterexample are not penalised
    assert scores.score[0, k] == pytest.approx(without.score[0, k], abs=1e-6)


def test_thresholds_and_evidence(scores):
    # without a threshold in the codebook or the Coder, every code gets the default
    assert scores.thresholds == {"top_down": 0.5, "leadership": 0.5, "data_use": 0.5}
    k = scores.codes.index("top_down")
    assert not scores.decisions({"top_down": 1.01})[:, k].any()
    assert scores.decisions({"top_down": 0.0})[:, k].all()
    ev = scores.evidence(0, "top_down")
    assert ev.startswith("nearest ")
    assert "cos=" in ev and "counterexample (top_down.counterexample.en.1) cos=" in ev
    assert ev.endswith(">= 0.50")
    assert "score" in scores.evidence(4, "data_use") and scores.evidence(4, "data_use").endswith("< 0.50")
    with pytest.raises(KeyError, match="scored codes"):
        scores.evidence(0, "planning")
    long = scores.to_frame()
    assert len(long) == len(SEGMENTS) * 3 and set(long.code) == set(scores.codes)


def test_precomputed_vectors_are_accepted_and_checked(matcher, scores):
    again = matcher.score(SEGMENTS, vectors=scores.vectors)
    np.testing.assert_allclose(again.score, scores.score, atol=1e-6)
    with pytest.raises(EmbeddingError, match="vectors"):
        matcher.score(["x"], vectors=np.zeros((1, 5), dtype=np.float32))


def test_score_does_not_depend_much_on_batch(matcher, scores):
    single = matcher.score(SEGMENTS[:1])
    k = scores.codes.index("top_down")
    assert single.score[0].argmax() == k
    assert single.score[0, k] >= 0.5
