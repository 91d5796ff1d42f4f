"""Readers: transcripts, notes, caption files and response tables into a Corpus.

One module per format, found by file suffix in a registry (``_registry.py``:
:func:`register_reader`, :func:`supported_formats`), plus a ``cases.csv``/``cases.xlsx``
sidecar of case attributes and optional pseudonymisation.  PDF sources keep their page
numbers (:func:`page_of`).  The formats (listed from the registry):
"""

from __future__ import annotations

from ._base import guess_language
from ._corpus import read_corpus, read_document, read_documents
from ._pages import page_numbers, page_of, page_starts
from ._pseudonyms import Pseudonymiser, load_pseudonyms, make_pseudonyms
from ._registry import SUPPORTED, Reader, formats_help, register_reader, supported_formats
from ._sidecar import Sidecar, read_sidecar
from ._text import document_from_text

__all__ = [
    "SUPPORTED",
    "Pseudonymiser",
    "Reader",
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
    "register_reader",
    "supported_formats",
]

__doc__ = (__doc__ or "") + "\n" + formats_help("    ") + "\n"
