"""Rule matching on hand-written sentences: lemmas, affixes, phrases, patterns, regex,
proximity, exclusion, negation, scope and min_hits, with exact spans."""

from __future__ import annotations

import pytest

from qualcode.codebook import Codebook
from qualcode.errors import CodebookError
from qualcode.rules import Lemmatizer, RuleMatcher, aggregate_hits


def _cb(*codes):
    return Codebook.from_dict(
        {"name": "t", "languages": ["en", "id"], "codes": [{"definition": "x", **c} for c in codes]}
    )


def _match(cb, texts, lang="en", **kw):
    m = RuleMatcher(cb)
    offsets = [100 * i + 7 for i in range(len(texts))]
    hits = m.match(texts, languages=lang, offsets=offsets, **kw)
    # spans are document offsets: map back and check exactness
    for h in hits.itertuples():
        off = offsets[h.segment]
        assert texts[h.segment][h.start - off : h.end - off] == h.matched
    return m, hits


@pytest.mark.parametrize(
    ("word", "lang", "lemma"),
    [("Studies", "en", "study"), ("went", "en", "go"), ("Regulations", "en", "regulation"),
     ("dilaksanakan", "id", "laksana"), ("pembangunan", "id", "bangun"),
     ("Perencanaan", "id", "rencana"), ("dicairkan", "id", "cair")],
)
def test_rules_lemmatizer_lowercases_and_stems(word, lang, lemma):
    assert Lemmatizer(lang)(word) == lemma


def test_rules_keyword_matches_inflected_english_and_phrase():
    cb = _cb({"id": "money", "rules": {"keywords": {"en": ["fund", "budget delay"]}}})
    _, hits = _match(cb, ["The Budget delays hurt our funds.", "Nothing here."])
    assert hits["matched"].tolist() == ["Budget delays", "funds"]
    assert hits["rule_id"].tolist() == ["money.kw.en.2", "money.kw.en.1"]
    assert hits["start"].tolist() == [7 + 4, 7 + 27]


def test_rules_indonesian_affixed_forms_meet_their_root():
    cb = _cb({"id": "impl", "rules": {"keywords": {"id": ["pelaksanaan", "cair"]}}})
    _, hits = _match(cb, ["Kegiatan dilaksanakan terlambat.", "Dana sudah dicairkan.", "Melaksanakan tugas."], lang="id")
    assert hits["matched"].tolist() == ["dilaksanakan", "dicairkan", "Melaksanakan"]


def test_rules_match_on_lower_does_not_lemmatise():
    cb = _cb({"id": "f", "rules": {"keywords": ["fund"], "match_on": "lower"}})
    _, hits = _match(cb, ["The fund.", "The funds."])
    assert hits["segment"].tolist() == [0]


def test_rules_token_pattern_and_regex_spans():
    cb = _cb(
        {"id": "delay", "rules": {
            "patterns": [{"id": "delay.verb", "pattern": [{"LEMMA": {"IN": ["delay", "postpone"]}}]}],
            "regex": [{"pattern": r"\b\d+ ?%"}]}}
    )
    _, hits = _match(cb, ["It was postponed twice; only 40 % was spent."])
    assert list(zip(hits["rule_id"], hits["matched"], strict=True)) == [
        ("delay.verb", "postponed"), ("delay.re.all.1", "40 %")]


def test_rules_regex_never_crosses_segments():
    cb = _cb({"id": "x", "rules": {"regex": [{"pattern": r"end\. Start"}]}})
    _, hits = _match(cb, ["The end.", "Start here."])
    assert hits.empty


def test_rules_proximity_within_n_tokens():
    cb = _cb({"id": "lead", "rules": {"proximity": [{"a": ["head"], "b": ["attend"], "within": 2}]}})
    _, hits = _match(cb, ["The head rarely attends.", "The head of the office never really attends."])
    assert hits["segment"].tolist() == [0]
    assert hits["matched"].tolist() == ["head rarely attends"]


