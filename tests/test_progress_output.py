"""Progress output: bars on a terminal, one summary line per stage in a log."""

from __future__ import annotations

import io
import re
import subprocess
import sys

import qualcode as qc


def test_a_log_gets_one_finished_line_per_stage_and_no_bars(tmp_path):
    folder = tmp_path / "t"
    folder.mkdir()
    for d in qc.testing.tiny_corpus():
        (folder / f"{d.doc_id}.txt").write_text(d.text, encoding="utf-8")
    cb = qc.Codebook([{"id": "top_down", "definition": "Programs given by the ministry.",
                       "examples": {"en": ["The ministry decides."]}}], name="p")
    cb.save(tmp_path / "cb.yaml")
    proc = subprocess.run([sys.executable, "-m", "qualcode.cli", "code", str(folder), "--codebook",
                           str(tmp_path / "cb.yaml"), "--out", str(tmp_path / "r"), "--no-reports"],
                          capture_output=True, text=True, timeout=600)  # stderr is a pipe, not a TTY
    assert proc.returncode == 0, proc.stderr
    err = proc.stderr
    assert "\r" not in err and "\x1b[" not in err and "%|" not in err
    lines = err.splitlines()
    stages = [ln for ln in lines if re.match(r"^qualcode: (embedding|coding): ", ln)]
    assert any(re.fullmatch(r"qualcode: embedding: [\d,]+ texts in [\d.]+ s", ln) for ln in stages), lines
    assert sum(ln.startswith("qualcode: coding: done in ") for ln in stages) == 1, lines
    assert all(ln.startswith("qualcode: ") for ln in lines), lines


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_still_gets_bars():
    from qualcode._progress import tqdm

    term = _Terminal()
    bar = tqdm(total=3, desc="coding", file=term, ncols=80, mininterval=0)
    bar.update(3)
    bar.close()
    text = term.getvalue()
    assert "\r" in text and "coding: 100%" in text and "3/3" in text
    assert "qualcode: coding:" not in text


def test_disabled_progress_prints_nothing(capsys):
    from qualcode._progress import tqdm

    bar = tqdm(total=2, desc="coding", disable=True)
    bar.update(2)
    bar.close()
    for _ in tqdm(range(3), desc="reading", unit="file"):
        pass
    err = capsys.readouterr().err
    assert "coding" not in err
    assert err.strip() == "qualcode: reading: 3 files in 0.0 s"
