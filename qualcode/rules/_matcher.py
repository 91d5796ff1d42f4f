"""Rule matching: a codebook's rules compiled into spaCy matchers.

Rules run on **blank** spaCy pipelines (no trained model, nothing to download).  Every token
gets a lemma from the ``spacy-lookups-data`` lookup table of its language, looked up on the
*lower-cased* form (the tables are case-sensitive).  For Indonesian, words the table does not
know are stemmed with PySastrawi, so that ``dilaksanakan``, ``pelaksanaan`` and
``melaksanakan`` all meet at ``laksana``.  Lemmas are cached per word, so a large corpus pays
for each distinct word once.

For speed, the segments of one language are tokenised in batches joined into one spaCy
``Doc`` (whitespace is normalised without changing any offset); matches that cross a
segment boundary are dropped, windows (negation, exclusion, proximity) never leave their
segment.

What a rule is (see ``docs/architecture.md``, section Codebook):

* ``keywords``: words or phrases, matched with a ``PhraseMatcher`` on ``LEMMA`` (default) or
  ``LOWER`` (``match_on: lower``).  A keyword list that is not a per-language mapping applies
  to every language.
* ``patterns``: spaCy token patterns (``Matcher``, ``validate=True``); ``LEMMA`` refers to the
  lookup lemma described above.
* ``regex``: Python regular expressions searched in the segment text.
* ``proximity``: a term of ``a`` within ``within`` tokens of a term of ``b``.
* ``exclude``: terms that veto a hit within ``window`` tokens of it (``0``: anywhere in the
  segment).
* ``negation``: a hit preceded by a negation cue (not, no, never, without, tidak, bukan,
  belum, tanpa, tak, jangan...) within ``negation_window`` tokens does not count.
* ``scope``: only segments of these speaker roles and/or speakers are matched.
* ``min_hits``: the code fires on a segment when it has at least this many valid hits.

Every hit records the rule id, the matched text and its character span in **document**
offsets (``doc.text[start:end] == matched``).
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from ..errors import CodebookError

__all__ = [
    "HIT_COLUMNS",
    "NEGATION_CUES",
    "CompiledRule",
    "Lemmatizer",
    "RuleMatcher",
    "rule_score",
]

logger = logging.getLogger("qualcode")

#: Built-in negation cues (lower case), English and Indonesian.
NEGATION_CUES: frozenset[str] = frozenset(
    {
        "not", "no", "never", "without", "nor", "neither", "none", "nobody", "nothing",
        "n't", "cannot", "hardly", "barely", "lack", "lacks", "lacking",
        "tidak", "bukan", "belum", "tanpa", "tak", "jangan", "enggak", "nggak", "gak",
        "ga", "ndak", "tiada", "kurang",
    }
)  # fmt: skip

#: Columns of the hits table returned by :meth:`RuleMatcher.match`.
HIT_COLUMNS: tuple[str, ...] = (
    "segment",
    "code",
    "rule_id",
    "kind",
    "start",
    "end",
    "matched",
    "negated",
    "vetoed",
    "veto",
)

_WS = re.compile(r"\s")
_ANCHORED = re.compile(r"(?<!\\)[$^]|\\[AZ]")
_ALL = "*"
_LOCK = threading.Lock()


def _get(obj: Any, name: str, default: Any = None) -> Any:
    """Read ``name`` from a pydantic model, a dataclass or a mapping."""
    if obj is None:
        return default
    if isinstance(obj, Mapping):
        value = obj.get(name, default)
    else:
        value = getattr(obj, name, default)
    return default if value is None else value


def _per_lang(value: Any) -> dict[str, list[Any]]:
    """``{lang: [...]}`` from a mapping or a plain list (which applies to every language)."""
    if not value:
        return {}
    if isinstance(value, Mapping):
        return {str(k): list(v or []) for k, v in value.items()}
    if isinstance(value, str):
        return {_ALL: [value]}
    return {_ALL: list(value)}


# ----------------------------------------------------------------------------------
# lemmatisation
# ----------------------------------------------------------------------------------
@lru_cache(maxsize=8)
def _lookup_table(lang: str) -> Any:
    """The ``lemma_lookup`` table of ``lang`` (a spaCy ``Table``, keyed by string hash)."""
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

    Examples:
        >>> Lemmatizer("en")("Studies")
        'study'
        >>> Lemmatizer("id")("dilaksanakan")
        'laksana'
    """

    _STEM_RE = re.compile(r"^[a-z]{5,}$")

    def __init__(self, lang: str):
        self.lang = lang
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
        self._cache[low] = lemma
        return lemma


