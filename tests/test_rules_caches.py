"""The shared caches of rule matching change nothing: primed tokenisation equals spaCy's,
re-used batch Docs give the same hits to a new matcher, and the token-pattern prefilter finds
every match (also for patterns it cannot prefilter)."""

from __future__ import annotations

import numpy as np
import spacy
from spacy.attrs import IDX, ORTH, SPACY

from qualcode.codebook import Codebook
from qualcode.rules import (
    ResourceRegistry,
    RuleMatcher,
    cache_info,
    clear_caches,
    language_resources,
)


def _cb(*codes):
    return Codebook.from_dict(
        {"name": "t", "languages": ["en", "id"], "codes": [{"definition": "x", **c} for c in codes]}
    )


def test_rules_primed_tokenizer_equals_plain_spacy_on_indonesian_special_cases():
    # "terburu-buru" is a tokenizer exception: after it, spaCy stops caching chunks of the Doc
    texts = [f"Rapat dengan terburu-buru (butir {i}). Dana dicairkan 8). dll. e-monev" for i in range(300)]
    big = " ".join(texts)
    ref = spacy.blank("id").make_doc(big)
    pipe = RuleMatcher(_cb({"id": "x", "rules": {"keywords": ["dana"]}})).pipeline("id")
    doc = pipe.tokens(big)
    attrs = [ORTH, IDX, SPACY]
    assert np.array_equal(doc.to_array(attrs), ref.to_array(attrs))
    assert pipe.nlp is language_resources("id").nlp


def test_rules_new_matcher_reuses_batch_docs_and_finds_the_same_hits():
    texts = [f"The budget of unit {i} was late." for i in range(50)] + ["Dana terlambat."]
    langs = ["en"] * 50 + ["id"]
    first = RuleMatcher(_cb({"id": "m", "rules": {"keywords": ["budget", "dana"]}})).match(texts, languages=langs)
    n_docs = cache_info()["docs"]
    # an edited codebook: a new matcher over the same texts tokenises nothing again
    second = RuleMatcher(_cb({"id": "m", "rules": {"keywords": ["budget", "dana", "late"]}})).match(
        texts, languages=langs
    )
    assert cache_info()["docs"] == n_docs
    assert len(first) == 51
    assert len(second) == 101
    assert second[second["rule_id"] != "m.kw.all.3"].reset_index(drop=True).equals(first)


def test_rules_pattern_prefilter_keeps_every_match_and_runs_unfilterable_patterns():
    pattern = [{"LOWER": {"IN": ["province", "provinsi"]}}, {"OP": "{0,2}"}, {"LOWER": {"IN": ["city", "kota"]}}]
    digits = [{"IS_DIGIT": True}, {"IS_ALPHA": True}]
    filtered = _cb({"id": "lvl", "rules": {"patterns": [{"pattern": pattern}]}})
    mixed = _cb(
        {"id": "lvl", "rules": {"patterns": [{"pattern": pattern}]}},
        {"id": "num", "rules": {"patterns": [{"pattern": digits}]}},
    )
    texts = ["Nothing.", "The province and the city.", "Province, city.", "Hello.", "We have 3 units.",
             "The city and the province.", "province", "city"]  # fmt: skip
    m = RuleMatcher(filtered, batch_chars=10**6)
    assert m.pipeline("en").kinds["pattern"].required is not None
    hits = m.match(texts)
    assert hits["segment"].tolist() == [1, 2]
    assert hits["matched"].tolist() == ["province and the city", "Province, city"]
    m2 = RuleMatcher(mixed)
    assert m2.pipeline("en").kinds["pattern"].required is None  # IS_DIGIT cannot be prefiltered: whole batch
    hits2 = m2.match(texts)
    assert hits2["code"].tolist() == ["lvl", "lvl", "num"]
    assert hits2["matched"].tolist()[-1] == "3 units"


def test_rules_doc_cache_is_bounded_and_resources_are_shared_per_language():
    registry = ResourceRegistry(max_doc_tokens=40)
    en = registry.get("en")
    assert registry.get("en") is en and registry.get("id") is not en
    docs = [en.tokens(f"The budget of unit {i} was late again this year.") for i in range(10)]  # 11 tokens each
    info = registry.cache_info()
    assert 0 < info["docs"] <= 3 and info["doc_tokens"] <= 40 == info["max_doc_tokens"]
    assert en.tokens("The budget of unit 9 was late again this year.") is docs[-1]  # most recent kept
    assert en.tokens("The budget of unit 0 was late again this year.") is not docs[0]  # oldest evicted
    assert docs[0][1].lemma_ == "budget" and info["languages"]["en"]["lemmas"] >= 10


def test_rules_clear_caches_keeps_old_matchers_working():
    cb = _cb({"id": "m", "rules": {"keywords": ["budget"]}})
    texts = ["The budgets were late.", "Nothing."]
    old = RuleMatcher(cb)
    before = old.match(texts)
    clear_caches()
    assert cache_info() == {"docs": 0, "doc_tokens": 0, "max_doc_tokens": cache_info()["max_doc_tokens"],
                            "languages": {}}
    new = RuleMatcher(cb)
    assert new.pipeline("en").nlp is language_resources("en").nlp is not old.pipeline("en").nlp
    assert new.match(texts).equals(before) and old.match(texts).equals(before)
