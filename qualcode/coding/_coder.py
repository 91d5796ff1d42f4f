"""The Coder: rules + embeddings + (optionally) classifiers learnt from human codings.

``code(corpus)`` runs three steps, each in its own module: scoring (:meth:`Coder.score`:
rule hits and zero-shot embedding scores, typed as :class:`~qualcode.coding._scores.SegmentScores`),
deciding (:mod:`qualcode.coding._fusion`: thresholds, per-source decisions, one row per coded
segment with its evidence), and learning (:mod:`qualcode.coding._learn`,
after ``fit``).  Human codings always win: a (segment, code) a human coded is not
machine-coded, and the human rows are included.
"""

from __future__ import annotations

import dataclasses
import html
import logging
import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .._params import InstanceOf, Interval, ListOf, Options, check_param, validate_params
from .._progress import tqdm
from ..backends import EmbeddingCache
from ..codebook import Codebook
from ..codings import Codings
from ..corpus import ROLES, UNITS, Corpus
from ..errors import CodingsError, NotFittedError, QualcodeWarning
from ..rules import RuleMatcher
from ._active import next_segments
from ._embed import EmbeddingMatcher, Reference
from ._finetune import FineTune, fine_tune_coder
from ._fusion import Decisions, decide, fill_uncoded, machine_rows, prefer_specific
from ._learn import _f1, raise_threshold, segment_features, segment_labels, train_classifiers
from ._passages import merge_passages
from ._scores import RuleScores, SegmentScores, rule_scores
from ._sequence import decode_sequence
from ._thresholds import effective_thresholds

__all__ = ["Coder"]

logger = logging.getLogger("qualcode")

_PARAMS = (
    "codebook", "unit", "roles", "embedder", "threshold", "rule_support", "rules", "embeddings", "window", "top_k",
    "sequence", "cache_dir", "batch_size", "progress", "n_jobs", "coder_name", "random_state",
)  # fmt: skip
_RULE_PRECISION = 0.6
#: machine decisions on human-coded segments needed before ``fit`` judges a code's precision
_MIN_SUPPORT = 5

#: Units a Coder codes in: the corpus units plus ``passage`` (sentences merged after deciding).
CODER_UNITS: tuple[str, ...] = ("passage", *UNITS)

_CORPUS = [InstanceOf(Corpus, hints={(str, os.PathLike, list): "Read it first: qc.read_corpus(path)."})]

#: The speaker roles coded by default: the informants, and turns without a speaker label.
INFORMANT_ROLES: tuple[str, ...] = ("respondent", "participant", "unknown")


