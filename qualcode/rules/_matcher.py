"""Rule matching: a codebook's rules compiled into spaCy matchers, one pipeline per language.

The data path (see ``docs/architecture.md``, section "Codebook and rules"):

1. every code's ``rules`` (a validated ``Rules`` model) yields normalised :class:`RuleItem`
   through its kinds (:meth:`RulesBase.items`), each item is compiled by its kind
   (:meth:`RuleKind.compile`) and its modifiers become a :class:`CodeModifiers`;
2. for each language met in the texts, a :class:`LangPipeline` builds one instance of each
   kind with the compiled rules of that language, on the language's shared
   :class:`LanguageResources` (blank spaCy pipeline, lemmas, caches);
3. the segments of one language are joined into batches and tokenised as one Doc (whitespace
   is normalised without changing any offset); one PhraseMatcher pass finds the phrases of
   every kind, then each kind yields its hits, which never cross a segment;
4. the modifiers (scope, negation, exclusion) judge each hit, and every hit records the rule
   id, the matched text and its character span in **document** offsets
   (``doc.text[start:end] == matched``); :func:`aggregate_hits` applies ``min_hits``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from ..codings.evidence import rule_part
from ..errors import CodebookError
from ._base import ALL_LANGUAGES, Batch, CompiledRule, RuleKind
from ._modifiers import NEGATION_CUES, CodeModifiers
from ._registry import RULE_KINDS
from ._resources import LanguageResources, language_resources
from ._schema import RulesBase

__all__ = [
    "HIT_COLUMNS",
    "CodeRules",
    "LangPipeline",
    "RuleMatcher",
    "aggregate_hits",
    "rule_score",
]

logger = logging.getLogger("qualcode")

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


def _get(obj: Any, name: str, default: Any = None) -> Any:
    """Read ``name`` from a model, a dataclass or a mapping."""
    if obj is None:
        return default
    value = obj.get(name, default) if isinstance(obj, Mapping) else getattr(obj, name, default)
    return default if value is None else value


def rule_score(n_hits: int) -> float:
    """Score of a code fired by ``n_hits`` valid rule hits: ``1 - 0.2 ** n_hits``.

    One hit gives 0.8, two 0.96, three 0.992: rules are precise, and more hits are more
    evidence.  Zero hits give 0.
    """
    return float(1.0 - 0.2 ** int(n_hits)) if n_hits > 0 else 0.0


# ----------------------------------------------------------------------------------
# compiled codes
# ----------------------------------------------------------------------------------
@dataclass(slots=True)
class CodeRules:
    """The compiled rules and the modifiers of one code.

    Attributes:
        code: the code id.
        rules: compiled rules in normalisation order.
        modifiers: exclusion, negation, scope and ``min_hits``.
    """

    code: str
    rules: list[CompiledRule]
    modifiers: CodeModifiers

    @property
    def min_hits(self) -> int:
        """Valid hits a segment needs for the code to fire."""
        return self.modifiers.min_hits


def _rules_of(code: Any) -> RulesBase:
    """The validated ``Rules`` of a code (a ``Code`` or a plain mapping with ``rules``)."""
    rules = _get(code, "rules")
    if isinstance(rules, RulesBase):
        return rules
    try:
        return RULE_KINDS.rules_model.model_validate(rules or {})
    except ValidationError as exc:
        problems = [f"code {_get(code, 'id')!r}: rules.{'.'.join(map(str, e['loc']))}: {e['msg']}"
                    for e in exc.errors(include_url=False)]
        msg = "; ".join(problems)
        raise CodebookError(msg, problems) from None


def _compile_code(code: Any) -> tuple[CodeRules, tuple[type[RuleKind], ...]]:
    cid = str(_get(code, "id"))
    rules = _rules_of(code)
    kinds = type(rules).rule_kinds
    by_name = {k.name: k for k in kinds}
    compiled = [by_name[item.kind].compile(item) for item in rules.items(cid)]
    return CodeRules(cid, compiled, CodeModifiers.from_rules(cid, rules)), kinds


# ----------------------------------------------------------------------------------
# one language
# ----------------------------------------------------------------------------------
class LangPipeline:
    """The matchers of one codebook for one language.

    Args:
        lang: the language.
        codes: the compiled codes.
        kinds: the rule kinds, in order (each gets the compiled rules of its ``short``).
        resources: the language's resources (default: the shared ones).

    Attributes:
        nlp, vocab: the language's blank spaCy pipeline and its vocabulary.
        kinds: ``{kind name: kind instance}`` for the kinds with rules in this language.
        codes: ``{code id: CodeRules}``.
    """

    def __init__(self, lang: str, codes: list[CodeRules], kinds: Sequence[type[RuleKind]],
                 resources: LanguageResources | None = None) -> None:
        from spacy.matcher import PhraseMatcher

        self.lang = lang
        self.resources = resources or language_resources(lang)
        self.nlp = self.resources.nlp
        self.vocab = self.resources.vocab
        self.phrase = {
            "LEMMA": PhraseMatcher(self.vocab, attr="LEMMA"),
            "LOWER": PhraseMatcher(self.vocab, attr="LOWER"),
        }
        self._labels: dict[int, str] = {}
        self.codes = {c.code: c for c in codes}
        by_short: dict[str, list[CompiledRule]] = {}
        for c in codes:
            for r in c.rules:
                if r.lang in (ALL_LANGUAGES, lang):
                    by_short.setdefault(r.kind, []).append(r)
            terms = c.modifiers.exclusion_terms(lang)
            if terms:
                self.add_phrases("LEMMA", f"\x00x\x00{c.code}", terms)
        self.kinds: dict[str, RuleKind] = {
            k.name: k(self, by_short[k.short]) for k in kinds if by_short.get(k.short)
        }
        self._units = [(k, k.unit == "char") for k in self.kinds.values()]
        self.neg_hashes = np.array(
            sorted(self.vocab.strings.add(w) for w in NEGATION_CUES), dtype=np.uint64
        )

    def add_phrases(self, attr: str, label: str, terms: Iterable[str]) -> None:
        """Add ``terms`` under ``label`` to the shared PhraseMatcher of ``attr``."""
        self.phrase[attr].add(label, [self.resources.phrase_doc(t) for t in terms])
        self._labels[self.vocab.strings.add(label)] = label

    def tokens(self, text: str) -> Any:
        """A Doc of ``text`` with lemmas (cached; see :meth:`LanguageResources.tokens`)."""
        return self.resources.tokens(text)

    def batch(self, parts: list[str]) -> Batch | None:
        """Tokenise ``parts`` as one Doc and run the shared phrase pass (None: no tokens)."""
        from spacy.attrs import IDX, LENGTH

        starts = np.zeros(len(parts), dtype=np.int64)
        if len(parts) > 1:
            starts[1:] = np.cumsum([len(p) + 1 for p in parts[:-1]])
        big = " ".join(parts)
        doc = self.tokens(big)
        if not len(doc):
            return None
        arr = doc.to_array([IDX, LENGTH])
        tok_start = arr[:, 0].astype(np.int64)
        tok_end = tok_start + arr[:, 1].astype(np.int64)
        tok_seg = np.searchsorted(starts, tok_start, side="right") - 1
        seg_ids = np.arange(len(parts))
        phrases: dict[str, list[tuple[int, int, int]]] = {}
        labels = self._labels
        for pm in self.phrase.values():
            if not len(pm):
                continue
            for mid, s, e in pm(doc):
                seg = int(tok_seg[s])
                if tok_seg[e - 1] != seg:
                    continue
                label = labels[mid]
                spans = phrases.get(label)
                if spans is None:
                    phrases[label] = [(seg, s, e)]
                else:
                    spans.append((seg, s, e))
        return Batch(
            doc=doc, text=big, parts=parts, starts=starts,
            seg_ends=starts + np.array([len(p) for p in parts], dtype=np.int64),
            tok_start=tok_start, tok_end=tok_end, tok_seg=tok_seg,
            seg_first=np.searchsorted(tok_seg, seg_ids, side="left"),
            seg_last=np.searchsorted(tok_seg, seg_ids, side="right"),
            phrases=phrases,
        )

    def hits(self, batch: Batch) -> list[tuple[Any, ...]]:
        """Every kind's hits as ``(code, rule id, kind, segment, tok_s, tok_e, char_s, char_e)``.

        Character offsets are relative to the segment; a character hit gets the token range
        it overlaps (for the negation and exclusion windows).
        """
        out = []
        tok_start, tok_end, starts = batch.tok_start, batch.tok_end, batch.starts
        seg_first, seg_last = batch.seg_first, batch.seg_last
        for kind, is_char in self._units:
            for seg, r, a, b in kind.match(batch):
                if not is_char:
                    base = int(starts[seg])
                    out.append((r.code, r.rule_id, r.kind, seg, a, b,
                                int(tok_start[a]) - base, int(tok_end[b - 1]) - base))
                    continue
                ca, cb = int(starts[seg]) + a, int(starts[seg]) + b
                s = int(np.searchsorted(tok_end, ca, side="right"))
                e = int(np.searchsorted(tok_start, cb, side="left"))
                if seg_last[seg] > seg_first[seg]:
                    s = min(max(s, int(seg_first[seg])), int(seg_last[seg]) - 1)
                out.append((r.code, r.rule_id, r.kind, seg, s, max(e, s + 1), a, b))
        return out


# ----------------------------------------------------------------------------------
# the matcher
# ----------------------------------------------------------------------------------
class RuleMatcher:
    """Match a codebook's rules against segments.

    Args:
        codebook: a :class:`qualcode.Codebook` (or any object, or mapping, whose ``codes`` have
            ``id`` and ``rules``; plain rules are validated like a codebook's).
        batch_chars: characters per spaCy batch (segments of one language are joined).

    Raises:
        CodebookError: a token pattern or a regex is invalid.

    Examples:
        >>> from qualcode.codebook import Codebook
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
        kinds: dict[type[RuleKind], None] = {}
        self.code_rules: list[CodeRules] = []
        for code in _get(codebook, "codes", []):
            compiled, code_kinds = _compile_code(code)
            kinds.update(dict.fromkeys(code_kinds))
            if compiled.rules:
                self.code_rules.append(compiled)
        self.kinds = tuple(kinds)
        self._pipelines: dict[str, LangPipeline] = {}
        self._lock = threading.Lock()

    @property
    def codes(self) -> list[str]:
        """Codes that have at least one rule."""
        return [c.code for c in self.code_rules]

    @property
    def rule_ids(self) -> list[str]:
        """Every rule id, in codebook order."""
        return [r.rule_id for c in self.code_rules for r in c.rules]

    def pipeline(self, lang: str) -> LangPipeline:
        """The (cached) matchers for ``lang``."""
        pipe = self._pipelines.get(lang)
        if pipe is None:
            with self._lock:
                pipe = self._pipelines.get(lang)
                if pipe is None:
                    pipe = LangPipeline(lang, self.code_rules, self.kinds)
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
                    rows.extend(_match_batch(pipe, texts, batch, offs, roles, speakers))
                    batch, size = [], 0
            if batch:
                rows.extend(_match_batch(pipe, texts, batch, offs, roles, speakers))
        frame = pd.DataFrame(rows, columns=list(HIT_COLUMNS))
        return frame.sort_values(["segment", "start", "rule_id"], kind="stable").reset_index(drop=True)


def _match_batch(
    pipe: LangPipeline,
    texts: Sequence[str],
    batch: list[int],
    offs: np.ndarray,
    roles: Sequence[str] | None,
    speakers: Sequence[str] | None,
) -> list[tuple[Any, ...]]:
    """The hits of one batch, judged by the modifiers (scope, negation, exclusion)."""
    from spacy.attrs import LOWER

    parts = [texts[i] for i in batch]
    b = pipe.batch(parts)
    if b is None:
        return []
    is_neg = np.isin(b.doc.to_array(LOWER).astype(np.uint64), pipe.neg_hashes)
    big, tok_start, tok_end = b.text, b.tok_start, b.tok_end
    excl: dict[str, dict[int, list[tuple[int, int]]]] = {}
    result: list[tuple[Any, ...]] = []
    for code, rid, kind, seg, s, e, cs, ce in pipe.hits(b):
        i = batch[seg]
        mods = pipe.codes[code].modifiers
        if mods.roles and (roles is None or roles[i] not in mods.roles):
            continue
        if mods.speakers and (speakers is None or speakers[i] not in mods.speakers):
            continue
        negated = False
        veto = ""
        if mods.negation:
            lo = max(int(b.seg_first[seg]), s - mods.negation_window)
            cues = np.nonzero(is_neg[lo:s])[0]
            if len(cues):
                negated = True
                k = lo + int(cues[-1])
                veto = big[tok_start[k] : tok_end[k]]
        vetoed = False
        by_seg = excl.get(code)
        if by_seg is None:
            by_seg = excl[code] = {}
            for xseg, xs, xe in b.phrases.get(f"\x00x\x00{code}", ()):
                by_seg.setdefault(xseg, []).append((xs, xe))
        for xs, xe in by_seg.get(seg, ()):
            if mods.exclude_window <= 0 or max(xs - e, s - xe, 0) <= mods.exclude_window:
                vetoed = True
                veto = big[tok_start[xs] : tok_end[xe - 1]]
                break
        off = int(offs[i])
        result.append((i, code, rid, kind, off + cs, off + ce, parts[seg][cs:ce], negated, vetoed, veto))
    return result


def aggregate_hits(hits: pd.DataFrame, matcher: RuleMatcher) -> pd.DataFrame:
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
    # the wording of a hit is the evidence module's (one place writes and parses evidence)
    ev = [
        rule_part(rid, m, int(a), int(b), vetoed_by=veto if vet else None,
                  negated_by=veto if (neg and not vet) else None)
        for rid, m, a, b, vet, neg, veto in zip(
            h["rule_id"], h["matched"], h["start"], h["end"], h["vetoed"].astype(bool),
            h["negated"].astype(bool), h["veto"], strict=True)
    ]  # fmt: skip
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
    out["score"] = [rule_score(n) if f else 0.0 for n, f in zip(out["n_hits"], out["fired"], strict=True)]
    short = (out["n_hits"] > 0) & ~out["fired"]
    out.loc[short, "evidence"] = (
        out.loc[short, "evidence"]
        + "; "
        + out.loc[short, "n_hits"].astype(str)
        + " hit(s) < min_hits "
        + need[short].astype(str)
    )
    return out[cols]
