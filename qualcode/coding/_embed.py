"""Zero-shot embedding matching of segments against a codebook's code prototypes.

Each leaf code with embedding enabled gets *prototype items* (its definition, inclusion
criteria and examples in every language, plus counterexamples), embedded once through the
cache. A segment's raw evidence for a code is the cosine to the code's nearest positive item
(``similarity``) and to its nearest counterexample (``counter``). Raw cosines of the default
model sit in a narrow band (about 0.80-0.95), so the decision uses a calibrated ``score``
instead; see :class:`EmbeddingScores` for the formula.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from ..backends import EmbeddingCache, embed_texts
from ..codings.evidence import decision_part, item_label, nearest_part
from ..errors import EmbeddingError
from ._thresholds import DEFAULT_THRESHOLD, effective_thresholds

__all__ = [
    "BACKGROUND_TEXTS",
    "CALIBRATION",
    "REFERENCE_SAMPLE",
    "CodePrototypes",
    "EmbeddingMatcher",
    "EmbeddingScores",
    "Reference",
    "reference_rows",
]

logger = logging.getLogger("qualcode")

KINDS = ("definition", "inclusion", "example", "coded", "counterexample")

#: Weights of the calibrated score (see :class:`EmbeddingScores`). ``w_col``, ``w_margin`` and
#: ``bias`` were chosen by grid search on the qabstracts-dev data (coder A, final codings;
#: scratch codebook of 12 codes with a definition and 1-2 examples each; default model): the
#: best macro F1 at ``score >= 0.5`` on half of the abstracts (0.225; 0.184 on the other half)
#: among the settings under which at most 5 % of :data:`BACKGROUND_TEXTS` get any code. The
#: constraint matters: qabstracts codes every sentence, so without it the search favours
#: giving every segment its nearest code, which is wrong for interviews full of small talk.
#: ``w_counter`` could not be fitted there (no counterexamples) and is set equal to
#: ``w_margin``: beating a counterexample counts like beating another code.
CALIBRATION: Mapping[str, float] = MappingProxyType(
    {
        "w_col": 1.0,  # standardised similarity against the reference distribution
        "w_margin": 2.0,  # margin to the best rival code, in units of the global spread g
        "w_counter": 2.0,  # (<= 0) how far the nearest counterexample beats the nearest positive item
        "bias": -2.0,
        "sd_floor": 0.25,  # column spread floor, as a share of g
    }
)

#: Generic off-topic sentences (English and Indonesian interview talk) that anchor the
#: reference distribution of every code, so that scores do not depend on batch size.
BACKGROUND_TEXTS: tuple[str, ...] = (
    "Yes.",
    "No.",
    "Okay, thank you.",
    "Can you say that again?",
    "I am not sure, maybe.",
    "Good morning, thank you for your time.",
    "Let me think about it for a moment.",
    "That is all from me.",
    "We had lunch at the canteen.",
    "The weather was very hot yesterday.",
    "My children go to school near the office.",
    "The traffic this morning was terrible.",
    "I have worked here for about ten years.",
    "Please introduce yourself briefly.",
    "Could you tell me more about that?",
    "It depends on the situation.",
    "The meeting room is on the second floor.",
    "I do not remember exactly.",
    "We will continue next week.",
    "He is my colleague from another division.",
    "Iya.",
    "Tidak.",
    "Baik, terima kasih.",
    "Bisa diulang pertanyaannya?",
    "Saya kurang tahu, mungkin.",
    "Selamat pagi, terima kasih atas waktunya.",
    "Sebentar, saya ingat-ingat dulu.",
    "Itu saja dari saya.",
    "Kami makan siang di kantin.",
    "Kemarin cuacanya panas sekali.",
    "Anak saya sekolah dekat kantor.",
    "Tadi pagi jalannya macet sekali.",
    "Saya sudah bekerja di sini sekitar sepuluh tahun.",
    "Silakan perkenalkan diri dulu.",
    "Bisa dijelaskan lebih lanjut?",
    "Tergantung situasinya.",
    "Ruang rapatnya di lantai dua.",
    "Saya tidak ingat persis.",
    "Kita lanjutkan minggu depan.",
    "Dia rekan saya dari bidang lain.",
)


# ---------------------------------------------------------------------------- codebook access
def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _texts_of(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    return [str(v) for v in value if str(v).strip()]


def _by_lang(value: Any, default_lang: str) -> list[tuple[str, str]]:
    """``{lang: [texts]}`` or a plain list -> ``[(lang, text)]``."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [(str(lang), t) for lang, items in value.items() for t in _texts_of(items)]
    return [(default_lang, t) for t in _texts_of(value)]


