"""The qualcode block of a ``TextSource`` ``Description``: written on export, read on import.

Other tools have no place for a document's kind, language, case, attributes or speaker
turns, so qualcode writes them after the human description of the source, after one line
saying what follows, between ``--- qualcode ---`` markers (as for code memos, see
``qualcode.refi._qdc``).  Tools show it as part of the source memo and keep it; qualcode reads
it back exactly.  Every text also carries a ``case_id`` variable naming its case, because
QualCoder links texts to cases only through variables set inside the ``TextSource``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd
import yaml

from ..corpus._model import Turn

__all__ = ["CASE_VARIABLE", "block_turns", "import_language", "read_source_description", "source_description"]

log = logging.getLogger("qualcode")


def _plain(v: Any) -> Any:
    """Make values safe for yaml.safe_dump (numpy scalars, timestamps...)."""
    if isinstance(v, Mapping):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, (str, bool, int, float)) or v is None:
        return v
    if hasattr(v, "item") and not isinstance(v, (_dt.date,)):
        return _plain(v.item())
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if isinstance(v, _dt.date):
        return v
    return str(v)


def source_description(doc: Any) -> str:
    """The ``Description`` of a ``TextSource``: the human description, then the qualcode block.

    The block (between ``--- qualcode ---`` markers, after a line saying what it is) carries
    what other tools have no place for: the document id, kind, language, case, attributes
    (with the page start offsets of a PDF source, ``pages``) and the speaker turns with their
    roles (``[start, end, speaker, role, case, t0, t1]`` in code points of the text, whose
    sha256 it records so that an edited text is noticed).
    """
    from ._qdc import BLOCK_END, BLOCK_START, SEPARATOR

    attrs = {k: v for k, v in doc.attributes.items() if not str(k).startswith("refi_")}
    human = attrs.pop("description", None)
    meta: dict[str, Any] = {"doc_id": doc.doc_id, "case_id": doc.case_id, "kind": doc.kind, "language": doc.language}
    if doc.source.path:
        meta["source_format"] = doc.source.format
    if attrs:
        meta["attributes"] = attrs
    if human is not None and not isinstance(human, str):
        meta.setdefault("attributes", {})["description"] = human
        human = None
    if doc.turns or "pages" in attrs:  # offsets into the text: valid only for this text
        meta["text_sha256"] = hashlib.sha256(doc.text.encode("utf-8")).hexdigest()
    if doc.turns:
        meta["turns"] = [[t.start, t.end, t.speaker, t.role, t.case_id, t.time_start, t.time_end] for t in doc.turns]
    block = yaml.safe_dump(_plain(meta), sort_keys=False, allow_unicode=True, default_flow_style=None, width=100)
    head = (human.strip() + "\n\n") if isinstance(human, str) and human.strip() else ""
    return f"{head}{SEPARATOR}\n{BLOCK_START}\n{block.rstrip()}\n{BLOCK_END}"


#: The Text variable, set inside every ``TextSource``, that names the document's case: QualCoder
#: links cases to texts only through variables read there (not through a Case's SourceRef).
CASE_VARIABLE = "case_id"


def read_source_description(desc: str | None, where: str = "source") -> tuple[dict[str, Any], dict[str, Any]]:
    """Read a source ``Description``: (qualcode metadata, attributes).

    The qualcode block (``--- qualcode ---``, see ``qualcode.refi._write``) gives the
    metadata and attributes, and the text before it becomes the ``description`` attribute;
    a description written by another tool is kept whole as ``description``.  Exports of
    qualcode 0.1 (a bare YAML mapping with ``qualcode:`` and ``attributes:``) still read.
    """
    from ._qdc import BLOCK_START, split_description

    if not desc or not desc.strip():
        return {}, {}
    if BLOCK_START in desc:
        human, block = split_description(desc, where=where)
        attrs = block.pop("attributes", None)
        attributes = dict(attrs) if isinstance(attrs, Mapping) else {}
        if human:
            attributes.setdefault("description", human)
        return block, attributes
    if desc.lstrip().startswith(("attributes:", "qualcode:")):
        try:
            data = yaml.safe_load(desc)
        except yaml.YAMLError:
            data = None
        if isinstance(data, Mapping) and isinstance(data.get("qualcode"), Mapping):
            attrs = data.get("attributes")
            return dict(data["qualcode"]), dict(attrs) if isinstance(attrs, Mapping) else {}
    return {}, {"description": desc.strip()}


def block_turns(meta: Mapping[str, Any], text: str, where: str) -> tuple[Turn, ...] | None:
    """The speaker turns a qualcode block carries, or None (none, or not valid for ``text``)."""
    raw = meta.get("turns")
    if not isinstance(raw, list):
        return None
    digest = meta.get("text_sha256")
    if digest and digest != hashlib.sha256(text.encode("utf-8")).hexdigest():
        log.warning("%s: the text changed since qualcode exported it; its speaker turns are not restored", where)
        return None
    turns: list[Turn] = []
    prev = 0
    try:
        for item in raw:
            start, end, speaker, role, case_id, t0, t1 = item
            turn = Turn(str(speaker), str(role), int(start), int(end),
                        None if t0 is None else float(t0), None if t1 is None else float(t1),
                        None if case_id is None else str(case_id))
            if turn.start < prev or turn.end > len(text):
                msg = "turns overlap or run past the text"
                raise ValueError(msg)
            prev = turn.end
            turns.append(turn)
    except (TypeError, ValueError) as exc:
        log.warning("%s: unreadable speaker turns in the qualcode block ignored (%s)", where, exc)
        return None
    return tuple(turns)


#: Share of a text's words that must be English or Indonesian function words before an
#: imported text without a stated language is called ``en`` or ``id`` (measured: English and
#: Indonesian sample texts 0.20-0.38, Hungarian NVivo sources 0.01).
_LANGUAGE_MIN_SHARE = 0.10


def import_language(text: str) -> str:
    """``en`` or ``id`` when the function words say so clearly, else ``"unknown"``."""
    from ..readers._base import _EN_WORDS, _ID_WORDS, _WORD_RE

    words = _WORD_RE.findall(text[:20000].lower())
    if not words:
        return "unknown"
    en = sum(w in _EN_WORDS for w in words)
    idn = sum(w in _ID_WORDS for w in words)
    lang, n = ("id", idn) if idn > en else ("en", en)
    return lang if n / len(words) >= _LANGUAGE_MIN_SHARE else "unknown"
