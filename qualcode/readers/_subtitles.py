"""Caption files (``.vtt``, ``.srt``) from recorded meetings, via webvtt-py.

Cues are merged into speaker turns: the speaker comes from a ``<v Name>`` voice tag or
from a ``Name:`` at the start of the cue text; a cue without either continues the
previous speaker (or belongs to ``unknown`` when nobody spoke yet).  Consecutive cues of
one speaker form one turn.  The text is built as one ``Speaker: cue1 cue2 ...`` line per
turn (cues joined by a single space, other tags stripped), with the first cue's start
and the last cue's end as the turn's times.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import IngestError
from ._base import Parsed
from ._decode import Decoded, decode_bytes, read_bytes
from ._labels import RawTurn, _valid_name, parse_time

__all__ = ["parse_subtitle_file", "parse_subtitles"]

_TAG = re.compile(r"<[^>\n]*>")
_CUE_LABEL = re.compile(r"^([^\W_][\w.'\u2019 -]{0,40}?)[ \t]*:[ \t]+")
_VOICE = re.compile(r"<v(?:\.[^ >]*)?[ \t]+([^>]+)>")


@dataclass
class _Group:
    """Consecutive cues of one speaker (one turn)."""

    speaker: str
    texts: list[str]
    start: float | None
    end: float | None


def parse_subtitle_file(
    path: Path,
    *,
    doc_id: str,
    fmt: str,
    encoding: str | None = None,
    transform: Callable[[str], str] | None = None,
) -> Parsed:
    """Read a WebVTT or SubRip file: decode, then :func:`parse_subtitles`.

    Args:
        path: the file.
        doc_id: the doc id (the file stem).
        fmt: ``vtt`` or ``srt`` (the reader name).
        encoding: force a text encoding (a byte-order mark still wins).
        transform: applied to speaker names and cue text (pseudonymisation).

    Returns:
        The parsed document.

    Raises:
        IngestError: an empty, binary or undecodable file, or not valid WebVTT / SubRip.
    """
    dec = decode_bytes(read_bytes(path), path=path, fmt=fmt, encoding=encoding)
    return parse_subtitles(dec, doc_id=doc_id, fmt=fmt, transform=transform)


def parse_subtitles(
    dec: Decoded,
    *,
    doc_id: str,
    fmt: str,
    transform: Callable[[str], str] | None = None,
) -> Parsed:
    """Read a WebVTT or SubRip file that was already decoded.

    Args:
        dec: the decoded file.
        doc_id: the doc id (file stem).
        fmt: ``vtt`` or ``srt``.
        transform: applied to speaker names and cue text (pseudonymisation).

    Returns:
        The parsed document.

    Raises:
        IngestError: the file is not valid WebVTT / SubRip, or has no cues.
    """
    import webvtt
    from webvtt.errors import MalformedFileError

    tf = transform or (lambda s: s)
    try:
        captions = webvtt.from_buffer(io.StringIO(dec.text), format=fmt)
    except (MalformedFileError, ValueError, IndexError, TypeError) as exc:
        msg = f"not a valid {fmt.upper()} caption file ({exc or type(exc).__name__})"
        raise IngestError(msg, path=dec.source.path) from None
    groups: list[_Group] = []
    speaker = None
    for cue in captions.captions:
        raw = cue.raw_text or ""
        vm = _VOICE.search(raw)
        name = vm.group(1).strip() if vm else None
        body = " ".join(_TAG.sub("", raw).split())
        if name is None:
            lm = _CUE_LABEL.match(body)
            if lm and _valid_name(lm.group(1).strip()):
                name = lm.group(1).strip()
                body = body[lm.end() :]
        if not body:
            continue
        if name is not None:
            speaker = tf(name)
        spk = speaker or "unknown"
        start, end = parse_time(cue.start), parse_time(cue.end)
        if groups and groups[-1].speaker == spk:
            groups[-1].texts.append(tf(body))
            groups[-1].end = end
        else:
            groups.append(_Group(spk, [tf(body)], start, end))
    if not groups:
        msg = f"the {fmt.upper()} file has no cues with text"
        raise IngestError(msg, path=dec.source.path)
    parts: list[str] = []
    turns: list[RawTurn] = []
    pos = 0
    for g in groups:
        prefix = f"{g.speaker}: "
        body = " ".join(g.texts)
        turns.append(RawTurn(g.speaker, pos + len(prefix), pos + len(prefix) + len(body), g.start, g.end))
        line = prefix + body + "\n"
        parts.append(line)
        pos += len(line)
    labelled = any(t.speaker != "unknown" for t in turns)
    return Parsed(
        doc_id=doc_id,
        text="".join(parts),
        turns=turns,
        source=dec.source,
        labelled=labelled,
    )
