"""Accuracy benchmark: machine vs human coding on real human-coded data (issue 12).

Datasets (see benchmarks/qcbench/datasets.py and benchmarks/RESULTS_accuracy.md):

* ``qabstracts``: /work/shared/data/qabstracts-dev (118 usable abstracts, CC-BY-4.0, Prechelt,
  Montgomery, Frattini, Zieris): zero-shot; trained with grouped cross-validation (folds by
  abstract, coder A's final coding as training labels); κ against each coder's initial coding
  and human vs human; macro over the 7 main codes.
* ``fivewords``: the five-word-password survey (Wu et al., ACSAC 2022), 12 questions with
  names-only codebooks, primary and secondary coder: zero-shot; trained on half the
  respondents (and the other half, 3 splits); few-shot with 1, 3, 10, 30 examples per code
  (5 seeds, scored on the rest).  The data is read from a local clone (--fivewords-data).
* ``sample``: transcripts_sample/gold_codings.csv, study by study (tp*, ai*), informant
  sentences only: zero-shot and 5-fold grouped CV (by document).  Report only; never tune on it.

Rows: ``qualcode`` = qc.Coder zero-shot / ``.fit`` (public API only); ``baseline`` = default
embeddings of the unit and its neighbours, standardised, + one logistic regression per code
(sklearn defaults, threshold 0.5); ``baseline-bal`` = the same with class_weight="balanced".

Try your own coder variant with --predictor module:function, where the function takes no
argument and returns ``fit_predict(train, test) -> array`` (see benchmarks/qcbench/predictors.py).

Run: .venv/bin/python benchmarks/bench_accuracy.py [--dataset qabstracts|fivewords|sample|all]
     [--quick] [--cache DIR] [--fivewords-data DIR] [--methods qualcode,baseline,baseline-bal]
     [--predictor mymodule:make_fit_predict] [--per-code]
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from qcbench import datasets as D  # noqa: E402
from qcbench.core import Outcome, Task, evaluate, macro  # noqa: E402
from qcbench.predictors import baseline_lr, qualcode_coder  # noqa: E402

import qualcode as qc  # noqa: E402
from qualcode._io import atomic_write_text  # noqa: E402

FEW_SHOT_K = (1, 3, 10, 30)


def _fmt(x: float) -> str:
    return "  nan" if not np.isfinite(x) else f"{x:5.2f}"


def _load() -> str:
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


def combined(outcomes: list[Outcome]) -> list[pd.DataFrame]:
    """One table per repeat, concatenating the tasks' tables (macro over every task's main codes)."""
    n = min(len(o.tables) for o in outcomes)
    return [pd.concat([o.tables[i] for o in outcomes], ignore_index=True) for i in range(n)]


def summary_row(label: str, tables: list[pd.DataFrame], task: Task, outs: list[Outcome]) -> dict:
    row: dict = {"setting / method": label}
    for ref in task.refs:
        vals = np.array([macro(t, f"k_{ref}") for t in tables])
        row[f"κ vs {ref}"] = np.nanmean(vals) if np.isfinite(vals).any() else np.nan
        row[f"sd {ref}"] = np.nanstd(vals) if len(vals) > 1 and np.isfinite(vals).any() else np.nan
    if len(task.refs) >= 2:
        row["human κ"] = float(np.nanmean([macro(t, "k_human") for t in tables]))
    if any(t.loc[t["main"], "parent"].any() for t in tables):  # codes with sub-codes vs the others
        ref = task.refs[0]
        row[f"parents vs {ref}"] = float(np.nanmean([macro(t, f"k_{ref}", t["parent"]) for t in tables]))
        row[f"others vs {ref}"] = float(np.nanmean([macro(t, f"k_{ref}", ~t["parent"]) for t in tables]))
    row["n_train"] = float(np.mean([o.n_train for o in outs]))
    row["n_test"] = float(np.mean([o.n_test for o in outs]))
    row["seconds"] = float(sum(o.seconds for o in outs))
    row["errors"] = sum(len(o.errors) for o in outs)
    return row


def print_code_table(title: str, out: Outcome, main_only: bool = False) -> None:
    t = out.mean_table()
    if main_only:
        t = t[t["main"]]
    t = t.copy()
    t["code"] = [c + ("" if m else " (not in macro)") for c, m in zip(t["code"], t["main"], strict=True)]
    t["code"] = [c + (" [parent]" if p else "") for c, p in zip(t["code"], t["parent"], strict=True)]
    cols = [c for c in t.columns if c not in ("main", "parent")]
    print(f"\n-- {title}")
    print(t[cols].to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    for e in sorted(set(out.errors))[:3]:
        print(f"   predictor error ({out.errors.count(e)}x): {e}")


def run(tasks: list[Task], settings: list[tuple[str, str, dict, object]], *, per_code: str) -> pd.DataFrame:
    """Evaluate every (setting, method) on every task; print per-code tables and return the summary."""
    rows = []
    for label, protocol, kw, fp in settings:
        t0, load0 = time.time(), _load()
        outs = [evaluate(task, fp, protocol=protocol, method=label, **kw) for task in tasks]
        for task, o in zip(tasks, outs, strict=True):
            if per_code == "all" or (per_code == "main" and not protocol.startswith("few")):
                print_code_table(f"{task.dataset}/{task.name} · {label} · {o.seconds:.1f}s · "
                                 f"train {o.n_train:.0f} / test {o.n_test:.0f} units",
                                 o, main_only=task.dataset == "fivewords")
        row = summary_row(label, combined(outs), tasks[0], outs)
        row["load (1/5/15 min)"] = f"{load0} -> {_load()}"
        print(f"\n>> {tasks[0].dataset}: {label}: " + ", ".join(
            f"{k} {_fmt(v) if isinstance(v, float) else v}" for k, v in row.items() if k != "setting / method")
            + f" ({time.time() - t0:.0f}s)")
        rows.append(row)
    return pd.DataFrame(rows)


def methods_for(names: list[str], custom: object | None) -> dict[str, tuple[object, object]]:
    """name -> (zero-shot predictor or None, trained predictor)."""
    out: dict[str, tuple[object, object]] = {}
    if "qualcode" in names:
        out["qualcode"] = (qualcode_coder(fit=False), qualcode_coder(fit=True))
    if "baseline" in names:
        out["baseline"] = (None, baseline_lr())
    if "baseline-bal" in names:
        out["baseline-bal"] = (None, baseline_lr(balanced=True))
    if custom is not None:
        out["custom"] = (custom, custom)
    return out


def bench(dataset: str, tasks: list[Task], methods: dict, quick: bool, per_code: str) -> pd.DataFrame:
    settings: list[tuple[str, str, dict, object]] = []
    for name, (zs, _tr) in methods.items():
        if zs is not None:
            settings.append((f"zero-shot · {name}", "zero-shot", {}, zs))
    if dataset in ("qabstracts", "sample"):
        folds = 2 if quick else 5
        for name, (_zs, tr) in methods.items():
            settings.append((f"{folds}-fold grouped CV · {name}", "cv", {"folds": folds, "seeds": (0,)}, tr))
    else:
        seeds = (0,) if quick else (0, 1, 2)
        for name, (_zs, tr) in methods.items():
            settings.append((f"trained on half · {name}", "half", {"seeds": seeds}, tr))
        fs_seeds = (0,) if quick else (0, 1, 2, 3, 4)
        for k in FEW_SHOT_K:
            for name, (_zs, tr) in methods.items():
                settings.append((f"few-shot k={k} · {name}", "few-shot", {"k": k, "seeds": fs_seeds}, tr))
    if dataset == "sample":
        frames = []
        for task in tasks:
            print(f"\n== sample/{task.name}: {task!r}; {task.info}")
            s = run([task], settings, per_code=per_code)
            s.insert(0, "study", task.name)
            frames.append(s)
        return pd.concat(frames, ignore_index=True)
    return run(tasks, settings, per_code=per_code)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", choices=["qabstracts", "fivewords", "sample", "all"], default="all")
    ap.add_argument("--quick", action="store_true",
                    help="40 abstracts and 2 folds; 3 questions, 1 split/seed; 2-fold CV on the sample")
    ap.add_argument("--cache", type=Path, default=None,
                    help="embedding cache folder (default: $QUALCODE_CACHE_DIR or ~/.cache/qualcode)")
    ap.add_argument("--fivewords-data", type=Path, default=None,
                    help="clone of gwusec/2022-ACSAC-Five-word-Passwords (default $QUALCODE_FIVEWORDS_DIR "
                         "or ~/data/2022-ACSAC-Five-word-Passwords)")
    ap.add_argument("--methods", default="qualcode,baseline,baseline-bal",
                    help="comma-separated: qualcode, baseline, baseline-bal (default: all three)")
    ap.add_argument("--predictor", default=None,
                    help="module:function returning a fit_predict(train, test) to evaluate as 'custom'")
    ap.add_argument("--per-code", choices=["none", "main", "all"], default="main",
                    help="per-code tables: none, all but few-shot (main), or all")
    ap.add_argument("--out", type=Path, default=None,
                    help="folder to write each dataset's summary as <dataset>_summary.csv")
    a = ap.parse_args()
    cache = a.cache or qc.default_cache_dir()
    custom = None
    if a.predictor:
        mod, _, fn = a.predictor.partition(":")
        custom = getattr(importlib.import_module(mod), fn)()
    methods = methods_for([m.strip() for m in a.methods.split(",") if m.strip()], custom)
    print(f"embedding cache: {cache}; qualcode {qc.__version__}; {os.cpu_count()} CPUs; "
          f"load {_load()}; {'quick' if a.quick else 'full'} mode; methods {list(methods)}")
    t_all = time.time()
    summaries = {}
    for name in ("qabstracts", "fivewords", "sample") if a.dataset == "all" else (a.dataset,):
        t0 = time.time()
        try:
            if name == "qabstracts":
                tasks = D.qabstracts(cache, limit=40 if a.quick else None)
            elif name == "fivewords":
                tasks = D.fivewords(cache, data=a.fivewords_data,
                                    questions=["S2", "S6-1", "Q8"] if a.quick else None)
            else:
                tasks = D.sample(cache)
        except FileNotFoundError as exc:
            print(f"\n==================== {name}: skipped: {exc}")
            continue
        print(f"\n==================== {name}: {len(tasks)} task(s), "
              f"{sum(int(t.mask.sum()) for t in tasks)} scored units, "
              f"{sum(len(t.main) for t in tasks)} codes in the macro; load {time.time() - t0:.1f}s")
        for t in tasks:
            print(f"   {t!r} {t.info}")
        t1 = time.time()
        for t in tasks:
            _ = t.context_features  # embeds every unit once (cache), shared by all rows
        print(f"   unit embeddings: {time.time() - t1:.1f}s")
        summaries[name] = bench(name, tasks, methods, a.quick, a.per_code)
        print(f"\n==== {name} summary (macro κ; {time.time() - t0:.0f}s)")
        print(summaries[name].to_string(index=False, float_format=lambda x: f"{x:.3f}"))
        if a.out is not None:
            a.out.mkdir(parents=True, exist_ok=True)
            atomic_write_text(a.out / f"{name}_summary.csv", summaries[name].to_csv(index=False))
    print(f"\ntotal {time.time() - t_all:.0f}s; load {_load()}")


if __name__ == "__main__":
    main()