def _leaf_codes(codebook: Any) -> list[Any]:
    codes = list(_get(codebook, "codes", None) or list(codebook))
    leaves = getattr(codebook, "leaves", None)
    if callable(leaves):
        leaves = leaves()
    if leaves is None:
        parents = {_get(c, "parent") for c in codes}
        return [c for c in codes if _get(c, "id") not in parents]
    leaf_ids = {x if isinstance(x, str) else _get(x, "id") for x in leaves}
    return [c for c in codes if _get(c, "id") in leaf_ids]


def _settings(code: Any) -> dict[str, Any]:
    emb = _get(code, "embedding", None)
    out = {
        "enabled": True,
        "use_definition": True,
        "use_examples": True,
        "use_counterexamples": True,
    }
    if emb is not None:
        for k in out:
            v = _get(emb, k, None)
            if v is not None:
                out[k] = v
    return out


# ---------------------------------------------------------------------------- data classes
#: Segments of the coded set that enter the calibration reference: at most this many, evenly spaced.
REFERENCE_SAMPLE = 2000


def reference_rows(n: int) -> np.ndarray:
    """The rows (of ``n`` coded segments, in coding order) sampled into the calibration reference."""
    return np.arange(0, n, max(1, math.ceil(n / REFERENCE_SAMPLE)), dtype=np.int64)


@dataclass(frozen=True)
class Reference:
    """The calibration reference of one coding run (see :meth:`EmbeddingMatcher.reference`).

    Attributes:
        median: ``(k,)`` per-code median similarity over the reference set.
        spread: ``(k,)`` per-code spread (1.4826 x MAD, floored).
        g: the global spread of every similarity in the set.
        n_sample: how many coded segments entered it.
    """

    median: np.ndarray
    spread: np.ndarray
    g: float
    n_sample: int

@dataclass
class CodePrototypes:
    """The embedded prototype items of a codebook.

    Attributes:
        codes: leaf codes with embedding enabled and at least one positive item, in codebook order.
        items: one row per item: ``item_id, code, kind`` (definition, inclusion, example,
            counterexample), ``lang, text``; rows are grouped by code, positives first.
        vectors: ``(len(items), dim)`` float32, row-aligned with ``items``.
        model_id: the embedder that produced ``vectors``.
    """

    codes: list[str]
    items: pd.DataFrame
    vectors: np.ndarray
    model_id: str = ""

    def __repr__(self) -> str:
        return f"CodePrototypes({len(self.codes)} codes, {len(self.items)} items, model_id={self.model_id!r})"


