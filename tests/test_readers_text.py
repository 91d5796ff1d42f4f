"""Plain-text and Markdown transcripts: labels, timestamps, front matter, notes, roles."""

from __future__ import annotations

from pathlib import Path

import pytest

from qualcode.errors import IngestError
from qualcode.readers import document_from_text, guess_language, read_document

DATA = Path(__file__).parent / "data" / "readers"


def turns(doc):
    return [(t.speaker, t.role, doc.text[t.start : t.end]) for t in doc.turns]


def test_readers_timestamps_and_labels_in_txt():
    doc = read_document(DATA / "interview_labels.txt")
    assert doc.doc_id == "interview_labels"
    assert doc.kind == "interview"
    assert doc.language == "en"
    got = turns(doc)
    assert [s for s, _, _ in got] == ["I", "R", "I", "R"]
    assert [r for _, r, _ in got] == ["interviewer", "respondent", "interviewer", "respondent"]
    # "Note:" occurs once and is not a known role: it stays inside R's turn
    assert got[1][2] == (
        "Mostly the ministry nomenclature decides.\nNote: the budget ceiling comes first.\n"
        "We then copy last year's list."
    )
    # [hh:mm:ss], (hh:mm:ss) and bare hh:mm:ss prefixes; time_end from the next turn
    assert [t.time_start for t in doc.turns] == [5.0, 12.0, 90.0, 130.0]
    assert [t.time_end for t in doc.turns] == [12.0, 90.0, 130.0, None]
    # the preamble (title, "Date:") is outside every turn
    assert doc.turns[0].start > doc.text.index("Date: 3 May")
    assert doc.source.format == "txt"
    assert doc.source.newline == "\n"


@pytest.mark.parametrize(
    ("speaker", "role", "text"),
    [
        ("Interviewer", "interviewer", "Good morning, thank you for joining."),
        ("P1", "participant", "I am a participant label."),
        ("R03", "participant", "Code labels work."),
        ("Participant 2", "participant", "Numbered labels work."),
        ("Pewawancara", "interviewer", "Apa tugas Bapak?"),
        ("Narasumber", "participant", "Menyusun rencana kerja."),
        ("Informan", "participant", "Informan label."),
        ("Responden", "participant", "Responden label."),
        ("Dr. Wulan", "participant", "See, twice."),
    ],
)
def test_readers_every_label_style_is_detected(speaker, role, text):
    doc = read_document(DATA / "styles.txt")
    assert doc.kind == "fgd"  # many non-interviewer speakers
    assert (speaker, role, text) in turns(doc)
    assert len(doc.turns) == 11


def test_readers_markdown_bold_labels_front_matter_and_headings():
    doc = read_document(DATA / "indonesian_fgd.md")
    assert doc.doc_id == "fgd_desa"  # front matter overrides the stem
    assert doc.case_id == "desa_sukamaju"
    assert doc.language == "id"
    assert doc.attributes["region"] == "Jawa Barat"
    assert "doc_id" not in doc.attributes
    assert doc.kind == "fgd"  # a moderator
    got = turns(doc)
    assert got[0] == ("Moderator", "moderator", "Bagaimana proses musrenbang di desa ini?")
    assert got[1] == ("Pak Hendra", "participant", "Kami tidak pernah diundang ke forum kecamatan.")
    assert got[2][0] == "Ibu Sari"
    assert ("Peserta 3", "participant", "Saya setuju dengan itu.") in got
    heading = doc.text.index("# FGD Desa")
    assert all(not (t.start <= heading < t.end) for t in doc.turns)
    # front matter lies outside every turn but stays in the text
    assert doc.text.startswith("---\ndoc_id: fgd_desa")
    assert doc.turns[0].start > doc.text.index("level: regency")


def test_readers_interview_roles_pairs():
    doc = document_from_text("P: Apa tugas Bapak?\nN: Menyusun rencana.\nP: Lalu?\nN: Sudah.\n")
    assert [t.role for t in doc.turns] == ["interviewer", "respondent"] * 2
    doc = document_from_text("I: Why?\nP: Because.\n")
    assert [t.role for t in doc.turns] == ["interviewer", "respondent"]
    doc = document_from_text("Q: Why?\nA: Because.\n")
    assert [t.role for t in doc.turns] == ["interviewer", "respondent"]


def test_readers_label_on_its_own_line_and_multiline_turn():
    text = "Interviewer:\n  What happened next?\n\nRespondent:\nWe waited.\n\nThen we gave up.\n"
    doc = document_from_text(text)
    assert turns(doc) == [
        ("Interviewer", "interviewer", "What happened next?"),
        ("Respondent", "respondent", "We waited.\n\nThen we gave up."),
    ]


