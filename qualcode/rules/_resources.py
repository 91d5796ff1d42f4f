"""Per-language resources of rule matching: blank spaCy pipeline, lemmatiser and caches.

Rules run on **blank** spaCy pipelines (no trained model, nothing to download). Every token gets
a lemma from the ``spacy-lookups-data`` lookup table of its language, looked up on the
*lower-cased* form (the tables are case-sensitive). For Indonesian, words the table does not
know are stemmed with PySastrawi, so that ``dilaksanakan``, ``pelaksanaan`` and ``melaksanakan``
all meet at ``laksana``.

Building a blank pipeline and lemmatising are the slow parts, and neither depends on the
codebook, so one :class:`LanguageResources` per language is shared by every
:class:`~qualcode.rules.RuleMatcher` of the process. It holds four bounded caches:

* spaCy's tokenizer cache, raised to :data:`TOKENIZER_CACHE` chunks, and the set of chunks
  already *primed* into it (see :meth:`LanguageResources.tokens`);
* the lemma of each lower-case form (word and hash), at most :data:`LEMMA_CACHE` entries;
* the lemmatised Docs of recent batches, at most :data:`DOC_CACHE_TOKENS` tokens over all
  languages, so re-coding the same texts after a codebook edit only re-runs the matchers.

:data:`RESOURCES` holds them; :func:`cache_info` reports their sizes and :func:`clear_caches`
drops them (matchers built before keep working with the resources they hold).
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections import OrderedDict
from functools import lru_cache
from typing import Any

import numpy as np

from .._inputs import MAX_TOKENIZER_RUN, make_doc_bounded

__all__ = [
    "DOC_CACHE_TOKENS",
    "LEMMA_CACHE",
    "RESOURCES",
    "TOKENIZER_CACHE",
    "LanguageResources",
    "Lemmatizer",
    "ResourceRegistry",
    "cache_info",
    "clear_caches",
    "language_resources",
]

logger = logging.getLogger("qualcode")

#: Whitespace chunks whose tokenisation spaCy keeps per language (spaCy's default: 10,000).
TOKENIZER_CACHE = 200_000
#: Lower-case forms whose lemma is kept per language.
LEMMA_CACHE = 500_000
#: Tokens of lemmatised batch Docs kept for re-use over all languages (~70k sentences).
DOC_CACHE_TOKENS = 1_000_000

_WS = re.compile(r"\s")


# ----------------------------------------------------------------------------------
# lemmatisation
# ----------------------------------------------------------------------------------
@lru_cache(maxsize=8)
def _lookup_table(lang: str) -> Any:
    """The ``lemma_lookup`` table of ``lang`` (a spaCy ``Table``; read-only data)."""
    if lang not in ("en", "id"):
        return {}
    try:
        from spacy.lookups import load_lookups

        table = load_lookups(lang, ["lemma_lookup"]).get_table("lemma_lookup")
    except (ValueError, ImportError, OSError):  # pragma: no cover - lookups data missing
        logger.warning("no lemma lookup table for %r; matching on lower-case forms", lang)
        return {}
    return table


@lru_cache(maxsize=1)
def _sastrawi() -> Any:
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    return StemmerFactory().create_stemmer()


class Lemmatizer:
    """Lower-case lookup lemmatiser with a Sastrawi fallback for Indonesian.

    Args:
        lang: ISO 639-1 code; ``en`` and ``id`` have lookup tables, other languages get
            the lower-cased form.
        max_cache: words whose lemma is kept (the cache is emptied when it is full).

    Examples:
        >>> Lemmatizer("en")("Studies")
        'study'
        >>> Lemmatizer("id")("dilaksanakan")
        'laksana'
    """

    _STEM_RE = re.compile(r"^[a-z]{5,}$")

    def __init__(self, lang: str, *, max_cache: int = LEMMA_CACHE):
        self.lang = lang
        self.max_cache = int(max_cache)
        self._table = _lookup_table(lang)
        self._cache: dict[str, str] = {}

    def __call__(self, word: str) -> str:
        """The lemma of ``word`` (lower-cased first)."""
        low = word.lower()
        hit = self._cache.get(low)
        if hit is not None:
            return hit
        lemma = self._table.get(low)
        if lemma is None:
            lemma = low
            if self.lang == "id" and self._STEM_RE.match(low):
                lemma = _sastrawi().stem(low) or low
        if len(self._cache) >= self.max_cache:
            self._cache.clear()
        self._cache[low] = lemma
        return lemma

    def __len__(self) -> int:
        return len(self._cache)


# ----------------------------------------------------------------------------------
# the Doc cache
# ----------------------------------------------------------------------------------
class _DocCache:
    """Lemmatised Docs by (language, sha1 of the text), least recently used first out."""

    def __init__(self, max_tokens: int) -> None:
        self.max_tokens = int(max_tokens)
        self._docs: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._tokens = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> Any:
        with self._lock:
            doc = self._docs.get(key)
            if doc is not None:
                self._docs.move_to_end(key)
            return doc

    def put(self, key: tuple[str, str], doc: Any) -> None:
        if len(doc) > self.max_tokens // 2:
            return
        with self._lock:
            if key not in self._docs:
                self._docs[key] = doc
                self._tokens += len(doc)
            while self._tokens > self.max_tokens and self._docs:
                _, old = self._docs.popitem(last=False)
                self._tokens -= len(old)

    def info(self) -> dict[str, int]:
        with self._lock:
            return {"docs": len(self._docs), "doc_tokens": self._tokens}

    def clear(self) -> None:
        with self._lock:
            self._docs.clear()
            self._tokens = 0


# ----------------------------------------------------------------------------------
# one language
# ----------------------------------------------------------------------------------
class LanguageResources:
    """The blank spaCy pipeline, lemmatiser and caches of one language.

    Get one with :func:`language_resources` (shared); build one directly only for isolation.

    Args:
        lang: ISO 639-1 code; a language spaCy does not know gets the multi-language ``xx``
            tokenizer.
        docs: the batch-Doc cache to use (default: a private one).

    Attributes:
        lang: the language.
        nlp: the blank pipeline (its tokenizer keeps up to :data:`TOKENIZER_CACHE` chunks).
        vocab: ``nlp.vocab``; every matcher of the language adds its strings here.
        lemmatizer: the :class:`Lemmatizer` of the language.
    """

    def __init__(self, lang: str, *, docs: _DocCache | None = None) -> None:
        import spacy

        self.lang = lang
        try:
            nlp = spacy.blank(lang)
        except (ImportError, KeyError, ValueError, OSError):
            nlp = spacy.blank("xx")
        nlp.max_length = 10**8
        try:
            tokenizer: Any = nlp.tokenizer
            tokenizer.max_cache_size = max(int(tokenizer.max_cache_size), TOKENIZER_CACHE)
        except AttributeError:  # pragma: no cover - older spaCy
            pass
        self.nlp = nlp
        self.vocab = nlp.vocab
        self.lemmatizer = Lemmatizer(lang)
        self._primed: set[str] = set()
        self._lemma_of: dict[int, int] = {}  # LOWER hash -> LEMMA hash
        self._docs = docs if docs is not None else _DocCache(DOC_CACHE_TOKENS)
        self._lock = threading.RLock()

    def tokens(self, text: str) -> Any:
        """A Doc of ``text`` (whitespace normalised, offsets unchanged) with lemmas.

        Docs of recent batches are kept (tokens and lemmas do not depend on the codebook).
        Before tokenising, every whitespace chunk not seen before is tokenised alone: spaCy
        stops caching chunk tokenisations for the rest of a Doc once a tokenizer exception
        occurred in it, so a long joined batch would be tokenised almost without its cache
        (Indonesian: ~7,000 sentences/s). A chunk's tokenisation does not depend on its
        neighbours, so priming fills the cache and leaves the result unchanged
        (~150,000 sentences/s).
        """
        norm = _WS.sub(" ", text)
        key = (self.lang, hashlib.sha1(norm.encode("utf-8", "surrogatepass")).hexdigest())
        hit = self._docs.get(key)
        if hit is not None:
            return hit
        with self._lock:
            self._prime(norm)
            doc = make_doc_bounded(self.nlp, norm)
            self._set_lemmas(doc)
        self._docs.put(key, doc)
        return doc

    def phrase_doc(self, text: str) -> Any:
        """A Doc of a keyword or term (whitespace normalised) with lemmas, for PhraseMatchers."""
        with self._lock:
            doc = make_doc_bounded(self.nlp, _WS.sub(" ", text))
            self._set_lemmas(doc)
        return doc

    def _prime(self, text: str) -> None:
        seen = self._primed
        if len(seen) >= TOKENIZER_CACHE:
            return
        tokenizer = self.nlp.tokenizer
        for chunk in set(text.split()) - seen:
            if len(chunk) > MAX_TOKENIZER_RUN:  # split without the tokenizer (make_doc_bounded)
                continue
            tokenizer(chunk)
            seen.add(chunk)

    def _set_lemmas(self, doc: Any) -> None:
        from spacy.attrs import LEMMA, LOWER

        if not len(doc):
            return
        lower = doc.to_array(LOWER).astype(np.uint64)
        uniq, inv = np.unique(lower, return_inverse=True)
        cache = self._lemma_of
        if len(cache) > LEMMA_CACHE:
            cache.clear()
        strings = self.vocab.strings
        out = np.empty(len(uniq), dtype=np.uint64)
        for i, h in enumerate(uniq.tolist()):
            lem = cache.get(h)
            if lem is None:
                lem = strings.add(self.lemmatizer(strings[h]))
                cache[h] = lem
            out[i] = lem
        doc.from_array([LEMMA], out[inv].reshape(-1, 1))

    def cache_info(self) -> dict[str, int]:
        """Sizes of this language's caches: primed chunks, lemmas (hash and word)."""
        with self._lock:
            return {"primed_chunks": len(self._primed), "lemmas": len(self._lemma_of),
                    "lemmatizer_words": len(self.lemmatizer)}