@dataclass
class EmbeddingScores:
    """Similarities and calibrated zero-shot scores of ``n`` segments for ``k`` codes.

    The calibrated score of segment ``i`` for code ``c`` is::

        z      = (sim[i,c] - median_c) / spread_c        # vs the code's reference distribution
        margin = (sim[i,c] - max_{rival r} sim[i,r]) / g     # vs the best rival code (not c, an ancestor or a descendant)
        veto   = min(0, sim[i,c] - counter[i,c]) / g       # 0 without counterexamples
        score  = sigmoid(w_col*z + w_margin*margin + w_counter*veto + bias)

    ``median_c`` and ``spread_c`` (1.4826 x MAD, floored at ``sd_floor * g``) are taken over a
    reference set: built-in off-topic sentences (:data:`BACKGROUND_TEXTS`), the *other*
    codes' positive prototype items, and the coded segments themselves (at most 2,000, evenly
    sampled). ``g`` is the spread of all similarities over that set. Every term is a ratio of
    cosine differences, so the score does not depend on the model's cosine band. The weights
    are :data:`CALIBRATION`.

    Attributes:
        codes: leaf codes with embedding enabled (columns of every matrix).
        vectors: ``(n, dim)`` segment vectors (for classifiers).
        similarity: ``(n, k)`` max cosine to the code's positive items.
        counter: ``(n, k)`` max cosine to the code's counterexamples (NaN if it has none).
        score: ``(n, k)`` calibrated score in [0, 1].
        thresholds: code -> threshold on ``score`` (:func:`effective_thresholds`; the Coder
            passes its own, which include its ``threshold`` parameter and learned ones).
        items: the prototype items table (see :class:`CodePrototypes`).
        nearest_item: ``(n, k)`` row in ``items`` of the nearest positive item.
        nearest_counter: ``(n, k)`` row in ``items`` of the nearest counterexample (-1 if none).
        model_id: the embedder's id.
        z: ``(n, k)`` the standardised similarity (``z`` above): the evidence a codebook's
            ``sequence`` is decoded from.
    """

    codes: list[str]
    vectors: np.ndarray
    similarity: np.ndarray
    counter: np.ndarray
    score: np.ndarray
    thresholds: dict[str, float]
    items: pd.DataFrame
    nearest_item: np.ndarray
    nearest_counter: np.ndarray
    model_id: str = ""
    z: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.similarity.shape[0])

    def __repr__(self) -> str:
        return f"EmbeddingScores(n={len(self)}, codes={len(self.codes)}, model_id={self.model_id!r})"

    def _col(self, code: str) -> int:
        try:
            return self.codes.index(code)
        except ValueError:
            msg = f"The 'code' parameter must be one of the scored codes {self.codes}. Got {code!r} instead."
            raise KeyError(msg) from None

    @cached_property
    def nearest(self) -> list[list[tuple[str, str, float]]]:
        """Per segment and code: ``(kind, text, cosine)`` of the nearest positive item."""
        kinds = self.items["kind"].tolist()
        texts = self.items["text"].tolist()
        return [
            [(kinds[j], texts[j], float(s)) for j, s in zip(row_idx, row_sim, strict=True)]
            for row_idx, row_sim in zip(self.nearest_item.tolist(), self.similarity.tolist(), strict=True)
        ]

    def decisions(self, thresholds: Mapping[str, float] | None = None) -> np.ndarray:
        """Boolean ``(n, k)``: ``score >= threshold`` per code.

        Args:
            thresholds: code -> threshold overriding the defaults (others keep theirs).

        Returns:
            A bool array aligned with ``codes``.
        """
        th = dict(self.thresholds)
        if thresholds:
            unknown = sorted(set(thresholds) - set(self.codes))
            if unknown:
                logger.debug("thresholds given for unscored codes %s (ignored)", unknown)
            th.update({c: float(v) for c, v in thresholds.items() if c in th})
        vec = np.array([th.get(c, DEFAULT_THRESHOLD) for c in self.codes], dtype=np.float64)
        return self.score >= vec[None, :]

    def to_frame(self) -> pd.DataFrame:
        """Long table: one row per (segment index, code) with similarity, counter and score."""
        n, k = self.score.shape
        return pd.DataFrame(
            {
                "i": np.repeat(np.arange(n), k),
                "code": np.tile(np.array(self.codes, dtype=object), n),
                "similarity": self.similarity.ravel(),
                "counter": self.counter.ravel(),
                "score": self.score.ravel(),
            }
        )

    def evidence(self, i: int, code: str) -> str:
        """A one-line human-readable explanation of segment ``i``'s score for ``code``.

        Example: ``"nearest example (c1.example.en.1) 'We copy last year's list' cos=0.912;
        counterexample (c1.counterexample.en.1) cos=0.870; score 0.73 >= 0.50"``.
        """
        k = self._col(code)
        return f"{self.evidence_many([i], [k])[0]}; {decision_part(float(self.score[i, k]), self.thresholds.get(code, DEFAULT_THRESHOLD))}"

    @cached_property
    def _item_labels(self) -> tuple[list[str], list[str]]:
        """Per item: ``"nearest <kind> (<item_id>) '<text>'"`` and its ``item_id``."""
        labels = [
            item_label(kind, item_id, text)
            for kind, item_id, text in zip(self.items["kind"], self.items["item_id"], self.items["text"], strict=True)
        ]
        return labels, [str(x) for x in self.items["item_id"]]

    def evidence_many(self, rows: Sequence[int] | np.ndarray, cols: Sequence[int] | np.ndarray) -> list[str]:
        """:meth:`evidence` without its final score part, for many (segment, column) pairs.

        Args:
            rows: segment indices.
            cols: column indices into ``codes`` (same length as ``rows``).

        Returns:
            ``"nearest <kind> (<item_id>) '<text>' cos=0.912[; counterexample (<id>) cos=0.870]"``
            per pair.
        """
        ri = np.asarray(rows, dtype=np.int64)
        ci = np.asarray(cols, dtype=np.int64)
        labels, ids = self._item_labels
        near = self.nearest_item[ri, ci].tolist()
        sim = self.similarity[ri, ci].tolist()
        near_c = self.nearest_counter[ri, ci].tolist()
        cnt = self.counter[ri, ci].tolist()
        return [
            nearest_part(labels[j], s, ids[jc] if jc >= 0 else None, c)
            for j, s, jc, c in zip(near, sim, near_c, cnt, strict=True)
        ]


