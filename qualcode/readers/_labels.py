"""Speaker labels in plain text: line classification, the recurrence heuristic, turns.

A line may start with a speaker label in the forms transcribers use::

    I: ...            R03: ...          Participant 2: ...      Pak Hendra: ...
    [00:12:03] R: ... (00:12:03) I: ... 00:12:03 Dr. Wulan: ...
    **Moderator:** ... **Peserta 2**: ... - P1 (farmer, 50s): ...

A label is 1-4 words, the first capitalised (titles such as ``Dr.``, ``Pak``, ``Ibu``
are just capitalised words), followed by ``:`` and then whitespace or the end of the
line.  To avoid false positives such as ``Note: the budget...`` inside a turn, a
candidate label only counts when it is a *known role label* (``I``, ``R``,
``Interviewer``, ``Pewawancara``, ``P1``, ``Peserta 2``...) or when it recurs at least
twice in the document as a label.  Words that announce metadata (``Note``,
``Catatan``, ``Date``, ``Lokasi``...) never count.  Lines without a label continue
the current turn; Markdown headings are outside every turn, and so is text before the
first label of a labelled transcript.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

__all__ = [
    "RawTurn",
    "assign_roles",
    "infer_kind",
    "label_base",
    "parse_lines",
    "parse_time",
]

_TIME = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
_HMS = r"\d{1,2}:\d{2}:\d{2}(?:[.,]\d{1,3})?"
_PREFIX = re.compile(
    r"(?P<indent>[ \t]*)"
    r"(?P<bullet>(?:[-*+\u2022\u2013]|\d{1,2}[.)])[ \t]+)?"
    r"(?:(?:\[(?P<t1>" + _TIME + r")\]|\((?P<t2>" + _TIME + r")\)|(?P<t3>" + _HMS + r")(?=[ \t]))"
    r"[ \t]*(?:[-\u2013|][ \t]*)?)?"
)
_WORD = r"[^\W_][\w.'\u2019-]*"
_LABEL = re.compile(
    r"(?P<b1>\*\*)?(?P<name>" + _WORD + r"(?:[ \t]" + _WORD + r"){0,3}?)[ \t]*"
    r"(?P<paren>\([^()\n]{0,80}\))?[ \t]*(?:\*\*:|:\*\*|:)(?=\s|$)[ \t]*"
)
_TAG = re.compile(r"(?P<name>" + _WORD + r"(?:[ \t]" + _WORD + r")?)")
_HEADING = re.compile(r"[ \t]{0,3}#{1,6}(?:[ \t]|$)")
_CODE_LABEL = re.compile(r"[A-Z]{1,3}[ ]?\d{1,3}")
_NUMBERED = re.compile(
    r"(?i)(?:participant|peserta|responden|respondent|informan|informant|narasumber|speaker"
    r"|pembicara|interviewer|pewawancara|moderator|fasilitator|facilitator)[ ]?\d{1,3}"
)
_TIME_ONLY = re.compile(r"\(?\[?(" + _TIME + r")\]?\)?")

#: label base (lower case, digits removed) -> role class
ROLE_WORDS: dict[str, str] = {
    "i": "interviewer",
    "int": "interviewer",
    "interviewer": "interviewer",
    "pewawancara": "interviewer",
    "peneliti": "interviewer",
    "researcher": "interviewer",
    "penanya": "interviewer",
    "q": "interviewer",
    "moderator": "moderator",
    "mod": "moderator",
    "m": "moderator",
    "fasilitator": "moderator",
    "facilitator": "moderator",
    "r": "respondent",
    "respondent": "respondent",
    "responden": "respondent",
    "narasumber": "respondent",
    "informan": "respondent",
    "informant": "respondent",
    "interviewee": "respondent",
    "a": "respondent",
    "n": "respondent",
    "p": "p",
    "participant": "participant",
    "peserta": "participant",
    "speaker": "other",
    "pembicara": "other",
}
_STOP_WORDS = frozenset(
    """note notes nb ps re catatan summary ringkasan topic topik question questions pertanyaan
    date tanggal location lokasi time waktu tempat place example contoh duration durasi
    transcript transkrip keterangan source sumber subject title judul theme tema context konteks
    warning tip objective tujuan agenda hasil kesimpulan conclusion conclusions key action
    observation observasi follow-up status total result results answer jawaban step langkah
    day hari jam bagian part section see lihat misalnya contohnya yaitu yakni eg e.g i.e""".split()
)
_PARTICLES = frozenset({"bin", "binti", "van", "von", "de", "da", "al", "el", "di"})


@dataclass(slots=True)
class RawTurn:
    """A turn before roles are known."""

    speaker: str
    start: int
    end: int
    time_start: float | None = None
    time_end: float | None = None
    bullet: bool = False
    role: str | None = None  # fixed by the reader (tables); None: inferred from the label


@dataclass(slots=True)
class _Line:
    start: int
    end: int  # end of the line without trailing whitespace
    kind: str  # blank | heading | text
    bullet: bool = False
    indent: int = 0
    name: str | None = None
    content: int = 0  # where the text starts (after bullet, time, label)
    after_bullet: int = 0  # where the text starts after the bullet marker
    prefix_end: int = 0  # where the text starts when the label is ignored
    time: float | None = None


@dataclass
class Forced:
    """A label fixed by the reader (bold run in docx), not guessed from the text."""

    name: str | None  # None: a heading (outside every turn)
    content: int = 0
    time: float | None = None


@dataclass(slots=True)
class ParseResult:
    """Turns found in a text, and whether it looked like bullet notes."""

    turns: list[RawTurn]
    notes: bool
    labelled: bool
    speakers: list[str] = field(default_factory=list)


def parse_time(value: str) -> float | None:
    """``"01:02:03.5"`` -> 3723.5 seconds; ``"12:03"`` -> 723 seconds."""
    m = _TIME_ONLY.fullmatch(value.strip())
    if not m:
        return None
    parts = m.group(1).replace(",", ".").split(":")
    secs = 0.0
    for p in parts:
        secs = secs * 60 + float(p)
    return secs


def label_base(name: str) -> str:
    """``"Participant 2"`` -> ``"participant"``, ``"R03"`` -> ``"r"``, ``"I"`` -> ``"i"``."""
    return re.sub(r"[\s\d.]+$", "", name.strip().lower()).rstrip(" .")


def is_known_label(name: str) -> bool:
    """Whether ``name`` is a role label that counts even when it occurs once."""
    if label_base(name) in ROLE_WORDS:
        return True
    return bool(_CODE_LABEL.fullmatch(name) or _NUMBERED.fullmatch(name))


def _valid_name(name: str) -> bool:
    words = name.split()
    first = words[0]
    if not first[0].isupper() or first.lower().rstrip(".") in _STOP_WORDS:
        return False
    if len(words) > 1 and label_base(name) in _STOP_WORDS:
        return False
    for w in words[1:]:
        if not (w[0].isupper() or w[0].isdigit() or w in _PARTICLES):
            return False
    return True


def _classify(text: str, start: int, end: int) -> _Line:
    stripped_end = end
    while stripped_end > start and text[stripped_end - 1].isspace():
        stripped_end -= 1
    line = _Line(start, stripped_end, "text")
    if stripped_end == start or text[start:stripped_end].isspace():
        line.kind = "blank"
        return line
    if _HEADING.match(text, start, stripped_end):
        line.kind = "heading"
        return line
    m = _PREFIX.match(text, start, stripped_end)
    assert m is not None  # every group is optional
    line.indent = len(m.group("indent").expandtabs(4))
    line.bullet = m.group("bullet") is not None
    pos = m.end()
    ts = m.group("t1") or m.group("t2") or m.group("t3")
    line.time = parse_time(ts) if ts else None
    line.after_bullet = start + len(m.group("indent")) + len(m.group("bullet") or "")
    line.content = pos
    line.prefix_end = pos
    lm = _LABEL.match(text, pos, stripped_end)
    if lm:
        name = lm.group("name").strip()
        if _valid_name(name):
            line.name = name
            line.content = lm.end()
            paren = lm.group("paren")
            if paren and line.time is None:
                line.time = parse_time(paren)
    while line.content < stripped_end and text[line.content].isspace():
        line.content += 1
    return line


def _lines(text: str, start: int) -> list[_Line]:
    out: list[_Line] = []
    pos = start
    n = len(text)
    while pos <= n:
        nl = text.find("\n", pos)
        if nl < 0:
            nl = n
        out.append(_classify(text, pos, nl))
        pos = nl + 1
    return out


def _colonless_tag(text: str, line: _Line, accepted: set[str]) -> str | None:
    m = _TAG.match(text, line.prefix_end, line.end)
    if not m:
        return None
    words = m.group("name").split()
    for k in (2, 1):
        if len(words) < k:
            continue
        cand = " ".join(words[:k])
        nxt = line.prefix_end + len(cand)
        if nxt < line.end and text[nxt] not in " \t,(":
            continue
        if (len(cand) > 1 and cand in accepted) or _CODE_LABEL.fullmatch(cand):
            return cand
        if _NUMBERED.fullmatch(cand) or label_base(cand) in {"moderator", "fasilitator", "facilitator"}:
            return cand
    return None


def parse_lines(
    text: str,
    body_start: int = 0,
    *,
    forced: dict[int, Forced] | None = None,
    notes: bool | None = None,
) -> ParseResult:
    r"""Find speaker turns in ``text[body_start:]``.

    Args:
        text: the whole document text (``\n`` line endings).
        body_start: offset where the body starts (after front matter).
        forced: labels fixed by the reader, keyed by line index (0 = the line at
            ``body_start``); a ``Forced(name=None)`` line is a heading.
        notes: force (True) or forbid (False) bullet-notes parsing; ``None`` detects it.

    Returns:
        The turns in order, with offsets into ``text`` that exclude labels, timestamps
        and surrounding whitespace.
    """
    lines = _lines(text, body_start)
    forced = forced or {}
    for i, f in forced.items():
        ln = lines[i]
        if f.name is None:
            ln.kind = "heading"
        else:
            ln.kind = "text"
            ln.name = f.name
            ln.content = max(ln.start + f.content, ln.start)
            ln.time = f.time
            ln.bullet = False
    counts = Counter(ln.name for ln in lines if ln.name and ln.kind == "text")
    accepted = {n for n, c in counts.items() if c >= 2 or is_known_label(n)}
    accepted.update(f.name for f in forced.values() if f.name)
    for ln in lines:
        if ln.name and ln.name not in accepted:
            ln.name = None
            ln.content = ln.prefix_end
            while ln.content < ln.end and text[ln.content].isspace():
                ln.content += 1
    content = [ln for ln in lines if ln.kind == "text"]
    n_bullets = sum(ln.bullet for ln in content)
    n_label_lines = sum(1 for ln in content if ln.name and not ln.bullet)
    if notes is None:
        # most lines are bullets, and the bullets carry participant tags (or nothing else
        # carries a label): a respondent's bulleted answer inside a turn is not notes
        tagged = any(ln.bullet and (ln.name or _colonless_tag(text, ln, accepted)) for ln in content)
        notes = (
            n_bullets >= 2
            and n_bullets * 2 > len(content)
            and n_label_lines * 2 < n_bullets
            and (tagged or n_label_lines == 0)
        )
    labelled = bool(accepted) and any(ln.name for ln in content)
    turns: list[RawTurn] = []
    cur: RawTurn | None = None

    def close() -> None:
        nonlocal cur
        if cur is not None and cur.end > cur.start:
            turns.append(cur)
        cur = None

    for ln in lines:
        if ln.kind == "heading":
            close()
            continue
        if ln.kind == "blank":
            if notes or not labelled:
                close()
            continue
        if ln.name:
            close()
            cur = RawTurn(ln.name, ln.content, max(ln.end, ln.content), ln.time, bullet=ln.bullet)
            continue
        if notes and ln.bullet:
            close()
            tag = _colonless_tag(text, ln, accepted)
            start = ln.prefix_end
            while start < ln.end and text[start].isspace():
                start += 1
            cur = RawTurn(tag or "notes", start, ln.end, ln.time, bullet=True)
            continue
        if cur is not None:
            if cur.end <= cur.start:
                cur.start = ln.content if ln.content < ln.end else ln.start
            cur.end = ln.end
            continue
        if labelled and not notes:
            continue  # preamble before the first label: outside every turn
        start = ln.content if ln.content < ln.end else ln.start
        cur = RawTurn("notes" if notes else "unknown", start, ln.end, ln.time)
    close()
    for a, b in zip(turns, turns[1:], strict=False):
        if a.time_start is not None and a.time_end is None and b.time_start is not None:
            a.time_end = b.time_start
    speakers = list(dict.fromkeys(t.speaker for t in turns))
    return ParseResult(turns, bool(notes), labelled, speakers)


def _role_class(name: str, speakers: set[str]) -> str:
    if name in ("notes", "unknown"):
        return "unknown"
    base = label_base(name)
    cls = ROLE_WORDS.get(base)
    if cls is None and _NUMBERED.fullmatch(name):
        cls = ROLE_WORDS.get(re.sub(r"[ ]?\d+$", "", name).lower())
    if cls == "p" and name.strip().upper() != "P":
        cls = "other"  # P1, P02...: participants
    if cls == "p":
        bases = {label_base(s) for s in speakers}
        cls = "interviewer" if ({"n", "narasumber"} & bases) else "other"
    return cls or "other"


def infer_kind(speakers: list[str], notes: bool, labelled: bool) -> str:
    """``notes`` for bullet notes, ``fgd`` for 3+ non-interviewer speakers or a moderator."""
    if notes:
        return "notes"
    if not labelled:
        return "other"
    spk = set(speakers)
    classes = [_role_class(s, spk) for s in speakers]
    others = sum(c not in ("interviewer", "moderator", "unknown") for c in classes)
    if "moderator" in classes or others >= 3:
        return "fgd"
    return "interview"


def assign_roles(speakers: list[str], kind: str) -> dict[str, str]:
    """Role of every speaker label given the document kind.

    ``I``/``Interviewer``/``Pewawancara`` (and ``P`` when ``N`` is present) are
    interviewers; ``Moderator``/``Fasilitator`` moderators; everybody else is a
    participant in an FGD (or notes) and a respondent in an interview.  ``notes`` and
    ``unknown`` speakers have the role ``unknown``.
    """
    spk = set(speakers)
    group = kind in ("fgd", "notes")
    roles: dict[str, str] = {}
    for s in speakers:
        cls = _role_class(s, spk)
        if cls in ("interviewer", "moderator", "unknown"):
            roles[s] = cls
        elif group:
            roles[s] = "participant"
        else:
            roles[s] = "respondent"
    return roles
