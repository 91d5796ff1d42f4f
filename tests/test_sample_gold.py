"""The bundled sample's gold coding resolves to corpus text and matches its quote files."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

import qualcode as qc

SAMPLE = Path(__file__).resolve().parents[1] / "transcripts_sample"
STUDY1 = {"convergence", "discourse_space", "data_based_policy", "elite_involvement",
          "logical_framework", "synchronization", "fragile_technocracy"}
STUDY2 = {"efficiency_gains", "policy_analytics", "service_delivery", "resistance_to_change",
          "technical_infrastructure", "data_quality_integration", "language_limitations",
          "accessibility_digital_divide", "privacy_regulation"}


@pytest.fixture(scope="module")
def corpus() -> qc.Corpus:
    return qc.read_corpus(SAMPLE, strict=True)


def test_gold_offsets_resolve_to_the_stored_text(corpus: qc.Corpus) -> None:
    gold = pd.read_csv(SAMPLE / "gold_codings.csv", keep_default_na=False)
    for row in gold.itertuples():
        assert corpus[row.doc_id].text[row.start : row.end] == row.text
    assert set(gold["code"]) == STUDY1 | STUDY2


def test_gold_is_regenerated_identically_from_the_quote_files(corpus: qc.Corpus) -> None:
    spec = importlib.util.spec_from_file_location("build_gold", SAMPLE / "_build_gold.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rebuilt = module.build()
    stored = pd.read_csv(SAMPLE / "gold_codings.csv", keep_default_na=False)
    pd.testing.assert_frame_equal(rebuilt.reset_index(drop=True), stored, check_dtype=False)


def test_gold_codes_only_respondent_and_participant_speech(corpus: qc.Corpus) -> None:
    gold = qc.read_codings(SAMPLE / "gold_codings.csv", corpus)
    roles = gold.to_frame()["role"]
    assert set(roles) <= {"respondent", "participant", "unknown"}


def test_every_code_is_coded_in_several_documents(corpus: qc.Corpus) -> None:
    gold = pd.read_csv(SAMPLE / "gold_codings.csv")
    per_code = gold.groupby("code")["doc_id"].nunique()
    assert per_code.min() >= 5, per_code.sort_values().head()


def test_sample_meets_the_corpus_brief(corpus: qc.Corpus) -> None:
    summary = corpus.summary()
    interviews = summary[summary["kind"] == "interview"]
    assert (interviews.index.str.startswith("tp")).sum() >= 10
    assert (interviews.index.str.startswith("ai")).sum() >= 5
    assert interviews["words"].between(800, 2500).all(), interviews["words"].describe()
    assert (summary["kind"].isin(["fgd", "notes"])).sum() >= 2
    assert (summary["language"] == "id").sum() >= 4
    assert {"txt", "md", "docx", "vtt", "srt", "csv"} <= set(summary["format"])
    assert corpus.cases.index.isin(pd.read_csv(SAMPLE / "cases.csv")["case_id"]).sum() >= 40


def test_direction_gold_labels_every_directional_passage_with_one_of_its_subcodes(corpus: qc.Corpus) -> None:
    spec = importlib.util.spec_from_file_location("build_gold", SAMPLE / "_build_gold.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    stored = pd.read_csv(SAMPLE / "gold_directions.csv", keep_default_na=False)
    rebuilt = module.build_directions(module.build())
    pd.testing.assert_frame_equal(rebuilt.reset_index(drop=True), stored, check_dtype=False)
    gold = pd.read_csv(SAMPLE / "gold_codings.csv", keep_default_na=False)
    directional = gold[gold["doc_id"].str.startswith("tp") & gold["code"].isin(module.DIRECTIONAL)]
    assert len(stored) == len(directional)
    codebook = qc.Codebook.load(SAMPLE.parent / "codebooks" / "technocratic_planning.yaml")
    for row in stored.itertuples():
        assert corpus[row.doc_id].text[row.start : row.end] == row.text
        assert row.direction == "none" or codebook[row.direction].parent == row.code
    # both directions of every code occur: the sample holds disconfirming passages
    assert stored["direction"].nunique() == 9
