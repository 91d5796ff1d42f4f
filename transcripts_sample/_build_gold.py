"""Regenerate gold_codings.csv (offsets) from the coders' quote files in _gold_quotes/.

Run from the repository root:  python transcripts_sample/_build_gold.py
Every quote must occur exactly once in its document; read_codings reports any that do not.
It also writes gold_directions.csv from _gold_directions/study1.csv: for every study-1 gold
passage of a directional code, the subcode it belongs to (or ``none``), with its offsets.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

import qualcode as qc

HERE = Path(__file__).resolve().parent


def build() -> pd.DataFrame:
    corpus = qc.read_corpus(HERE, strict=True)
    frames = []
    for path in sorted((HERE / "_gold_quotes").glob("*.csv")):
        codings = qc.read_codings(path, corpus)
        frames.append(codings.to_frame())
    gold = pd.concat(frames, ignore_index=True)
    gold = gold[["doc_id", "start", "end", "code", "coder", "case_id", "text"]]
    return gold.sort_values(["doc_id", "start", "end", "code"]).reset_index(drop=True)


DIRECTIONAL = ("convergence", "elite_involvement", "discourse_space", "data_based_policy")


def build_directions(gold: pd.DataFrame) -> pd.DataFrame:
    """Join the direction labels to the study-1 gold passages of the four directional codes.

    Every such passage must have exactly one label, and every label must name a gold passage.
    """
    labels = pd.read_csv(HERE / "_gold_directions" / "study1.csv")
    passages = gold[gold["doc_id"].str.startswith("tp") & gold["code"].isin(DIRECTIONAL)]
    table = passages.merge(labels.rename(columns={"quote": "text"}), on=["doc_id", "code", "text"],
                           how="outer", indicator=True, validate="one_to_one")
    unmatched = table[table["_merge"] != "both"]
    if len(unmatched):
        first = unmatched.iloc[0]
        msg = (f"_gold_directions/study1.csv: {len(unmatched)} passages without a match, first "
               f"{first['doc_id']} {first['code']}: {str(first['text'])[:60]!r}")
        raise SystemExit(msg)
    table = table[["doc_id", "start", "end", "code", "direction", "case_id", "text"]]
    table[["start", "end"]] = table[["start", "end"]].astype(int)
    return table.sort_values(["doc_id", "start", "end", "code"]).reset_index(drop=True)


if __name__ == "__main__":
    table = build()
    table.to_csv(HERE / "gold_codings.csv", index=False)
    print(f"wrote {len(table)} codings for {table.doc_id.nunique()} documents", file=sys.stderr)
    directions = build_directions(table)
    directions.to_csv(HERE / "gold_directions.csv", index=False)
    print(f"wrote {len(directions)} direction labels", file=sys.stderr)
