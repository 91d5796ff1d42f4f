"""The Coder: rules + embeddings + (optionally) classifiers learnt from human codings.

Fusion, per segment and code:

* **rule**: the code's rules fire (enough valid hits, none negated or vetoed); score
  :func:`qualcode._rules.rule_score`.  After ``fit``, a code's rules fire on their own only
  when their precision on the human-coded segments was at least 0.6 (otherwise they remain
  a classifier feature and appear in the evidence).
* **embedding**: the calibrated zero-shot score clears the code's threshold (the code's own
  ``embedding.threshold``, else the Coder's ``threshold``, else 0.5; after ``fit``, codes
  without a classifier may get a higher threshold: the lowest at which the zero-shot
  decisions on the human-coded segments were at least 60% precise).
* **classifier** (after ``fit``): the calibrated probability clears the threshold chosen by
  cross-validation; for such codes it replaces the zero-shot embedding decision.

One row per (segment, code) with the strongest source (highest score; ties: classifier,
rule, embedding); the evidence text keeps every source's explanation.  Parent codes get a row
when any descendant fires ("via children").  Human codings always win: a (segment, code) a
human coded is not machine-coded, and the human rows are included.
"""

from __future__ import annotations

import html
import logging
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..codings._codings import Codings
from ..errors import CodingsError, NotFittedError

__all__ = ["Coder"]

logger = logging.getLogger("qualcode")

_PARAMS = (
    "codebook", "unit", "embedder", "threshold", "rules", "embeddings", "window", "top_k",
    "cache_dir", "batch_size", "progress", "n_jobs", "coder_name", "random_state",
)  # fmt: skip
_UNITS = ("turn", "paragraph", "sentence", "window")
_RULE_PRECISION = 0.6


def _leaf_ids(codebook: Any) -> list[str]:
    leaves = getattr(codebook, "leaves", None)
    if callable(leaves):
        leaves = leaves()
    return list(leaves or [])