# ---------------------------------------------------------------------------- the matcher
class EmbeddingMatcher:
    """Scores segments against a codebook's leaf codes with sentence embeddings.

    Args:
        codebook: a :class:`~qualcode.Codebook` (any object with ``codes``/``leaves`` whose
            codes have ``id, name, definition, inclusion, examples, counterexamples,
            embedding``).
        embedder: an embedder, a registry name / alias, or ``None`` for the default model.
        cache: an :class:`~qualcode.backends.EmbeddingCache`, a cache folder, or ``None`` for
            an in-memory cache that lives as long as the matcher.
        batch_size: texts per embedding call.
        progress: show progress bars while embedding.
        calibration: overrides of :data:`CALIBRATION`.
        codes: the codes to score (default: the leaf codes); a parent listed here is
            matched on its own definition and examples like a leaf.
        examples: coded passages per code (from a researcher's coding) added to the code's
            prototype items as kind ``coded``; a code listed here is scored even if it has
            nothing else.

    Examples:
        >>> from qualcode.testing import tiny_corpus  # doctest: +SKIP
        >>> m = EmbeddingMatcher(codebook)  # doctest: +SKIP
        >>> s = m.score(["We copy last year's program list."])  # doctest: +SKIP
        >>> s.evidence(0, s.codes[0])  # doctest: +SKIP
    """

    def __init__(
        self,
        codebook: Any,
        embedder: Any = None,
        *,
        cache: EmbeddingCache | str | Any | None = None,
        batch_size: int = 64,
        progress: bool = True,
        calibration: Mapping[str, float] | None = None,
        codes: Sequence[str] | None = None,
        examples: Mapping[str, Sequence[str]] | None = None,
    ):
        from ..backends import get_embedder

        self.codebook = codebook
        self.codes = None if codes is None else list(codes)
        self.examples = {str(c): [str(t) for t in v] for c, v in (examples or {}).items()}
        self.embedder = get_embedder(embedder)
        if cache is None:
            cache = EmbeddingCache(None)
        elif not isinstance(cache, EmbeddingCache):
            cache = EmbeddingCache(cache)
        self.cache = cache
        self.batch_size = batch_size
        self.progress = progress
        self.calibration = dict(CALIBRATION)
        if calibration:
            unknown = sorted(set(calibration) - set(CALIBRATION))
            if unknown:
                msg = f"The 'calibration' parameter of EmbeddingMatcher only takes keys {sorted(CALIBRATION)}. Got {unknown} instead."
                raise ValueError(msg)
            self.calibration.update({k: float(v) for k, v in calibration.items()})
        self.prototypes_: CodePrototypes | None = None
        self._background: np.ndarray | None = None

    @property
    def model_id(self) -> str:
        """The embedder's model id."""
        return str(getattr(self.embedder, "model_id", ""))

    def __repr__(self) -> str:
        fitted = "fitted" if self.prototypes_ is not None else "not fitted"
        return f"EmbeddingMatcher(model_id={self.model_id!r}, {fitted})"

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        return embed_texts(
            self.embedder, texts, cache=self.cache, batch_size=self.batch_size, progress=self.progress
        )

    def build_items(self) -> pd.DataFrame:
        """The prototype items table (without embedding it); see :class:`CodePrototypes`."""
        langs = _get(self.codebook, "languages", None) or ["en"]
        default_lang = str(list(langs)[0]) if not isinstance(langs, str) else langs
        rows: list[dict[str, Any]] = []
        for code in self._scored_codes():
            cid = str(_get(code, "id"))
            st = _settings(code)
            coded = self.examples.get(cid, [])
            if not st["enabled"] and not coded:
                continue
            pos: list[tuple[str, str, str]] = []
            if st["use_definition"]:
                for t in _texts_of(_get(code, "definition")):
                    pos.append(("definition", default_lang, t))
                for t in _texts_of(_get(code, "inclusion")):
                    pos.append(("inclusion", default_lang, t))
            if st["use_examples"]:
                pos += [("example", lang, t) for lang, t in _by_lang(_get(code, "examples"), default_lang)]
            if not pos and not coded:
                name = _get(code, "name") or cid
                logger.info("code %s has no definition or examples; matching on its name %r", cid, name)
                pos.append(("definition", default_lang, str(name)))
            pos += [("coded", "any", t) for t in coded]
            neg: list[tuple[str, str, str]] = []
            if st["use_counterexamples"]:
                neg = [("counterexample", lang, t) for lang, t in _by_lang(_get(code, "counterexamples"), default_lang)]
            counters: dict[tuple[str, str], int] = {}
            for kind, lang, text in pos + neg:
                n = counters[(kind, lang)] = counters.get((kind, lang), 0) + 1
                rows.append({"item_id": f"{cid}.{kind}.{lang}.{n}", "code": cid, "kind": kind, "lang": lang, "text": text})
        return pd.DataFrame(rows, columns=["item_id", "code", "kind", "lang", "text"])

    def _scored_codes(self) -> list[Any]:
        """The code objects to score: ``codes`` if given, else the leaves; plus coded-example codes."""
        all_codes = list(_get(self.codebook, "codes", None) or list(self.codebook))
        if self.codes is None:
            chosen = {str(_get(c, "id")) for c in _leaf_codes(self.codebook)}
        else:
            chosen = set(self.codes)
        chosen |= set(self.examples)
        return [c for c in all_codes if str(_get(c, "id")) in chosen]

    def fit_prototypes(self) -> CodePrototypes:
        """Embed the codebook's prototype items (through the cache) and return them.

        Returns:
            The :class:`CodePrototypes` (also kept as ``prototypes_``).

        Raises:
            EmbeddingError: no leaf code has embedding enabled.
        """
        items = self.build_items()
        if items.empty:
            msg = "No leaf code of the codebook has embedding enabled; nothing to match against."
            raise EmbeddingError(msg)
        vectors = self._embed(items["text"].tolist())
        codes = list(dict.fromkeys(items["code"]))
        self.prototypes_ = CodePrototypes(codes, items, vectors, self.model_id)
        self._background = self._embed(list(BACKGROUND_TEXTS))
        return self.prototypes_

    def _raw(self, vectors: np.ndarray, chunk: int = 8192) -> tuple[np.ndarray, ...]:
        """Max cosine (and argmax item) per code, positives and counterexamples."""
        p = self.prototypes_
        assert p is not None
        code_idx = {c: i for i, c in enumerate(p.codes)}
        kinds = p.items["kind"].to_numpy()
        cols = p.items["code"].map(code_idx).to_numpy()
        is_neg = kinds == "counterexample"
        n, k = len(vectors), len(p.codes)
        sim = np.empty((n, k), dtype=np.float32)
        near = np.empty((n, k), dtype=np.int64)
        counter = np.full((n, k), np.nan, dtype=np.float32)
        near_c = np.full((n, k), -1, dtype=np.int64)
        groups_pos = [np.flatnonzero((cols == c) & ~is_neg) for c in range(k)]
        groups_neg = [np.flatnonzero((cols == c) & is_neg) for c in range(k)]
        # float64 products rounded to float32: a float32 product's last bits depend on how many
        # rows are multiplied at once (BLAS kernels), so a segment's similarity would change
        # with the batch it is scored in (a partitioned run must match a single run)
        items = p.vectors.T.astype(np.float64)
        for s in range(0, n, chunk):
            block = (vectors[s : s + chunk].astype(np.float64) @ items).astype(np.float32)  # (b, m)
            for c in range(k):
                g = groups_pos[c]
                sub = block[:, g]
                a = sub.argmax(axis=1)
                near[s : s + chunk, c] = g[a]
                sim[s : s + chunk, c] = sub[np.arange(len(sub)), a]
                gn = groups_neg[c]
                if len(gn):
                    subn = block[:, gn]
                    an = subn.argmax(axis=1)
                    near_c[s : s + chunk, c] = gn[an]
                    counter[s : s + chunk, c] = subn[np.arange(len(subn)), an]
        return sim, near, counter, near_c

    def similarities(self, vectors: np.ndarray) -> np.ndarray:
        """``(n, k)`` max cosine of each vector to each code's positive items (the raw evidence)."""
        if self.prototypes_ is None:
            self.fit_prototypes()
        return self._raw(np.asarray(vectors, dtype=np.float32))[0]

    def reference(self, sample_sim: np.ndarray) -> Reference:
        """The calibration reference from the similarities of a sample of the coded segments.

        Args:
            sample_sim: ``(m, k)`` similarities of the segments at :func:`reference_rows` of the
                whole set being coded (the Coder takes them from every segment it codes; a
                distributed run gathers the same rows from its partitions).

        Returns:
            Per-code median and spread over the reference set (built-in off-topic sentences,
            the other codes' positive items, and the sample), and the global spread ``g``.
        """
        p = self.prototypes_
        assert p is not None and self._background is not None
        k = len(p.codes)
        bg_sim = self._raw(self._background)[0]
        # the other codes' positive items: for code c, only rows of items not belonging to c
        pos = p.items["kind"].to_numpy() != "counterexample"
        item_sim = self._raw(p.vectors[pos])[0]
        item_code = p.items["code"].to_numpy()[pos]
        sample = np.asarray(sample_sim, dtype=np.float32).reshape(-1, k)
        med = np.empty(k)
        mad = np.empty(k)
        pooled = [bg_sim, sample]
        for c, code in enumerate(p.codes):
            other = item_sim[item_code != code, c]
            col = np.concatenate([bg_sim[:, c], other, sample[:, c]])
            med[c] = np.median(col)
            mad[c] = 1.4826 * np.median(np.abs(col - med[c]))
            pooled.append(other[:, None])
        allv = np.concatenate([x.ravel() for x in pooled])
        g = float(np.std(allv)) or 1e-3
        spread = np.maximum(mad, self.calibration["sd_floor"] * g)
        return Reference(med, spread, g, len(sample))

    def score(
        self, texts: Sequence[str] | None, vectors: np.ndarray | None = None, *, reference: Reference | None = None
    ) -> EmbeddingScores:
        """Score segments against every embedding-enabled leaf code.

        Args:
            texts: the segment texts (embedded through the cache unless ``vectors`` is given).
            vectors: precomputed ``(n, dim)`` L2-normalised vectors of the same model.
            reference: the calibration reference (default: from these segments, see
                :meth:`reference`); a distributed run passes the one of the whole corpus.

        Returns:
            :class:`EmbeddingScores`.

        Raises:
            EmbeddingError: ``vectors`` do not match the model's dimension or the texts.
        """
        if self.prototypes_ is None:
            self.fit_prototypes()
        p = self.prototypes_
        assert p is not None
        if vectors is None:
            if texts is None:
                msg = "EmbeddingMatcher.score needs texts or vectors."
                raise ValueError(msg)
            vectors = self._embed(list(texts))
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or (vectors.shape[1] != p.vectors.shape[1]):
            msg = f"The 'vectors' parameter of score must have shape (n, {p.vectors.shape[1]}). Got {vectors.shape} instead."
            raise EmbeddingError(msg)
        if texts is not None and len(texts) != len(vectors):
            msg = f"score got {len(texts)} texts but {len(vectors)} vectors."
            raise EmbeddingError(msg)
        sim, near, counter, near_c = self._raw(vectors)
        f = self.features(sim, counter, reference=reference)
        score = self._squash(f)
        return EmbeddingScores(
            codes=list(p.codes),
            vectors=vectors,
            similarity=sim,
            counter=counter,
            score=score,
            thresholds=effective_thresholds(self.codebook, p.codes),
            items=p.items,
            nearest_item=near,
            nearest_counter=near_c,
            model_id=p.model_id,
            z=f["z"].astype(np.float32),
        )

    def features(
        self, sim: np.ndarray, counter: np.ndarray, *, reference: Reference | None = None
    ) -> dict[str, np.ndarray]:
        """The scale-free terms of the calibrated score (``z``, ``margin``, ``veto``), each (n, k)."""
        if reference is None:
            reference = self.reference(sim[reference_rows(len(sim))])
        med, spread, g = reference.median, reference.spread, reference.g
        z = (sim - med[None, :]) / spread[None, :]
        margin = (sim - self._best_rival(sim)) / g
        veto = np.where(np.isnan(counter), 0.0, np.minimum(0.0, sim - np.nan_to_num(counter)) / g)
        return {"z": z, "margin": margin, "veto": veto}

    def _rivals(self) -> np.ndarray | None:
        """Which codes compete with which: a bool ``(k, k)`` matrix.

        Code ``c`` competes with code ``r`` unless ``r`` is ``c`` itself, an ancestor or a
        descendant.  None when no scored code has a scored relative (every code competes).
        """
        p = self.prototypes_
        assert p is not None
        ancestors = getattr(self.codebook, "ancestors", None)
        descendants = getattr(self.codebook, "descendants", None)
        if not (callable(ancestors) and callable(descendants)):
            return None
        index = {c: i for i, c in enumerate(p.codes)}
        k = len(p.codes)
        rivals = ~np.eye(k, dtype=bool)
        for i, c in enumerate(p.codes):
            for rel in (*ancestors(c), *descendants(c)):
                j = index.get(rel)
                if j is not None:
                    rivals[i, j] = rivals[j, i] = False
        return None if rivals.sum() == k * (k - 1) else rivals

    def _best_rival(self, sim: np.ndarray) -> np.ndarray:
        """Per segment and code, the highest similarity among the code's rivals (see :meth:`_rivals`).

        A parent and its child describe the same passages, so neither counts against the other.
        """
        k = sim.shape[1]
        if k < 2:
            return sim.copy()
        rivals = self._rivals()
        if rivals is None:
            top2 = -np.partition(-sim, 1, axis=1)[:, :2]
            return np.where(sim >= top2[:, [0]], top2[:, [1]], top2[:, [0]])
        out = np.empty_like(sim)
        for c in range(k):
            cols = np.flatnonzero(rivals[c])
            out[:, c] = sim[:, cols].max(axis=1) if len(cols) else sim[:, c]
        return out

    def calibrate(self, sim: np.ndarray, counter: np.ndarray, *, reference: Reference | None = None) -> np.ndarray:
        """Map raw similarities to calibrated scores in [0, 1] (see :class:`EmbeddingScores`)."""
        return self._squash(self.features(sim, counter, reference=reference))

    def _squash(self, f: Mapping[str, np.ndarray]) -> np.ndarray:
        cal = self.calibration
        logit = cal["w_col"] * f["z"] + cal["w_margin"] * f["margin"] + cal["w_counter"] * f["veto"] + cal["bias"]
        return (1.0 / (1.0 + np.exp(-np.clip(logit, -50, 50)))).astype(np.float32)