def test_readers_recurring_name_counts_single_unknown_name_does_not():
    text = (
        "Moderator: Welcome.\nBudi Santoso: Thanks.\nBudget: this line is text.\n"
        "Moderator: Next?\nBudi Santoso: More.\n"
    )
    doc = document_from_text(text)
    assert doc.speakers == ["Moderator", "Budi Santoso"]
    assert doc.turn_text(1) == "Thanks.\nBudget: this line is text."


def test_readers_false_positive_guards():
    # times, URLs, lower-case words and metadata words are never labels
    text = (
        "R: We met at 10:30 and checked http://example.org for data.\n"
        "the plan: nothing changed.\nNote: really.\nNote: again.\nI: OK.\n"
    )
    doc = document_from_text(text)
    assert doc.speakers == ["R", "I"]
    assert doc.turn_text(0).endswith("Note: again.")


def test_readers_no_labels_gives_unknown_paragraph_turns():
    doc = read_document(DATA / "no_labels.txt")
    assert doc.kind == "other"
    assert turns(doc) == [
        (
            "unknown",
            "unknown",
            "The planning office shared its annual report.\nIt lists the programs by agency.",
        ),
        ("unknown", "unknown", "A second paragraph about the budget."),
    ]


def test_readers_fgd_bullet_notes():
    doc = read_document(DATA / "notes_fgd.md")
    assert doc.kind == "notes"
    got = turns(doc)
    assert got[0] == (
        "Moderator",
        "moderator",
        "Moderator asked how proposals travel from village to district.",
    )
    assert got[1] == ("P1", "participant", "we never hear back about our proposals.")
    assert got[3] == ("notes", "unknown", "general agreement that roads dominate every year")
    assert got[4] == ("Peserta 3", "participant", "dana desa lebih bisa diandalkan.")
    assert got[-1][0] == "notes" and got[-1][2].startswith("Summary: participants")
    assert doc.speakers == ["Moderator", "P1", "P2", "notes", "Peserta 3"]


def test_readers_interview_with_a_bulleted_answer_is_not_notes():
    text = "I: What do you need?\nR: Three things:\n- money\n- staff\nI: Thanks.\nR: Welcome.\n"
    doc = document_from_text(text)
    assert doc.kind == "interview"
    assert doc.turn_text(1) == "Three things:\n- money\n- staff"


def test_readers_front_matter_kind_overrides_detection():
    text = "---\nkind: notes\n---\nSome summary.\nP1: said a thing.\n"
    doc = document_from_text(text)
    assert doc.kind == "notes"
    text = "---\nkind: interview\n---\n- P1: a bullet\n- P2: another\n- P1: more\n"
    assert document_from_text(text).kind == "interview"


def test_readers_bad_front_matter_names_file_and_line(tmp_path):
    p = tmp_path / "bad_fm.md"
    p.write_text("---\ndoc_id: a\nregion: [north\n---\nI: hi\n", encoding="utf-8")
    with pytest.raises(IngestError) as exc:
        read_document(p)
    assert "bad_fm.md" in str(exc.value)
    assert exc.value.line is not None and exc.value.line >= 3
    p.write_text("---\n- a\n- b\n---\nI: hi\n", encoding="utf-8")
    with pytest.raises(IngestError, match="mapping"):
        read_document(p)


def test_readers_invalid_kind_is_an_error(tmp_path):
    p = tmp_path / "k.md"
    p.write_text("---\nkind: podcast\n---\nI: hi\nR: ho\n", encoding="utf-8")
    with pytest.raises(IngestError, match="podcast"):
        read_document(p)


def test_readers_language_guess_and_code_switching():
    assert guess_language("Kami tidak pernah diundang ke forum yang itu dan ini") == "id"
    assert guess_language("We were never invited to the forum and that is the problem") == "en"
    mixed = "Jadi kami pakai data e-monev, the dashboard is useful, tapi datanya belum lengkap dan tidak ada di sistem yang baru."
    assert guess_language(mixed) == "id"
    doc = document_from_text("I: Why?\nR: Because it is the rule.\n", language="id")
    assert doc.language == "id"  # argument wins over the guess


def test_readers_offsets_exclude_labels_for_every_turn():
    for name in ("interview_labels.txt", "styles.txt", "indonesian_fgd.md", "notes_fgd.md"):
        doc = read_document(DATA / name)
        for t in doc.turns:
            seg = doc.text[t.start : t.end]
            assert seg == seg.strip() and seg
            assert not seg.startswith(("**", ":", "["))
