"""Regenerate gold_codings.csv (offsets) from the coders' quote files in _gold_quotes/.

Run from the repository root:  python transcripts_sample/_build_gold.py
Every quote must occur exactly once in its document; read_codings reports any that do not.
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


if __name__ == "__main__":
    table = build()
    table.to_csv(HERE / "gold_codings.csv", index=False)
    print(f"wrote {len(table)} codings for {table.doc_id.nunique()} documents", file=sys.stderr)