# ----------------------------------------------------------------------------------
# compiled rules
# ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CompiledRule:
    """One rule of one code, normalised.

    Attributes:
        rule_id: explicit id or ``"{code}.{kind}.{lang}.{n}"``.
        code: the code id.
        kind: ``kw``, ``pat``, ``re`` or ``prox``.
        lang: language code, or ``"*"`` for every language.
        value: keyword (str), token pattern (list), compiled regex, or ``(a, b, within)``.
        attr: ``LEMMA`` or ``LOWER`` (keywords and proximity terms).
    """

    rule_id: str
    code: str
    kind: str
    lang: str
    value: Any
    attr: str = "LEMMA"


@dataclass(slots=True)
class _CodeRules:
    code: str
    rules: list[CompiledRule] = field(default_factory=list)
    exclude: dict[str, list[str]] = field(default_factory=dict)
    exclude_window: int = 0
    negation: bool = False
    negation_window: int = 3
    roles: frozenset[str] = frozenset()
    speakers: frozenset[str] = frozenset()
    min_hits: int = 1


def _compile_code(code: Any) -> _CodeRules:
    cid = str(_get(code, "id"))
    rules = _get(code, "rules")
    out = _CodeRules(code=cid)
    if rules is None:
        return out
    attr = "LOWER" if str(_get(rules, "match_on", "lemma")).lower() == "lower" else "LEMMA"
    if hasattr(code, "rule_items"):
        _compile_items(out, code.rule_items())
    else:
        _compile_plain(out, cid, rules, attr)
    exclude = _get(rules, "exclude")
    if exclude:
        out.exclude = _per_lang(_get(exclude, "terms"))
        out.exclude_window = int(_get(exclude, "window", 0))
    out.negation = bool(_get(rules, "negation", False))
    out.negation_window = int(_get(rules, "negation_window", 3))
    scope = _get(rules, "scope")
    if scope:
        out.roles = frozenset(str(r) for r in (_get(scope, "roles", []) or []))
        out.speakers = frozenset(str(s) for s in (_get(scope, "speakers", []) or []))
    out.min_hits = max(1, int(_get(rules, "min_hits", 1)))
    return out


_KINDS = {"keyword": "kw", "pattern": "pat", "regex": "re", "proximity": "prox"}


def _compile_items(out: _CodeRules, items: Iterable[Any]) -> None:
    """Rules from :meth:`qualcode.Code.rule_items` (the codebook's own rule ids)."""
    for it in items:
        kind = _KINDS[it.kind]
        lang = _ALL if it.lang in (None, _ALL) else str(it.lang)
        attr = "LOWER" if it.match_on == "lower" else "LEMMA"
        if kind == "kw":
            out.rules.append(CompiledRule(it.id, out.code, kind, lang, str(it.value).strip(), attr))
        elif kind == "pat":
            out.rules.append(CompiledRule(it.id, out.code, kind, lang, [dict(t) for t in it.value]))
        elif kind == "re":
            flags = re.IGNORECASE if it.ignore_case else 0
            out.rules.append(CompiledRule(it.id, out.code, kind, lang, re.compile(it.value, flags)))
        else:
            a, b = it.value
            value = ([str(x) for x in a], [str(x) for x in b], int(it.within or 5))
            out.rules.append(CompiledRule(it.id, out.code, kind, lang, value, attr))