def test_rules_exclusion_vetoes_only_within_window():
    cb = _cb({"id": "data", "rules": {"keywords": ["data"], "exclude": {"terms": ["database"], "window": 2}}})
    m, hits = _match(cb, ["The data database crashed.", "We use data every day in the database."])
    assert hits["vetoed"].tolist() == [True, False]
    agg = aggregate_hits(hits, m)
    assert agg["fired"].tolist() == [False, True]
    assert "vetoed by exclusion 'database'" in agg.loc[0, "evidence"]


def test_rules_negation_cues_before_hit():
    cb = _cb({"id": "d", "rules": {"keywords": {"en": ["data"], "id": ["data"]}, "negation": True, "negation_window": 2}})
    _, en = _match(cb, ["We do not use data.", "Data is not used.", "Without real data.", "Without any real data."])
    assert en["negated"].tolist() == [True, False, True, False]  # window 2
    _, idn = _match(cb, ["Kami tidak pakai data."], lang="id")
    assert idn["negated"].tolist() == [True] and idn.loc[0, "veto"] == "tidak"


def test_rules_scope_by_role_and_speaker():
    cb = _cb(
        {"id": "a", "rules": {"keywords": ["budget"], "scope": {"roles": ["respondent"]}}},
        {"id": "b", "rules": {"keywords": ["budget"], "scope": {"speakers": ["R2"]}}},
    )
    texts = ["The budget.", "The budget.", "The budget."]
    _, hits = _match(cb, texts, roles=["interviewer", "respondent", "respondent"], speakers=["I", "R1", "R2"])
    assert sorted(zip(hits["segment"], hits["code"], strict=True)) == [(1, "a"), (2, "a"), (2, "b")]


def test_rules_min_hits():
    cb = _cb({"id": "m", "rules": {"keywords": ["budget", "fund"], "min_hits": 2}})
    m, hits = _match(cb, ["The budget.", "The budget and the fund."])
    agg = aggregate_hits(hits, m)
    assert agg["fired"].tolist() == [False, True]
    assert agg["score"].tolist() == [0.0, pytest.approx(0.96)]
    assert "< min_hits 2" in agg.loc[0, "evidence"]


def test_rules_shipped_codebook_on_tiny_corpus():
    from qualcode.testing import tiny_corpus

    corpus = tiny_corpus()
    seg = corpus.segments("sentence")
    cb = Codebook.load("codebooks/technocratic_planning.yaml")
    hits = RuleMatcher(cb).match(seg["text"].tolist(), languages=seg["language"].tolist(),
                                 roles=seg["role"].tolist(), offsets=seg["start"].tolist())
    assert {"convergence", "data_based_policy"} <= set(hits["code"])
    for h in hits.itertuples():
        assert corpus[seg.iloc[h.segment]["doc_id"]].text[h.start:h.end] == h.matched
    # the Indonesian respondent sentence matches its affixed keyword
    assert "nomenklatur" in set(hits["matched"])


def test_rules_anchored_regex_applies_per_segment():
    cb = _cb({"id": "h", "rules": {"regex": [{"pattern": r"^\s*(background|results?)\s*:"}]}})
    _, hits = _match(cb, ["Background: some text.", "Results: more.", "No Results: here."])
    assert hits["segment"].tolist() == [0, 1]
    assert hits["matched"].tolist() == ["Background:", "Results:"]


def test_rules_plain_mapping_codebook_goes_through_the_same_normalisation():
    rules = {"keywords": {"en": ["plan", "budget"]}, "regex": [{"pattern": "RPJMD"}, {"id": "own", "pattern": "x"}],
             "proximity": [{"a": ["data"], "b": ["late"], "within": 3}]}
    plain = RuleMatcher({"codes": [{"id": "c", "rules": rules}]})
    validated = RuleMatcher(_cb({"id": "c", "rules": rules}))
    assert plain.rule_ids == validated.rule_ids == [
        "c.kw.en.1", "c.kw.en.2", "c.re.all.1", "own", "c.prox.all.1"]
    texts = ["The budget plan for RPJMD.", "Data came late."]
    assert plain.match(texts).equals(validated.match(texts))
    with pytest.raises(CodebookError, match=r"^code 'c': rules.regex.0.pattern: Value error, invalid regular"):
        RuleMatcher({"codes": [{"id": "c", "rules": {"regex": [{"pattern": "("}]}}]})
