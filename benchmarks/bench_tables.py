"""Big response tables: 100k short answers, and tables of 10k and 100k columns (issue 16).

Usage::

    python benchmarks/bench_tables.py [--rows 100000] [--xlsx]

Generates the tables in a temporary folder and times ``read_corpus(table)`` (one document per
row, case attributes from the other columns) and ``corpus.segments("sentence")``, printing
rows/s and the peak memory. Target on a 2-core machine: 100k short answers ingest in seconds
(before issue 16 the duplicate-id check was quadratic: 20k rows took 19-28 s, 100k did not
finish in 120 s; a 10k-column table did not finish either).
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ANSWERS = [
    "The budget arrives late every year.", "We follow the ministry list.", "Tidak ada perubahan.",
    "Musrenbang hanya formalitas.", "Data e-monev dipakai untuk evaluasi.", "No idea.",
    "The village head decides.", "Programnya sama dengan tahun lalu.", "Yes, with the province.",
]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_tables(folder: Path, rows: int, xlsx: bool) -> dict[str, Path]:
    rng = random.Random(16)
    out = {}
    p = folder / "answers.csv"
    with open(p, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["respondent_id", "region", "age", "text"])
        for i in range(rows):
            w.writerow([f"R{i:06d}", rng.choice(["north", "south", "east"]), rng.randint(18, 80), f"{rng.choice(ANSWERS)} {i}"])
    out[f"{rows:,} short answers (csv)"] = p
    if xlsx:
        import openpyxl

        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet()
        ws.append(["respondent_id", "region", "age", "text"])
        for i in range(rows):
            ws.append([f"R{i:06d}", rng.choice(["north", "south"]), rng.randint(18, 80), f"{rng.choice(ANSWERS)} {i}"])
        px = folder / "answers.xlsx"
        wb.save(px)
        out[f"{rows:,} short answers (xlsx)"] = px
    for n_cols, n_rows in ((10_000, 20), (100_000, 3)):
        pw = folder / f"wide_{n_cols}.csv"
        with open(pw, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["id", "text"] + [f"q{j}" for j in range(n_cols)])
            for i in range(n_rows):
                w.writerow([str(i), rng.choice(ANSWERS)] + [str(rng.randint(1, 5)) for _ in range(n_cols)])
        out[f"{n_rows} rows x {n_cols:,} columns (csv)"] = pw
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--xlsx", action="store_true", help="also a .xlsx of the same rows (slow to generate)")
    args = ap.parse_args(argv)
    import warnings

    import qualcode as qc

    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory(prefix="qualcode-bench-tables-") as tmp:
        tables = write_tables(Path(tmp), args.rows, args.xlsx)
        for what, path in tables.items():
            t0 = time.perf_counter()
            c0 = time.process_time()
            corpus = qc.read_corpus(path)
            t1 = time.perf_counter()
            seg = corpus.segments("sentence", attributes=False)
            t2 = time.perf_counter()
            cpu = time.process_time() - c0
            n = len(corpus.documents)
            print(f"{what}: read_corpus {t1 - t0:.2f} s ({n / (t1 - t0):,.0f} rows/s), cases table "
                  f"{corpus.cases.shape[0]:,} x {corpus.cases.shape[1]:,}; segments {t2 - t1:.2f} s "
                  f"({len(seg):,} sentences); CPU {cpu:.2f} s; peak RSS {rss_mb():,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
