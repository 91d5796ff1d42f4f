"""Cutting turns into paragraphs, sentences and windows.

Sentences come from a blank spaCy pipeline of the document's language with the
rule-based ``sentencizer`` (no trained model, no download).  Every unit stays
inside one turn, and sentences stay inside one paragraph.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from .._inputs import make_doc_bounded

if TYPE_CHECKING:
    from spacy.language import Language

    from ._model import Document

__all__ = ["blank_nlp", "paragraph_spans", "segment_document", "sentence_spans"]

_LOCK = threading.Lock()
# a blank line, or a line break followed by a bullet marker, starts a new paragraph
_PARA_BREAK = re.compile(r"\n[ \t]*\n\s*|\n(?=[ \t]*(?:[-*\u2022\u2013]|\d{1,2}[.)])[ \t]+)")


@lru_cache(maxsize=16)
def blank_nlp(language: str) -> Language:
    """A blank spaCy pipeline with a sentencizer for ``language`` (``xx`` if unknown)."""
    import spacy

    with _LOCK:
        try:
            nlp = spacy.blank(language)
        except (ImportError, KeyError, ValueError, OSError):
            nlp = spacy.blank("xx")
        if "sentencizer" not in nlp.pipe_names:
            nlp.add_pipe("sentencizer")
    return nlp


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def paragraph_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Paragraph spans inside ``text[start:end]``, trimmed, empty ones dropped."""
    spans: list[tuple[int, int]] = []
    pos = start
    for m in _PARA_BREAK.finditer(text, start, end):
        a, b = _trim(text, pos, m.start())
        if b > a:
            spans.append((a, b))
        pos = m.end()
    a, b = _trim(text, pos, end)
    if b > a:
        spans.append((a, b))
    return spans


def sentence_spans(
    text: str, paragraphs: list[tuple[int, int]], language: str
) -> list[list[tuple[int, int]]]:
    """Sentence spans for each paragraph span, in document offsets."""
    nlp = blank_nlp(language)
    out: list[list[tuple[int, int]]] = []
    # long paragraphs are tokenised in bounded pieces (no spaCy E088, no quadratic tokenizer)
    pieces = (make_doc_bounded(nlp, text[a:b]) for a, b in paragraphs)
    for (a, _b), doc in zip(paragraphs, nlp.pipe(pieces, batch_size=256), strict=True):
        sents: list[tuple[int, int]] = []
        for s in doc.sents:
            sa, sb = _trim(text, a + s.start_char, a + s.end_char)
            if sb > sa:
                sents.append((sa, sb))
        out.append(sents)
    return out


def segment_document(
    doc: Document, unit: str, *, window: int = 3, stride: int | None = None
) -> Iterator[dict[str, Any]]:
    """Yield one dict per segment of ``doc`` (see :meth:`Corpus.segments`)."""
    text = doc.text
    stride = window if stride is None else stride
    para_by_turn = [paragraph_spans(text, t.start, t.end) for t in doc.turns]
    sents_by_turn: list[list[tuple[int, int]]] = []
    if unit in ("sentence", "window"):
        flat = [p for ps in para_by_turn for p in ps]
        sent_lists = sentence_spans(text, flat, doc.language) if flat else []
        i = 0
        for ps in para_by_turn:
            turn_sents: list[tuple[int, int]] = []
            for _ in ps:
                turn_sents.extend(sent_lists[i])
                i += 1
            sents_by_turn.append(turn_sents)
    for ti, t in enumerate(doc.turns):
        if unit == "turn":
            a, b = _trim(text, t.start, t.end)
            spans = [(a, b)] if b > a else []
        elif unit == "paragraph":
            spans = para_by_turn[ti]
        elif unit == "sentence":
            spans = sents_by_turn[ti]
        else:
            sents = sents_by_turn[ti]
            spans = []
            for j in range(0, len(sents), stride):
                chunk = sents[j : j + window]
                spans.append((chunk[0][0], chunk[-1][1]))
                if j + window >= len(sents):
                    break
        case_id = t.case_id or doc.case_id
        for a, b in spans:
            seg_text = text[a:b]
            yield {
                "doc_id": doc.doc_id,
                "case_id": case_id,
                "segment_id": f"{doc.doc_id}@{a}-{b}",
                "unit": unit,
                "speaker": t.speaker,
                "role": t.role,
                "turn": ti,
                "start": a,
                "end": b,
                "text": seg_text,
                "time_start": t.time_start,
                "time_end": t.time_end,
                "language": doc.language,
                "kind": doc.kind,
                "n_words": len(seg_text.split()),
            }
