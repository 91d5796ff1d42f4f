"""Property tests: offsets are the single source of truth, for every unit.

For random transcripts (random speakers and label styles, timestamps, unicode text,
blank lines, bullets, CRLF/CR line endings) the parser recovers the turns that were
written, and for every unit ``doc.text[start:end] == text``, segments lie inside their
turn, are sorted, and never overlap (windows only overlap when stride < window).
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qualcode import Corpus
from qualcode.errors import IngestError
from qualcode.readers import document_from_text

KNOWN = [
    "I", "R", "Interviewer", "Respondent", "Moderator", "P1", "R03", "Participant 2",
    "Pewawancara", "Narasumber", "Peserta 4", "Informan", "Fasilitator",
]
NAMES = ["Élise Ñúñez", "Pak Hendra", "Dr. Wulan", "Ibu Sari", "Đức"]
LOWER = "abcdefghijklmnopqrstuvwxyzàéíóúñçğşıøåæ"
word = st.one_of(
    st.text(alphabet=LOWER, min_size=1, max_size=9),
    st.sampled_from(["e-monev", "Bappeda", "OPD", "3,5", "Rp", "(DPRD)", "—", "«ok»", "🙂"]),
)
punct = st.sampled_from(["", "", ".", "?", "!", "...", ",", ";", ":"])
sentence = st.builds(
    lambda ws, p: " ".join(ws) + p, st.lists(word, min_size=1, max_size=12), punct
)
line = st.one_of(
    st.builds(" ".join, st.lists(sentence, min_size=1, max_size=4)),
    st.builds(lambda s: "- " + s, sentence),
    st.sampled_from(["", "  ", "\t"]),
)
timestamp = st.one_of(
    st.just(""),
    st.builds(lambda h, m, s: f"[{h:02d}:{m:02d}:{s:02d}] ", st.integers(0, 2), st.integers(0, 59), st.integers(0, 59)),
    st.builds(lambda m, s: f"({m:02d}:{s:02d}) ", st.integers(0, 59), st.integers(0, 59)),
    st.builds(lambda h, m, s: f"{h:02d}:{m:02d}:{s:02d} ", st.integers(0, 2), st.integers(0, 59), st.integers(0, 59)),
)
style = st.sampled_from(["{}: ", "**{}:** ", "**{}**: ", "{}:\n", "{}:   "])


@st.composite
def transcript(draw):
    n = draw(st.integers(1, 8))
    speakers = draw(st.lists(st.sampled_from(KNOWN + NAMES), min_size=n, max_size=n))
    counts = {s: speakers.count(s) for s in speakers}
    speakers = [s if s in KNOWN or counts[s] >= 2 else "R" for s in speakers]
    turns = []
    parts = []
    if draw(st.booleans()):
        parts.append("# A heading\n\n")
    for spk in speakers:
        first = draw(st.builds(" ".join, st.lists(sentence, min_size=1, max_size=3)))
        more = draw(st.lists(line, max_size=4))
        label = draw(timestamp) + draw(style).format(spk)
        body = "\n".join([first, *more])
        parts.append(label + body + "\n")
        if draw(st.booleans()):
            parts.append("\n")
        turns.append((spk, body.strip()))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = "".join(parts).replace("\n", newline)
    return text, turns


def check_segments(doc, window: int = 3, stride: int | None = None) -> None:
    corpus = Corpus([doc])
    for unit in ("turn", "paragraph", "sentence", "window"):
        seg = corpus.segments(unit, window=window, stride=stride)
        prev_start, prev_end = -1, 0
        for row in seg.itertuples():
            assert doc.text[row.start : row.end] == row.text
            assert row.text and row.text == row.text.strip()
            t = doc.turns[row.turn]
            assert t.start <= row.start < row.end <= t.end
            assert row.speaker == t.speaker
            assert row.start >= prev_start  # sorted
            overlap_ok = unit == "window" and stride is not None and stride < window
            if not overlap_ok:
                assert row.start >= prev_end  # no overlap
            prev_start, prev_end = row.start, row.end
        assert seg["segment_id"].is_unique
    turns = corpus.segments("turn")
    sents = corpus.segments("sentence")
    # every sentence lies in some paragraph, every paragraph in its turn
    paras = corpus.segments("paragraph")
    for row in sents.itertuples():
        assert ((paras.start <= row.start) & (paras.end >= row.end)).any()
    assert len(turns) <= len(doc.turns)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transcript())
def test_segments_generated_transcripts_roundtrip(case):
    text, expected = case
    doc = document_from_text(text)
    assert [(t.speaker, doc.text[t.start : t.end]) for t in doc.turns] == expected
    assert "\r" not in doc.text
    check_segments(doc)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transcript(), st.integers(1, 4), st.integers(1, 4))
def test_segments_windows_with_stride(case, window, stride):
    doc = document_from_text(case[0])
    check_segments(doc, window=window, stride=stride)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(
            st.text(max_size=60),
            st.builds(lambda s, t: f"{s}: {t}", st.sampled_from(KNOWN + ["Note", "X y"]), st.text(max_size=30)),
            st.builds(lambda t: f"- {t}", st.text(max_size=30)),
            st.sampled_from(["", "---", "# h", "**B:**", "[00:00:01]", "  * P2 (x): y"]),
        ),
        min_size=1,
        max_size=15,
    ),
    st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_segments_arbitrary_text_never_breaks_offsets(lines, newline):
    text = newline.join(lines)
    if not text.strip() or "\x00" in text:
        return
    try:
        doc = document_from_text(text)
    except IngestError as exc:  # invalid front matter is a clear error, never a crash
        assert "front matter" in str(exc) and text.startswith("---")
        return
    prev = 0
    for t in doc.turns:
        assert prev <= t.start < t.end <= len(doc.text)
        piece = doc.text[t.start : t.end]
        assert piece == piece.strip()
        prev = t.end
    check_segments(doc)
