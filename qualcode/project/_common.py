"""Names shared by the project modules: statuses, errors and small helpers."""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..codings import evidence as ev
from ..errors import QualcodeError

__all__ = ["CODER_SETTINGS", "STATUSES", "ProjectError", "priority_of", "row_thresholds"]

#: Review status of a coding.
STATUSES: tuple[str, ...] = ("proposed", "accepted", "rejected")
#: The Coder settings a project may store (JSON values only).
CODER_SETTINGS: tuple[str, ...] = ("unit", "rules", "embeddings", "embedder", "threshold", "top_k", "window",
                                   "roles")
_ACTIONS = ("accept", "reject", "recode", "reopen")
_MACHINE = ("rule", "embedding", "classifier")


class ProjectError(QualcodeError, ValueError):
    """A project file cannot be opened, or a change to it is invalid."""


def row_thresholds(frame: pd.DataFrame, thresholds: Mapping[str, Any] | None) -> list[float | None]:
    """The threshold each machine coding was decided against (a run's ``meta["thresholds"]``).

    None for human rows, rule rows, and rows decided without a threshold: a code decoded in the
    codebook's ``sequence`` (its score is a posterior) or given by an ``exhaustive`` codebook's
    fill; the review queue then orders them by their distance to 0.5.
    """
    th = thresholds or {}
    emb, clf = th.get("embedding") or {}, th.get("classifier") or {}
    out: list[float | None] = []
    for c, s, e in zip(frame["code"], frame["source"], frame["evidence"].astype(str), strict=True):
        if ev.decided_without_threshold(e):
            out.append(None)
        else:
            out.append(clf.get(c) if s == "classifier" else emb.get(c) if s == "embedding" else None)
    return out


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


def _jsonable(v: Any) -> Any:
    """A JSON-safe copy of an attribute value (numpy scalars, timestamps, NaN -> None)."""
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.generic):
        v = v.item()
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (str, bool, int, float)):
        return v
    if isinstance(v, (pd.Timestamp, _dt.datetime, _dt.date)):
        return v.isoformat()
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return str(v)


def priority_of(score: float | None, threshold: float | None) -> float:
    """How uncertain a machine coding is: 1 at its threshold, 0 at a score of 0 or 1.

    ``1 - |score - t| / max(t, 1 - t)``, the measure :meth:`qualcode.Coder.next_to_code`
    uses for a classifier's probability; the review queue shows the highest first.
    """
    if score is None or (isinstance(score, float) and math.isnan(score)):
        return 0.0
    t = 0.5 if threshold is None or (isinstance(threshold, float) and math.isnan(threshold)) else float(threshold)
    return float(1.0 - abs(float(score) - t) / max(t, 1.0 - t, 1e-9))


def _check_who(who: Any) -> None:
    if not isinstance(who, str) or not who.strip() or len(who) > 200:
        msg = f"a coder/author name must be a non-empty str of at most 200 characters. Got {who!r} instead."
        raise ProjectError(msg)
