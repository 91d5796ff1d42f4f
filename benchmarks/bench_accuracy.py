"""Accuracy benchmark: machine vs human coding on real human-coded data.

Part 1, qabstracts-dev (120 software-engineering abstracts coded sentence by sentence by two
trained coders; data CC-BY-4.0 by Prechelt, Montgomery, Frattini, Zieris, serqco/qabstracts):
  (1) rules + embeddings zero-shot on all abstracts;
  (2) fit on half of the abstracts (final/A codings, i.e. after the coders resolved their
      disagreements), code the other half; also with top_k=1 (most sentences carry one code),
      and again with the halves swapped.
  For each: Cohen's kappa and Krippendorff's alpha (nominal) over binary (sentence, code)
  decisions of machine vs initial/A and vs initial/B, per-code F1 vs initial/A, and human vs
  human (initial/A vs initial/B) on the same sentences for reference.
Part 2: per-code F1 of the shipped codebooks on transcripts_sample/gold_codings.csv
  (sentence unit; each codebook on its study's documents, tp* and ai*) for rules only,
  embeddings only, and rules + embeddings.  A sentence is positive when a gold span covers
  at least half of it or lies inside it (qualcode.coding.segment_labels).

Embeddings go through the on-disk cache (--cache, default qualcode.default_cache_dir()), so a
second run only embeds what changed.

Run: .venv/bin/python benchmarks/bench_accuracy.py [--quick] [--part 1|2|all] [--cache DIR]
Last full output: benchmarks/qabstracts/RESULTS.md
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
from qualcode.coding import segment_labels  # noqa: E402
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


def part1(quick: bool, cache: Path) -> None:
    t0 = time.time()
    corpus, humans = load(limit=40 if quick else None)
    cb = qc.Codebook.load(ROOT / "benchmarks/qabstracts/codebook.yaml")
    codes = cb.leaves
    units = corpus.segments("turn", attributes=False)
    print(f"qabstracts-dev: {len(corpus)} abstracts ({len(SKIPPED)} skipped: {SKIPPED}), "
          f"{len(units)} sentences; load {time.time() - t0:.1f}s")
    coder = qc.Coder(cb, unit="turn", cache_dir=cache, progress=False)
    t = time.time()
    zs = coder.code(corpus)
    print(f"zero-shot coding: {time.time() - t:.1f}s; model {coder.model_id}")
    compare("(1) rules + embeddings, zero-shot, all abstracts", zs, humans, units, codes)
    ids = corpus.doc_ids
    halves = (ids[0::2], ids[1::2])
    for name, (train, test) in (("", halves), ("swapped ", halves[::-1])):
        tr_c, te_c = corpus.subset(train), corpus.subset(test)
        te_units = te_c.segments("turn", attributes=False)
        te_h = {k: v.filter(doc_id=test) for k, v in humans.items()}
        coder = qc.Coder(cb, unit="turn", cache_dir=cache, progress=False)
        zs_test = coder.code(te_c)
        t = time.time()
        coder.fit(tr_c, humans["final/A"].filter(doc_id=train))
        fit_s = time.time() - t
        print(f"\n--- {name}halves: fit on {len(train)} abstracts (final/A codings): {fit_s:.1f}s; "
              f"classifiers for {len(coder.classifiers_)} codes "
              f"(C: " + ", ".join(f"{c}={m.c:g}" for c, m in coder.classifiers_.items()) + "); "
              "CV F1 " + ", ".join(f"{c}={v:.2f}" for c, v in coder.cv_f1_.items())
              + f"; raised zero-shot thresholds: {sorted(coder.thresholds_['embedding']) or 'none'}")
        fitted = coder.code(te_c).filter(source=["rule", "embedding", "classifier"])
        detail = not name
        compare(f"(1') zero-shot on the {name}test half ({len(test)} abstracts)", zs_test, te_h, te_units,
                codes, per_code=False)
        compare(f"(2) {name}fit on {len(train)}, test on {len(test)} abstracts", fitted, te_h, te_units,
                codes, per_code=detail)
        coder.top_k = 1
        top1 = coder.code(te_c).filter(source=["rule", "embedding", "classifier"])
        compare(f"(2b) {name}same, top_k=1", top1, te_h, te_units, codes, per_code=False)


STUDIES = {"technocratic_planning.yaml": "tp", "ai_in_government.yaml": "ai"}


def part2(cache: Path) -> None:
    gold_path = ROOT / "transcripts_sample/gold_codings.csv"
    if not gold_path.exists():
        print("\n(no transcripts_sample/gold_codings.csv yet: part 2 skipped)")
        return
    corpus = qc.read_corpus(ROOT / "transcripts_sample")
    gold = qc.read_codings(gold_path, corpus)
    for cb_name, prefix in STUDIES.items():
        cb = qc.Codebook.load(ROOT / "codebooks" / cb_name)
        sub = corpus.subset([d for d in corpus.doc_ids if d.startswith(prefix)])
        su = sub.segments("sentence", attributes=False)
        codes = list(cb.leaves)
        y = labels(gold.filter(doc_id=sub.doc_ids), su, codes)
        rows: dict[str, dict[str, float]] = {c: {"n_gold": int(y[:, j].sum())} for j, c in enumerate(codes)}
        rows["(micro)"] = {"n_gold": int(y.sum())}
        for name, kw in (("rules", {"embeddings": False}), ("embeddings", {"rules": False}), ("rules+emb", {})):
            t = time.time()
            m = labels(qc.Coder(cb, cache_dir=cache, progress=False, **kw).code(sub), su, codes)
            for j, c in enumerate(codes):
                rows[c][name] = f1(y[:, j], m[:, j])
                rows[c][f"n_{name}"] = int(m[:, j].sum())
            rows["(micro)"][name] = f1(y, m)
            rows["(micro)"][f"n_{name}"] = int(m.sum())
            rows["(micro)"].setdefault("seconds", 0.0)
            rows["(micro)"]["seconds"] += time.time() - t
        frame = pd.DataFrame(rows).T
        cols = ["n_gold", "rules", "embeddings", "rules+emb", "n_rules", "n_embeddings", "n_rules+emb"]
        frame = frame[cols].astype({c: "Int64" for c in cols if c.startswith("n_")})
        print(f"\n== {cb_name} on the sample gold ({prefix}* documents: {len(sub)}, "
              f"{len(su)} sentences, {len(codes)} leaf codes): F1 (n_* = positive sentences)")
        print(frame.to_string(float_format=lambda x: f"{x:.2f}"))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="40 abstracts only")
    ap.add_argument("--part", choices=["1", "2", "all"], default="all")
    ap.add_argument("--cache", type=Path, default=None,
                    help="embedding cache folder (default: $QUALCODE_CACHE_DIR or ~/.cache/qualcode)")
    a = ap.parse_args()
    cache_dir = a.cache or qc.default_cache_dir()
    print(f"embedding cache: {cache_dir}")
    t_all = time.time()
    if a.part in ("1", "all"):
        part1(a.quick, cache_dir)
    if a.part in ("2", "all"):
        part2(cache_dir)
    print(f"\ntotal {time.time() - t_all:.0f}s")
