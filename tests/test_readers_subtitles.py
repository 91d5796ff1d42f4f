"""Caption files: voice tags, cue labels, merging, timestamps, bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from qualcode.errors import IngestError
from qualcode.readers import read_document

DATA = Path(__file__).parent / "data" / "readers"


def test_readers_vtt_voice_tags_and_merging():
    doc = read_document(DATA / "meeting.vtt")
    assert doc.source.format == "vtt"
    assert doc.text == (
        "Moderator: Welcome everyone to the session. Let us start with introductions.\n"
        "Budi Santoso: I work at the planning agency.\n"
        "Sari: And I am from the health office. I joined last year.\n"
    )
    got = [(t.speaker, t.role, doc.text[t.start : t.end], t.time_start, t.time_end) for t in doc.turns]
    assert got == [
        ("Moderator", "moderator", "Welcome everyone to the session. Let us start with introductions.", 1.0, 6.5),
        ("Budi Santoso", "participant", "I work at the planning agency.", 6.5, 9.0),
        ("Sari", "participant", "And I am from the health office. I joined last year.", 9.0, 14.0),
    ]
    assert doc.kind == "fgd"


def test_readers_srt_cue_labels_multiline_and_millis():
    doc = read_document(DATA / "call.srt")
    assert doc.source.format == "srt"
    assert [(t.speaker, t.role) for t in doc.turns] == [("I", "interviewer"), ("R", "respondent")]
    assert doc.turn_text(1) == "Mostly e-monev for budget absorption. Every quarter."
    assert doc.turns[1].time_start == 3.5 and doc.turns[1].time_end == 8.0


def test_readers_vtt_without_speakers(tmp_path):
    p = tmp_path / "plain.vtt"
    p.write_text(
        "WEBVTT\n\n00:01.000 --> 00:02.000\nHello there.\n\n00:02.000 --> 00:03.500\nGeneral talk.\n",
        encoding="utf-8",
    )
    doc = read_document(p)
    assert [(t.speaker, t.role) for t in doc.turns] == [("unknown", "unknown")]
    assert doc.turn_text(0) == "Hello there. General talk."
    assert doc.turns[0].time_end == 3.5


def test_readers_malformed_captions_name_the_file(tmp_path):
    p = tmp_path / "broken.vtt"
    p.write_text("this is not webvtt\nat all\n", encoding="utf-8")
    with pytest.raises(IngestError, match="broken.vtt"):
        read_document(p)
    s = tmp_path / "broken.srt"
    s.write_text("1\nnot a time line\nhello\n", encoding="utf-8")
    with pytest.raises(IngestError, match="broken.srt"):
        read_document(s)