def _compile_plain(out: _CodeRules, cid: str, rules: Any, attr: str) -> None:
    """Rules from a plain mapping (ids generated as ``{code}.{kind}.{lang}.{n}``)."""

    def lang_key(lang: Any) -> str:
        return _ALL if lang in (None, "", _ALL, "all", "any") else str(lang)

    for lang, words in _per_lang(_get(rules, "keywords")).items():
        for n, w in enumerate(words):
            if str(w).strip():
                key = lang_key(lang)
                out.rules.append(
                    CompiledRule(f"{cid}.kw.{'all' if key == _ALL else key}.{n + 1}", cid, "kw", key, str(w).strip(), attr)
                )
    for n, item in enumerate(_get(rules, "patterns", []) or []):
        lang = lang_key(_get(item, "lang"))
        pattern = _get(item, "pattern")
        if not isinstance(pattern, list):
            msg = f"code {cid!r}: patterns[{n}] must hold a spaCy token pattern (a list of dicts)."
            raise CodebookError(msg, [msg])
        rid = _get(item, "id") or f"{cid}.pat.{'all' if lang == _ALL else lang}.{n + 1}"
        out.rules.append(CompiledRule(str(rid), cid, "pat", lang, [dict(t) for t in pattern]))
    for n, item in enumerate(_get(rules, "regex", []) or []):
        if isinstance(item, str):
            item = {"pattern": item}
        lang = lang_key(_get(item, "lang"))
        flags = re.IGNORECASE if _get(item, "ignore_case", True) else 0
        try:
            rx = re.compile(str(_get(item, "pattern")), flags)
        except re.error as exc:
            msg = f"code {cid!r}: regex[{n}] {_get(item, 'pattern')!r} is invalid: {exc}"
            raise CodebookError(msg, [msg]) from exc
        rid = _get(item, "id") or f"{cid}.re.{'all' if lang == _ALL else lang}.{n + 1}"
        out.rules.append(CompiledRule(str(rid), cid, "re", lang, rx))
    for n, item in enumerate(_get(rules, "proximity", []) or []):
        lang = lang_key(_get(item, "lang"))
        a = [str(x) for x in (_get(item, "a", []) or [])]
        b = [str(x) for x in (_get(item, "b", []) or [])]
        within = int(_get(item, "within", 5))
        rid = _get(item, "id") or f"{cid}.prox.{'all' if lang == _ALL else lang}.{n + 1}"
        out.rules.append(CompiledRule(str(rid), cid, "prox", lang, (a, b, within), attr))


def rule_score(n_hits: int) -> float:
    """Score of a code fired by ``n_hits`` valid rule hits: ``1 - 0.2 ** n_hits``.

    One hit gives 0.8, two 0.96, three 0.992: rules are precise, and more hits are more
    evidence.  Zero hits give 0.
    """
    return float(1.0 - 0.2 ** int(n_hits)) if n_hits > 0 else 0.0


#: Bounds of the per-process caches shared by every :class:`RuleMatcher` of a language.
_TOKENIZER_CACHE = 200_000  # whitespace chunks whose tokenisation spaCy keeps
_LEMMA_CACHE = 500_000  # LOWER hash -> LEMMA hash entries per language
_DOC_CACHE_TOKENS = 1_000_000  # tokens of lemmatised batch Docs kept for re-use (~70k sentences)


@lru_cache(maxsize=16)
def _blank(lang: str) -> Any:
    """The blank spaCy pipeline of ``lang``, built once per process.

    Building one loads thousands of tokenizer exceptions (over a second); every
    :class:`RuleMatcher` of the process shares it (its matchers only add strings to the
    shared vocabulary).  Its tokenizer keeps the tokenisation of up to
    ``_TOKENIZER_CACHE`` distinct whitespace-separated chunks (spaCy's default is 10,000).
    """
    import spacy

    try:
        nlp = spacy.blank(lang)
    except (ImportError, KeyError, ValueError, OSError):
        nlp = spacy.blank("xx")
    nlp.max_length = 10**8
    try:
        nlp.tokenizer.max_cache_size = max(int(nlp.tokenizer.max_cache_size), _TOKENIZER_CACHE)
    except AttributeError:  # pragma: no cover - older spaCy
        pass
    _PRIMED[lang] = set()
    return nlp


#: Whitespace chunks already tokenised on their own, per language (see ``_prime``).
_PRIMED: dict[str, set[str]] = {}


def _prime(lang: str, nlp: Any, text: str) -> None:
    """Tokenise the chunks of ``text`` not seen before one by one, so spaCy caches them.

    spaCy's tokenizer stops caching chunk tokenisations for the rest of a Doc once a
    tokenizer exception (special case) occurred in it, so a long joined batch is tokenised
    almost entirely without its cache (Indonesian: ~7,000 sentences/s).  A chunk's
    tokenisation does not depend on its neighbours, so tokenising each new chunk alone
    first fills the cache and leaves the result unchanged (~150,000 sentences/s).
    """
    seen = _PRIMED.setdefault(lang, set())
    if len(seen) >= _TOKENIZER_CACHE:
        return
    tokenizer = nlp.tokenizer
    for chunk in set(text.split()) - seen:
        tokenizer(chunk)
        seen.add(chunk)