class Coder:
    """Codes segments of a Corpus with a Codebook, explainably.

    Args:
        codebook: a :class:`qualcode.Codebook`.
        unit: what one coding covers: ``passage`` (adjacent coded sentences of one speaker
            merged; see :mod:`qualcode.coding._passages`), ``sentence``, ``turn``,
            ``paragraph`` or ``window``.
        roles: the speaker roles whose turns are coded: ``"informants"`` (respondents,
            participants and turns without a speaker label; interviewer and moderator turns
            stay in the corpus as context but are never coded), ``"all"``, or a list of roles
            among :data:`qualcode.corpus.ROLES`.
        embedder: embedder object, registry name or alias; ``None`` for the default model.
        threshold: default threshold on the calibrated embedding score (codes may override).
        rule_support: the calibrated embedding score a code needs on a segment for a single
            rule hit to code it (two or more hits always do); ``None`` lets single hits code
            alone.  Only applies with ``embeddings=True``.
        rules: use the codebook's rules.
        embeddings: use sentence embeddings.
        window: sentences per window (``unit="window"``).
        top_k: keep at most this many codes per segment (highest scores); ``None``: all.
        sequence: decode the codes of the codebook's ``sequence`` (codes that follow an order
            within each document) together, one per segment along the most probable path
            (see :mod:`qualcode.coding._sequence`); ``False`` decides them one by one like
            every other code.  No effect for a codebook without ``sequence``.
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
        unit: str = "passage",
        *,
        roles: str | Sequence[str] = "informants",
        embedder: Any = None,
        threshold: float | None = None,
        rule_support: float | None = 0.1,
        rules: bool = True,
        embeddings: bool = True,
        window: int = 3,
        top_k: int | None = None,
        sequence: bool = True,
        cache_dir: Any = None,
        batch_size: int = 64,
        progress: bool = True,
        n_jobs: int = 1,
        coder_name: str | None = None,
        random_state: int = 0,
    ):
        self.codebook = codebook
        self.unit = unit
        self.roles = roles
        self.embedder = embedder
        self.threshold = threshold
        self.rule_support = rule_support
        self.rules = rules
        self.embeddings = embeddings
        self.window = window
        self.top_k = top_k
        self.sequence = sequence
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
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "codebook": [InstanceOf(Codebook, hints={(str, os.PathLike): "Load it first: qc.Codebook.load(path)."})],
        "unit": [Options(str, CODER_UNITS)],
        "roles": [Options(str, {"informants", "all"}), ListOf(Options(str, ROLES))],
        "threshold": [Interval(float, 0.0, 1.0), None],
        "rule_support": [Interval(float, 0.0, 1.0), None],
        "rules": ["boolean"],
        "embeddings": ["boolean"],
        "window": [Interval(int, 1, None)],
        "top_k": [Interval(int, 1, None), None],
        "sequence": ["boolean"],
        "batch_size": [Interval(int, 1, None)],
        "progress": ["boolean"],
        "n_jobs": [Interval(int, None, None)],
        "coder_name": [str, None],
        "random_state": [Interval(int, None, None)],
    }

    def _check_params(self) -> None:
        validate_params(self._parameter_constraints, self.get_params(), "Coder")
        if not (self.rules or self.embeddings):
            msg = "The 'rules' and 'embeddings' parameters of Coder cannot both be False."
            raise ValueError(msg)

    def _prepare(self) -> None:
        self._check_params()
        fp = self.codebook.fingerprint
        if getattr(self, "codebook_fingerprint_", None) != fp:
            for attr in ("matchers_", "embedder_", "prototypes_"):
                if hasattr(self, attr):
                    delattr(self, attr)
        self.codebook_fingerprint_ = fp
        if self.rules and not hasattr(self, "matchers_"):
            self.matchers_ = RuleMatcher(self.codebook)
        if self.embeddings and not hasattr(self, "embedder_"):
            if not hasattr(self, "cache_"):
                self.cache_ = EmbeddingCache(self.cache_dir)
            self.embedder_ = EmbeddingMatcher(  # a fit(fine_tune=...) encoder replaces the given one
                self.codebook, getattr(self, "tuned_embedder_", None) or self.embedder, cache=self.cache_, batch_size=self.batch_size, progress=self.progress,
                codes=self._direct_codes(),
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
        """Codes the coder can assign directly: the codebook's codable codes and codes with rules."""
        ruled = set(self.matchers_.codes) if hasattr(self, "matchers_") else set()
        direct = set(self._direct_codes())
        return [c.id for c in self.codebook.codes if c.id in direct or c.id in ruled]

    def _direct_codes(self) -> list[str]:
        """Codes scored by embeddings: the codebook's codable codes (leaves and codable parents)."""
        return list(self.codebook.codable)

    def in_scope(self, corpus: Corpus) -> Corpus:
        """The documents of ``corpus`` the codebook applies to (its ``scope``; all without one)."""
        ids = self.codebook.in_scope(corpus)
        return corpus if len(ids) == len(corpus.documents) else corpus.subset(ids)

    def coded_roles(self) -> tuple[str, ...] | None:
        """The speaker roles whose segments are coded (None: every role)."""
        if self.roles == "informants":
            return INFORMANT_ROLES
        if self.roles == "all":
            return None
        return tuple(self.roles)

    def _name(self) -> str:
        if self.coder_name:
            return str(self.coder_name)
        mode = "+".join(m for m, on in (("rules", self.rules), ("embeddings", self.embeddings)) if on)
        return f"qualcode:{mode}{'+fit' if self.is_fitted else ''}"

    # -- scoring --------------------------------------------------------------------------
    def score(
        self, corpus: Corpus, *, vectors: np.ndarray | None = None, reference: Reference | None = None
    ) -> SegmentScores:
        """Score every segment of ``corpus``: rule hits and zero-shot embedding scores.

        Args:
            corpus: the :class:`qualcode.Corpus`.
            vectors: precomputed segment embeddings (see :meth:`code`).
            reference: the embedding calibration reference of the whole set being coded
                (default: computed from these segments; see :class:`~qualcode.coding.Reference`).

        Returns:
            The :class:`~qualcode.coding.SegmentScores` of the segments of the documents in the
            codebook's scope spoken in the coded roles, with the effective thresholds (the
            codebook's, the Coder's ``threshold``, and thresholds raised by ``fit``).

        Raises:
            InvalidParameterError: ``corpus`` is not a Corpus, or a Coder parameter is invalid.
        """
        check_param("corpus", corpus, _CORPUS, "Coder")
        self._prepare()
        corpus = self.in_scope(corpus)
        unit = "sentence" if self.unit == "passage" else self.unit
        seg = corpus.segments(unit, window=self.window, attributes=False)
        seg["pos"] = seg.groupby("doc_id", sort=False).cumcount()
        roles = self.coded_roles()
        if roles is not None:
            seg = seg[seg["role"].isin(roles)]
        seg = seg.reset_index(drop=True)
        codes = self.codes_
        rules = rule_scores(self.matchers_, seg, codes) if self.rules else RuleScores.empty(len(seg), len(codes))
        emb = None
        thresholds: dict[str, float] = {}
        if self.embeddings and len(seg):
            emb = self.embedder_.score(seg["text"].tolist(), vectors=vectors, reference=reference)
            learned = getattr(self, "thresholds_", {}).get("embedding", {})
            thresholds = effective_thresholds(self.codebook, emb.codes, default=self.threshold, learned=learned)
            emb = dataclasses.replace(emb, thresholds=thresholds)
        return SegmentScores(seg, codes, rules, emb, thresholds)

    def _features(self, s: SegmentScores) -> np.ndarray:
        if s.embedding is None:
            return segment_features(s.segments, s.rules.count)
        return segment_features(
            s.segments, s.rules.count, s.embedding.vectors, s.embedding_matrix("similarity"), s.embedding_matrix("score")
        )

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
        self,
        corpus: Corpus,
        *,
        human: Codings | None = None,
        vectors: np.ndarray | None = None,
        reference: Reference | None = None,
    ) -> Codings:
        """Code the segments of ``corpus`` spoken in the coded roles (see ``roles``).

        Args:
            corpus: the :class:`qualcode.Corpus`.
            human: human codings to merge in: their rows are included and win (a segment and
                code a human coded is not machine-coded).  Never implied: the codings given to
                ``fit`` are not passed through, so that agreement with them is never circular.
            vectors: precomputed embeddings of the coded segments, shape ``(n_segments, dim)``,
                in the row order of :attr:`SegmentScores.segments` (``corpus.segments(unit)``
                restricted to the coded roles) and from the same model (keeps tests and
                notebooks fast); ``None`` embeds them (through the cache).
            reference: the embedding calibration reference of the whole corpus when this call
                codes only a part of it (a distributed run); default: from this corpus.

        Returns:
            A :class:`Codings` with machine rows (``source`` rule, embedding or classifier)
            plus the ``human`` rows, and provenance in ``meta`` (including ``turns_by_role``:
            turns coded and not coded per role).  Every machine row also carries
            ``codebook_fingerprint`` and ``model_id``; when the corpus has PDF sources, every
            row carries ``page`` and ``page_end`` (:meth:`Codings.with_pages`).  Parents are
            only coded where the parent itself is assigned; roll-ups are computed by the
            matrices (``aggregate="children"``), never stored.

        Raises:
            InvalidParameterError: ``corpus`` is not a Corpus, or a Coder parameter is invalid.
            EmbeddingError: ``vectors`` do not match the segments or the model's dimension.
        """
        bar = tqdm(total=3, desc="coding", disable=not self.progress, leave=False)
        check_param("corpus", corpus, _CORPUS, "Coder")
        self._check_params()
        n_docs = len(corpus.documents)
        corpus = self.in_scope(corpus)
        n_in = len(corpus.documents)
        unused = self.codebook.scope_keys_missing(corpus) if n_in == n_docs else []
        if unused:
            msg = (f"codebook {self.codebook.name!r} is scoped by {', '.join(unused)}, which no document "
                   "or case of this corpus has: every document is coded")
            warnings.warn(msg, QualcodeWarning, stacklevel=2)
        if n_in < n_docs and 2 * n_in < n_docs:
            scope = ", ".join(f"{k}={'|'.join(v)}" for k, v in self.codebook.scope.items())
            msg = (f"codebook {self.codebook.name!r} applies to {n_in} of {n_docs} documents (scope {scope}); "
                   f"the other {n_docs - n_in} are not coded")
            warnings.warn(msg, QualcodeWarning, stacklevel=2)
        s = self.score(corpus, vectors=vectors, reference=reference)
        bar.update(2)
        seg, codes = s.segments, s.codes
        probs: dict[str, np.ndarray] = {}
        if getattr(self, "classifiers_", {}) and len(seg):
            probs = self._classifier_probs(self._features(s))
        d = decide(
            s,
            rule_ok=getattr(self, "rule_precise_", None),
            rule_support=self.rule_support,
            classifier_probs=probs,
            classifier_thresholds=getattr(self, "thresholds_", {}).get("classifier", {}),
        )
        d = self._decode_sequence(s, d, probs)
        d = prefer_specific(d, codes, self.codebook)
        human_f = None if human is None else self._human(human)
        blocked = np.zeros((len(seg), len(codes)), dtype=bool)
        if human_f is not None and len(human_f):
            blocked = segment_labels(seg, human_f, codes)[0]
        if getattr(self.codebook, "exhaustive", False):
            d = fill_uncoded(s, d, blocked)
        frame = machine_rows(s, d, blocked, self._name())
        if len(frame) and self.top_k is not None:
            frame = (
                frame.sort_values(["seg", "score"], ascending=[True, False], kind="stable")
                .groupby("seg", sort=False)
                .head(int(self.top_k))
            )
        if self.unit == "passage":
            frame = merge_passages(frame, seg, {d.doc_id: d.text for d in corpus.documents})
        frame = frame.drop(columns=["seg"], errors="ignore")
        meta = self._meta(corpus, s.thresholds)
        meta["documents"] = {"in_scope": len(corpus.documents), "total": n_docs, "scope": self.codebook.scope}
        if len(frame):  # every machine coding names the codebook and model that produced it
            frame["codebook_fingerprint"] = meta.get("codebook_fingerprint")
            frame["model_id"] = meta.get("model_id") or ""
        machine = Codings(frame if len(frame) else None, meta=meta)
        bar.update(1)
        bar.close()
        if human_f is not None and len(human_f):
            out = Codings.concat([Codings(human_f), machine])
            out.meta = meta
            return out.with_pages(corpus)
        return machine.with_pages(corpus)

    def _decode_sequence(self, s: SegmentScores, d: Decisions, probs: Mapping[str, np.ndarray]) -> Decisions:
        """The codebook's ``sequence`` codes decoded together (unchanged without one or with ``sequence=False``)."""
        settings = getattr(self.codebook, "sequence", None)
        if not self.sequence or settings is None:
            return d
        return decode_sequence(s, d, settings, classifier_probs=probs, rule_ok=getattr(self, "rule_precise_", None))

    def _turns_by_role(self, corpus: Corpus) -> dict[str, dict[str, int]]:
        """``{role: {"coded": n, "not_coded": m}}`` over every turn of the corpus."""
        roles = self.coded_roles()
        out: dict[str, dict[str, int]] = {}
        for doc in corpus.documents:
            for t in doc.turns:
                key = "coded" if roles is None or t.role in roles else "not_coded"
                counts = out.setdefault(t.role, {"coded": 0, "not_coded": 0})
                counts[key] += 1
        return out

    def _human(self, human: Codings | pd.DataFrame) -> pd.DataFrame:
        if isinstance(human, Codings):
            f = human.to_frame()
        elif isinstance(human, pd.DataFrame):
            f = Codings(human).to_frame()
        else:
            msg = f"The 'human' parameter of Coder.code must be a Codings table. Got {type(human).__name__} instead."
            raise CodingsError(msg)
        return f[f["source"] == "human"].reset_index(drop=True)

    def _meta(self, corpus: Corpus, emb_th: Mapping[str, float]) -> dict[str, Any]:
        from .. import __version__

        th: dict[str, Any] = {"embedding": dict(emb_th)}
        if self.is_fitted:
            th["classifier"] = dict(self.thresholds_.get("classifier", {}))
        return {
            "codebook_fingerprint": getattr(self.codebook, "fingerprint", None),
            "codebook": getattr(self.codebook, "name", None),
            "model_id": self.model_id,
            "unit": self.unit,
            "roles": "all" if self.coded_roles() is None else list(self.coded_roles() or ()),
            "turns_by_role": self._turns_by_role(corpus),
            "thresholds": th,
            "qualcode_version": __version__,
            "corpus_fingerprint": getattr(corpus, "fingerprint", None),
            "coder": self._name(),
            "fitted": self.is_fitted,
            "trained_on_docs": sorted(set(self.human_["doc_id"].astype(str))) if self.is_fitted else [],
            "rules": bool(self.rules),
            "embeddings": bool(self.embeddings),
        }

    # -- learning -------------------------------------------------------------------------
    def fit(
        self,
        corpus: Any,
        human_codings: Codings,
        *,
        min_pos: int = 4,
        min_neg: int = 4,
        cv: int = 5,
        fine_tune: bool | FineTune = False,
    ) -> Coder:
        """Learn from human codings: per-code classifiers where they beat zero-shot, raised thresholds elsewhere.

        See :mod:`qualcode.coding._learn` for how human spans become segment labels, the
        features (segment, neighbours, position, zero-shot scores, rule hits), the classifiers
        and how their regularisation and thresholds are chosen (folds grouped by document).
        A code keeps its classifier only when the classifier's out-of-fold F1 on the
        human-coded segments beats the zero-shot decisions' F1 on the same segments, so that
        fitting never makes a code worse on the data it was fitted on.  Codes without a
        classifier keep rules + similarity; their thresholds are only ever raised (to reach a
        precision of 0.6 on the human codings), and a code's rules stop firing on their own
        when they were less than 60% precise on the human-coded segments.  Both only for a
        code the human used, judged on at least 5 segments where the machine fired: a code
        nobody coded yet keeps its zero-shot behaviour.

        Args:
            corpus: the corpus the human codings refer to.
            human_codings: a :class:`Codings` (rows with ``source == "human"`` are used).
            min_pos: positives a code needs to get a classifier.
            min_neg: negatives a code needs to get a classifier.
            cv: cross-validation folds (at most one per coded document).
            fine_tune: first fine-tune the encoder on the human-coded segments (SetFit-style
                contrastive training; ``True`` or :class:`~qualcode.coding.FineTune` settings),
                then learn on its vectors; ``code()`` then uses the tuned encoder.  Needs
                ``embedder="st:<sentence-transformers folder>"`` and the ``[torch]`` extra; see
                :mod:`qualcode.coding._finetune` and ``docs/fine-tuning.md``.

        Returns:
            ``self``.

        Raises:
            CodingsError: there are no human codings, or none fall on the corpus, or too few
                coded segments to fine-tune.
            InvalidParameterError: ``cv`` < 2, or ``min_pos``/``min_neg`` < 1.
            ModuleNotFoundError: ``fine_tune`` without torch / sentence-transformers.
            EmbeddingError: ``fine_tune`` with an encoder that is not a sentence-transformers folder.
        """
        validate_params(
            {"cv": [Interval(int, 2, None)], "min_pos": [Interval(int, 1, None)], "min_neg": [Interval(int, 1, None)]},
            {"cv": cv, "min_pos": min_pos, "min_neg": min_neg},
            "Coder.fit",
        )
        check_param("fine_tune", fine_tune, ["boolean", FineTune], "Coder.fit")
        human = self._human(human_codings)
        if not len(human):
            msg = "fit needs human codings (rows with source == 'human'); got none."
            raise CodingsError(msg)
        for attr in ("classifiers_", "thresholds_", "rule_precise_"):
            if hasattr(self, attr):
                delattr(self, attr)
        if fine_tune or hasattr(self, "tuned_embedder_"):  # train (or drop) the tuned encoder first
            fine_tune_coder(self, corpus, human, fine_tune)
        s = self.score(corpus)
        seg, codes = s.segments, s.codes
        y, labelled = segment_labels(seg, human, codes)
        if not labelled.any():
            msg = "none of the human codings fall on documents of this corpus (check doc_id values)."
            raise CodingsError(msg)
        yl = y[labelled]
        groups = seg.loc[labelled, "doc_id"].to_numpy()
        emb = s.embedding
        zero_th = dict(s.thresholds)
        zero = self._decode_sequence(s, decide(s, rule_support=self.rule_support), {})
        if getattr(self.codebook, "exhaustive", False):  # the zero-shot decisions as code() makes them
            zero = fill_uncoded(s, zero, np.zeros((len(seg), len(codes)), dtype=bool))
        zero_dec = (zero.candidates["rule"] | zero.candidates["embedding"])[labelled]
        precise: dict[str, bool] = {}
        trainable: list[int] = []
        for j, c in enumerate(codes):
            fired = s.rules.fired[labelled, j]
            # judged only on evidence: the human used the code, and its rules fired often enough
            if yl[:, j].any() and int(fired.sum()) >= _MIN_SUPPORT:
                precise[c] = bool(yl[fired, j].mean() >= _RULE_PRECISION)
            if int(yl[:, j].sum()) >= min_pos and int((~yl[:, j]).sum()) >= min_neg:
                trainable.append(j)
        trained: dict[str, Any] = {}
        if trainable:
            x = self._features(s)[labelled]
            trained = train_classifiers(
                x, yl[:, trainable], groups, [codes[j] for j in trainable],
                n_splits=cv, random_state=self.random_state, n_jobs=self.n_jobs,
            )  # fmt: skip
        kept: dict[str, Any] = {}
        zero_f1: dict[str, float] = {}
        for c, model in trained.items():
            j = codes.index(c)
            zero_f1[c] = _f1(yl[:, j], zero_dec[:, j])
            if model.oof is None or model.cv_f1 > zero_f1[c]:
                kept[c] = model
        emb_th: dict[str, float] = {}
        if emb is not None:
            for j, c in enumerate(codes):
                if c in kept or c not in emb.codes:
                    continue
                sc = emb.score[labelled, emb.codes.index(c)]
                th = raise_threshold(yl[:, j], sc, zero_th[c], min_precision=_RULE_PRECISION,
                                     min_support=_MIN_SUPPORT)
                if th != zero_th[c]:
                    emb_th[c] = th
        self.classifiers_ = kept
        self.thresholds_ = {"classifier": {c: m.threshold for c, m in kept.items()}, "embedding": emb_th}
        self.rule_precise_ = precise
        self.cv_f1_ = {c: m.cv_f1 for c, m in kept.items()}
        self.zero_shot_f1_ = zero_f1
        self.human_ = human
        self.n_labelled_ = int(labelled.sum())
        logger.info(
            "fit: %d classifiers kept of %d trained on %d labelled segments; raised zero-shot thresholds of %s",
            len(kept), len(trained), self.n_labelled_, sorted(emb_th) or "no code",
        )  # fmt: skip
        return self

    def cross_validate(self, corpus: Corpus, human: Codings, *, folds: int = 5, **fit_params: Any) -> Codings:
        """Out-of-fold machine codings: every document coded by a Coder that never saw its human coding.

        The documents a human coded are split into ``folds`` groups (seeded by
        ``random_state``); for each group, a copy of this Coder (same parameters) is fitted on
        the human codings of the other groups and codes this group.  Agreement between
        ``human`` and the result is an honest estimate of how well the fitted coder agrees
        with the human on new documents (unlike ``fit`` then ``code`` on the same documents).

        Args:
            corpus: the corpus the human codings refer to.
            human: the human codings (rows with ``source == "human"``).
            folds: number of groups (at most one per coded document).
            **fit_params: passed to :meth:`fit` (``min_pos``, ``cv``...).

        Returns:
            The machine codings of the coded documents, concatenated over folds; ``meta`` has
            ``cross_validated=True``, ``folds`` and ``fold_of`` (document -> fold).

        Raises:
            CodingsError: fewer than two documents carry human codings.
        """
        check_param("folds", folds, [Interval(int, 2, None)], "Coder.cross_validate")
        human_f = self._human(human)
        coded = set(human_f["doc_id"].astype(str))
        docs = [d.doc_id for d in corpus.documents if d.doc_id in coded]
        if len(docs) < 2:
            msg = f"cross_validate needs human codings on at least 2 documents of the corpus; got {len(docs)}."
            raise CodingsError(msg)
        k = min(int(folds), len(docs))
        order = np.random.default_rng(self.random_state).permutation(len(docs))
        fold_of = {docs[i]: int(r % k) for r, i in enumerate(order)}
        self._prepare()
        parts = []
        for f in range(k):
            test = [d for d in docs if fold_of[d] == f]
            train = [d for d in docs if fold_of[d] != f]
            clone = Coder(**{**self.get_params(), "progress": False})
            if hasattr(self, "embedder_"):  # share the loaded model and the cache
                if not hasattr(self, "tuned_embedder_"):  # never an encoder tuned on every fold
                    clone.embedder = self.embedder_.embedder
                clone.cache_ = self.cache_
            clone.fit(corpus.subset(train), Codings(human_f[human_f["doc_id"].isin(train)]), **fit_params)
            parts.append(clone.code(corpus.subset(test)))
        out = Codings.concat(parts)
        out.meta = {**parts[0].meta, "cross_validated": True, "folds": k, "fold_of": fold_of,
                    "corpus_fingerprint": corpus.fingerprint}
        return out

    def next_to_code(self, corpus: Any, n: int = 20, *, diversity: float = 0.5) -> pd.DataFrame:
        """Segments whose human coding would teach the model most (uncertainty sampling with diversity).

        Uncertainty of a segment is ``1 - min_c |p_c - t_c| / max(t_c, 1 - t_c)`` over every
        code the coder decides (``p`` the classifier probability, or the calibrated zero-shot
        score for codes without a classifier; ``t`` the threshold): highest for a segment
        sitting on some code's decision boundary.  Segments are then picked greedily, each
        one's uncertainty discounted by ``diversity`` times its highest cosine similarity to
        the segments already picked, so that a batch does not ask about the same thing ten
        times.  Segments in documents a human already coded are skipped.
        ``benchmarks/bench_active.py`` measures how fast agreement rises with this choice
        against random choice.

        Args:
            corpus: the corpus to choose from.
            n: how many segments to return.
            diversity: weight of the redundancy discount (0: pure uncertainty).

        Returns:
            ``segment_id, doc_id, start, end, text, code`` (the most uncertain code),
            ``probability, threshold, uncertainty``, in the order picked.

        Raises:
            NotFittedError: ``fit`` has not been called.
        """
        if not self.is_fitted:
            msg = "This Coder has not learnt from human codings yet: call fit(corpus, human_codings) first."
            raise NotFittedError(msg)
        check_param("n", n, [Interval(int, 1, None)], "Coder.next_to_code")
        check_param("diversity", diversity, [Interval(float, 0.0, None)], "Coder.next_to_code")
        return next_segments(self, corpus, int(n), float(diversity))
