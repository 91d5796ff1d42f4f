"""The bundled sample (transcripts_sample/): every file reads, roles are right, gold quotes fit."""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import pytest

from qualcode.readers import read_corpus

SAMPLE = Path(__file__).parents[1] / "transcripts_sample"
pytestmark = pytest.mark.skipif(
    not (SAMPLE / "cases.csv").is_file(), reason="transcripts_sample/ not present"
)


@pytest.fixture(scope="module")
def sample():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        corpus = read_corpus(SAMPLE)
    return corpus, [str(w.message) for w in caught]


def test_readers_sample_reads_without_warnings(sample):
    corpus, messages = sample
    assert messages == []
    files = {
        p.stem
        for p in SAMPLE.iterdir()
        if p.suffix in {".txt", ".md", ".docx", ".vtt", ".srt"} and not p.name.startswith(("_", "README"))
    }
    assert files <= set(corpus.doc_ids)
    assert {d.source.format for d in corpus} >= {"txt", "md", "docx", "vtt", "srt", "csv"}


def test_readers_sample_roles(sample):
    corpus, _ = sample
    for d in corpus:
        roles = {t.role for t in d.turns}
        if d.kind == "interview":
            assert roles == {"interviewer", "respondent"}, d.doc_id
        elif d.kind in ("fgd", "notes"):
            assert "moderator" in roles and "participant" in roles, d.doc_id
            assert "respondent" not in roles and "interviewer" not in roles, d.doc_id


@pytest.mark.parametrize("study", ["study1", "study2"])
def test_readers_sample_gold_quotes_lie_in_one_coded_turn(sample, study):
    corpus, _ = sample
    path = SAMPLE / "_gold_quotes" / f"{study}.csv"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert rows
    for row in rows:
        d = corpus[row["doc_id"]]
        hits = [t for t in d.turns if row["quote"] in d.text[t.start : t.end]]
        assert len(hits) == 1, (row["doc_id"], row["quote"][:60])
        assert hits[0].role in ("respondent", "participant"), (row["doc_id"], hits[0].speaker)
