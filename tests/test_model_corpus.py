"""Behaviour of the Corpus / Document / Turn model and of segmentation."""

from __future__ import annotations

import pandas as pd
import pytest

from qualcode import Corpus, Document, Turn
from qualcode.errors import IngestError
from qualcode.testing import build_document, tiny_corpus


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return tiny_corpus()


@pytest.mark.parametrize("unit", ["turn", "paragraph", "sentence", "window"])
def test_segments_offsets_are_the_source_of_truth(corpus: Corpus, unit: str) -> None:
    seg = corpus.segments(unit=unit)
    assert len(seg) > 0
    for row in seg.itertuples():
        assert corpus[row.doc_id].text[row.start : row.end] == row.text
        assert row.segment_id == f"{row.doc_id}@{row.start}-{row.end}"
        turn = corpus[row.doc_id].turns[row.turn]
        assert turn.start <= row.start and row.end <= turn.end
        assert row.text == row.text.strip()


def test_segments_carry_speaker_role_and_case_attributes(corpus: Corpus) -> None:
    seg = corpus.segments("sentence")
    resp = seg[seg["role"] == "respondent"]
    assert set(resp["speaker"]) == {"R", "Respondent", "Narasumber"}
    assert set(seg.loc[seg.doc_id == "int_b", "agency"]) == {"OPD Health"}
    assert seg.columns[:15].tolist() == [
        "doc_id", "case_id", "segment_id", "unit", "speaker", "role", "turn", "start", "end",
        "text", "time_start", "time_end", "language", "kind", "n_words",
    ]


def test_sentence_split_counts_on_known_text(corpus: Corpus) -> None:
    seg = corpus.segments("sentence")
    # int_a respondent turn 1 has two sentences, int_c respondent has two (Indonesian)
    assert (seg[(seg.doc_id == "int_a") & (seg.turn == 1)]["text"].tolist()) == [
        "Most programs are already given by the ministry nomenclature.",
        "We copy last year's list and adjust the targets.",
    ]
    assert len(seg[(seg.doc_id == "int_c") & (seg.role == "respondent")]) == 2


def test_paragraphs_split_on_blank_lines_inside_a_turn(corpus: Corpus) -> None:
    par = corpus.segments("paragraph")
    b = par[(par.doc_id == "int_b") & (par.role == "respondent")]
    assert len(b) == 2
    assert b.iloc[1]["text"].startswith("Coordination meetings")


def test_windows_group_sentences_within_a_turn() -> None:
    doc = build_document("w", [("R", "respondent", "One. Two. Three. Four. Five.")])
    c = Corpus([doc])
    w = c.segments("window", window=2)
    assert w["text"].tolist() == ["One. Two.", "Three. Four.", "Five."]
    sliding = c.segments("window", window=3, stride=1)
    assert sliding["text"].tolist() == ["One. Two. Three.", "Two. Three. Four.", "Three. Four. Five."]


def test_segment_ids_are_stable_across_runs() -> None:
    a = tiny_corpus().segments("sentence")["segment_id"].tolist()
    b = tiny_corpus().segments("sentence")["segment_id"].tolist()
    assert a == b


def test_bad_unit_names_the_parameter(corpus: Corpus) -> None:
    with pytest.raises(ValueError, match="'unit' parameter of Corpus.segments"):
        corpus.segments("chapter")


def test_duplicate_doc_ids_are_refused() -> None:
    d = build_document("same", [("R", "respondent", "Hello.")])
    with pytest.raises(IngestError, match="duplicate doc_id 'same'"):
        Corpus([d, d])


def test_turns_must_lie_inside_the_text_and_not_overlap() -> None:
    with pytest.raises(ValueError, match="outside the text or overlaps"):
        Document("x", "short", turns=(Turn("R", "respondent", 0, 99),))
    with pytest.raises(ValueError, match="role must be one of"):
        Turn("R", "boss", 0, 1)


def test_cases_table_includes_every_document_and_speaker_case() -> None:
    d = build_document(
        "fgd",
        [("Moderator", "moderator", "Why?"), ("P1", "participant", "Because."), ("P2", "participant", "No.")],
        kind="fgd",
        speaker_cases={"P1": "fgd_P1", "P2": "fgd_P2"},
    )
    cases = pd.DataFrame({"agency": ["Bappeda"]}, index=pd.Index(["fgd_P1"], name="case_id"))
    c = Corpus([d], cases=cases)
    assert set(c.cases.index) == {"fgd", "fgd_P1", "fgd_P2"}
    seg = c.segments("turn")
    assert seg["case_id"].tolist() == ["fgd", "fgd_P1", "fgd_P2"]
    assert c.case_of("fgd", "P2") == "fgd_P2"


def test_case_attribute_clashing_with_a_segment_column_is_prefixed() -> None:
    d = build_document("d", [("R", "respondent", "Text here.")])
    cases = pd.DataFrame({"role": ["planner"]}, index=pd.Index(["d"], name="case_id"))
    seg = Corpus([d], cases=cases).segments("turn")
    assert seg.loc[0, "role"] == "respondent"
    assert seg.loc[0, "case_role"] == "planner"


def test_summary_and_fingerprint(corpus: Corpus) -> None:
    s = corpus.summary()
    assert s.loc["int_a", "turns"] == 4 and s.loc["int_a", "sentences"] == 5
    assert corpus.fingerprint == tiny_corpus().fingerprint
    other = Corpus([build_document("x", [("R", "respondent", "Different.")])])
    assert other.fingerprint != corpus.fingerprint


def test_html_repr_lists_documents(corpus: Corpus) -> None:
    bundle = corpus._repr_mimebundle_()
    assert "int_b" in bundle["text/html"] and "Corpus(3 documents" in bundle["text/plain"]


def test_turn_lookup_by_offset(corpus: Corpus) -> None:
    doc = corpus["int_a"]
    first, second = doc.turns[0], doc.turns[1]
    assert doc.turn_at(first.start) is first
    assert doc.turn_at(second.end - 1) is second
    assert doc.turn_at(0) is None  # inside the speaker label "I: "
    assert doc.turn_at(second.end) is None  # the blank line between turns
    assert doc.turn_indices([first.start, second.start, 0]).tolist() == [0, 1, -1]
