"""Explanations, review queue and review decisions for a Codings table.

Review design: the machine row is kept and gets a ``status`` column (``accepted``,
``rejected``, ``recoded``; empty while pending).  An accepted row also yields a human row
(same span and code, ``coder`` = the reviewer, ``source="human"``); a recoded row yields a
human row with the new code.  Decisions are appended to a CSV decisions file
(``segment_id, code, action, new_code, reviewer, timestamp``), rewritten atomically;
re-applying a decisions file to the same machine codings gives the same table.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .._params import Options, validated
from ..errors import CodingsError
from .evidence import VIA_CHILDREN
from .evidence import parse as parse_evidence

if TYPE_CHECKING:  # the Codings methods call into this module, so it never imports Codings
    from ._codings import Codings

__all__ = ["DECISION_COLUMNS", "explain", "load_decisions", "review", "suggestions"]

DECISION_COLUMNS = ("segment_id", "code", "action", "new_code", "reviewer", "timestamp")
_ACTIONS = ("accept", "reject", "recode")
_STATUS = {"accept": "accepted", "reject": "rejected", "recode": "recoded"}


def explain(codings: Codings, segment_id: str) -> pd.DataFrame:
    """Why each code was given to a segment.

    Args:
        codings: the table.
        segment_id: the segment.

    Returns:
        One row per (coding, piece of evidence): ``code, coder, source, score, rule_id,
        matched, start, end, nearest_kind, nearest_item, nearest_text, similarity, evidence``.

    Raises:
        CodingsError: the segment has no codings.
    """
    f = codings.to_frame()
    rows = f[f["segment_id"] == segment_id]
    if rows.empty:
        msg = f"no codings for segment {segment_id!r} in this table."
        raise CodingsError(msg)
    out: list[dict[str, Any]] = []
    for r in rows.itertuples(index=False):
        base = {"code": r.code, "coder": r.coder, "source": r.source, "score": r.score}
        ev = str(r.evidence)
        pieces = parse_evidence(ev)
        out.extend({**base, **piece, "evidence": ev} for piece in pieces)
        if not pieces:
            out.append({**base, "evidence": ev})
    cols = ["code", "coder", "source", "score", "rule_id", "matched", "start", "end",
            "nearest_kind", "nearest_item", "nearest_text", "similarity", "evidence"]
    return pd.DataFrame(out).reindex(columns=cols)


def suggestions(
    codings: Codings,
    *,
    code: str | Iterable[str] | None = None,
    min_score: float | None = None,
    include_reviewed: bool = False,
) -> pd.DataFrame:
    """Machine codings awaiting review, highest score first.

    Args:
        codings: the table.
        code: only these code(s).
        min_score: only rows with at least this score.
        include_reviewed: also list rows that already have a status.

    Returns:
        The machine rows (all columns), sorted by score descending.
    """
    f = codings.to_frame()
    f = f[f["source"] != "human"]
    f = f[~f["evidence"].str.startswith(VIA_CHILDREN)]
    if code is not None:
        f = f[f["code"].isin([code] if isinstance(code, str) else list(code))]
    if min_score is not None:
        f = f[f["score"] >= float(min_score)]
    if not include_reviewed and "status" in f.columns:
        f = f[f["status"].fillna("").astype(str) == ""]
    return f.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)


def load_decisions(path: str | Path) -> pd.DataFrame:
    """Read a decisions file (CSV with :data:`DECISION_COLUMNS`); missing file: empty table."""
    p = Path(path)
    if not p.exists():
        return pd.DataFrame(columns=list(DECISION_COLUMNS))
    try:
        d = pd.read_csv(p, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        msg = f"{p}: cannot read review decisions: {exc}"
        raise CodingsError(msg) from exc
    missing = [c for c in ("segment_id", "code", "action") if c not in d.columns]
    if missing:
        msg = f"{p}: review decisions file lacks column(s) {missing}."
        raise CodingsError(msg)
    bad = d[~d["action"].isin(_ACTIONS)]
    if len(bad):
        msg = f"{p}, line {int(bad.index[0]) + 2}, field 'action': must be one of {_ACTIONS}. Got {bad.iloc[0]['action']!r} instead."
        raise CodingsError(msg)
    return d.reindex(columns=list(DECISION_COLUMNS)).fillna("")


def _apply(f: pd.DataFrame, decisions: pd.DataFrame) -> pd.DataFrame:
    f = f.copy()
    if "status" not in f.columns:
        f["status"] = ""
    f["status"] = f["status"].fillna("").astype(str)
    machine = f[f["source"] != "human"]
    human_rows = []
    # the last decision per (segment, code) counts
    last = decisions.drop_duplicates(["segment_id", "code"], keep="last")
    for d in last.itertuples(index=False):
        sel = machine.index[(machine["segment_id"] == d.segment_id) & (machine["code"] == d.code)]
        if not len(sel):
            msg = f"review: no machine coding {d.code!r} on segment {d.segment_id!r}."
            raise CodingsError(msg)
        f.loc[sel, "status"] = _STATUS[d.action]
        if d.action in ("accept", "recode"):
            row = f.loc[sel[0]].to_dict()
            new_code = d.new_code if d.action == "recode" else d.code
            if d.action == "recode" and not new_code:
                msg = f"review: recoding {d.code!r} on {d.segment_id!r} needs new_code."
                raise CodingsError(msg)
            row.update(code=new_code, coder=d.reviewer or "reviewer", source="human", score=1.0,
                       status="", evidence=f"review: {d.action} of {row['source']} {d.code!r}")
            human_rows.append(row)
    if human_rows:
        f = pd.concat([f, pd.DataFrame(human_rows)], ignore_index=True)
    return f


@validated({"action": [Options(str, _ACTIONS)]}, error=CodingsError)
def review(
    codings: Codings,
    decisions: pd.DataFrame | Iterable[Mapping[str, Any]] | None = None,
    *,
    segment_id: str | None = None,
    code: str | None = None,
    action: str = "accept",
    new_code: str | None = None,
    reviewer: str = "reviewer",
    path: str | Path | None = None,
) -> Codings:
    """Accept, reject or recode machine codings; decisions persist to ``path``.

    Args:
        codings: machine (and possibly human) codings; rows that already carry a status are
            recomputed from the decisions, so pass the *unreviewed* machine table.
        decisions: several decisions at once (rows with ``segment_id, code, action`` and
            optionally ``new_code, reviewer``).
        segment_id: one decision's segment.
        code: one decision's code (default: every machine code on that segment).
        action: ``accept``, ``reject`` or ``recode``.
        new_code: the code to use for ``recode``.
        reviewer: who decided (the ``coder`` of the resulting human rows).
        path: the decisions CSV.  Existing decisions in it are loaded and applied first, then
            the new ones are appended and the file is rewritten atomically.

    Returns:
        A new Codings with a ``status`` column and the reviewer's human rows.

    Raises:
        CodingsError: an unknown action, a decision that names no machine coding, or a bad
            decisions file.
    """
    from .._io import atomic_path

    f = codings.to_frame()
    now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    new: list[dict[str, Any]] = []
    if decisions is not None:
        recs = decisions.to_dict("records") if isinstance(decisions, pd.DataFrame) else list(decisions)
        for r in recs:
            new.append({"segment_id": r["segment_id"], "code": r["code"], "action": r.get("action", action),
                        "new_code": r.get("new_code") or "", "reviewer": r.get("reviewer") or reviewer,
                        "timestamp": r.get("timestamp") or now})
    if segment_id is not None:
        m = f[(f["segment_id"] == segment_id) & (f["source"] != "human")]
        codes = [code] if code is not None else sorted(set(m["code"]))
        if not codes:
            msg = f"review: no machine coding on segment {segment_id!r}."
            raise CodingsError(msg)
        for c in codes:
            new.append({"segment_id": segment_id, "code": c, "action": action,
                        "new_code": new_code or "", "reviewer": reviewer, "timestamp": now})
    bad = [d["action"] for d in new if d["action"] not in _ACTIONS]
    if bad:
        msg = f"review decisions must have an action among {set(_ACTIONS)}. Got {bad[0]!r} instead."
        raise CodingsError(msg)
    old = load_decisions(path) if path is not None else pd.DataFrame(columns=list(DECISION_COLUMNS))
    allx = pd.concat([old, pd.DataFrame(new, columns=list(DECISION_COLUMNS))], ignore_index=True).fillna("")
    out = _apply(f, allx)
    if path is not None and new:
        with atomic_path(path) as tmp:
            allx.to_csv(tmp, index=False)
    return type(codings)(out, meta=codings.meta)