@lru_cache(maxsize=16)
def _shared_lemmatizer(lang: str) -> Lemmatizer:
    return Lemmatizer(lang)


#: LOWER hash -> LEMMA hash per language, shared by every pipeline (bounded).
_LEMMA_OF: dict[str, dict[int, int]] = {}

#: Lemmatised Docs of recent batches: (language, sha1 of the batch text) -> (Doc, n tokens).
_DOCS: OrderedDict[tuple[str, str], Any] = OrderedDict()
_DOCS_TOKENS = [0]


class _LangPipeline:
    """Tokenizer, lemma cache and matchers for one language."""

    def __init__(self, lang: str, codes: list[_CodeRules]):
        from spacy.matcher import Matcher, PhraseMatcher

        self.nlp = _blank(lang)
        self.lang = lang
        self.vocab = self.nlp.vocab
        self.lemmatizer = _shared_lemmatizer(lang)
        self._lemma_of = _LEMMA_OF.setdefault(lang, {})
        self.required: list[tuple[int, np.ndarray]] | None = None
        self.phrase = {
            "LEMMA": PhraseMatcher(self.vocab, attr="LEMMA"),
            "LOWER": PhraseMatcher(self.vocab, attr="LOWER"),
        }
        self.matcher = Matcher(self.vocab, validate=True)
        self.rules: dict[str, CompiledRule] = {}
        self.regexes: list[CompiledRule] = []
        self.prox: list[CompiledRule] = []
        self.codes = {c.code: c for c in codes}
        errors: list[str] = []
        for c in codes:
            for r in c.rules:
                if r.lang not in (_ALL, lang):
                    continue
                self.rules[r.rule_id] = r
                if r.kind == "kw":
                    self.phrase[r.attr].add(r.rule_id, [self._pattern_doc(r.value)])
                elif r.kind == "pat":
                    try:
                        self.matcher.add(r.rule_id, [r.value])
                    except (ValueError, KeyError) as exc:
                        errors.append(f"code {c.code!r}: pattern {r.rule_id}: {exc}")
                elif r.kind == "re":
                    self.regexes.append(r)
                else:
                    a, b, _within = r.value
                    self.prox.append(r)
                    pm = self.phrase[r.attr]
                    pm.add(f"\x00a\x00{r.rule_id}", [self._pattern_doc(t) for t in a])
                    pm.add(f"\x00b\x00{r.rule_id}", [self._pattern_doc(t) for t in b])
            terms = c.exclude.get(lang, []) + c.exclude.get(_ALL, [])
            if terms:
                self.phrase["LEMMA"].add(f"\x00x\x00{c.code}", [self._pattern_doc(t) for t in terms])
        if errors:
            msg = "invalid token pattern(s):\n" + "\n".join(errors)
            raise CodebookError(msg, errors)
        self.neg_hashes = np.array(
            sorted(self.vocab.strings.add(w) for w in NEGATION_CUES), dtype=np.uint64
        )
        self._n_phrase = {k: len(v) for k, v in self.phrase.items()}
        self.required = self._required_tokens()

    def _required_tokens(self) -> list[tuple[int, np.ndarray]] | None:
        """Token values that every token pattern needs, as ``[(attr id, sorted hashes)]``.

        For each pattern, the first token that must occur (no ``OP`` or ``OP: "+"``) and
        is constrained by ``LOWER``/``ORTH``/``TEXT``/``NORM``/``LEMMA`` equal to a string or
        ``IN`` a list of strings gives a necessary condition: a segment without any such
        token cannot match that pattern.  ``None`` when some pattern has no such token (the
        Matcher then runs on every segment).
        """
        from spacy.attrs import LEMMA, LOWER, NORM, ORTH

        ids = {"LOWER": LOWER, "ORTH": ORTH, "TEXT": ORTH, "NORM": NORM, "LEMMA": LEMMA}
        by_attr: dict[int, set[int]] = {}
        strings = self.vocab.strings
        patterns = [r.value for r in self.rules.values() if r.kind == "pat"]
        for pattern in patterns:
            found = False
            for spec in pattern:
                if spec.get("OP", "") not in ("", "+"):
                    continue
                for key, val in spec.items():
                    attr = ids.get(str(key).upper())
                    if attr is None:
                        continue
                    if isinstance(val, str):
                        values = [val]
                    elif isinstance(val, Mapping) and set(val) == {"IN"} and isinstance(val["IN"], list):
                        values = val["IN"]
                    else:
                        continue
                    if not values or not all(isinstance(v, str) for v in values):
                        continue
                    by_attr.setdefault(attr, set()).update(strings.add(v) for v in values)
                    found = True
                    break
                if found:
                    break
            if not found:
                return None
        return [(a, np.array(sorted(h), dtype=np.uint64)) for a, h in by_attr.items()]

    def _pattern_doc(self, text: str) -> Any:
        doc = self.nlp.make_doc(_WS.sub(" ", text))
        self._set_lemmas(doc)
        return doc

    def _set_lemmas(self, doc: Any) -> None:
        from spacy.attrs import LEMMA, LOWER

        if not len(doc):
            return
        lower = doc.to_array(LOWER).astype(np.uint64)
        uniq, inv = np.unique(lower, return_inverse=True)
        cache = self._lemma_of
        if len(cache) > _LEMMA_CACHE:
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

    def tokens(self, text: str) -> Any:
        """A Doc of ``text`` (whitespace normalised, offsets unchanged) with lemmas.

        Docs of recent batches are shared by every pipeline of the language (the tokens and
        lemmas do not depend on the codebook), so re-coding the same texts after a codebook
        edit only re-runs the matchers.
        """
        norm = _WS.sub(" ", text)
        key = (self.lang, hashlib.sha1(norm.encode("utf-8", "surrogatepass")).hexdigest())
        with _LOCK:
            hit = _DOCS.get(key)
            if hit is not None:
                _DOCS.move_to_end(key)
                return hit
        _prime(self.lang, self.nlp, norm)
        doc = self.nlp.make_doc(norm)
        self._set_lemmas(doc)
        if len(doc) <= _DOC_CACHE_TOKENS // 2:
            with _LOCK:
                if key not in _DOCS:
                    _DOCS[key] = doc
                    _DOCS_TOKENS[0] += len(doc)
                while _DOCS_TOKENS[0] > _DOC_CACHE_TOKENS and _DOCS:
                    _, old = _DOCS.popitem(last=False)
                    _DOCS_TOKENS[0] -= len(old)
        return doc


