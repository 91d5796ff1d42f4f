"""The command line under stress: killed runs, concurrent runs, no network, CSV formula cells.

These tests start real ``qualcode`` processes and kill them with SIGKILL at several points:
whatever the moment, the output path holds either nothing or the previous result, intact,
and no temporary file or folder is left beside it.
"""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import qualcode as qc
from qualcode.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "transcripts_sample"
CODEBOOK = ROOT / "codebooks" / "technocratic_planning.yaml"
NVIVO = Path(__file__).parent / "data" / "refi" / "nvivo12_hu_oltas0517.qdpx"
FILES = ["tp01_bappeda_province_planner.txt", "tp_fgd1_planning_forum.txt"]


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("small") / "texts"
    folder.mkdir()
    for name in FILES:
        shutil.copy(SAMPLE / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[Path, Path]:
    """Three short transcripts and a two-code codebook: enough for the embedding model to run."""
    base = tmp_path_factory.mktemp("tiny")
    folder = base / "texts"
    folder.mkdir()
    for d in qc.testing.tiny_corpus():
        (folder / f"{d.doc_id}.txt").write_text(d.text, encoding="utf-8")
    cb = qc.Codebook([
        {"id": "top_down", "definition": "Programs are given from above, by the ministry or the centre.",
         "examples": {"en": ["The ministry decides our programs."]}, "rules": {"keywords": {"en": ["nomenclature"]}}},
        {"id": "data_use", "definition": "Using monitoring data to plan.", "examples": {"en": ["We look at the data."]}},
    ], name="tiny")
    cb.save(base / "cb.yaml")
    return folder, base / "cb.yaml"


def _start(*argv: str, cache: Path | None = None) -> subprocess.Popen:
    env = dict(os.environ)
    if cache is not None:
        env["QUALCODE_CACHE_DIR"] = str(cache)
    return subprocess.Popen([sys.executable, "-m", "qualcode.cli", *argv], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _leftovers(out: Path) -> list[str]:
    """Hidden siblings a run may create beside ``out`` (lock, build folders, temp files)."""
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


def _wait_clean(out: Path, timeout: float = 10.0) -> list[str]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not _leftovers(out):
            return []
        time.sleep(0.05)
    return _leftovers(out)


def _kill_when(proc: subprocess.Popen, ready, timeout: float = 120.0) -> bool:
    """SIGKILL ``proc`` as soon as ``ready()`` is true; False when it ended first."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            return False
        if ready():
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.005)
    proc.kill()
    proc.wait()
    pytest.fail("the run neither finished nor reached the point to kill it")
    return False


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_killing_the_main_job_at_any_point_leaves_the_previous_results_intact(small, tmp_path):
    out = tmp_path / "results"
    args = ["code", str(small), "--codebook", str(CODEBOOK), "--out", str(out), "--rules-only", "--no-progress"]
    first = _start(*args)
    assert first.wait() == 0, first.stderr.read()
    before = _snapshot(out)
    assert "run.json" in before and not _leftovers(out)
    points = {
        "right after the claim": lambda: (out.parent / ".results.lock").exists(),
        "while coding": lambda: (out.parent / ".results.lock").exists() and time.sleep(1.0) is None,
        "while writing the outputs": lambda: any(p.endswith(".partial") for p in _leftovers(out)),
        "while writing the reports": lambda: any(
            (out.parent / p / "figures").exists() for p in _leftovers(out) if p.endswith(".partial")),
    }
    killed = 0
    for point, ready in points.items():
        proc = _start(*args, "--force")
        killed += _kill_when(proc, ready)
        assert _wait_clean(out) == [], point
        assert _snapshot(out) == before, point
    assert killed >= 3


def test_killing_a_first_run_leaves_no_output_folder(small, tmp_path):
    out = tmp_path / "fresh"
    args = ["code", str(small), "--codebook", str(CODEBOOK), "--out", str(out), "--rules-only", "--no-progress"]
    for delay in (0.5, 2.0):
        proc = _start(*args)
        t0 = time.monotonic()
        _kill_when(proc, lambda d=delay, t0=t0: time.monotonic() - t0 > d)
        assert _wait_clean(out) == []
        assert not out.exists()
    proc = _start(*args)
    _kill_when(proc, lambda: any(p.endswith(".partial") for p in _leftovers(out)))
    assert _wait_clean(out) == [] and not out.exists()


def test_killing_import_and_export_leaves_nothing_half_written(tmp_path):
    d = tmp_path / "imported"
    assert main(["import", str(NVIVO), "--out", str(d)]) == 0
    before = _snapshot(d)
    for delay in (0.3, 0.8):
        proc = _start("import", str(NVIVO), "--out", str(d), "--force")
        t0 = time.monotonic()
        _kill_when(proc, lambda dl=delay, t0=t0: time.monotonic() - t0 > dl)
        assert _wait_clean(d) == [] and _snapshot(d) == before
    proc = _start("import", str(NVIVO), "--out", str(d), "--force")
    _kill_when(proc, lambda: any(p.endswith(".partial") for p in _leftovers(d)))
    assert _wait_clean(d) == [] and _snapshot(d) == before

    y = tmp_path / "y.qdpx"
    export = ["export", str(d), "--codebook", str(d / "codebook.yaml"), "--codings", str(d / "codings.csv"),
              "--qdpx", str(y)]
    assert main(export) == 0
    first = y.read_bytes()
    for delay in (0.3, 1.0):
        proc = _start(*export, "--force", "--target", "nvivo")
        t0 = time.monotonic()
        _kill_when(proc, lambda dl=delay, t0=t0: time.monotonic() - t0 > dl)
        assert _wait_clean(y) == []
        assert y.read_bytes() == first or main(["import", str(y), "--out", str(tmp_path / f"chk{delay}")]) == 0


def test_a_second_run_on_the_same_output_stops_at_once(small, tmp_path, capsys):
    out = tmp_path / "results"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\nfrom qualcode.cli._io import OutputClaim\n"
         f"with OutputClaim({str(out)!r}) as c:\n    print('claimed', flush=True)\n    time.sleep(60)\n"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "claimed"
        for extra in ([], ["--force"]):
            argv = ["code", str(small), "--codebook", str(CODEBOOK), "--out", str(out), "--rules-only", *extra]
            assert main(argv) == 2
            err = capsys.readouterr().err
            assert f"another qualcode run (pid {holder.pid}) is writing {out}" in err
        assert main(["import", str(NVIVO), "--out", str(out)]) == 2
        assert "another qualcode run" in capsys.readouterr().err
    finally:
        holder.kill()
        holder.wait()
    # the holder died without cleaning up: the next run is not blocked, and nothing is left
    assert _wait_clean(out) == []
    assert main(["code", str(small), "--codebook", str(CODEBOOK), "--out", str(out), "--rules-only",
                 "--no-reports", "--no-progress"]) == 0
    assert _leftovers(out) == []


def test_a_real_second_run_does_not_replace_the_first_ones_folder(small, tmp_path):
    out = tmp_path / "results"
    args = ["code", str(small), "--codebook", str(CODEBOOK), "--out", str(out), "--rules-only", "--no-progress",
            "--no-reports"]
    first = _start(*args)
    end = time.monotonic() + 60
    while not (out.parent / ".results.lock").exists() and first.poll() is None and time.monotonic() < end:
        time.sleep(0.01)
    second = _start(*args)
    assert second.wait() == 2
    assert "another qualcode run" in second.stderr.read()
    assert first.wait() == 0
    assert json.loads((out / "run.json").read_text())["command"] == "code"
    assert _leftovers(out) == []


def test_two_runs_at_once_sharing_a_cold_cache_give_identical_codings(tiny, tmp_path):
    folder, cb = tiny
    cache = tmp_path / "cache"
    runs = [_start("code", str(folder), "--codebook", str(cb), "--out", str(tmp_path / name),
                   "--no-reports", "--no-progress", cache=cache) for name in ("a", "b")]
    for proc in runs:
        assert proc.wait() == 0, proc.stderr.read()
    assert filecmp.cmp(tmp_path / "a" / "codings.csv", tmp_path / "b" / "codings.csv", shallow=False)
    codings = pd.read_csv(tmp_path / "a" / "codings.csv")
    assert (codings["source"] == "embedding").any()  # both embedded, through the one cache
    assert any(cache.rglob("*")), "the runs did not use the shared cache"


_NO_NETWORK = """
import sys
seen = []
LOOPBACK = ("127.0.0.1", "::1", "localhost", "")
def hook(event, args):
    # connections, datagrams and name lookups fail; binding a loopback address does not (urllib3,
    # imported by spaCy, binds ::1 once at import to learn whether IPv6 exists)
    blocked = event in ("socket.connect", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo",
                        "socket.gethostbyname", "socket.gethostbyaddr", "socket.getnameinfo",
                        "urllib.Request", "http.client.connect")
    if event == "socket.bind" and isinstance(args[1], tuple) and args[1][0] not in LOOPBACK:
        blocked = True
    if blocked:
        seen.append(event)
        sys.stderr.write(f"NETWORK {event} {args!r}\\n")
        raise OSError("network access is disabled in this test")
sys.addaudithook(hook)
from qualcode.cli import main
status = main(sys.argv[1:])
print("SOCKET EVENTS", len(seen), file=sys.stderr)
sys.exit(status)
"""


def test_the_main_job_opens_no_network_connection(tiny, tmp_path):
    folder, cb = tiny
    out = tmp_path / "results"
    proc = subprocess.run([sys.executable, "-c", _NO_NETWORK, "code", str(folder), "--codebook", str(cb),
                           "--out", str(out), "--no-progress"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "SOCKET EVENTS 0" in proc.stderr and "NETWORK" not in proc.stderr
    assert (out / "report.docx").is_file() and (out / "codings.csv").is_file()


def test_csv_formula_cells_are_protected_in_the_csvs_only(tmp_path):
    text = ("R: =HYPERLINK(\"http://x\",\"click\") is what he typed.\n"
            "R: +62 812 555 is my number.\n"
            "R: @admin said so.\n"
            "R: -5 percent, she said.\n"
            "R: '=already quoted.\n"
            "R: Plain words.\n")
    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "doc.txt").write_text(text, encoding="utf-8")
    cb = qc.Codebook([{"id": "any", "definition": "Anything.",
                       "rules": {"regex": [{"pattern": r"\w+"}]}}], name="f")
    cb.save(tmp_path / "cb.yaml")
    out = tmp_path / "results"
    assert main(["code", str(folder), "--codebook", str(tmp_path / "cb.yaml"), "--out", str(out),
                 "--rules-only", "--unit", "turn", "--no-progress"]) == 0
    raw = (out / "segments.csv").read_text(encoding="utf-8")
    for cell in ("'=HYPERLINK", "'+62 812", "'@admin", "'-5 percent", "''=already"):
        assert cell in raw, cell
    seg = pd.read_csv(out / "segments.csv")
    assert not seg["text"].str.match(r"^[=+\-@]").any()  # a spreadsheet sees text, not formulas
    corpus = qc.read_corpus(folder)
    codings = qc.read_codings(out / "codings.csv", corpus).to_frame()
    assert set(codings["text"]) >= {'=HYPERLINK("http://x","click") is what he typed.', "'=already quoted."}
    cells = [v for df in pd.read_excel(out / "matrices.xlsx", sheet_name=None).values()
             for v in df.astype(str).to_numpy().ravel() if "HYPERLINK" in v]
    assert cells and all("'=HYPERLINK" not in v for v in cells)  # the workbook keeps the text as it is


def test_outputs_respect_the_umask(small, tmp_path):
    out = tmp_path / "results"
    old = os.umask(0o022)
    try:
        assert main(["code", str(small), "--codebook", str(CODEBOOK), "--out", str(out), "--rules-only",
                     "--no-progress"]) == 0
    finally:
        os.umask(old)
    modes = {str(p.relative_to(out)): oct(p.stat().st_mode & 0o777) for p in out.rglob("*")}
    assert oct(out.stat().st_mode & 0o777) == "0o755"
    assert modes["figures"] == "0o755"
    assert {m for name, m in modes.items() if name != "figures"} == {"0o644"}, modes
