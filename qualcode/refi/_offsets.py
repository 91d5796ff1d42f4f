"""Offset conventions of REFI-QDA text selections, and their detection per source.

The spec (§10.2) counts Unicode code points from 0, but real tools differ: QualCoder and
tools built on UTF-16 strings (Qt, .NET, Java) count UTF-16 code units, some count the
byte-order mark, some count a CRLF line end as two positions even when the file has LF
(or the reverse), and the spec does not say whether ``endPosition`` is inclusive.

:func:`detect_convention` tries every reading and keeps the one under which selections
start and end on character and word boundaries and reproduce their stored text (the
``name`` attribute, which most tools fill with the quoted text, sometimes truncated with
an ellipsis).  Ties go to the reading the spec and most tools use.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "Convention",
    "Detection",
    "OffsetMap",
    "Selection",
    "candidate_conventions",
    "detect_convention",
    "map_selection",
]



@dataclass(frozen=True, slots=True)
class Convention:
    r"""How a tool counted selection positions.

    Attributes:
        unit: ``"codepoint"`` (the spec) or ``"utf16"`` (UTF-16 code units: a character
            beyond the BMP, such as an emoji, takes two positions).
        bom: the byte-order mark at the start of the file takes one position.
        newline_units: positions one line end takes (1 for ``\n``, 2 for ``\r\n``).
        end: ``"exclusive"`` (``endPosition`` is one past the last character, as in Python
            slices) or ``"inclusive"`` (it is the last character).
    """

    unit: str = "codepoint"
    bom: bool = False
    newline_units: int = 1
    end: str = "exclusive"

    @property
    def label(self) -> str:
        """A short name such as ``"codepoint"`` or ``"utf16+bom+crlf+inclusive"``."""
        parts = [self.unit]
        if self.bom:
            parts.append("bom")
        if self.newline_units == 2:
            parts.append("crlf")
        if self.end == "inclusive":
            parts.append("inclusive")
        return "+".join(parts)


@dataclass(frozen=True, slots=True)
class Selection:
    """One stored selection: positions as written in the file, and its ``name`` text."""

    start: int
    end: int
    name: str | None = None


@dataclass(slots=True)
class Detection:
    """The outcome of :func:`detect_convention` for one source.

    Attributes:
        convention: the chosen reading.
        score: its evidence score (higher is better).
        runner_up: the best other reading and its score, when there were selections.
        n_selections: selections looked at.
        n_text_matches: selections whose stored text matches under the chosen reading.
        n_text_checked: selections that carry a stored text to compare.
        invalid: indices of selections that cannot be mapped under the chosen reading.
    """

    convention: Convention
    score: float = 0.0
    runner_up: tuple[Convention, float] | None = None
    n_selections: int = 0
    n_text_matches: int = 0
    n_text_checked: int = 0
    invalid: list[int] = field(default_factory=list)

    @property
    def evidence(self) -> str:
        """A one-line, human-readable account of the decision."""
        if not self.n_selections:
            return "no selections; assumed the spec convention"
        txt = f"{self.n_text_matches}/{self.n_text_checked} stored texts match"
        if self.runner_up is None:
            return txt
        rc, rs = self.runner_up
        return f"{txt}; score {self.score:g} vs {rs:g} for {rc.label}"


class OffsetMap:
    r"""Maps positions counted under one (unit, BOM, newline) reading onto text indices.

    Args:
        text: the normalised text (``\n`` line ends, no BOM).
        unit: ``"codepoint"`` or ``"utf16"``.
        bom: whether a BOM position precedes the text.
        newline_units: positions per line end (1 or 2).
    """

    def __init__(self, text: str, unit: str = "codepoint", bom: bool = False, newline_units: int = 1):
        cps = np.frombuffer(text.encode("utf-32-le"), dtype="<u4") if text else np.zeros(0, "<u4")
        widths = np.ones(len(cps), dtype=np.int64)
        if unit == "utf16":
            widths[cps > 0xFFFF] = 2
        widths[cps == 10] = newline_units
        offset = 1 if bom else 0
        starts = offset + np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.int64)
        total = offset + int(widths.sum())
        self.n_units = total
        self.n_chars = len(cps)
        to_text = np.empty(total + 1, dtype=np.int64)
        to_text[:offset] = 0
        to_text[offset:total] = np.repeat(np.arange(len(cps), dtype=np.int64), widths)
        to_text[total] = len(cps)
        ok = np.zeros(total + 1, dtype=bool)
        ok[starts[: len(cps)]] = True
        ok[: offset + 1] = True
        ok[total] = True
        self._to_text = to_text
        self._ok = ok
        self._starts = starts

    def to_text(self, pos: int) -> int | None:
        """The text index of position ``pos``, or None when it cannot be mapped.

        None means ``pos`` is outside the text or falls inside a character (between the
        halves of a surrogate pair or of a CRLF).
        """
        if pos < 0 or pos > self.n_units or not self._ok[pos]:
            return None
        return int(self._to_text[pos])

    def from_text(self, index: int) -> int:
        """The position of text index ``index`` under this reading (for writing)."""
        if index >= self.n_chars:
            return self.n_units
        return int(self._starts[index])


def candidate_conventions(*, has_bom: bool, file_newline_units: int = 1) -> list[Convention]:
    """Every reading worth trying, most expected first (ties are resolved in this order)."""
    out: list[Convention] = []
    boms = (False, True) if has_bom else (False,)
    nls = (file_newline_units, 3 - file_newline_units)
    for end in ("exclusive", "inclusive"):
        for nl in nls:
            for bom in boms:
                for unit in ("codepoint", "utf16"):
                    out.append(Convention(unit, bom, nl, end))
    # Preference: spec units first, then the file's own newlines, no BOM, exclusive end.
    out.sort(key=lambda c: (c.end != "exclusive", c.newline_units != file_newline_units, c.bom, c.unit != "codepoint"))
    return out


_WS = re.compile(r"\s+")
_ELLIPSIS = ("…", "...")


def _squash(s: str) -> str:
    return _WS.sub(" ", s).strip()


def _text_match(name: str | None, text: str) -> float | None:
    """Score how well a stored selection text agrees with ``text``.

    None means ``name`` carries no text to compare.
    """
    if not name or not name.strip():
        return None
    want = _squash(name)
    got = _squash(text)
    if want == got:
        return 10.0
    for mark in _ELLIPSIS:
        if want.endswith(mark):
            stem = want[: -len(mark)].rstrip()
            if len(stem) >= 3:
                return 8.0 if got.startswith(stem) else -2.0
    if len(want) >= 12 and got.startswith(want):
        return 4.0
    return -2.0


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _boundary_score(text: str, s: int, e: int) -> float:
    score = 0.0
    if s == 0 or s >= len(text) or not (_is_word(text[s - 1]) and _is_word(text[s])):
        score += 1.0
    if e == 0 or e >= len(text) or not (_is_word(text[e - 1]) and _is_word(text[e])):
        score += 1.0
    if e > s and not text[s].isspace():
        score += 0.25
    if e > s and not text[e - 1].isspace():
        score += 0.25
    return score


def map_selection(om: OffsetMap, conv: Convention, sel: Selection) -> tuple[int, int] | None:
    """Text offsets ``(start, end)`` (end exclusive) of a selection, or None if unmappable."""
    end = sel.end + 1 if conv.end == "inclusive" else sel.end
    s = om.to_text(sel.start)
    e = om.to_text(end)
    if s is None or e is None or e < s:
        return None
    return s, e


def detect_convention(
    text: str,
    selections: Sequence[Selection],
    *,
    has_bom: bool = False,
    file_newline_units: int = 1,
) -> Detection:
    r"""Choose the reading of selection positions that fits the text best.

    Args:
        text: the normalised text (``\n`` line ends, no BOM) the selections refer to.
        selections: the selections of this source.
        has_bom: the stored file began with a byte-order mark (only then is a counted
            BOM tried).
        file_newline_units: 2 when the stored file used CRLF line ends, else 1.

    Returns:
        The chosen convention with its evidence; ``invalid`` lists the selections that
        cannot be mapped under it (outside the text, or inside a character).
    """
    cands = candidate_conventions(has_bom=has_bom, file_newline_units=file_newline_units)
    if not selections:
        return Detection(cands[0])
    maps: dict[tuple[str, bool, int], OffsetMap] = {}
    scored: list[tuple[float, int, int, list[int], Convention]] = []
    for conv in cands:
        key = (conv.unit, conv.bom, conv.newline_units)
        om = maps.get(key)
        if om is None:
            om = maps[key] = OffsetMap(text, conv.unit, conv.bom, conv.newline_units)
        score = 0.0
        matches = checked = 0
        invalid: list[int] = []
        for i, sel in enumerate(selections):
            span = map_selection(om, conv, sel)
            if span is None:
                score -= 50.0
                invalid.append(i)
                continue
            s, e = span
            score += _boundary_score(text, s, e)
            m = _text_match(sel.name, text[s:e])
            if m is not None:
                checked += 1
                score += m
                if m > 0:
                    matches += 1
        scored.append((score, matches, checked, invalid, conv))
    best_i = 0
    for i, item in enumerate(scored):
        if item[0] > scored[best_i][0]:
            best_i = i
    score, matches, checked, invalid, conv = scored[best_i]
    others = [s for j, s in enumerate(scored) if j != best_i]
    runner = max(others, key=lambda t: t[0]) if others else None
    return Detection(
        convention=conv,
        score=score,
        runner_up=(runner[4], runner[0]) if runner else None,
        n_selections=len(selections),
        n_text_matches=matches,
        n_text_checked=checked,
        invalid=invalid,
    )
