"""From scores to codings: thresholds, per-source decisions, one row per coded segment.

Fusion, per segment and code:

* **rule**: the code's rules fire (enough valid hits, none negated or vetoed); score
  :func:`qualcode.rules.rule_score`.  A single hit also needs *semantic support*: the
  code's calibrated embedding score must reach ``rule_support`` (a keyword says little about
  a sentence whose meaning is far from the code; on the public qabstracts data, single hits
  were 42% precise without that support and 68-85% with it, two or more hits 82%).  After
  ``fit``, a code's rules fire on their own only when their precision on the human-coded
  segments was at least 0.6 (otherwise they remain a classifier feature and appear in the
  evidence).
* **embedding**: the calibrated zero-shot score clears the code's effective threshold
  (:func:`effective_thresholds`).
* **classifier** (after ``fit``): the calibrated probability clears the threshold chosen by
  cross-validation; for such codes it replaces the zero-shot embedding decision.

One row per (segment, code) with the strongest source (highest score; ties: classifier,
rule, embedding); the evidence text (:mod:`qualcode.codings.evidence`) keeps every source's
explanation.  Parents are coded only where the parent itself is assigned and none of its
descendants is (:func:`prefer_specific`): roll-ups from the children are computed by the
matrices (``aggregate="children"``), never stored as rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..codings import evidence as ev
from ._scores import SegmentScores
from ._thresholds import DEFAULT_THRESHOLD

__all__ = ["Decisions", "decide", "fill_uncoded", "machine_rows", "prefer_specific"]

#: Sources in the order that wins ties.
SOURCE_ORDER = ("classifier", "rule", "embedding")

ROW_COLUMNS = ["seg", "doc_id", "case_id", "segment_id", "start", "end", "code", "coder", "source", "score",
               "evidence", "text", "speaker", "role", "unit"]  # fmt: skip


@dataclass(frozen=True)
class Decisions:
    """Per-source candidate decisions and scores, each ``(n, k)`` aligned with the scores' codes.

    Attributes:
        candidates: ``{source: bool matrix}`` for rule, embedding and classifier.
        scores: ``{source: float matrix}``.
        classifier_thresholds: ``{code: probability threshold}`` of the codes with a classifier.
        notes: ``{(segment, code column): text}``: an explanation that comes first in the
            evidence (the sequence decoder's path, see :mod:`qualcode.coding._sequence`).
    """

    candidates: Mapping[str, np.ndarray]
    scores: Mapping[str, np.ndarray]
    classifier_thresholds: Mapping[str, float]
    notes: Mapping[tuple[int, int], str] = field(default_factory=dict)


def decide(
    s: SegmentScores,
    *,
    rule_ok: Mapping[str, bool] | None = None,
    rule_support: float | None = None,
    classifier_probs: Mapping[str, np.ndarray] | None = None,
    classifier_thresholds: Mapping[str, float] | None = None,
) -> Decisions:
    """Candidate decisions of every source (see the module docstring).

    Args:
        s: the segment scores (with effective thresholds).
        rule_ok: ``{code: False}`` for codes whose rules may not fire on their own.
        rule_support: the embedding score a single rule hit needs (None: rules fire alone;
            codes without embedding scores always fire alone).
        classifier_probs: ``{code: (n,) probabilities}`` of the codes with a classifier.
        classifier_thresholds: their thresholds.
    """
    n, k = len(s.segments), len(s.codes)
    ok = np.array([(rule_ok or {}).get(c, True) for c in s.codes], dtype=bool)
    emb_score = np.zeros((n, k))
    emb_dec = np.zeros((n, k), dtype=bool)
    rule_dec = s.rules.fired & ok[None, :]
    if s.embedding is not None:
        emb_score = s.embedding_matrix("score")
        th = np.array([s.thresholds.get(c, np.inf) for c in s.codes])
        emb_dec = emb_score >= th[None, :]
        if rule_support is not None:
            scored = np.isin(np.array(s.codes, dtype=object), np.array(s.embedding.codes, dtype=object))
            supported = (s.rules.count >= 2) | (emb_score >= rule_support) | ~scored[None, :]
            rule_dec &= supported
    clf_prob = np.zeros((n, k))
    clf_dec = np.zeros((n, k), dtype=bool)
    cth = dict(classifier_thresholds or {})
    for c, p in (classifier_probs or {}).items():
        j = s.codes.index(c)
        clf_prob[:, j] = p
        clf_dec[:, j] = p >= cth[c]
        emb_dec[:, j] = False
    return Decisions(
        candidates={"rule": rule_dec, "embedding": emb_dec, "classifier": clf_dec},
        scores={"rule": s.rules.score, "embedding": emb_score, "classifier": clf_prob},
        classifier_thresholds=cth,
    )


def prefer_specific(d: Decisions, codes: list[str], codebook: Any) -> Decisions:
    """Drop a parent's candidates on segments where one of its descendants is a candidate.

    The more specific code carries the meaning (``data_based_policy_ignored`` says more than
    ``data_based_policy``), and the matrices roll children up to their parents on demand, so a
    passage is counted once.
    """
    any_c = d.candidates["rule"] | d.candidates["embedding"] | d.candidates["classifier"]
    col = {c: j for j, c in enumerate(codes)}
    cands = {k: v.copy() for k, v in d.candidates.items()}
    for j, c in enumerate(codes):
        desc = [col[x] for x in codebook.descendants(c) if x in col]
        if not desc:
            continue
        covered = any_c[:, desc].any(axis=1)
        for v in cands.values():
            v[covered, j] = False
    return Decisions(cands, d.scores, d.classifier_thresholds, d.notes)


def fill_uncoded(s: SegmentScores, d: Decisions, blocked: np.ndarray) -> Decisions:
    """Give every segment no code reached its best-scoring code (an ``exhaustive`` codebook).

    Where coders give every segment at least one code (every survey answer, every sentence of
    an abstract), a segment left uncoded is a certain miss.  Its best code is the highest
    classifier probability or, for codes without a classifier, calibrated embedding score.
    Segments a human coded (``blocked`` anywhere) are left alone.  On the fivewords survey
    answers (every answer coded) this moved zero-shot κ from 0.340 to 0.384; trained on half
    the respondents it changed little (0.400 -> 0.396; ranking by embedding score alone, or by
    score over threshold, gave 0.381 and 0.376).
    """
    any_c = d.candidates["rule"] | d.candidates["embedding"] | d.candidates["classifier"]
    empty = ~any_c.any(axis=1) & ~blocked.any(axis=1)
    if not empty.any() or s.embedding is None:
        return d
    has_clf = np.array([c in d.classifier_thresholds for c in s.codes], dtype=bool)
    scored = np.isin(np.array(s.codes, dtype=object), np.array(s.embedding.codes, dtype=object)) | has_clf
    if not scored.any():
        return d
    best_of = np.where(has_clf[None, :], d.scores["classifier"], d.scores["embedding"])
    best_of = np.where(scored[None, :], best_of, -np.inf)
    rows = np.flatnonzero(empty)
    cols = best_of[rows].argmax(axis=1)
    cands = {k: v.copy() for k, v in d.candidates.items()}
    notes = dict(d.notes)
    for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
        cands["classifier" if has_clf[j] else "embedding"][i, j] = True
        notes[(i, j)] = ev.FILL_NOTE
    return Decisions(cands, d.scores, d.classifier_thresholds, notes)


def machine_rows(s: SegmentScores, d: Decisions, blocked: np.ndarray, coder: str) -> pd.DataFrame:
    """One row per machine-coded (segment, code), built column-wise.

    Args:
        s: the segment scores.
        d: the decisions.
        blocked: bool ``(n, k)``: pairs a human already coded (never machine-coded).
        coder: the ``coder`` column.

    Returns:
        The columns :data:`ROW_COLUMNS` (``seg`` is the segment's row in ``s.segments``).
    """
    seg, codes = s.segments, s.codes
    cands, scores = d.candidates, d.scores
    any_c = (cands["rule"] | cands["embedding"] | cands["classifier"]) & ~blocked
    ii, jj = np.nonzero(any_c)
    if not len(ii):
        return pd.DataFrame(columns=ROW_COLUMNS)
    stacked = np.stack([np.where(cands[src][ii, jj], scores[src][ii, jj], -np.inf) for src in SOURCE_ORDER])
    best_k = stacked.argmax(axis=0)
    best_score = stacked[best_k, np.arange(len(ii))].astype(float)
    best_name = np.array(SOURCE_ORDER, dtype=object)[best_k]
    code_of = np.array(codes, dtype=object)[jj]
    parts = _evidence_parts(s, d, ii, jj, code_of)
    evidence = [ev.combine(b, p) for b, p in zip(best_name.tolist(), parts, strict=True)]

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
            "coder": np.full(len(ii), coder, dtype=object),
            "source": best_name,
            "score": best_score,
            "evidence": np.array(evidence, dtype=object),
            "text": take("text"),
            "speaker": take("speaker"),
            "role": take("role"),
            "unit": take("unit"),
        },
        columns=ROW_COLUMNS,
    )


def _evidence_parts(
    s: SegmentScores, d: Decisions, ii: np.ndarray, jj: np.ndarray, code_of: np.ndarray
) -> list[list[str]]:
    """Every source's explanation of each coded (segment, code) pair, in a fixed order."""
    codes = s.codes
    parts: list[list[str]] = [[] for _ in range(len(ii))]
    if d.notes:
        for r, key in enumerate(zip(ii.tolist(), jj.tolist(), strict=True)):
            note = d.notes.get(key)
            if note is not None:
                parts[r].append(note)
    thr = d.classifier_thresholds
    if thr:
        has = np.array([c in thr for c in codes], dtype=bool)[jj]
        p_clf = d.scores["classifier"][ii, jj]
        dec = d.candidates["classifier"][ii, jj]
        for r in np.flatnonzero(has).tolist():
            parts[r].append(ev.classifier_part(p_clf[r], thr[code_of[r]], bool(dec[r])))
    rule_ev = s.rules.evidence
    if rule_ev:
        used = d.candidates["rule"][ii, jj]
        fired = s.rules.fired[ii, jj]
        note = " (rule not used alone: a single hit without semantic support, or imprecise on human codings)"
        for r, key in enumerate(zip(ii.tolist(), jj.tolist(), strict=True)):
            e = rule_ev.get(key)
            if e is not None:
                parts[r].append(e if used[r] or not fired[r] else e + note)
    emb = s.embedding
    if emb is not None:
        emb_col = {c: j for j, c in enumerate(emb.codes)}
        kcol = np.array([emb_col.get(c, -1) for c in codes], dtype=np.int64)[jj]
        rows = np.flatnonzero(kcol >= 0)
        if len(rows):
            pre = emb.evidence_many(ii[rows], kcol[rows])
            sc = emb.score[ii[rows], kcol[rows]].tolist()
            ths = [s.thresholds.get(codes[j], DEFAULT_THRESHOLD) for j in jj[rows].tolist()]
            for r, e, v, th in zip(rows.tolist(), pre, sc, ths, strict=True):
                parts[r].append(f"{e}; {ev.decision_part(v, th)}")
    return parts
