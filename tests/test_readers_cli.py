"""``qualcode ingest``: summary table, segments CSV, refusal to overwrite, errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from qualcode.cli import main

DATA = Path(__file__).parent / "data" / "readers"


def test_readers_cli_ingest_summary_and_segments(tmp_path, capsys):
    out = tmp_path / "seg.csv"
    rc = main(["ingest", str(DATA / "interview_labels.txt"), str(DATA / "call.srt"),
               "--segments", str(out), "--unit", "turn"])
    assert rc == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0].split() == [
        "doc_id", "format", "language", "kind", "speakers", "turns", "sentences", "words"
    ]
    row = next(line for line in lines if line.startswith("interview_labels"))
    assert row.split()[1:6] == ["txt", "en", "interview", "2", "4"]
    total = next(line for line in lines if line.startswith("total"))
    assert total.split()[-4:-2] == ["4", "6"]  # speakers, turns summed over documents
    seg = pd.read_csv(out)
    assert len(seg) == 6 and set(seg["doc_id"]) == {"interview_labels", "call"}
    assert f"wrote 6 turn segments to {out}" in text
    # refuse to overwrite without --force
    before = out.read_bytes()
    rc = main(["ingest", str(DATA / "call.srt"), "--segments", str(out)])
    assert rc == 2
    assert "already exists" in capsys.readouterr().err
    assert out.read_bytes() == before
    assert main(["ingest", str(DATA / "call.srt"), "--segments", str(out), "--force"]) == 0
    # default unit is sentence: "What data do you use?" + R's two sentences
    assert list(pd.read_csv(out)["text"]) == [
        "What data do you use?", "Mostly e-monev for budget absorption.", "Every quarter."
    ]

def test_readers_cli_ingest_window_and_pseudonyms(tmp_path, capsys):
    names = tmp_path / "n.csv"
    names.write_text("name,pseudonym\nBudi Santoso,P01\n")
    out = tmp_path / "w.csv"
    rc = main(["ingest", str(DATA / "meeting.vtt"), "--unit", "window", "--window", "2",
               "--segments", str(out), "--pseudonyms", str(names), "--language", "en"])
    assert rc == 0
    seg = pd.read_csv(out)
    assert "P01" in set(seg["speaker"]) and "Budi Santoso" not in set(seg["speaker"])
    assert (seg["unit"] == "window").all()


def test_readers_cli_ingest_errors(tmp_path, capsys):
    bad = tmp_path / "empty.txt"
    bad.write_bytes(b"")
    assert main(["ingest", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "qualcode: error:" in err and "empty.txt" in err
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "e.txt").write_bytes(b"")
    (folder / "ok.txt").write_text("I: hi?\nR: hello.\n")
    assert main(["ingest", str(folder)]) == 0
    captured = capsys.readouterr()
    assert "warning" in captured.err and "e.txt" in captured.err
    assert main(["ingest", str(folder), "--strict"]) == 2
