"""Active learning benchmark: does ``Coder.next_to_code`` make agreement rise faster than random choice?

Simulated coding sessions on public human-coded data (qcbench tasks): the documents of a task
are split by group into a pool and a test half.  A session starts from ``--start`` random pool
documents "coded" by the human (their real codings), then adds ``--batch`` documents per round,
chosen either at random or by the documents of the coder's ``next_to_code`` suggestions (fitted
on what is coded so far); after each round the coder is fitted on the coded documents and codes
the test half.  The learning curve is macro κ (the task's main codes, against its first
reference coder) against the number of coded documents, per strategy, averaged over seeds.

Run: .venv/bin/python benchmarks/bench_active.py [--dataset fivewords|qabstracts] [--rounds 5]
     [--seeds 2] [--fivewords-data DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from qcbench import core, datasets  # noqa: E402

import qualcode as qc  # noqa: E402


def _session(task: core.Task, strategy: str, seed: int, start: int, batch: int, rounds: int) -> list[tuple[int, float]]:
    rng = np.random.default_rng(seed)
    groups = task.units["group"].to_numpy()
    docs_of_group = task.units.groupby("group")["doc_id"].agg(lambda d: sorted(set(d)))
    ug = np.array(sorted(set(groups)))
    rng.shuffle(ug)
    pool_g, test_g = ug[: len(ug) // 2], ug[len(ug) // 2 :]
    pool_docs = [d for g in pool_g for d in docs_of_group[g]]
    test_idx = np.flatnonzero(np.isin(groups, test_g) & task.mask)
    coded = list(rng.choice(pool_docs, size=min(start, len(pool_docs)), replace=False))
    human = task.codings[task.train_ref]
    curve = []
    for r in range(rounds + 1):
        coder = qc.Coder(task.codebook, unit=task.unit, cache_dir=task.cache_dir, progress=False)
        coder.fit(task.corpus.subset(coded), human.filter(doc_id=coded))
        test = task.part(test_idx, train=False)
        frame = coder.code(test.corpus).to_frame()
        frame = frame[frame["source"] != "human"]
        pred = core.span_labels(frame, test.units, task.codes)
        table = core.code_table(task, pred, test_idx)
        curve.append((len(coded), core.macro(table, f"k_{task.refs[0]}")))
        if r == rounds:
            break
        left = [d for d in pool_docs if d not in set(coded)]
        if not left:
            break
        if strategy == "random":
            new = list(rng.choice(left, size=min(batch, len(left)), replace=False))
        else:
            sub = task.corpus.subset(left)
            nxt = coder.next_to_code(sub, n=max(batch * 5, 20))
            new = list(dict.fromkeys(nxt["doc_id"]))[:batch]
            if len(new) < batch:  # nothing uncertain left: top up at random
                rest = [d for d in left if d not in set(new)]
                new += list(rng.choice(rest, size=min(batch - len(new), len(rest)), replace=False))
        coded += new
    return curve


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="fivewords", choices=["fivewords", "qabstracts"])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--fivewords-data", type=Path, default=None)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    cache = qc.default_cache_dir()
    if args.dataset == "fivewords":
        data = args.fivewords_data or Path(os.environ.get("QUALCODE_FIVEWORDS_DIR", "~/data/2022-ACSAC-Five-word-Passwords")).expanduser()
        tasks = [t for t in datasets.fivewords(cache, data=data) if len(t.units) >= 100]
        start, batch = 10, 10
    else:
        tasks = datasets.qabstracts(cache)
        start, batch = 6, 6
    t0 = time.time()
    rows = []
    for t in tasks:
        for seed in range(args.seeds):
            for strategy in ("random", "next_to_code"):
                for n, k in _session(t, strategy, seed, start, batch, args.rounds):
                    rows.append({"task": t.name, "seed": seed, "strategy": strategy, "coded_docs": n, "kappa": k})
    df = pd.DataFrame(rows)
    curve = df.groupby(["strategy", "coded_docs"])["kappa"].mean().unstack("strategy")
    load = os.getloadavg()[0]
    print(f"active learning, {args.dataset}: {len(tasks)} task(s) x {args.seeds} seed(s), start {start}, "
          f"batch {batch}; macro κ on the held-out half vs {tasks[0].refs[0]}; {time.time() - t0:.0f} s, load {load:.1f}")
    print(curve.round(3).to_string())
    gain = (curve["next_to_code"] - curve["random"]).iloc[1:]
    print(f"mean gain of next_to_code over random after the first round: {gain.mean():+.3f} κ")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
