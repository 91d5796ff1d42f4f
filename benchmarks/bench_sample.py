"""The main job's coding against the bundled gold coding, study by study (issue 11's measure).

For each study of ``transcripts_sample/`` the Coder runs with the main job's defaults (the
study's codebook and scope, informant turns, passages) and is compared with the gold coding of
the informant turns:

* **precision**: share of machine codings that overlap a gold coding of the same code in the
  same document;
* **recall**: share of gold codings that a machine coding of their code overlaps;
* sentence-level Cohen's κ per code and macro (``qualcode evaluate``'s measure), for reference.

Machine codes are rolled up to the gold's codes (the directional subcodes of study 1 count for
their study code). Nothing here is tuned on the gold: it is the report of a fixed method.

Run: .venv/bin/python benchmarks/bench_sample.py [--unit passage|sentence] [--rules-only]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import qualcode as qc
from qualcode import reliability

ROOT = Path(__file__).resolve().parents[1]
STUDIES = {"tp": "technocratic_planning.yaml", "ai": "ai_in_government.yaml"}


def _roll_up(frame: pd.DataFrame, codebook: qc.Codebook, targets: set[str]) -> pd.DataFrame:
    """Codes mapped to their nearest ancestor (or self) among ``targets``."""

    def up(code: str) -> str:
        for c in [code, *codebook.ancestors(code)] if code in codebook else [code]:
            if c in targets:
                return c
        return code

    return frame.assign(code=frame["code"].map(up))


def _overlaps(a: pd.DataFrame, b: pd.DataFrame) -> np.ndarray:
    """For each row of ``a``: does a row of ``b`` with the same document and code overlap it?"""
    m = a.reset_index().merge(b[["doc_id", "code", "start", "end"]], on=["doc_id", "code"], how="left",
                              suffixes=("", "_b"))
    hit = (m["start_b"] < m["end"]) & (m["end_b"] > m["start"])
    return hit.groupby(m["index"]).any().reindex(range(len(a)), fill_value=False).to_numpy()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--unit", default="passage", choices=["passage", "sentence"])
    ap.add_argument("--rules-only", action="store_true")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    corpus = qc.read_corpus(ROOT / "transcripts_sample")
    gold_all = qc.read_codings(ROOT / "transcripts_sample" / "gold_codings.csv", corpus).with_roles(corpus).to_frame()
    print(f"sample gold, {args.unit} codings{' (rules only)' if args.rules_only else ''}; "
          "machine codes rolled up to the gold's codes")
    for cb_file in STUDIES.values():
        t0 = time.time()
        codebook = qc.Codebook.load(ROOT / "codebooks" / cb_file)
        coder = qc.Coder(codebook, unit=args.unit, embeddings=not args.rules_only, cache_dir=qc.default_cache_dir(),
                         progress=False)
        machine = coder.code(corpus)
        docs = set(coder.in_scope(corpus).doc_ids)
        gold = gold_all[gold_all["doc_id"].isin(docs) & gold_all["role"].isin(["respondent", "participant", "unknown"])]
        gold = gold.reset_index(drop=True)
        targets = set(gold["code"])
        m = _roll_up(machine.to_frame(), codebook, targets)
        m = m[m["code"].isin(targets)].reset_index(drop=True)
        right = _overlaps(m, gold)
        found = _overlaps(gold, m)
        per_code = pd.DataFrame({
            "machine": m.groupby("code").size(),
            "precision": pd.Series(right, index=m.index).groupby(m["code"]).mean(),
            "gold": gold.groupby("code").size(),
            "recall": pd.Series(found, index=gold.index).groupby(gold["code"]).mean(),
        }).fillna(0)
        scoped = corpus.subset(sorted(docs))
        agree = reliability.agreement(qc.Codings(gold), qc.Codings(m), scoped, unit="sentence", codes=sorted(targets))
        per_code["kappa (sentences)"] = agree["kappa"]
        print(f"\n== {codebook.name} ({len(docs)} documents, {len(gold)} gold codings of informant turns); "
              f"{time.time() - t0:.0f} s")
        print(per_code.round(2).to_string())
        print(f"precision {right.mean():.3f}  recall {found.mean():.3f}  "
              f"macro κ (sentences) {per_code['kappa (sentences)'].mean():.3f}  "
              f"pooled κ {agree.loc['(pooled)', 'kappa']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