# ----------------------------------------------------------------------------------
# the registry
# ----------------------------------------------------------------------------------
class ResourceRegistry:
    """One :class:`LanguageResources` per language, built on first use, plus the Doc cache."""

    def __init__(self, *, max_doc_tokens: int = DOC_CACHE_TOKENS) -> None:
        self._lock = threading.Lock()
        self._by_lang: dict[str, LanguageResources] = {}
        self._max_doc_tokens = int(max_doc_tokens)
        self._docs = _DocCache(self._max_doc_tokens)

    def get(self, lang: str) -> LanguageResources:
        """The shared resources of ``lang`` (built once; over a second for a new language)."""
        res = self._by_lang.get(lang)
        if res is None:
            with self._lock:
                res = self._by_lang.get(lang)
                if res is None:
                    res = LanguageResources(lang, docs=self._docs)
                    self._by_lang[lang] = res
        return res

    def cache_info(self) -> dict[str, Any]:
        """Cache sizes: ``docs``, ``doc_tokens`` (bound ``max_doc_tokens``) and per language."""
        with self._lock:
            langs = dict(self._by_lang)
            docs = self._docs
        out: dict[str, Any] = {**docs.info(), "max_doc_tokens": self._max_doc_tokens,
                               "languages": {k: v.cache_info() for k, v in langs.items()}}
        return out

    def clear(self) -> None:
        """Forget every language's resources and the Doc cache (built again on next use)."""
        with self._lock:
            self._by_lang = {}
            self._docs = _DocCache(self._max_doc_tokens)


#: The process-wide resources shared by every :class:`~qualcode.rules.RuleMatcher`.
RESOURCES = ResourceRegistry()


def language_resources(lang: str) -> LanguageResources:
    """The shared :class:`LanguageResources` of ``lang``."""
    return RESOURCES.get(lang)


def cache_info() -> dict[str, Any]:
    """Sizes of the shared rule-matching caches (see :meth:`ResourceRegistry.cache_info`).

    Returns:
        ``{"docs": n, "doc_tokens": n, "max_doc_tokens": n, "languages": {lang: {
        "primed_chunks": n, "lemmas": n, "lemmatizer_words": n}}}``.
    """
    return RESOURCES.cache_info()


def clear_caches() -> None:
    """Drop the shared pipelines and caches; matchers built later start afresh."""
    RESOURCES.clear()
