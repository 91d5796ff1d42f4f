"""The data model: a Corpus of Documents with speaker Turns, and its segmentation.

A :class:`Corpus` holds :class:`Document` objects (text, turns, case, attributes, source
information) and a case-attributes table; :meth:`Corpus.segments` cuts it into turns,
paragraphs, sentences or windows keyed by character offsets.
"""

from ._model import KINDS, ROLES, UNITS, Corpus, Document, SourceInfo, Turn
from ._segment import blank_nlp, paragraph_spans, segment_document, sentence_spans

__all__ = [
    "KINDS",
    "ROLES",
    "UNITS",
    "Corpus",
    "Document",
    "SourceInfo",
    "Turn",
    "blank_nlp",
    "paragraph_spans",
    "segment_document",
    "sentence_spans",
]