# ----------------------------------------------------------------------------------
# the matcher
# ----------------------------------------------------------------------------------
class RuleMatcher:
    """Match a codebook's rules against segments.

    Args:
        codebook: a :class:`qualcode.Codebook` (or any object whose ``codes`` have ``id``
            and ``rules``).
        batch_chars: characters per spaCy batch (segments of one language are joined).

    Raises:
        CodebookError: a token pattern or a regex is invalid.

    Examples:
        >>> from qualcode._codebook import Codebook
        >>> cb = Codebook.from_dict({"name": "t", "codes": [{"id": "money", "name": "Money",
        ...     "definition": "talk about funds", "rules": {"keywords": ["budget"]}}]})
        >>> m = RuleMatcher(cb)
        >>> hits = m.match(["The budgets were late."], languages=["en"])
        >>> hits.loc[0, ["code", "matched"]].tolist()
        ['money', 'budgets']
    """

    def __init__(self, codebook: Any, *, batch_chars: int = 400_000):
        self.codebook = codebook
        self.batch_chars = int(batch_chars)
        self.code_rules = [_compile_code(c) for c in _get(codebook, "codes", [])]
        self.code_rules = [c for c in self.code_rules if c.rules]
        self._pipelines: dict[str, _LangPipeline] = {}

    @property
    def codes(self) -> list[str]:
        """Codes that have at least one rule."""
        return [c.code for c in self.code_rules]

    @property
    def rule_ids(self) -> list[str]:
        """Every rule id, in codebook order."""
        return [r.rule_id for c in self.code_rules for r in c.rules]

    def pipeline(self, lang: str) -> _LangPipeline:
        """The (cached) tokenizer and matchers for ``lang``."""
        pipe = self._pipelines.get(lang)
        if pipe is None:
            with _LOCK:
                pipe = self._pipelines.get(lang)
                if pipe is None:
                    pipe = _LangPipeline(lang, self.code_rules)
                    self._pipelines[lang] = pipe
        return pipe

    def match(
        self,
        texts: Sequence[str],
        *,
        languages: Sequence[str] | str = "en",
        roles: Sequence[str] | None = None,
        speakers: Sequence[str] | None = None,
        offsets: Sequence[int] | None = None,
    ) -> pd.DataFrame:
        """Find every rule hit in ``texts``.

        Args:
            texts: segment texts.
            languages: one language per text, or one for all.
            roles: speaker role per text (for ``scope.roles``); ``None``: no role filter.
            speakers: speaker label per text (for ``scope.speakers``).
            offsets: document offset of each text's first character (default 0), so that
                spans are document offsets.

        Returns:
            One row per hit with the columns :data:`HIT_COLUMNS`: ``segment`` (index into
            ``texts``), ``code``, ``rule_id``, ``kind``, ``start``/``end`` (document
            offsets), ``matched`` (the text), ``negated`` and ``vetoed`` (bool) and ``veto``
            (the cue or exclusion term).
        """
        n = len(texts)
        langs = [languages] * n if isinstance(languages, str) else list(languages)
        offs = np.zeros(n, dtype=np.int64) if offsets is None else np.asarray(offsets, np.int64)
        rows: list[tuple[Any, ...]] = []
        if not self.code_rules or n == 0:
            return pd.DataFrame(rows, columns=list(HIT_COLUMNS))
        by_lang: dict[str, list[int]] = {}
        for i, lang in enumerate(langs):
            by_lang.setdefault(str(lang or "en"), []).append(i)
        for lang, idx in by_lang.items():
            pipe = self.pipeline(lang)
            batch: list[int] = []
            size = 0
            for i in idx:
                batch.append(i)
                size += len(texts[i]) + 1
                if size >= self.batch_chars:
                    rows.extend(self._match_batch(pipe, texts, batch, offs, roles, speakers))
                    batch, size = [], 0
            if batch:
                rows.extend(self._match_batch(pipe, texts, batch, offs, roles, speakers))
        frame = pd.DataFrame(rows, columns=list(HIT_COLUMNS))
        return frame.sort_values(["segment", "start", "rule_id"], kind="stable").reset_index(drop=True)

    # -- internals ---------------------------------------------------------------------
    @staticmethod
    def _pattern_spans(
        pipe: _LangPipeline, doc: Any, tok_seg: np.ndarray, seg_first: np.ndarray, seg_last: np.ndarray
    ) -> Iterable[tuple[int, Any]]:
        """``(first token, Doc or Span)`` to run the token-pattern Matcher on.

        Only runs of consecutive segments holding a token every pattern needs (see
        ``_LangPipeline._required_tokens``); matches never cross a segment, so they are the
        same as on the whole Doc.
        """
        if pipe.required is None:
            return [(0, doc)]
        cand = np.zeros(len(doc), dtype=bool)
        for attr, hashes in pipe.required:
            cand |= np.isin(doc.to_array(attr).astype(np.uint64), hashes)
        segs = np.unique(tok_seg[cand])
        if not len(segs):
            return []
        first, last = seg_first[segs], seg_last[segs]
        # runs of candidate segments; runs fewer than 64 tokens apart are matched together
        # (one Matcher call per short run costs more than the tokens in between)
        breaks = np.flatnonzero(first[1:] - last[:-1] >= 64) + 1
        lo = np.r_[0, breaks]
        hi = np.r_[breaks, len(segs)] - 1
        return [(int(a), doc[int(a) : int(b)]) for a, b in zip(first[lo], last[hi], strict=True)]

    def _match_batch(
        self,
        pipe: _LangPipeline,
        texts: Sequence[str],
        batch: list[int],
        offs: np.ndarray,
        roles: Sequence[str] | None,
        speakers: Sequence[str] | None,
    ) -> Iterable[tuple[Any, ...]]:
        from spacy.attrs import IDX, LENGTH, LOWER

        parts = [texts[i] for i in batch]
        starts = np.zeros(len(parts), dtype=np.int64)
        if len(parts) > 1:
            starts[1:] = np.cumsum([len(p) + 1 for p in parts[:-1]])
        big = " ".join(parts)
        doc = pipe.tokens(big)
        if not len(doc):
            return []
        arr = doc.to_array([IDX, LENGTH, LOWER])
        tok_start = arr[:, 0].astype(np.int64)
        tok_end = tok_start + arr[:, 1].astype(np.int64)
        tok_seg = np.searchsorted(starts, tok_start, side="right") - 1
        is_neg = np.isin(arr[:, 2].astype(np.uint64), pipe.neg_hashes)
        # token range of each segment
        seg_first = np.searchsorted(tok_seg, np.arange(len(parts)), side="left")
        seg_last = np.searchsorted(tok_seg, np.arange(len(parts)), side="right")
        strings = pipe.vocab.strings

        # raw matches: (local segment, code, rule, kind, tok_s, tok_e)
        raw: list[tuple[int, str, str, str, int, int]] = []
        excl: dict[tuple[int, str], list[tuple[int, int]]] = {}
        prox_a: dict[tuple[int, str], list[tuple[int, int]]] = {}
        prox_b: dict[tuple[int, str], list[tuple[int, int]]] = {}
        for attr, pm in pipe.phrase.items():
            if not pipe._n_phrase[attr]:
                continue
            for mid, s, e in pm(doc):
                seg = int(tok_seg[s])
                if tok_seg[e - 1] != seg:
                    continue
                label = strings[mid]
                if label.startswith("\x00"):
                    _, tag, name = label.split("\x00")
                    target = {"x": excl, "a": prox_a, "b": prox_b}[tag]
                    target.setdefault((seg, name), []).append((s, e))
                    continue
                r = pipe.rules[label]
                raw.append((seg, r.code, r.rule_id, "kw", s, e))
        if len(pipe.matcher):
            for base, sub in self._pattern_spans(pipe, doc, tok_seg, seg_first, seg_last):
                for mid, s, e in pipe.matcher(sub):
                    s, e = s + base, e + base
                    seg = int(tok_seg[s])
                    if tok_seg[e - 1] != seg:
                        continue
                    r = pipe.rules[strings[mid]]
                    raw.append((seg, r.code, r.rule_id, "pat", s, e))
        for r in pipe.prox:
            a_terms, b_terms, within = r.value
            for (seg, name), a_spans in prox_a.items():
                if name != r.rule_id:
                    continue
                for bs, be in prox_b.get((seg, name), []):
                    for as_, ae in a_spans:
                        gap = max(bs - ae, as_ - be, 0)
                        if gap <= within:
                            raw.append((seg, r.code, r.rule_id, "prox", min(as_, bs), max(ae, be)))
                            break
                    else:
                        continue
                    break
        # regexes: searched once in the joined text; hits crossing a boundary are dropped
        char_hits: list[tuple[int, str, str, int, int]] = []
        seg_ends = starts + np.array([len(p) for p in parts], dtype=np.int64)
        for r in pipe.regexes:
            if _ANCHORED.search(r.value.pattern):  # ^ $ \A \Z refer to each segment
                for j, text in enumerate(parts):
                    for m in r.value.finditer(text):
                        if m.end() > m.start():
                            char_hits.append((j, r.code, r.rule_id, m.start(), m.end()))
                continue
            for m in r.value.finditer(big):
                a, b = m.start(), m.end()
                if b <= a:
                    continue
                j = int(np.searchsorted(starts, a, side="right")) - 1
                if b > seg_ends[j]:
                    continue
                char_hits.append((j, r.code, r.rule_id, a - int(starts[j]), b - int(starts[j])))
        out: list[tuple[Any, ...]] = []
        for seg, code, rid, kind, s, e in raw:
            cs, ce = int(tok_start[s]) - int(starts[seg]), int(tok_end[e - 1]) - int(starts[seg])
            out.append((seg, code, rid, kind, s, e, cs, ce))
        for seg, code, rid, cs, ce in char_hits:
            a = int(starts[seg]) + cs
            b = int(starts[seg]) + ce
            s = int(np.searchsorted(tok_end, a, side="right"))
            e = int(np.searchsorted(tok_start, b, side="left"))
            s = min(max(s, int(seg_first[seg])), int(seg_last[seg]) - 1) if seg_last[seg] > seg_first[seg] else s
            e = max(e, s + 1)
            out.append((seg, code, rid, "re", s, e, cs, ce))
        result: list[tuple[Any, ...]] = []
        for seg, code, rid, kind, s, e, cs, ce in out:
            i = batch[seg]
            cr = pipe.codes[code]
            if cr.roles and (roles is None or roles[i] not in cr.roles):
                continue
            if cr.speakers and (speakers is None or speakers[i] not in cr.speakers):
                continue
            first = int(seg_first[seg])
            negated = False
            veto = ""
            if cr.negation:
                lo = max(first, s - cr.negation_window)
                cues = np.nonzero(is_neg[lo:s])[0]
                if len(cues):
                    negated = True
                    k = lo + int(cues[-1])
                    veto = big[tok_start[k] : tok_end[k]]
            vetoed = False
            for xs, xe in excl.get((seg, code), []):
                if cr.exclude_window <= 0 or max(xs - e, s - xe, 0) <= cr.exclude_window:
                    vetoed = True
                    veto = big[tok_start[xs] : tok_end[xe - 1]]
                    break
            text = parts[seg]
            off = int(offs[i])
            result.append((i, code, rid, kind, off + cs, off + ce, text[cs:ce], negated, vetoed, veto))
        return result


