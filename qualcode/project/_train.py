"""Re-train and re-code a project from its accepted codings, with a learning curve.

The learning curve answers "is my coding teaching the machine?" honestly: the documents with
accepted codings are split once into training documents and held-out documents (a quarter,
at least one); the coder is fitted on growing shares of the training documents and scored
against the held-out human codings it never saw (pooled κ, α and F1 over (unit, code)
decisions, :func:`qualcode.reliability.agreement`).  The x axis is the number of accepted
codings used for training.

The Coder is used only through its public methods (``fit``, ``code``, ``next_to_code``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..errors import QualcodeError
from ._common import ProjectError, priority_of, row_thresholds
from ._store import Project

__all__ = ["learning_curve", "make_coder", "retrain"]

Progress = Callable[[str, float], None]


def make_coder(project: Project, *, embedder: Any = None, cache_dir: Any = None, **overrides: Any) -> Any:
    """A fresh :class:`qualcode.Coder` with the project's codebook and coder settings.

    Args:
        project: the project.
        embedder: an embedder object or name replacing the stored one (tests pass a
            precomputed-vector embedder).
        cache_dir: the embedding cache folder (``None``: in memory).
        **overrides: other Coder settings replacing the stored ones.

    Raises:
        ProjectError: the project has no codebook.
    """
    from .. import Coder

    cb = project.codebook
    if cb is None:
        msg = f"{project.path}: the project has no codebook; add one before coding."
        raise ProjectError(msg)
    settings = {**project.coder_settings, **overrides}
    if embedder is not None:
        settings["embedder"] = embedder
    return Coder(cb, progress=False, cache_dir=cache_dir, **settings)


def _machine(codings: Any) -> pd.DataFrame:
    f = codings.to_frame()
    f = f[f["source"] != "human"]
    return f[~f["evidence"].astype(str).str.startswith("via children")].reset_index(drop=True)


def _pooled(reference: Any, predicted: Any, corpus: Any) -> dict[str, float | None]:
    from .. import reliability

    a = reliability.agreement(reference, predicted, corpus)
    row = a.loc["(pooled)"]

    def num(v: Any) -> float | None:
        v = float(v)
        return None if math.isnan(v) else round(v, 4)

    return {k: num(row[k]) for k in ("kappa", "alpha", "f1", "precision", "recall")}


def learning_curve(
    corpus: Any,
    human: Any,
    new_coder: Callable[[], Any],
    *,
    holdout: float = 0.25,
    steps: int = 4,
    seed: int = 0,
    on_progress: Progress | None = None,
) -> dict[str, Any]:
    """Agreement with held-out human codings against the number of codings trained on.

    Args:
        corpus: the corpus.
        human: the human (accepted) codings.
        new_coder: returns a fresh, unfitted Coder.
        holdout: share of the coded documents held out (at least one document).
        steps: points on the curve (training shares ``1/steps, 2/steps, ... 1``).
        seed: seed of the document split.
        on_progress: called with ``(message, fraction)``.

    Returns:
        ``{"points": [{"n_codings", "n_documents", "kappa", "alpha", "f1", "precision",
        "recall"}, ...], "held_out": [doc ids], "n_held_out_codings": n, "note": str}``;
        ``points`` is empty (and ``note`` says why) with fewer than two coded documents.
    """
    from .. import Codings
    from ..errors import CodingsError

    f = human.to_frame()
    f = f[f["doc_id"].isin(set(corpus.doc_ids))]
    docs = sorted(set(f["doc_id"]))
    out: dict[str, Any] = {"points": [], "held_out": [], "n_held_out_codings": 0, "note": ""}
    if len(docs) < 2:
        out["note"] = "a learning curve needs accepted codings in at least two documents"
        return out
    rng = np.random.default_rng(seed)
    order = [docs[i] for i in rng.permutation(len(docs))]
    n_hold = max(1, int(round(len(docs) * holdout)))
    held, train = order[:n_hold], order[n_hold:]
    ref = Codings(f[f["doc_id"].isin(held)].reset_index(drop=True))
    held_corpus = corpus.subset(held)
    out["held_out"] = held
    out["n_held_out_codings"] = len(ref)
    sizes = sorted({max(1, math.ceil(len(train) * (i + 1) / steps)) for i in range(steps)})
    for k, n_docs in enumerate(sizes):
        if on_progress is not None:
            on_progress(f"learning curve: training on {n_docs} of {len(train)} documents", k / len(sizes))
        part = train[:n_docs]
        hk = Codings(f[f["doc_id"].isin(part)].reset_index(drop=True))
        coder = new_coder()
        try:
            coder.fit(corpus.subset(part + held), hk)
            pred = Codings(_machine(coder.code(held_corpus)))
        except (CodingsError, ValueError) as exc:
            out["note"] = f"a point was skipped: {exc}"
            continue
        out["points"].append({"n_codings": len(hk), "n_documents": n_docs, **_pooled(ref, pred, held_corpus)})
    return out


def retrain(
    project: Project,
    *,
    who: str = "qualcode",
    embedder: Any = None,
    cache_dir: Any = None,
    holdout: float = 0.25,
    steps: int = 4,
    seed: int = 0,
    curve: bool = True,
    on_progress: Progress | None = None,
) -> dict[str, Any]:
    """Re-train the project's coder on its accepted codings and re-code every document.

    1. The learning curve (:func:`learning_curve`) on the accepted codings.
    2. ``Coder.fit`` on every accepted coding (when there is any), then ``Coder.code``.
    3. The open suggestions are replaced by the new machine codings
       (:meth:`Project.replace_suggestions`); accepted and rejected ones stay.  Their review
       order comes from ``Coder.next_to_code`` when the coder was fitted, else from the
       distance between score and threshold.
    4. The run, its settings and its curve are stored (:meth:`Project.runs`).

    Args:
        project: the project.
        who: who asked for the run (recorded).
        embedder: replaces the stored embedder (an object or a name).
        cache_dir: the embedding cache folder.
        holdout: share of coded documents held out for the curve.
        steps: points on the curve.
        seed: seed of the split.
        curve: compute the learning curve.
        on_progress: called with ``(message, fraction)``.

    Returns:
        The run's summary: ``run_id, coder, fitted, n_training_codings,
        n_training_documents, curve, added, removed, skipped``.

    Raises:
        ProjectError: the project has no codebook or no documents.
    """

    def say(msg: str, frac: float) -> None:
        if on_progress is not None:
            on_progress(msg, frac)

    corpus = project.corpus
    if not len(corpus):
        msg = f"{project.path}: the project has no documents to code."
        raise ProjectError(msg)
    cb = project.codebook
    if cb is None:
        msg = f"{project.path}: the project has no codebook; add one before coding."
        raise ProjectError(msg)

    def new_coder() -> Any:
        return make_coder(project, embedder=embedder, cache_dir=cache_dir)

    human = project.training_codings()
    hf = human.to_frame()
    from .. import Codings

    human = Codings(hf[hf["code"].isin(set(cb.ids))].reset_index(drop=True))
    summary: dict[str, Any] = {"who": who, "n_training_codings": len(human),
                               "n_training_documents": int(human.to_frame()["doc_id"].nunique())}
    if curve and len(human):
        say("learning curve", 0.0)

        def sub(m: str, fr: float) -> None:
            say(m, 0.6 * fr)

        summary["curve"] = learning_curve(corpus, human, new_coder, holdout=holdout, steps=steps, seed=seed,
                                          on_progress=sub)
    else:
        summary["curve"] = {"points": [], "held_out": [], "n_held_out_codings": 0,
                            "note": "no accepted codings yet" if not len(human) else "not computed"}
    coder = new_coder()
    fitted = False
    if len(human):
        say(f"fitting on {len(human)} accepted codings", 0.6)
        try:
            coder.fit(corpus, human)
            fitted = bool(coder.is_fitted)
        except QualcodeError as exc:
            summary["fit_error"] = str(exc)
    say("re-coding every document", 0.75)
    codings = coder.code(corpus)
    machine = _machine(codings)
    machine["threshold"] = row_thresholds(machine, codings.meta.get("thresholds"))
    priorities: dict[tuple[str, int, int, str], float] = {}
    if fitted:
        say("ordering the review queue (next_to_code)", 0.9)
        ntc = coder.next_to_code(corpus, n=10**9)  # every segment, most uncertain first
        unc = {(r.segment_id, r.code): float(r.uncertainty) for r in ntc.itertuples(index=False)}
        for r in machine.itertuples(index=False):
            u = unc.get((r.segment_id, r.code))
            if u is not None:
                priorities[(r.doc_id, int(r.start), int(r.end), r.code)] = u
    for r in machine.itertuples(index=False):
        priorities.setdefault((r.doc_id, int(r.start), int(r.end), r.code), priority_of(r.score, r.threshold))
    say("saving the new suggestions", 0.95)
    counts = project.replace_suggestions(machine, priorities=priorities)
    name = str(codings.meta.get("coder") or (machine["coder"].iloc[0] if len(machine) else "qualcode"))
    summary.update(counts)
    summary.update({"coder": name, "fitted": fitted, "n_suggestions": len(machine)})
    settings: Mapping[str, Any] = {**project.coder_settings,
                                   "model_id": codings.meta.get("model_id"),
                                   "codebook_fingerprint": cb.fingerprint}
    summary["run_id"] = project.record_run("retrain", name, settings, summary)
    say("done", 1.0)
    return summary
