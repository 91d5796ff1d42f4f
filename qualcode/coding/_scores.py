"""What the coder knows about each segment before it decides: rule hits and embedding scores.

:class:`SegmentScores` is the typed hand-over between scoring (rules, embeddings) and the
decision step (:mod:`qualcode.coding._fusion`), ``fit`` and the inductive helpers in
:mod:`qualcode.explore`.  Every matrix is ``(n_segments, n_codes)`` in the order of
``segments`` and ``codes``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._embed import EmbeddingScores

__all__ = ["RuleScores", "SegmentScores", "rule_scores"]


@dataclass(frozen=True)
class RuleScores:
    """Rule results aligned with a segment table and a code list.

    Attributes:
        fired: bool ``(n, k)``: the code's rules fired (enough valid hits).
        score: float ``(n, k)``: :func:`qualcode.rules.rule_score` where fired, else 0.
        count: float32 ``(n, k)``: valid hits (not negated or vetoed).
        evidence: ``{(segment, code column): text}`` for every pair with a hit.
        hits: the raw hits table of :meth:`qualcode.rules.RuleMatcher.match` (None: no rules).
    """

    fired: np.ndarray
    score: np.ndarray
    count: np.ndarray
    evidence: Mapping[tuple[int, int], str] = field(default_factory=dict)
    hits: pd.DataFrame | None = None

    @classmethod
    def empty(cls, n: int, k: int) -> RuleScores:
        """No rule results (rules switched off)."""
        return cls(np.zeros((n, k), dtype=bool), np.zeros((n, k)), np.zeros((n, k), dtype=np.float32))


def rule_scores(matcher: Any, segments: pd.DataFrame, codes: Sequence[str]) -> RuleScores:
    """Match ``matcher``'s rules on ``segments`` and align the results with ``codes``."""
    from ..rules import aggregate_hits

    n, k = len(segments), len(codes)
    col = {c: j for j, c in enumerate(codes)}
    hits = matcher.match(
        segments["text"].tolist(),
        languages=segments["language"].tolist(),
        roles=segments["role"].tolist(),
        speakers=segments["speaker"].tolist(),
        offsets=segments["start"].tolist(),
    )
    out = RuleScores.empty(n, k)
    agg = aggregate_hits(hits, matcher)
    evidence: dict[tuple[int, int], str] = {}
    if len(agg):
        jcol = agg["code"].map(col)
        keep = jcol.notna().to_numpy()
        ii = agg["segment"].to_numpy()[keep].astype(np.int64)
        jj = jcol.to_numpy()[keep].astype(np.int64)
        out.fired[ii, jj] = agg["fired"].to_numpy()[keep].astype(bool)
        out.score[ii, jj] = agg["score"].to_numpy()[keep].astype(float)
        out.count[ii, jj] = agg["n_hits"].to_numpy()[keep].astype(np.float32)
        evs = [str(e) for e in agg["evidence"].to_numpy()[keep]]
        evidence = dict(zip(zip(ii.tolist(), jj.tolist(), strict=True), evs, strict=True))
    return RuleScores(out.fired, out.score, out.count, evidence, hits)


@dataclass(frozen=True)
class SegmentScores:
    """Everything the decision step needs about the segments of one corpus.

    Attributes:
        segments: the coded segments (rows of :meth:`qualcode.Corpus.segments`), index 0..n-1.
        codes: the codes the coder can assign directly (columns of every matrix).
        rules: :class:`RuleScores`.
        embedding: the zero-shot :class:`~qualcode.coding.EmbeddingScores` (None without
            embeddings or segments); its columns are its own ``codes``.
        thresholds: the effective threshold of every embedding-scored code on the calibrated
            score (see :func:`qualcode.coding._thresholds.effective_thresholds`).
    """

    segments: pd.DataFrame
    codes: list[str]
    rules: RuleScores
    embedding: EmbeddingScores | None
    thresholds: Mapping[str, float] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.segments)

    def embedding_matrix(self, name: str) -> np.ndarray:
        """An ``(n, k)`` embedding matrix (``similarity`` or ``score``) aligned with ``codes``.

        Codes without embedding scores get zeros.
        """
        out = np.zeros((len(self.segments), len(self.codes)), dtype=np.float32 if name == "similarity" else float)
        emb = self.embedding
        if emb is None:
            return out
        values = getattr(emb, name)
        col = {c: j for j, c in enumerate(self.codes)}
        for jc, c in enumerate(emb.codes):
            j = col.get(c)
            if j is not None:
                out[:, j] = values[:, jc]
        return out
