"""The generated hostile corpus (issue 16): 0 tracebacks, 0 hangs, 0 modified inputs.

``tests/hostile_corpus.py`` writes ~280 hostile inputs across every reader, codebooks, codings
files and REFI-QDA projects and runs ``ingest``, ``code --rules-only``, ``codebook validate`` /
``import``, ``evaluate`` and ``import`` on them in one worker process, each run bounded in time
(an alarm) and the worker in memory (RLIMIT_AS). The worker is a subprocess so that a hang
inside C code can be killed: the run it was in is reported and the worker restarts after it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).with_name("hostile_corpus.py")
PER_RUN_S = 30  # a hang bound, not a speed target: each run takes well under a second or two
WORKER_S = 900


def test_hostile_corpus_has_no_tracebacks_hangs_or_modified_inputs(tmp_path):
    folder = tmp_path / "hostile"
    results: dict[int, dict] = {}
    started: dict[int, str] = {}
    header: dict = {}
    modified = None
    start = 0
    killed: list[str] = []
    while True:
        cmd = [sys.executable, str(SCRIPT), "run", str(folder), "--start", str(start), "--per-run-s", str(PER_RUN_S)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=WORKER_S, check=False)
            out, crashed = proc.stdout, proc.returncode != 0
        except subprocess.TimeoutExpired as exc:
            out, crashed = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or ""), True
        last = None
        for line in out.splitlines():
            rec = json.loads(line)
            if "generated" in rec:
                header = rec
            elif "start" in rec:
                started[rec["start"]] = rec["name"]
                last = rec["start"]
            elif "done" in rec:
                results[rec["done"]] = rec
            elif "modified" in rec:
                modified = rec["modified"]
        if not crashed:
            break
        assert last is not None and last not in results, f"the worker failed outside a run:\n{proc.stderr[-2000:]}"
        killed.append(started[last])  # a hang in C code or a crash of the worker
        start = last + 1
    problems = [f"{r['name']}: {r['problem']}" for r in results.values() if r["problem"]]
    assert header["inputs"] >= 200 and header["generated"] >= 300
    assert killed == [], killed
    assert problems == [], problems
    assert modified == []
    assert len(results) >= 300
    codes = [r["code"] for r in results.values()]
    assert set(codes) <= {0, 1, 2}
    assert codes.count(0) >= 100 and codes.count(2) >= 100  # sensible results and clean errors
