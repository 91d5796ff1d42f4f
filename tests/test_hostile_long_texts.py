"""Hostile text shapes: one enormous line, one enormous turn, long runs of ``*`` (issue 16).

spaCy refuses texts over ``max_length`` (E088) and its tokenizer is quadratic in a long run of
affix characters; long texts are now tokenised in bounded pieces with the same tokens.
"""

from __future__ import annotations

import time

import pytest

import qualcode as qc
from qualcode.codebook import Codebook
from qualcode.rules import RuleMatcher

CB = """\
name: t
version: "1"
languages: [en]
codes:
  - id: budget
    definition: Talk about the budget.
    rules:
      keywords: [budget]
      regex:
        - pattern: '\\bDAK\\b'
"""


def _code_rules_only(doc, unit):
    coder = qc.Coder(Codebook.loads(CB), unit=unit, embeddings=False, progress=False)
    corpus = qc.Corpus([doc])
    return coder.code(corpus).to_frame()


@pytest.mark.parametrize("unit", ["sentence", "turn"])
def test_hostile_one_enormous_line_is_segmented_and_coded(tmp_path, unit):
    line = ("the budget is late and nobody says why " * 30_000) + "DAK at the end"
    f = tmp_path / "oneline.txt"
    f.write_text(line)
    doc = qc.read_document(f)
    assert len(doc.text) > 1_000_000  # over spaCy's max_length
    frame = _code_rules_only(doc, unit)
    assert set(frame["code"]) == {"budget"}
    assert frame["end"].max() == len(line)


def test_hostile_long_vtt_turn_over_a_million_characters(tmp_path):
    cues = "".join(
        f"{i // 60:02d}:{i % 60:02d}.000 --> {i // 60:02d}:{i % 60:02d}.500\n<v Ana>we talk about the budget {i} " + "x" * 300 + "\n\n"
        for i in range(3600)
    )
    f = tmp_path / "long.vtt"
    f.write_text("WEBVTT\n\n" + cues)
    doc = qc.read_document(f)
    assert len(doc.turns) == 1 and doc.turns[0].end - doc.turns[0].start > 1_000_000
    frame = _code_rules_only(doc, "sentence")
    assert (frame["code"] == "budget").sum() >= 1


@pytest.mark.parametrize("n", [16_000, 80_000])
def test_hostile_runs_of_stars_tokenise_in_bounded_time(n):
    text = "The budget. " + "*" * n + " The DAK."
    t0 = time.monotonic()
    hits = RuleMatcher(Codebook.loads(CB)).match([text])
    assert time.monotonic() - t0 < 60  # a hang bound, not a speed target (80 KB never finished)
    assert sorted(hits["matched"]) == ["DAK", "budget"]
    assert text[hits["start"].max() : hits["end"].max()] == "DAK"


def test_hostile_bounded_tokenisation_keeps_the_tokens_of_ordinary_text():
    import spacy

    from qualcode._inputs import make_doc_bounded

    nlp = spacy.blank("en")
    text = "Hello  world, (this) is a test: e-monev's 25% faster!\n\nNew para.\t" * 4000
    ref = nlp.make_doc(text)
    got = make_doc_bounded(nlp, text)
    assert got.text == text
    assert [(t.idx, t.text) for t in got] == [(t.idx, t.text) for t in ref]
