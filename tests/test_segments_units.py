"""Units on a read transcript: turns, paragraphs, sentences, windows, ids, attributes."""

from __future__ import annotations

from qualcode import Corpus
from qualcode.readers import document_from_text

TEXT = (
    "I: Why? Tell me.\n"
    "R: First point. Second point.\n\nNew paragraph here. And more.\n"
    "- a bullet item.\n"
    "I: Thanks.\n"
)


def test_segments_units_on_a_parsed_transcript():
    doc = document_from_text(TEXT, "d1")
    corpus = Corpus([doc])
    turns = corpus.segments("turn")
    assert list(turns["text"]) == [
        "Why? Tell me.",
        "First point. Second point.\n\nNew paragraph here. And more.\n- a bullet item.",
        "Thanks.",
    ]
    paras = corpus.segments("paragraph")
    assert list(paras["text"]) == [
        "Why? Tell me.",
        "First point. Second point.",
        "New paragraph here. And more.",
        "- a bullet item.",
        "Thanks.",
    ]
    sents = corpus.segments("sentence")
    assert list(sents["text"]) == [
        "Why?", "Tell me.", "First point.", "Second point.", "New paragraph here.",
        "And more.", "- a bullet item.", "Thanks.",
    ]
    assert list(sents["role"]) == ["interviewer"] * 2 + ["respondent"] * 5 + ["interviewer"]
    assert sents["segment_id"].iloc[2] == f"d1@{sents['start'].iloc[2]}-{sents['end'].iloc[2]}"
    win = corpus.segments("window", window=2)
    assert list(win["text"]) == [
        "Why? Tell me.",
        "First point. Second point.",
        "New paragraph here. And more.",
        "- a bullet item.",
        "Thanks.",
    ]
    overlapping = corpus.segments("window", window=3, stride=1)
    r = overlapping[overlapping["turn"] == 1]
    assert list(r["text"].str.slice(0, 12)) == ["First point.", "Second point", "New paragrap"]
    # ids are stable across runs
    again = Corpus([document_from_text(TEXT, "d1")]).segments("sentence")
    assert list(again["segment_id"]) == list(sents["segment_id"])
