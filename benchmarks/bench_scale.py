"""Throughput of one process vs a Dask LocalCluster on synthetic short survey answers (EN/ID).

    python benchmarks/bench_scale.py              # 2,000 answers: a few minutes on 2 cores
    python benchmarks/bench_scale.py --n 100000   # the issue's size (about an hour on 2 cores)

Prints, for the default embedder and for rules only: answers/s of one process (the backend's
own threads on every core) and of a LocalCluster of ``--workers`` processes (one thread
each), wall and CPU seconds, the machine's load average before and after (the machine may be
shared), the peak memory (max RSS) of each worker, and whether the codings are identical.
Each run embeds into its own fresh cache, so nothing is found cached.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
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


def _worker_usage() -> dict[str, float]:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return {"cpu": r.ru_utime + r.ru_stime, "max_rss_mb": r.ru_maxrss / 1024}


def same(a: qc.Codings, b: qc.Codings) -> bool:
    fa, fb = a.to_frame(), b.to_frame()
    if len(fa) != len(fb) or list(fa.columns) != list(fb.columns):
        return False
    other = [c for c in fa.columns if c != "score"]
    return bool(fa[other].equals(fb[other]) and np.allclose(fa["score"], fb["score"], atol=1e-6, rtol=0))


def run(n: int, workers: int, partition_size: int | None) -> dict[str, object]:
    cb = qc.Codebook.load(CODEBOOK)
    out: dict[str, object] = {"n_answers": n, "workers": workers, "cores": os.cpu_count(), "load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "answers.csv"
        answers(n).to_csv(csv, index=False)
        size = partition_size or max(50, n // (8 * workers))
        out["partition_size"] = size
        results: dict[str, dict[str, float | bool]] = {}
        # the LocalCluster `qualcode code --workers N` starts (distributed.connect)
        with distributed.connect(workers=workers) as client:
            for mode, kw in (("rules-only", {"embeddings": False}), ("embeddings", {})):
                # one process: read, then code (the backend uses every core with its own threads)
                t0, c0 = time.perf_counter(), _cpu()
                corpus = qc.read_corpus(csv)
                single = qc.Coder(cb, unit="sentence", progress=False, cache_dir=Path(tmp) / f"one-{mode}", **kw).code(corpus)
                wall1, cpu1 = time.perf_counter() - t0, _cpu() - c0
                del corpus
                client.restart()  # fresh workers: the model is loaded inside the timed run
                u0 = client.run(_worker_usage)
                t0, c0 = time.perf_counter(), _cpu()
                coder = qc.Coder(cb, unit="sentence", progress=False, cache_dir=Path(tmp) / f"cluster-{mode}", **kw)
                dist = distributed.code(coder, csv, client=client, partition_size=size, progress=True)
                wall2, cpu2 = time.perf_counter() - t0, _cpu() - c0
                u1 = client.run(_worker_usage)
                results[mode] = {
                    "single_s": round(wall1, 1), "single_cpu_s": round(cpu1, 1), "single_per_s": round(n / wall1, 1),
                    "cluster_s": round(wall2, 1), "cluster_per_s": round(n / wall2, 1),
                    "cluster_cpu_s_workers": round(sum(u1[w]["cpu"] - u0[w]["cpu"] for w in u1 if w in u0), 1),
                    "cluster_cpu_s_client": round(cpu2, 1),
                    "speedup": round(wall1 / wall2, 2),
                    "single_per_cpu_s": round(n / max(cpu1, 1e-9), 1),
                    "cluster_per_cpu_s": round(n / max(sum(u1[w]["cpu"] - u0[w]["cpu"] for w in u1 if w in u0) + cpu2, 1e-9), 1),
                    "worker_peak_rss_mb": [round(u["max_rss_mb"]) for u in u1.values()],
                    "identical": same(single, dist),
                    "codings": len(dist),
                    "codings_bytes_per_row": round(dist.to_frame().memory_usage(deep=True).sum() / max(len(dist), 1)),
                    "embedded": dist.meta["distributed"]["embedded"],
                }  # fmt: skip
                print(mode, json.dumps(results[mode]), flush=True)
    out["results"] = results
    out["load_after"] = os.getloadavg()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000, help="answers (default 2000; the issue's size is 100000)")
    ap.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes (default 2)")
    ap.add_argument("--partition-size", type=int, help="answers per partition (default n / (8 x workers), >= 50)")
    ap.add_argument("--json", metavar="FILE", help="also write the numbers to FILE")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    res = run(args.n, args.workers, args.partition_size)
    print(json.dumps(res, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
