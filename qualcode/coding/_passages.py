"""Passages: adjacent coded sentences of one speaker merged into one coding.

CAQDAS users code and retrieve passages, not isolated sentences ("The difficulty is proving the
link." means nothing alone).  With ``Coder(unit="passage")`` the coder still scores and decides
sentence by sentence, then merges, per document and code, runs of coded sentences that follow
each other in the document and belong to the same turn, or to consecutive turns of the same
speaker (an unlabelled continuation paragraph, cues of one speaker in a subtitle file).  An
uncoded sentence, another speaker's turn or an interviewer's question ends a passage.

A passage keeps the span from its first to its last sentence, the highest score of its
sentences, and the source and evidence of that best sentence (the evidence names how many
sentences the passage joins).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["merge_passages"]


def merge_passages(frame: pd.DataFrame, segments: pd.DataFrame, text_of: dict[str, str]) -> pd.DataFrame:
    """Merge sentence codings into passages (see the module docstring).

    Args:
        frame: machine rows (:data:`qualcode.coding._fusion.ROW_COLUMNS`; ``seg`` indexes
            ``segments``).
        segments: the scored sentence segments with ``doc_id, turn, speaker`` and ``pos`` (the
            sentence's position in its document, counting every sentence, coded or not).
        text_of: ``doc_id -> Document.text`` (for the passage text).

    Returns:
        One row per passage with the same columns, ``unit="passage"``, ``segment_id``
        ``"{doc_id}@{start}-{end}"`` and the extra column ``n_units`` (sentences joined), in
        document order; the ``seg`` column holds the best sentence's row.
    """
    if not len(frame):
        out = frame.copy()
        out["n_units"] = pd.Series(dtype="int64")
        return out
    seg = frame["seg"].to_numpy(dtype=np.int64)
    pos = segments["pos"].to_numpy(dtype=np.int64)[seg]
    turn = segments["turn"].to_numpy(dtype=np.int64)[seg]
    speaker = segments["speaker"].to_numpy(dtype=object)[seg]
    work = frame.assign(_pos=pos, _turn=turn, _speaker=speaker)
    work = work.sort_values(["doc_id", "code", "_pos"], kind="stable").reset_index(drop=True)
    d = work["doc_id"].to_numpy(dtype=object)
    c = work["code"].to_numpy(dtype=object)
    p = work["_pos"].to_numpy()
    t = work["_turn"].to_numpy()
    s = work["_speaker"].to_numpy(dtype=object)
    same = np.zeros(len(work), dtype=bool)
    if len(work) > 1:
        follows = (d[1:] == d[:-1]) & (c[1:] == c[:-1]) & (p[1:] == p[:-1] + 1)
        joined = (t[1:] == t[:-1]) | ((t[1:] == t[:-1] + 1) & (s[1:] == s[:-1]))
        same[1:] = follows & joined
    group = np.cumsum(~same) - 1
    work["_group"] = group
    score = work["score"].to_numpy(dtype=float)
    # the best sentence of each passage: highest score, first among equals
    order = np.lexsort((np.arange(len(work)), -score, group))
    first_of_group = np.r_[True, group[order][1:] != group[order][:-1]]
    best = work.iloc[order[first_of_group]].set_index("_group")
    agg = work.groupby("_group", sort=True).agg(
        start=("start", "min"), end=("end", "max"), n_units=("seg", "size"), _first=("seg", "min")
    )
    out = best.drop(columns=["start", "end"]).join(agg)
    out["text"] = [text_of[doc][a:b] for doc, a, b in zip(out["doc_id"], out["start"], out["end"], strict=True)]
    out["segment_id"] = [f"{doc}@{a}-{b}" for doc, a, b in zip(out["doc_id"], out["start"], out["end"], strict=True)]
    out["unit"] = "passage"
    many = out["n_units"].to_numpy() > 1
    if many.any():
        out.loc[many, "evidence"] = [
            f"{e} (best of a passage of {n} sentences)"
            for e, n in zip(out.loc[many, "evidence"], out.loc[many, "n_units"], strict=True)
        ]
    out = out.sort_values(["_first", "code"], kind="stable").reset_index(drop=True)
    return out[[*frame.columns, "n_units"]]
