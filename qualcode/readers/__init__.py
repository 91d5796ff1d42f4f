"""Readers: transcripts, notes, caption files and response tables into a Corpus.

Formats: ``.txt``/``.md`` (speaker labels, timestamps, YAML front matter, bullet notes),
``.docx`` (bold labels, typed labels, speaker | text tables), ``.pdf`` (text PDFs with page
numbers: :func:`page_of`; scanned pages through the optional OCR extra), ``.vtt``/``.srt`` (cues
merged into speaker turns), ``.csv``/``.xlsx`` (one document per row), plus a
``cases.csv``/``cases.xlsx`` sidecar of case attributes and optional pseudonymisation.
"""

from __future__ import annotations

from ._base import guess_language
from ._corpus import SUPPORTED, read_corpus, read_document, read_documents
from ._pages import page_numbers, page_of, page_starts
from ._pseudonyms import Pseudonymiser, load_pseudonyms, make_pseudonyms
from ._sidecar import Sidecar, read_sidecar
from ._text import document_from_text

__all__ = [
    "SUPPORTED",
    "Pseudonymiser",
    "Sidecar",
    "document_from_text",
    "guess_language",
    "load_pseudonyms",
    "make_pseudonyms",
    "page_numbers",
    "page_of",
    "page_starts",
    "read_corpus",
    "read_document",
    "read_documents",
    "read_sidecar",
]
