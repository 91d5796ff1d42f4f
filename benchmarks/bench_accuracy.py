"""Accuracy benchmark: machine vs human coding on real human-coded data.

Part 1, qabstracts-dev (120 software-engineering abstracts coded sentence by sentence by two
trained coders; data CC-BY-4.0 by Prechelt, Montgomery, Frattini, Zieris, serqco/qabstracts):
  (1) rules + embeddings zero-shot on all abstracts;
  (2) fit on half of the abstracts (final/A codings, i.e. after the coders resolved their
      disagreements), code the other half; also with top_k=1 (most sentences carry one code).
  For each: Cohen's kappa and Krippendorff's alpha (nominal) over binary (sentence, code)
  decisions of machine vs initial/A and vs initial/B, per-code F1 vs initial/A, and human vs
  human (initial/A vs initial/B) on the same sentences for reference.
Part 2: per-code F1 of the shipped codebooks on transcripts_sample/gold_codings.csv
  (sentence unit) for rules only, embeddings only, and rules + embeddings.

Run: .venv/bin/python benchmarks/bench_accuracy.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from qabstracts.load import SKIPPED, load  # noqa: E402

import qualcode as qc  # noqa: E402
from qualcode._learn import segment_labels  # noqa: E402
from qualcode.reliability import cohen_kappa, krippendorff_alpha  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def labels(codings, units, codes):
    f = codings.to_frame() if hasattr(codings, "to_frame") else codings
    f = f[f["code"].isin(codes)]
    y, _ = segment_labels(units, f, codes)
    return y


def f1(y, p):
    tp = (y & p).sum()
    d = y.sum() + p.sum()
    return 2 * tp / d if d else float("nan")


def compare(name, machine, humans, units, codes, per_code=True):
    m = labels(machine, units, codes)
    ya, yb = labels(humans["initial/A"], units, codes), labels(humans["initial/B"], units, codes)
    print(f"\n== {name}: {len(units)} sentences x {len(codes)} codes")
    print(f"{'pair':<22}{'kappa':>8}{'alpha':>8}{'micro-F1':>10}")
    for label, a, b in (("machine vs A", m, ya), ("machine vs B", m, yb), ("human A vs B", ya, yb)):
        k = cohen_kappa(a.ravel().astype(int), b.ravel().astype(int))
        al = krippendorff_alpha(np.vstack([a.ravel(), b.ravel()]).astype(int))
        print(f"{label:<22}{k:>8.3f}{al:>8.3f}{f1(a, b):>10.3f}")
    if per_code:
        rows = []
        for j, c in enumerate(codes):
            rows.append({"code": c, "n_A": int(ya[:, j].sum()), "n_machine": int(m[:, j].sum()),
                         "F1 vs A": f1(ya[:, j], m[:, j]), "F1 vs B": f1(yb[:, j], m[:, j]),
                         "F1 B vs A": f1(ya[:, j], yb[:, j])})
        print(pd.DataFrame(rows).to_string(index=False, float_format=lambda x: f"{x:.2f}"))


def part1(quick: bool) -> None:
    t0 = time.time()
    corpus, humans = load(limit=40 if quick else None)
    cb = qc.Codebook.load(ROOT / "benchmarks/qabstracts/codebook.yaml")
    codes = cb.leaves
    units = corpus.segments("turn", attributes=False)
    print(f"qabstracts-dev: {len(corpus)} abstracts ({len(SKIPPED)} skipped: {SKIPPED}), "
          f"{len(units)} sentences; load {time.time() - t0:.1f}s")
    coder = qc.Coder(cb, unit="turn", progress=False)
    t = time.time()
    zs = coder.code(corpus)
    print(f"zero-shot coding: {time.time() - t:.1f}s")
    compare("(1) rules + embeddings, zero-shot", zs, humans, units, codes)
    ids = corpus.doc_ids
    train, test = ids[0::2], ids[1::2]
    tr_c, te_c = corpus.subset(train), corpus.subset(test)
    te_units = te_c.segments("turn", attributes=False)
    final_a = humans["final/A"].filter(doc_id=train)
    t = time.time()
    coder.fit(tr_c, final_a)
    print(f"\nfit on {len(train)} abstracts: {time.time() - t:.1f}s; classifiers for "
          f"{sorted(coder.classifiers_)}; CV F1 " + ", ".join(f"{c}={v:.2f}" for c, v in coder.cv_f1_.items()))
    fitted = coder.code(te_c).filter(source=["rule", "embedding", "classifier"])
    te_h = {k: v.filter(doc_id=test) for k, v in humans.items()}
    compare(f"(2) fit on {len(train)}, test on {len(test)} abstracts", fitted, te_h, te_units, codes)
    coder.top_k = 1
    top1 = coder.code(te_c).filter(source=["rule", "embedding", "classifier"])
    compare("(2b) same, top_k=1", top1, te_h, te_units, codes, per_code=False)
    zs_test = zs.filter(doc_id=test)
    compare("(1') zero-shot on the same test half", zs_test, te_h, te_units, codes, per_code=False)


def part2() -> None:
    gold_path = ROOT / "transcripts_sample/gold_codings.csv"
    if not gold_path.exists():
        print("\n(no transcripts_sample/gold_codings.csv yet: part 2 skipped)")
        return
    corpus = qc.read_corpus(ROOT / "transcripts_sample")
    gold = qc.read_codings(gold_path, corpus)
    units = corpus.segments("sentence", attributes=False)
    for cb_path in sorted((ROOT / "codebooks").glob("*.yaml")):
        cb = qc.Codebook.load(cb_path)
        codes = [c for c in cb.leaves if c in set(gold.codes)]
        if not codes:
            continue
        docs = sorted(set(gold.filter(code=codes).to_frame()["doc_id"]))
        sub = corpus.subset([d for d in corpus.doc_ids if d in docs])
        su = sub.segments("sentence", attributes=False)
        y = labels(gold, su, codes)
        rows = {c: {} for c in codes}
        for name, kw in (("rules", {"embeddings": False}), ("embeddings", {"rules": False}), ("rules+emb", {})):
            m = labels(qc.Coder(cb, progress=False, **kw).code(sub), su, codes)
            for j, c in enumerate(codes):
                rows[c][name] = f1(y[:, j], m[:, j])
            rows.setdefault("(micro)", {})[name] = f1(y, m)
        print(f"\n== {cb_path.name} on the sample gold ({len(sub)} documents, {len(su)} sentences): F1")
        print(pd.DataFrame(rows).T.to_string(float_format=lambda x: f"{x:.2f}"))
    del units


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="40 abstracts only")
    ap.add_argument("--part", choices=["1", "2", "all"], default="all")
    a = ap.parse_args()
    if a.part in ("1", "all"):
        part1(a.quick)
    if a.part in ("2", "all"):
        part2()
