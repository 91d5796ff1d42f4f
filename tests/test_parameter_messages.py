"""Bad parameters of the public functions get the one message format of qualcode._params."""

from __future__ import annotations

import pandas as pd
import pytest

import qualcode as qc
from qualcode import explore, reliability
from qualcode.errors import CodingsError, EmbeddingError, InvalidParameterError
from qualcode.refi import write_qdpx
from qualcode.testing import tiny_corpus


@pytest.fixture(scope="module")
def corpus():
    return tiny_corpus()


@pytest.fixture(scope="module")
def codings(corpus):
    return qc.Codings.from_records([{"doc_id": "int_b", "start": 0, "end": 10, "code": "lead", "coder": "ana"}])


def test_corpus_segments_unit_and_window(corpus):
    with pytest.raises(InvalidParameterError) as info:
        corpus.segments("word")
    assert str(info.value) == (
        "The 'unit' parameter of Corpus.segments must be a str among "
        "{'paragraph', 'sentence', 'turn', 'window'}. Got 'word' instead."
    )
    with pytest.raises(ValueError, match=r"^The 'window' parameter of Corpus.segments must be an int >= 1\. Got 0 instead\.$"):
        corpus.segments("window", window=0)
    with pytest.raises(ValueError, match=r"^The 'stride' parameter of Corpus.segments must be an int >= 1 or None\. Got 0 instead\.$"):
        corpus.segments("window", stride=0)
    # window and stride only matter for windows
    assert len(corpus.segments("sentence", window=0)) == len(corpus.segments("sentence"))


def test_read_codings_options(tmp_path, corpus):
    p = tmp_path / "c.csv"
    p.write_text("doc_id,code,start,end\nint_b,lead,0,10\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"^The 'on_error' parameter of read_codings must be a str among \{'raise', 'warn'\}\. Got 'skip' instead\.$"):
        qc.read_codings(p, corpus, on_error="skip")
    with pytest.raises(ValueError, match=r"^The 'source' parameter of read_codings must be a str among \{.*'human'.*\}\. Got 'gold' instead\.$"):
        qc.read_codings(p, corpus, source="gold")
    assert len(qc.read_codings(p, corpus, on_error="warn")) == 1


def test_review_keeps_its_documented_error_class(codings):
    with pytest.raises(CodingsError, match=r"^The 'action' parameter of review must be a str among \{'accept', 'recode', 'reject'\}\. Got 'maybe' instead\.$"):
        codings.review(segment_id="x", action="maybe")


def test_write_qdpx_needs_a_corpus(tmp_path, corpus):
    out = tmp_path / "p.qdpx"
    with pytest.raises(TypeError, match=r"^The 'corpus' parameter of write_qdpx must be a Corpus\. Got DataFrame instead\.$"):
        write_qdpx(out, corpus.segments("turn"), None)
    assert not out.exists()


def test_explore_and_reliability_parameters(corpus, codings):
    with pytest.raises(ValueError, match=r"^The 'margin' parameter of near_misses must be a float > 0\. Got 0 instead\.$"):
        explore.near_misses(None, corpus, margin=0)
    with pytest.raises(ValueError, match=r"^The 'n_clusters' parameter of cluster_uncoded must be an int >= 1\. Got 0 instead\.$"):
        explore.cluster_uncoded(codings, corpus, n_clusters=0)
    with pytest.raises(ValueError, match=r"^The 'level' parameter of krippendorff_alpha must be a str among \{'interval', 'nominal', 'ordinal', 'ratio'\}"):
        reliability.krippendorff_alpha([[1, 0], [1, 1]], level="binary")
    with pytest.raises(ValueError, match=r"^The 'statistic' parameter of bootstrap_ci must be a str among \{'alpha', 'kappa', 'pa'\}\. Got 'f1'"):
        reliability.bootstrap_ci([1, 0], [1, 1], statistic="f1")
    with pytest.raises(ValueError, match=r"^The 'unit' parameter of disagreements must be a str among \{'paragraph', 'sentence', 'turn'\} "
                       r"or a DataFrame of units \(doc_id, start, end\)\. Got 'character' instead\.$"):
        reliability.disagreements(codings, codings, corpus, unit="character")
    with pytest.raises(TypeError, match=r"^The 'b' parameter of agreement_report must be a Codings table\. Got list instead\. Make sure"):
        reliability.agreement_report(codings, [], corpus)
    with pytest.raises(TypeError, match=r"^The 'corpus' parameter of bootstrap_ci must be a Corpus\. Got DataFrame instead"):
        reliability.bootstrap_ci(codings, codings, pd.DataFrame())
    report = reliability.agreement_report(codings, codings, corpus, unit="character")
    assert report.iloc[-1]["kappa"] == 1.0


def test_get_embedder_names_the_known_backends():
    from qualcode.backends import get_embedder

    # names the option a user typed (not get_embedder's parameter), every choice and the nearest one
    with pytest.raises(EmbeddingError, match=r"^unknown embedding model ' e6 ' \(command line: --model; Python: embedder=\)\. Choose one of .*\be5\b.*st:<folder>.*Did you mean 'e5'\? Got ' e6 ' instead\.$"):
        get_embedder(" e6 ")