class Coder:
    """Codes segments of a Corpus with a Codebook, explainably.

    Args:
        codebook: a :class:`qualcode.Codebook`.
        unit: segment unit (``turn``, ``paragraph``, ``sentence``, ``window``).
        embedder: embedder object, registry name or alias; ``None`` for the default model.
        threshold: default threshold on the calibrated embedding score (codes may override).
        rules: use the codebook's rules.
        embeddings: use sentence embeddings.
        window: sentences per window (``unit="window"``).
        top_k: keep at most this many codes per segment (highest scores); ``None``: all.
        cache_dir: folder of the on-disk embedding cache (``None``: in memory).
        batch_size: texts per embedding call.
        progress: show progress bars.
        n_jobs: threads that train the per-code classifiers of ``fit`` in parallel (``-1``:
            all cores).  Embedding uses the backend's own threads and rule matching runs in
            this process; neither depends on ``n_jobs``.
        coder_name: the ``coder`` column of machine rows (default ``"qualcode:<mode>"``).
        random_state: seed for the classifiers.

    Examples:
        >>> import qualcode as qc
        >>> from qualcode.testing import tiny_corpus
        >>> cb = qc.Codebook.load("codebooks/technocratic_planning.yaml")  # doctest: +SKIP
        >>> codings = qc.Coder(cb, embeddings=False, progress=False).code(tiny_corpus())  # doctest: +SKIP
        >>> "convergence" in codings.codes  # doctest: +SKIP
        True
    """

    def __init__(
        self,
        codebook: Any,
        unit: str = "sentence",
        *,
        embedder: Any = None,
        threshold: float | None = None,
        rules: bool = True,
        embeddings: bool = True,
        window: int = 3,
        top_k: int | None = None,
        cache_dir: Any = None,
        batch_size: int = 64,
        progress: bool = True,
        n_jobs: int = 1,
        coder_name: str | None = None,
        random_state: int = 0,
    ):
        self.codebook = codebook
        self.unit = unit
        self.embedder = embedder
        self.threshold = threshold
        self.rules = rules
        self.embeddings = embeddings
        self.window = window
        self.top_k = top_k
        self.cache_dir = cache_dir
        self.batch_size = batch_size
        self.progress = progress
        self.n_jobs = n_jobs
        self.coder_name = coder_name
        self.random_state = random_state

    # -- estimator plumbing ---------------------------------------------------------------
    def get_params(self, deep: bool = False) -> dict[str, Any]:
        """The constructor parameters (scikit-learn style)."""
        return {k: getattr(self, k) for k in _PARAMS}

    def set_params(self, **params: Any) -> Coder:
        """Set constructor parameters; learned state is dropped."""
        for k, v in params.items():
            if k not in _PARAMS:
                msg = f"The parameter {k!r} is not a parameter of Coder. Valid parameters: {list(_PARAMS)}."
                raise ValueError(msg)
            setattr(self, k, v)
        for attr in [a for a in vars(self) if a.endswith("_")]:
            delattr(self, attr)
        return self

    @property
    def is_fitted(self) -> bool:
        """Whether ``fit`` has been called."""
        return hasattr(self, "classifiers_")

    def __repr__(self) -> str:
        name = getattr(self.codebook, "name", "?")
        shown = []
        defaults = Coder.__init__.__kwdefaults__ or {}
        for k in _PARAMS[1:]:
            v = getattr(self, k)
            if k == "unit" or v != defaults.get(k):
                shown.append(f"{k}={v!r}" if not hasattr(v, "model_id") else f"{k}={v.model_id!r}")
        state = "fitted" if self.is_fitted else "not fitted"
        return f"Coder(codebook={name!r}, {', '.join(shown)}) [{state}]"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{html.escape(repr(v))}</td></tr>"
            for k, v in self.get_params().items()
            if k != "codebook"
        )
        state = "fitted" if self.is_fitted else "not fitted"
        extra = ""
        if self.is_fitted:
            extra = f"<p>classifiers: {html.escape(', '.join(self.classifiers_) or 'none')}</p>"
        return (
            f"<div><strong>Coder</strong> ({html.escape(state)}) codebook "
            f"{html.escape(str(getattr(self.codebook, 'name', '?')))}<table>{rows}</table>{extra}</div>"
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        return {"text/plain": repr(self), "text/html": self._repr_html_()}

    # -- lazy parts -----------------------------------------------------------------------
    def _check_params(self) -> None:
        from ..codebook._codebook import Codebook

        if not isinstance(self.codebook, Codebook):
            hint = " Load it first: qc.Codebook.load(path)." if isinstance(self.codebook, (str, os.PathLike)) else ""
            msg = f"The 'codebook' parameter of Coder must be a Codebook. Got {type(self.codebook).__name__} instead.{hint}"
            raise TypeError(msg)
        if self.unit not in _UNITS:
            msg = f"The 'unit' parameter of Coder must be a str among {set(_UNITS)}. Got {self.unit!r} instead."
            raise ValueError(msg)
        if not (self.rules or self.embeddings):
            msg = "The 'rules' and 'embeddings' parameters of Coder cannot both be False."
            raise ValueError(msg)
        if self.threshold is not None and not 0.0 <= float(self.threshold) <= 1.0:
            msg = f"The 'threshold' parameter of Coder must be a float in [0, 1]. Got {self.threshold!r} instead."
            raise ValueError(msg)
        if self.top_k is not None and int(self.top_k) < 1:
            msg = f"The 'top_k' parameter of Coder must be an int >= 1 or None. Got {self.top_k!r} instead."
            raise ValueError(msg)

    def _prepare(self) -> None:
        self._check_params()
        fp = getattr(self.codebook, "fingerprint", None)
        if getattr(self, "codebook_fingerprint_", None) != fp:
            for attr in ("matchers_", "embedder_", "prototypes_"):
                if hasattr(self, attr):
                    delattr(self, attr)
        self.codebook_fingerprint_ = fp
        if self.rules and not hasattr(self, "matchers_"):
            from ..rules._matcher import RuleMatcher

            self.matchers_ = RuleMatcher(self.codebook)
        if self.embeddings and not hasattr(self, "embedder_"):
            from ._embed import EmbeddingMatcher

            if not hasattr(self, "_cache"):
                from ..backends._cache import EmbeddingCache

                self._cache = EmbeddingCache(self.cache_dir)
            self.embedder_ = EmbeddingMatcher(
                self.codebook,
                self.embedder,
                cache=self._cache,
                batch_size=self.batch_size,
                progress=self.progress,
            )
            self.prototypes_ = self.embedder_.fit_prototypes()

    @property
    def nlp_(self) -> dict[str, Any]:
        """The blank spaCy pipelines used for rules, by language."""
        if not hasattr(self, "matchers_"):
            msg = "The Coder has not built its rule pipelines yet: call code(corpus) first."
            raise NotFittedError(msg)
        return {k: p.nlp for k, p in self.matchers_._pipelines.items()}

    @property
    def model_id(self) -> str:
        """The embedding model id (``""`` for rules only)."""
        return self.embedder_.model_id if hasattr(self, "embedder_") else ""

    @property
    def codes_(self) -> list[str]:
        """Codes the coder can assign directly: leaves and codes with rules."""
        leaves = _leaf_ids(self.codebook)
        ruled = self.matchers_.codes if hasattr(self, "matchers_") else []
        return [c.id for c in self.codebook.codes if c.id in leaves or c.id in ruled]

    def _name(self) -> str:
        if self.coder_name:
            return str(self.coder_name)
        mode = "+".join(m for m, on in (("rules", self.rules), ("embeddings", self.embeddings)) if on)
        return f"qualcode:{mode}{'+fit' if self.is_fitted else ''}"

    # -- scoring --------------------------------------------------------------------------
    def _score(self, corpus: Any, vectors: np.ndarray | None = None) -> dict[str, Any]:
        """Segments, rule aggregates, embedding scores and the feature blocks."""
        from ..corpus._model import Corpus
        from ..rules._matcher import aggregate_hits

        if not isinstance(corpus, Corpus):
            hint = " Read it first: qc.read_corpus(path)." if isinstance(corpus, (str, os.PathLike, list)) else ""
            msg = f"The 'corpus' parameter of Coder must be a Corpus. Got {type(corpus).__name__} instead.{hint}"
            raise TypeError(msg)
        self._prepare()
        seg = corpus.segments(self.unit, window=self.window, attributes=False).reset_index(drop=True)
        codes = self.codes_
        col = {c: j for j, c in enumerate(codes)}
        n, k = len(seg), len(codes)
        out: dict[str, Any] = {"segments": seg, "codes": codes}
        rule_fired = np.zeros((n, k), dtype=bool)
        rule_score = np.zeros((n, k))
        rule_count = np.zeros((n, k), dtype=np.float32)
        rule_ev: dict[tuple[int, int], str] = {}
        if self.rules:
            hits = self.matchers_.match(
                seg["text"].tolist(),
                languages=seg["language"].tolist(),
                roles=seg["role"].tolist(),
                speakers=seg["speaker"].tolist(),
                offsets=seg["start"].tolist(),
            )
            agg = aggregate_hits(hits, self.matchers_)
            if len(agg):
                jcol = agg["code"].map(col)
                keep = jcol.notna().to_numpy()
                ii = agg["segment"].to_numpy()[keep].astype(np.int64)
                jj = jcol.to_numpy()[keep].astype(np.int64)
                rule_fired[ii, jj] = agg["fired"].to_numpy()[keep].astype(bool)
                rule_score[ii, jj] = agg["score"].to_numpy()[keep].astype(float)
                rule_count[ii, jj] = agg["n_hits"].to_numpy()[keep].astype(np.float32)
                evs = [str(e) for e in agg["evidence"].to_numpy()[keep]]
                rule_ev = dict(zip(zip(ii.tolist(), jj.tolist(), strict=True), evs, strict=True))
            out["hits"] = hits
        out.update(rule_fired=rule_fired, rule_score=rule_score, rule_count=rule_count, rule_ev=rule_ev)
        emb = None
        if self.embeddings and n:
            emb = self.embedder_.score(seg["text"].tolist(), vectors=vectors)
        out["emb"] = emb
        return out

    def _thresholds(self, emb: Any) -> dict[str, float]:
        th: dict[str, float] = {}
        if emb is None:
            return th
        for c in emb.codes:
            own = None
            if c in self.codebook:
                own = getattr(self.codebook[c].embedding, "threshold", None)
            if own is not None:
                th[c] = float(own)
            elif self.threshold is not None:
                th[c] = float(self.threshold)
            else:
                th[c] = float(emb.thresholds.get(c, 0.5))
        th.update(getattr(self, "thresholds_", {}).get("embedding", {}))
        return th

    def _features(self, s: dict[str, Any]) -> np.ndarray:
        from ._learn import segment_features

        emb = s["emb"]
        if emb is None:
            return segment_features(s["segments"], s["rule_count"])
        codes = s["codes"]
        sim = np.zeros((len(s["segments"]), len(codes)), dtype=np.float32)
        score = np.zeros_like(sim)
        for jc, c in enumerate(emb.codes):
            if c in codes:
                j = codes.index(c)
                sim[:, j] = emb.similarity[:, jc]
                score[:, j] = emb.score[:, jc]
        return segment_features(s["segments"], s["rule_count"], emb.vectors, sim, score)

    def _classifier_probs(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Calibrated probabilities of every trained classifier (shared scaling done once)."""
        scaled: dict[int, np.ndarray] = {}
        out = {}
        for c, model in self.classifiers_.items():
            key = id(model.scaler)
            if key not in scaled:
                scaled[key] = model.scaler.transform(x.astype(np.float64))
            out[c] = model.predict_proba(scaled[key], scaled=True)[:, 1]
        return out

    # -- coding ---------------------------------------------------------------------------
    def code(
        self, corpus: Any, *, human: Codings | None = None, vectors: np.ndarray | None = None
    ) -> Codings:
        """Code every segment of ``corpus``.

        Args:
            corpus: the :class:`qualcode.Corpus`.
            human: human codings that win over machine codings (default: those given to
                ``fit``, if any).
            vectors: precomputed embeddings of the segments, shape ``(n_segments, dim)``, in
                the row order of ``corpus.segments(unit)`` and from the same model (keeps
                tests and notebooks fast); ``None`` embeds them (through the cache).

        Returns:
            A :class:`Codings` with machine rows (``source`` rule, embedding or classifier;
            parents ``via children``) plus the human rows, and provenance in ``meta``. Every
            machine row also carries ``codebook_fingerprint`` and ``model_id``.

        Raises:
            TypeError: ``corpus`` is not a Corpus, or the codebook is not a Codebook.
            EmbeddingError: ``vectors`` do not match the segments or the model's dimension.
        """
        from .._progress import tqdm

        bar = tqdm(total=3, desc="coding", disable=not self.progress, leave=False)
        s = self._score(corpus, vectors)
        bar.update(2)
        seg, codes = s["segments"], s["codes"]
        n, k = len(seg), len(codes)
        emb = s["emb"]
        emb_th = self._thresholds(emb)
        cands: dict[str, np.ndarray] = {}
        scores: dict[str, np.ndarray] = {}
        rule_ok = np.ones(k, dtype=bool)
        precise = getattr(self, "rule_precise_", None)
        if precise is not None:
            rule_ok = np.array([precise.get(c, True) for c in codes], dtype=bool)
        cands["rule"] = s["rule_fired"] & rule_ok[None, :]
        scores["rule"] = s["rule_score"]
        emb_score = np.zeros((n, k))
        emb_dec = np.zeros((n, k), dtype=bool)
        if emb is not None:
            for jc, c in enumerate(emb.codes):
                j = codes.index(c) if c in codes else None
                if j is None:
                    continue
                emb_score[:, j] = emb.score[:, jc]
                emb_dec[:, j] = emb.score[:, jc] >= emb_th[c]
        clf_prob = np.zeros((n, k))
        clf_dec = np.zeros((n, k), dtype=bool)
        classifiers = getattr(self, "classifiers_", {})
        if classifiers and n:
            probs = self._classifier_probs(self._features(s))
            for c in classifiers:
                j = codes.index(c)
                clf_prob[:, j] = probs[c]
                clf_dec[:, j] = clf_prob[:, j] >= self.thresholds_["classifier"][c]
                emb_dec[:, j] = False
        cands["embedding"], scores["embedding"] = emb_dec, emb_score
        cands["classifier"], scores["classifier"] = clf_dec, clf_prob
        human_f = self._human(human)
        blocked = np.zeros((n, k), dtype=bool)
        if human_f is not None and len(human_f):
            from ._learn import segment_labels

            y, _ = segment_labels(seg, human_f, codes)
            blocked = y
        frame = self._rows(s, cands, scores, emb, emb_th, blocked)
        if len(frame) and self.top_k is not None:
            frame = (
                frame.sort_values(["seg", "score"], ascending=[True, False], kind="stable")
                .groupby("seg", sort=False)
                .head(int(self.top_k))
            )
        frame = self._with_parents(frame, seg)
        frame = frame.drop(columns=["seg"], errors="ignore")
        meta = self._meta(corpus, emb_th)
        if len(frame):  # every machine coding names the codebook and model that produced it
            frame["codebook_fingerprint"] = meta.get("codebook_fingerprint")
            frame["model_id"] = meta.get("model_id") or ""
        machine = Codings(frame if len(frame) else None, meta=meta)
        bar.update(1)
        bar.close()
        if human_f is not None and len(human_f):
            out = Codings.concat([Codings(human_f), machine])
            out.meta = meta
            return out
        return machine

    def _human(self, human: Codings | None) -> pd.DataFrame | None:
        if human is None:
            return getattr(self, "human_", None)
        if isinstance(human, Codings):
            f = human.to_frame()
        elif isinstance(human, pd.DataFrame):
            f = Codings(human).to_frame()
        else:
            msg = f"The 'human' parameter of Coder.code must be a Codings table. Got {type(human).__name__} instead."
            raise CodingsError(msg)
        return f[f["source"] == "human"].reset_index(drop=True)

    def _rows(
        self,
        s: dict[str, Any],
        cands: Mapping[str, np.ndarray],
        scores: Mapping[str, np.ndarray],
        emb: Any,
        emb_th: Mapping[str, float],
        blocked: np.ndarray,
    ) -> pd.DataFrame:
        """One row per machine-coded (segment, code), built column-wise."""
        seg, codes = s["segments"], s["codes"]
        any_c = (cands["rule"] | cands["embedding"] | cands["classifier"]) & ~blocked
        ii, jj = np.nonzero(any_c)
        cols = ["seg", "doc_id", "case_id", "segment_id", "start", "end", "code", "coder", "source", "score",
                "evidence", "text", "speaker", "role", "unit"]  # fmt: skip
        if not len(ii):
            return pd.DataFrame(columns=cols)
        order = ("classifier", "rule", "embedding")  # ties go to the earlier (higher rank) source
        stacked = np.stack([np.where(cands[src][ii, jj], scores[src][ii, jj], -np.inf) for src in order])
        best_k = stacked.argmax(axis=0)
        best_score = stacked[best_k, np.arange(len(ii))].astype(float)
        best_name = np.array(order, dtype=object)[best_k]
        codes_arr = np.array(codes, dtype=object)
        code_of = codes_arr[jj]
        m = len(ii)
        parts: list[list[str]] = [[] for _ in range(m)]
        thr = getattr(self, "thresholds_", {}).get("classifier", {})
        if thr:
            has = np.array([c in thr for c in codes], dtype=bool)[jj]
            p_clf = scores["classifier"][ii, jj]
            dec = cands["classifier"][ii, jj]
            for r in np.flatnonzero(has).tolist():
                parts[r].append(f"classifier p={p_clf[r]:.2f} {'>=' if dec[r] else '<'} {thr[code_of[r]]:.2f}")
        rule_ev = s["rule_ev"]
        if rule_ev:
            used = cands["rule"][ii, jj]
            fired = s["rule_fired"][ii, jj]
            note = " (rule not used alone after fit: imprecise on human codings)"
            for r, key in enumerate(zip(ii.tolist(), jj.tolist(), strict=True)):
                e = rule_ev.get(key)
                if e is not None:
                    parts[r].append(e if used[r] or not fired[r] else e + note)
        if emb is not None:
            emb_col = {c: j for j, c in enumerate(emb.codes)}
            kcol = np.array([emb_col.get(c, -1) for c in codes], dtype=np.int64)[jj]
            rows = np.flatnonzero(kcol >= 0)
            if len(rows):
                pre = emb.evidence_many(ii[rows], kcol[rows])
                sc = emb.score[ii[rows], kcol[rows]].tolist()
                ths = [emb_th.get(codes[j], 0.5) for j in jj[rows].tolist()]
                for r, e, v, th in zip(rows.tolist(), pre, sc, ths, strict=True):
                    parts[r].append(f"{e}; score {v:.2f} {'>=' if v >= th else '<'} {th:.2f}")
        evidence = [f"[{b}] " + " | ".join(p) for b, p in zip(best_name.tolist(), parts, strict=True)]

        def take(name: str) -> np.ndarray:
            return seg[name].to_numpy(dtype=object)[ii]

        return pd.DataFrame(
            {
                "seg": ii.astype(np.int64),
                "doc_id": take("doc_id"),
                "case_id": take("case_id"),
                "segment_id": take("segment_id"),
                "start": seg["start"].to_numpy().astype(np.int64)[ii],
                "end": seg["end"].to_numpy().astype(np.int64)[ii],
                "code": code_of,
                "coder": np.full(m, self._name(), dtype=object),
                "source": best_name,
                "score": best_score,
                "evidence": np.array(evidence, dtype=object),
                "text": take("text"),
                "speaker": take("speaker"),
                "role": take("role"),
                "unit": take("unit"),
            },
            columns=cols,
        )

    def _with_parents(self, frame: pd.DataFrame, seg: pd.DataFrame) -> pd.DataFrame:
        """Add a "via children" row for every parent code with a coded descendant in a segment.

        The row copies the descendants' best-scored row (the first among equals) and lists
        every coded descendant in its evidence; segments where the parent itself is coded
        keep their own row only.
        """
        if not len(frame):
            return frame
        cb = self.codebook
        extra = []
        seg_all = frame["seg"].to_numpy(dtype=np.int64)
        code_all = frame["code"].to_numpy(dtype=object)
        score_all = frame["score"].to_numpy(dtype=float)
        for parent in [c.id for c in cb.codes if cb.children(c.id)]:
            desc = list(cb.descendants(parent))
            own = np.unique(seg_all[code_all == parent])
            mask = np.isin(code_all, np.array(desc, dtype=object)) & ~np.isin(seg_all, own)
            pos = np.flatnonzero(mask)
            if not len(pos):
                continue
            # by segment, then best score first, then frame order (lexsort is stable)
            pos = pos[np.lexsort((-score_all[pos], seg_all[pos]))]
            segs = seg_all[pos]
            starts = np.flatnonzero(np.r_[True, segs[1:] != segs[:-1]])
            ends = np.r_[starts[1:], len(pos)]
            names = code_all[pos].tolist()
            best = frame.iloc[pos[starts]].copy()
            best["code"] = parent
            best["evidence"] = [
                "via children: " + ", ".join(sorted(names[a:b])) for a, b in zip(starts.tolist(), ends.tolist(), strict=True)
            ]
            extra.append(best)
        if extra:
            frame = pd.concat([frame, *extra], ignore_index=True)
        return frame.sort_values(["seg", "code"], kind="stable").reset_index(drop=True)

    def _meta(self, corpus: Any, emb_th: Mapping[str, float]) -> dict[str, Any]:
        from .. import __version__

        th: dict[str, Any] = {"embedding": dict(emb_th)}
        if self.is_fitted:
            th["classifier"] = dict(self.thresholds_.get("classifier", {}))
        return {
            "codebook_fingerprint": getattr(self.codebook, "fingerprint", None),
            "codebook": getattr(self.codebook, "name", None),
            "model_id": self.model_id,
            "unit": self.unit,
            "thresholds": th,
            "qualcode_version": __version__,
            "corpus_fingerprint": getattr(corpus, "fingerprint", None),
            "coder": self._name(),
            "fitted": self.is_fitted,
            "rules": bool(self.rules),
            "embeddings": bool(self.embeddings),
        }

    # -- learning -------------------------------------------------------------------------
    def fit(
        self,
        corpus: Any,
        human_codings: Codings,
        *,
        min_pos: int = 8,
        min_neg: int = 8,
        cv: int = 5,
    ) -> Coder:
        """Learn per-code classifiers and thresholds from human codings.

        See :mod:`qualcode._learn` for how human spans become segment labels, the features
        (segment, neighbours, position, zero-shot scores, rule hits), the classifiers and how
        their regularisation and thresholds are chosen (F1 over cross-validation predictions,
        folds grouped by document).  Codes with too few examples keep rules + similarity;
        their thresholds are only ever raised (to reach a precision of 0.6 on the human
        codings), and a code's rules stop firing on their own when they were less than 60%
        precise on the human-coded segments.

        Args:
            corpus: the corpus the human codings refer to.
            human_codings: a :class:`Codings` (rows with ``source == "human"`` are used).
            min_pos: positives a code needs to get a classifier.
            min_neg: negatives a code needs to get a classifier.
            cv: cross-validation folds (at most one per coded document).

        Returns:
            ``self``.

        Raises:
            CodingsError: there are no human codings, or none fall on the corpus.
            ValueError: ``cv``, ``min_pos`` or ``min_neg`` is not a positive int (``cv >= 2``).
        """
        from ._learn import raise_threshold, segment_labels, train_classifiers

        for name, value, low in (("cv", cv, 2), ("min_pos", min_pos, 1), ("min_neg", min_neg, 1)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
                msg = f"The {name!r} parameter of Coder.fit must be an int >= {low}. Got {value!r} instead."
                raise ValueError(msg)
        human = self._human(human_codings)
        if human is None or not len(human):
            msg = "fit needs human codings (rows with source == 'human'); got none."
            raise CodingsError(msg)
        for attr in ("classifiers_", "thresholds_", "rule_precise_"):
            if hasattr(self, attr):
                delattr(self, attr)
        s = self._score(corpus)
        seg, codes = s["segments"], s["codes"]
        y, labelled = segment_labels(seg, human, codes)
        if not labelled.any():
            msg = "none of the human codings fall on documents of this corpus (check doc_id values)."
            raise CodingsError(msg)
        yl = y[labelled]
        groups = seg.loc[labelled, "doc_id"].to_numpy()
        emb = s["emb"]
        zero_th = self._thresholds(emb)
        precise: dict[str, bool] = {}
        emb_th: dict[str, float] = {}
        trainable: list[int] = []
        for j, c in enumerate(codes):
            pos = int(yl[:, j].sum())
            neg = int((~yl[:, j]).sum())
            fired = s["rule_fired"][labelled, j]
            if fired.any():
                precise[c] = bool(yl[fired, j].mean() >= _RULE_PRECISION)
            if pos >= min_pos and neg >= min_neg:
                trainable.append(j)
            elif emb is not None and c in emb.codes:
                sc = emb.score[labelled, emb.codes.index(c)]
                th = raise_threshold(yl[:, j], sc, zero_th[c], min_precision=_RULE_PRECISION)
                if th != zero_th[c]:
                    emb_th[c] = th
        trained = {}
        if trainable:
            x = self._features(s)[labelled]
            trained = train_classifiers(
                x,
                yl[:, trainable],
                groups,
                [codes[j] for j in trainable],
                n_splits=cv,
                random_state=self.random_state,
                n_jobs=self.n_jobs,
            )
        self.classifiers_ = {c: m for c, (m, _t) in trained.items()}
        self.thresholds_ = {"classifier": {c: t for c, (_m, t) in trained.items()}, "embedding": emb_th}
        self.rule_precise_ = precise
        self.cv_f1_ = {c: m.cv_f1 for c, (m, _t) in trained.items()}
        self.human_ = human
        self.n_labelled_ = int(labelled.sum())
        logger.info(
            "fit: %d classifiers on %d labelled segments; raised zero-shot thresholds of %s",
            len(trained), self.n_labelled_, sorted(emb_th) or "no code",
        )  # fmt: skip
        return self

    def next_to_code(self, corpus: Any, n: int = 20) -> pd.DataFrame:
        """Segments whose human coding would teach the model most (uncertainty sampling).

        Uncertainty of a segment is ``1 - min_c |p_c - t_c| / max(t_c, 1 - t_c)`` over the codes
        with a classifier (``p`` the probability, ``t`` the chosen threshold): highest for a
        segment sitting on some code's decision boundary.  Segments in documents a human
        already coded are skipped.

        Args:
            corpus: the corpus to choose from.
            n: how many segments to return.

        Returns:
            ``segment_id, doc_id, start, end, text, code`` (the most uncertain code),
            ``probability, threshold, uncertainty``, most uncertain first.

        Raises:
            NotFittedError: ``fit`` has not been called.
        """
        if not self.is_fitted:
            msg = "This Coder has not learnt from human codings yet: call fit(corpus, human_codings) first."
            raise NotFittedError(msg)
        s = self._score(corpus)
        seg, codes = s["segments"], s["codes"]
        cols = ["segment_id", "doc_id", "start", "end", "text", "code", "probability", "threshold", "uncertainty"]
        if not self.classifiers_ or not len(seg):
            return pd.DataFrame(columns=cols)
        x = self._features(s)
        names = list(self.classifiers_)
        by_code = self._classifier_probs(x)
        probs = np.column_stack([by_code[c] for c in names])
        th = np.array([self.thresholds_["classifier"][c] for c in names])
        dist = np.abs(probs - th[None, :]) / np.maximum(th, 1 - th)[None, :]
        jbest = dist.argmin(axis=1)
        unc = 1.0 - dist[np.arange(len(seg)), jbest]
        out = seg[["segment_id", "doc_id", "start", "end", "text"]].copy()
        out["code"] = [names[j] for j in jbest]
        out["probability"] = probs[np.arange(len(seg)), jbest]
        out["threshold"] = th[jbest]
        out["uncertainty"] = unc
        done = set(self.human_["doc_id"]) if hasattr(self, "human_") else set()
        out = out[~out["doc_id"].isin(done)]
        del codes
        return out.sort_values("uncertainty", ascending=False, kind="stable").head(int(n)).reset_index(drop=True)