def aggregate_hits(
    hits: pd.DataFrame, matcher: RuleMatcher
) -> pd.DataFrame:
    """One row per (segment, code) with rule hits.

    Args:
        hits: the table returned by :meth:`RuleMatcher.match`.
        matcher: the matcher (for ``min_hits``).

    Returns:
        Columns ``segment, code, n_hits`` (valid hits: neither negated nor vetoed),
        ``n_blocked``, ``fired`` (``n_hits >= min_hits``), ``score`` (:func:`rule_score` when
        fired, else 0) and ``evidence`` (rule ids, matched text and spans, vetoes).
    """
    cols = ["segment", "code", "n_hits", "n_blocked", "fired", "score", "evidence"]
    if hits.empty:
        return pd.DataFrame(columns=cols)
    min_hits = {c.code: c.min_hits for c in matcher.code_rules}
    h = hits
    blocked = h["negated"].astype(bool) | h["vetoed"].astype(bool)
    span = " [" + h["start"].astype(str) + ":" + h["end"].astype(str) + "]"
    quoted = h["matched"].map(repr)
    why = np.where(h["vetoed"].astype(bool), " vetoed by exclusion ", " negated by ")
    ev = np.where(
        blocked,
        "rule " + h["rule_id"] + " " + quoted + span + why + h["veto"].map(repr),
        "rule " + h["rule_id"] + " matched " + quoted + span,
    )
    work = pd.DataFrame(
        {
            "segment": h["segment"].astype("int64"),
            "code": h["code"],
            "valid": (~blocked).astype("int64"),
            "blocked": blocked.astype("int64"),
            "ev": ev,
            "order": blocked.astype("int64"),
        }
    ).sort_values(["segment", "code", "order"], kind="stable")
    key = work[["segment", "code"]]
    multi = key.duplicated(keep=False).to_numpy()
    single = work[~multi]
    out = pd.DataFrame(
        {
            "segment": single["segment"],
            "code": single["code"],
            "n_hits": single["valid"],
            "n_blocked": single["blocked"],
            "evidence": single["ev"],
        }
    )
    if multi.any():
        grouped = work[multi].groupby(["segment", "code"], sort=False)
        many = grouped.agg(
            n_hits=("valid", "sum"), n_blocked=("blocked", "sum"), evidence=("ev", "; ".join)
        ).reset_index()
        out = pd.concat([out, many], ignore_index=True)
    out = out.sort_values(["segment", "code"], kind="stable").reset_index(drop=True)
    need = out["code"].map(min_hits).fillna(1).astype("int64")
    out["fired"] = out["n_hits"] >= need
    out["score"] = np.where(out["fired"], 1.0 - 0.2 ** out["n_hits"].astype(float), 0.0)
    short = (out["n_hits"] > 0) & ~out["fired"]
    out.loc[short, "evidence"] = (
        out.loc[short, "evidence"]
        + "; "
        + out.loc[short, "n_hits"].astype(str)
        + " hit(s) < min_hits "
        + need[short].astype(str)
    )
    return out[cols]
