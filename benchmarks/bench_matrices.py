"""Time every matrix function on 2,000 documents x 40 codes x 200,000 codings (target <= 2 s each).

Run: .venv/bin/python benchmarks/bench_matrices.py

Each function runs three times; the best and median wall times are printed (the median
must meet the target).  Timings on a shared machine vary: the load average is printed too.
"""

from __future__ import annotations

import os
import statistics
import time

import numpy as np
import pandas as pd

from qualcode import Codings, Corpus, Document, Turn
from qualcode import matrices as M

N_DOCS, N_CODES, N_CODINGS, TURNS, TURN_LEN = 2000, 40, 200_000, 30, 120
REPEAT = 3  # each job runs this many times; the best and the median are printed


def build(seed: int = 0):
    rng = np.random.default_rng(seed)
    words = np.array("the budget plan data forum staff meeting report target program we they".split())
    docs = []
    for i in range(N_DOCS):
        parts, turns, pos = [], [], 0
        for t in range(TURNS):
            label = ("I: " if t % 2 == 0 else "R: ")
            body = " ".join(rng.choice(words, TURN_LEN // 6))[:TURN_LEN]
            start = pos + len(label)
            turns.append(Turn("I" if t % 2 == 0 else "R", "interviewer" if t % 2 == 0 else "respondent", start, start + len(body)))
            parts.append(label + body)
            pos = start + len(body) + 2
        docs.append(Document(f"d{i}", "\n\n".join(parts) + "\n", turns=tuple(turns)))
    cases = pd.DataFrame({"region": rng.choice(["north", "south", "east"], N_DOCS)}, index=pd.Index([f"d{i}" for i in range(N_DOCS)], name="case_id"))
    corpus = Corpus(docs, cases=cases)
    doc_i = rng.integers(0, N_DOCS, N_CODINGS)
    turn_i = rng.integers(0, TURNS, N_CODINGS)
    starts = np.array([docs[d].turns[t].start for d, t in zip(doc_i, turn_i, strict=True)]) + rng.integers(0, 60, N_CODINGS)
    ends = starts + rng.integers(5, 60, N_CODINGS)
    frame = pd.DataFrame({
        "doc_id": [f"d{i}" for i in doc_i], "start": starts, "end": ends,
        "code": [f"code_{k:02d}" for k in rng.integers(0, N_CODES, N_CODINGS)],
        "coder": rng.choice(["ana", "auto"], N_CODINGS), "source": "human", "score": rng.random(N_CODINGS),
    })
    frame["case_id"] = frame["doc_id"]
    return corpus, Codings(frame)


def main() -> None:
    t0 = time.perf_counter()
    corpus, codings = build()
    print(f"built corpus and codings in {time.perf_counter() - t0:.1f} s: {len(corpus)} documents, {len(codings)} codings")
    t0 = time.perf_counter()
    M.prepare("warm-up", codings, corpus)
    print(f"text index (once per corpus, cached): {time.perf_counter() - t0:.2f} s")
    jobs = {
        "case_by_code n_segments": lambda: M.case_by_code(codings, corpus),
        "case_by_code coverage+margins": lambda: M.case_by_code(codings, corpus, "coverage", margins=True),
        "case_by_code n_words": lambda: M.case_by_code(codings, corpus, "n_words"),
        "case_by_code consensus": lambda: M.case_by_code(codings, corpus, coder="consensus"),
        "case_by_code role=respondent": lambda: M.case_by_code(codings, corpus, role="respondent"),
        "code_by_attribute share_cases": lambda: M.code_by_attribute(codings, corpus, "region", "share_cases"),
        "cooccurrence segment count": lambda: M.cooccurrence(codings, corpus),
        "cooccurrence document c": lambda: M.cooccurrence(codings, corpus, level="document", measure="c"),
        "cooccurrence window": lambda: M.cooccurrence(codings, corpus, level="window", window=1),
        "cooccurrence jaccard": lambda: M.cooccurrence(codings, corpus, measure="jaccard"),
        "framework_matrix quotes=3": lambda: M.framework_matrix(codings, corpus, quotes=3),
        "case_profile": lambda: M.case_profile(codings, corpus, "d7"),
        "case_timeline": lambda: M.case_timeline(codings, corpus, "d7"),
        "cross_case_summary": lambda: M.cross_case_summary(codings, corpus),
        "long_table": lambda: M.long_table(codings, corpus),
    }
    print(f"load average before timing: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"{'function':34s} {'best':>7s} {'median':>7s}  (of {REPEAT} runs)")
    worst = 0.0
    for name, job in jobs.items():
        times = []
        for _ in range(REPEAT):
            t0 = time.perf_counter()
            job()
            times.append(time.perf_counter() - t0)
        best, med = min(times), statistics.median(times)
        worst = max(worst, med)
        print(f"{name:34s} {best:6.2f}s {med:6.2f}s {'OK' if med <= 2 else 'SLOW'}")
    print(f"slowest median: {worst:.2f} s (target <= 2 s)")

if __name__ == "__main__":
    main()
