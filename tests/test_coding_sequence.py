"""A codebook's ``sequence``: the YAML field, the decoder against brute force, and decoding the
public qabstracts abstracts in their archetype's order."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pytest

import qualcode as qc
from qualcode.coding import segment_labels
from qualcode.coding._sequence import _log_transitions, sequence_posteriors, viterbi
from qualcode.errors import CodebookError
from qualcode.project._common import row_thresholds
from qualcode.reliability import cohen_kappa

ROOT = Path(__file__).resolve().parents[1]
MAIN = ["background", "gap", "objective", "method", "design", "result", "conclusion"]

YAML = """\
name: moves
version: "1.0"
sequence:
  order: [intro, [aim, gap], result]
  skip: [label]
codes:
  - {id: intro, name: Intro, definition: What is known.}
  - {id: gap, name: Gap, definition: What is not known.}
  - {id: aim, name: Aim, definition: What this study does.}
  - {id: result, name: Result, definition: What it found.}
  - {id: label, name: Label, definition: A section label.}
"""


# ----------------------------------------------------------------------------- the YAML field
def test_sequence_loads_saves_and_changes_the_fingerprint(tmp_path):
    cb = qc.Codebook.loads(YAML, source="moves.yaml")
    seq = cb.sequence
    assert seq.order == [["intro"], ["aim", "gap"], ["result"]] and seq.skip == ["label"] and seq.back == 0.01
    assert seq.codes == ["intro", "aim", "gap", "result"]
    assert seq.stage_of() == {"intro": 0, "aim": 1, "gap": 1, "result": 2}
    out = tmp_path / "moves.yaml"
    cb.save(out)
    again = qc.Codebook.load(out)
    assert again.sequence == seq and again.fingerprint == cb.fingerprint
    # the canonical form writes it too, and it is part of what the fingerprint hashes
    canon = qc.Codebook.from_dict(cb.to_dict())
    assert canon.sequence == seq
    plain = qc.Codebook.loads(YAML.replace("sequence:\n  order: [intro, [aim, gap], result]\n  skip: [label]\n", ""))
    assert plain.sequence is None and plain.fingerprint != cb.fingerprint
    # a codebook without a sequence hashes exactly what it hashed before the field existed
    assert '"sequence"' not in plain.canonical_json()


@pytest.mark.parametrize(
    ("sequence", "expected"),
    [
        ("  order: [intro, [aim, gapp], result]\n", r"moves\.yaml:4:\d+: sequence\.order\[1\]\[1\]: unknown code 'gapp'.*did you mean 'gap'"),
        ("  order: [intro, aim, intro]\n", r"sequence\.order.*lists 'intro' twice"),
        ("  order: [intro]\n", r"sequence\.order.*at least two stages"),
        ("  order: [intro, result]\n  skip: [lable]\n", r"moves\.yaml:5:\d+: sequence\.skip\[0\]: unknown code 'lable'"),
        ("  order: [intro, result]\n  skip: [intro]\n", r"'intro' is both a stage of the sequence and skipped"),
        ("  order: [intro, result]\n  back: 0\n", r"sequence\.back"),
        ("  order: [intro, result]\n  after: 3\n", r"sequence\.after"),
    ],
)
def test_sequence_errors_name_the_line_and_field(sequence, expected):
    text = YAML.replace("  order: [intro, [aim, gap], result]\n  skip: [label]\n", sequence)
    with pytest.raises(CodebookError, match=expected):
        qc.Codebook.loads(text, source="moves.yaml")


def test_a_parent_that_is_not_codable_cannot_be_a_stage():
    text = YAML.replace("  - {id: gap, name: Gap, definition: What is not known.}",
                        "  - {id: gap, name: Gap, codable: false}\n  - {id: gap_x, name: X, parent: gap, definition: X.}")
    with pytest.raises(CodebookError, match=r"sequence\.order\[1\]\[1\]: code 'gap' is not codable"):
        qc.Codebook.loads(text, source="moves.yaml")


# ----------------------------------------------------------------------------- the decoder
def _brute_force(emission, stage, back):
    log_t, log_start = _log_transitions(stage, back)
    n, m = emission.shape
    scores = {}
    for path in itertools.product(range(m), repeat=n):
        s = log_start[path[0]] + emission[0, path[0]]
        for i in range(1, n):
            s += log_t[path[i - 1], path[i]] + emission[i, path[i]]
        scores[path] = s
    return scores


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_viterbi_and_posteriors_equal_brute_force(seed):
    rng = np.random.default_rng(seed)
    stage = np.array([0, 1, 1, 2])
    emission = np.log(rng.dirichlet(np.ones(4), size=6))
    scores = _brute_force(emission, stage, 0.05)
    best = max(scores, key=scores.get)
    assert tuple(viterbi(emission, stage, 0.05).tolist()) == best
    # posterior marginals: every path's probability, summed per segment and state
    logs = np.array(list(scores.values()))
    w = np.exp(logs - logs.max())
    w /= w.sum()
    expected = np.zeros_like(emission)
    for (path, _), p in zip(scores.items(), w, strict=True):
        expected[np.arange(len(path)), list(path)] += p
    post = sequence_posteriors(emission, stage, 0.05)
    np.testing.assert_allclose(post, expected, atol=1e-9)
    np.testing.assert_allclose(post.sum(axis=1), 1.0)


def test_steps_back_cost_back_per_stage():
    """One stage back costs ``back``, two stages ``back**2``: weak evidence never goes back far."""
    stage = np.array([0, 1, 2])
    log_t, _ = _log_transitions(stage, 0.1)
    t = np.exp(log_t)
    assert t[2, 1] / t[2, 2] == pytest.approx(0.1) and t[2, 0] / t[2, 2] == pytest.approx(0.01)
    assert t[0, 1] == pytest.approx(t[0, 2]) == pytest.approx(t[0, 0])
    # evidence for stage 0 after stage 2 must outweigh the step back to be followed
    first = [[0.9, 0.05, 0.05], [0.01, 0.01, 0.98]]
    weak = np.log(np.array([*first, [0.6, 0.2, 0.2]]))
    assert viterbi(weak, stage, 0.1).tolist() == [0, 2, 2]
    strong = np.log(np.array([*first, [0.999, 0.0005, 0.0005]]))
    assert viterbi(strong, stage, 0.1).tolist() == [0, 2, 0]
    # a document starts in the first stage unless its first segment clearly belongs elsewhere
    assert viterbi(np.log(np.array([[0.3, 0.2, 0.5]])), stage, 0.1).tolist() == [0]
    assert viterbi(np.log(np.array([[0.01, 0.01, 0.98]])), stage, 0.1).tolist() == [2]


# ----------------------------------------------------------------------------- real abstracts
sys.path.insert(0, str(ROOT / "benchmarks"))


@pytest.fixture(scope="module")
def abstracts():
    from qabstracts.load import load

    corpus, humans = load(limit=30)
    return corpus, humans, qc.Codebook.load(ROOT / "benchmarks/qabstracts/codebook.yaml")


def _macro_kappa(codings, human, units):
    m, _ = segment_labels(units, codings.to_frame(), MAIN)
    h, _ = segment_labels(units, human.to_frame(), MAIN)
    return float(np.mean([cohen_kappa(m[:, j].astype(int), h[:, j].astype(int)) for j in range(len(MAIN))]))


def test_abstracts_are_decoded_in_the_archetypes_order(abstracts, default_embedder):
    corpus, humans, cb = abstracts
    assert cb.sequence is not None and cb.sequence.skip == ["heading"]
    units = corpus.segments("turn", attributes=False)
    kw = {"unit": "turn", "embedder": default_embedder, "cache_dir": qc.default_cache_dir(), "progress": False}
    decoded = qc.Coder(cb, **kw).code(corpus)
    alone = qc.Coder(cb, sequence=False, **kw).code(corpus)
    ref = humans["initial/A"]
    k_alone, k_seq = _macro_kappa(alone, ref, units), _macro_kappa(decoded, ref, units)
    # the order is worth a lot on abstracts (on all 120 development abstracts: 0.235 -> 0.410)
    assert k_seq > k_alone + 0.08, (k_alone, k_seq)

    f = decoded.to_frame()
    seq_codes = set(cb.sequence.codes)
    in_seq = f[f["code"].isin(seq_codes)]
    headings = set(f.loc[f["code"] == "heading", "segment_id"])
    assert headings, "the sample of abstracts has structured ones"
    # every segment but the headings has exactly one code of the sequence
    per_segment = in_seq.groupby("segment_id").size()
    assert (per_segment == 1).all()
    assert set(per_segment.index) == set(units["segment_id"]) - headings
    assert in_seq["evidence"].str.startswith("[embedding] sequence stage ").all()
    assert ((in_seq["score"] > 0) & (in_seq["score"] <= 1)).all()
    # a project stores no threshold for them (their score is a posterior), and keeps the others'
    th = dict(zip(f.index, row_thresholds(f, decoded.meta["thresholds"]), strict=True))
    assert all(th[i] is None for i in in_seq.index)
    others = f[~f["code"].isin(seq_codes) & (f["source"] == "embedding")]
    assert len(others) and all(th[i] == decoded.meta["thresholds"]["embedding"][c] for i, c in others["code"].items())
    # the path mostly moves forward: steps back are the exception
    stage = cb.sequence.stage_of()
    steps = in_seq.sort_values(["doc_id", "start"]).groupby("doc_id")["code"].agg(lambda c: np.diff([stage[x] for x in c]))
    back = sum(int((d < 0).sum()) for d in steps)
    assert back <= 0.1 * len(in_seq), back
    # codes outside the sequence are still decided on their own (decoded, no segment is left
    # for the exhaustive codebook's fill, which gives one by one some uncoded segments a code)
    a = alone.to_frame()
    a = a[~a["evidence"].str.contains("exhaustive codebook")]
    assert not f["evidence"].str.contains("exhaustive codebook").any()
    assert set(a.query("code not in @seq_codes")["segment_id"]) == set(f.query("code not in @seq_codes")["segment_id"])


def test_fitted_coder_decodes_with_its_classifiers(abstracts, default_embedder):
    corpus, humans, cb = abstracts
    ids = corpus.doc_ids
    train, test = corpus.subset(ids[:20]), corpus.subset(ids[20:])
    coder = qc.Coder(cb, unit="turn", embedder=default_embedder, cache_dir=qc.default_cache_dir(), progress=False)
    coder.fit(train, humans["initial/A"].filter(doc_id=ids[:20]), cv=3)
    f = coder.code(test).to_frame()
    in_seq = f[f["code"].isin(cb.sequence.codes)]
    trained = in_seq[in_seq["code"].isin(coder.classifiers_)]
    assert len(trained) and (trained["source"] == "classifier").all()
    assert trained["evidence"].str.startswith("[classifier] sequence stage ").all()
    assert in_seq.groupby("segment_id").size().eq(1).all()


# ----------------------------------------------------------------------------- exhaustive
def test_exhaustive_loads_and_keeps_old_fingerprints(tmp_path):
    cb = qc.Codebook.loads(YAML.replace('version: "1.0"\n', 'version: "1.0"\nexhaustive: true\n'))
    assert cb.exhaustive
    out = tmp_path / "x.yaml"
    cb.save(out)
    assert qc.Codebook.load(out).exhaustive and qc.Codebook.from_dict(cb.to_dict()).exhaustive
    plain = qc.Codebook.loads(YAML)
    assert not plain.exhaustive and '"exhaustive"' not in plain.canonical_json()
    assert plain.fingerprint != cb.fingerprint
    with pytest.raises(CodebookError, match=r"x\.yaml:3:\d+: exhaustive"):
        qc.Codebook.loads(YAML.replace('version: "1.0"\n', 'version: "1.0"\nexhaustive: always\n'), source="x.yaml")


def test_exhaustive_codebook_codes_every_segment(abstracts, default_embedder):
    """qabstracts' coders give every sentence a code: decided one by one, the sentences no code
    reached get their best-scoring code, and a human-coded sentence is left to the human."""
    corpus, humans, cb = abstracts
    assert cb.exhaustive
    not_exhaustive = qc.Codebook.from_dict({**cb.to_dict(), "exhaustive": False})
    kw = {"unit": "turn", "embedder": default_embedder, "cache_dir": qc.default_cache_dir(), "progress": False,
          "sequence": False}
    units = corpus.segments("turn", attributes=False)
    gaps = qc.Coder(not_exhaustive, **kw).code(corpus).to_frame()
    uncoded = set(units["segment_id"]) - set(gaps["segment_id"])
    assert len(uncoded) > 20, "decided one by one, many sentences get no code"
    coder = qc.Coder(cb, **kw)
    full = coder.code(corpus).to_frame()
    assert set(full["segment_id"]) == set(units["segment_id"])
    filled = full[full["segment_id"].isin(uncoded)]
    assert filled.groupby("segment_id").size().eq(1).all()
    assert filled["evidence"].str.contains("exhaustive codebook: the best code").all()
    # the filled code is the segment's best calibrated score; the other segments are unchanged
    s = coder.score(corpus)
    scores = s.embedding_matrix("score")
    row = {sid: i for i, sid in enumerate(s.segments["segment_id"])}
    for sid, code in zip(filled["segment_id"], filled["code"], strict=True):
        assert s.codes[int(scores[row[sid]].argmax())] == code
    rest = full[~full["segment_id"].isin(uncoded)][["segment_id", "code"]]
    assert rest.sort_values(["segment_id", "code"]).to_numpy().tolist() == (
        gaps[["segment_id", "code"]].sort_values(["segment_id", "code"]).to_numpy().tolist()
    )
    # a segment a human coded is the human's: no machine fill there
    one_doc = filled["doc_id"].iloc[0]
    h = humans["initial/A"].filter(doc_id=[one_doc])
    merged = coder.code(corpus, human=h).to_frame()
    machine_here = merged[(merged["doc_id"] == one_doc) & (merged["source"] != "human")]
    assert not machine_here["evidence"].str.contains("exhaustive codebook").any()
