"""Nomenclature comparison: match the items of two planning documents (or two sets).

Matching runs in stages; each stage only sees the items no earlier stage matched, and pairs
are made one-to-one, best score first:

1. ``code+name``: same code and the same normalised name;
2. ``name``: the same normalised name (codes differ or are missing);
3. ``stem``: the same name once Indonesian affixes are removed (PySastrawi), so that
   ``Peningkatan Kapasitas`` meets ``Meningkatkan Kapasitas``;
4. ``code``: the same code, names different (the score is their fuzzy similarity): the
   same nomenclature slot, worded for another level of government;
5. ``fuzzy``: rapidfuzz ``token_sort_ratio`` of the normalised names (or of their stems,
   whichever is higher) >= ``fuzzy_threshold``;
6. ``embedding`` (only with ``embed=True``): cosine similarity of the names' embeddings
   (the default model is multilingual, so an English name can meet its Indonesian
   original) >= ``embed_threshold``, mutual best matches only, and by default only between
   names of different languages (:func:`name_language`).

The overlap table counts ``same name`` (stages 1-2) and ``similar`` (stages 3-6).
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._items import ITEM_COLUMNS, ItemsError, extract_items

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["METHODS", "ItemComparison", "compare_items", "name_language", "normalise_name", "stem_key"]

#: match methods, in the order the stages run
METHODS = ("code+name", "name", "stem", "code", "fuzzy", "embedding")
SAME = ("code+name", "name")

#: abbreviations seen in Indonesian planning documents -> full word (lower case, no dot)
ABBREVIATIONS: dict[str, str] = {
    "prog": "program", "progr": "program", "keg": "kegiatan", "subkeg": "sub kegiatan",
    "pening": "peningkatan", "peningk": "peningkatan", "peningkt": "peningkatan",
    "pngktn": "peningkatan", "pengemb": "pengembangan", "pengembang": "pengembangan",
    "pengel": "pengelolaan", "pengelol": "pengelolaan", "penyel": "penyelenggaraan",
    "penyelenggaran": "penyelenggaraan", "pemb": "pembangunan", "pembang": "pembangunan",
    "pemerint": "pemerintahan", "pem": "pemerintahan", "pemda": "pemerintah daerah",
    "kab": "kabupaten", "kota": "kota", "prov": "provinsi", "kec": "kecamatan", "kel": "kelurahan",
    "masy": "masyarakat", "kes": "kesehatan", "pend": "pendidikan", "pddk": "pendidikan",
    "sdm": "sumber daya manusia", "sda": "sumber daya air", "ukm": "usaha kecil dan menengah",
    "umkm": "usaha mikro kecil dan menengah", "yg": "yang", "dg": "dengan", "dgn": "dengan",
    "dlm": "dalam", "utk": "untuk", "thd": "terhadap", "kab/kota": "kabupaten kota",
    "infrastr": "infrastruktur", "adm": "administrasi", "admin": "administrasi",
    "koord": "koordinasi", "sos": "sosial", "lingk": "lingkungan", "perhub": "perhubungan",
    "penanggul": "penanggulangan", "pemberd": "pemberdayaan", "perlind": "perlindungan",
    "rehab": "rehabilitasi", "rehabil": "rehabilitasi", "&": "dan", "dll": "dan lain lain",
}
#: words dropped from the start of a name: ``Program Penyelenggaraan Jalan`` = ``Penyelenggaraan Jalan``
_LEADING = ("program", "kegiatan", "sub kegiatan", "subkegiatan", "programme")
_TRAILING = ("program", "programme", "programs", "programmes")
_WORD = re.compile(r"[a-z0-9&/]+")
_ACRONYM = re.compile(r"\(\s*[a-z0-9/ ]{1,12}\s*\)")


def _ascii(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c))


def normalise_name(name: str) -> str:
    """The comparison key of an item name.

    Lower case, accents and punctuation removed, abbreviations expanded (``Prog.`` ->
    ``program``, ``Pening.`` -> ``peningkatan``, ``&`` -> ``dan``...), a leading
    ``program``/``kegiatan`` dropped, whitespace collapsed.

    Args:
        name: an item name.

    Returns:
        The key (``""`` for an empty name).

    Examples:
        >>> normalise_name("Prog. Pening. Kapasitas SDM Kesehatan")
        'peningkatan kapasitas sumber daya manusia kesehatan'
        >>> normalise_name("PROGRAM PENYELENGGARAAN JALAN") == normalise_name("Penyelenggaraan jalan")
        True
    """
    text = _ascii(str(name)).lower().replace("\u2019", "'")
    text = _ACRONYM.sub(" ", text)  # "(SDA)", "(UMKM)": an acronym repeating the name
    words = []
    for w in _WORD.findall(text.replace(".", " . ").replace("-", " ")):
        if w in ("/", "&"):
            words.append("dan" if w == "&" else w)
            continue
        if "/" in w:
            parts = [ABBREVIATIONS.get(x, x) for x in w.split("/") if x]
            words.extend(parts)
            continue
        words.append(ABBREVIATIONS.get(w, w))
    out = " ".join(x for x in words if x not in ("/",))
    first = out.split(" ", 1)
    if len(first) == 2 and first[0] not in _LEADING and len(first[0]) >= 5:
        from rapidfuzz.distance import OSA

        if OSA.distance(first[0], "program") <= 1:  # a typo: "pogram", "progarm"
            out = "program " + first[1]
    changed = True
    while changed:
        changed = False
        for lead in _LEADING:
            if out.startswith(lead + " ") and len(out) > len(lead) + 1:
                out = out[len(lead) + 1 :]
                changed = True
    for trail in _TRAILING:
        if out.endswith(" " + trail):
            out = out[: -len(trail) - 1]
    return out.strip()


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    return StemmerFactory().create_stemmer()


@lru_cache(maxsize=20000)
def _stem_word(word: str) -> str:
    if len(word) <= 3 or not word.isalpha():
        return word
    return _stemmer().stem(word)


def name_language(name: str) -> str:
    """``"id"`` when at least half of the words of ``name`` are Indonesian, else ``"en"``.

    A word counts as Indonesian when its PySastrawi stem is in Sastrawi's dictionary of
    Indonesian root words (so ``pengelolaan`` -> ``kelola`` is, ``management`` is not).

    Args:
        name: an item name (normalised or not).

    Returns:
        ``"id"`` or ``"en"``.
    """
    words = [w for w in normalise_name(name).split() if w.isalpha()]
    if not words:
        return "id"
    return "id" if sum(_is_indonesian(w) for w in words) >= 0.5 * len(words) else "en"


@lru_cache(maxsize=20000)
def _is_indonesian(word: str) -> bool:
    return bool(_stemmer().delegatedStemmer.dictionary.contains(_stem_word(word)))


def stem_key(name: str) -> str:
    """The normalised name with every word reduced to its Indonesian stem (PySastrawi)."""
    return " ".join(_stem_word(w) for w in normalise_name(name).split())


# ------------------------------------------------------------------ inputs
def _as_items(x: Any, label: str) -> pd.DataFrame:
    """An items table from a DataFrame, a path, a list of paths or a list of names."""
    if isinstance(x, pd.DataFrame):
        frame = x.copy()
        if "item_name" not in frame.columns:
            alias = next((c for c in ("program_name", "name", "nama", "program", "uraian") if c in frame.columns), None)
            if alias is None:
                msg = (f"{label}: the items table needs an 'item_name' column (or program_name / "
                       f"name); it has {list(frame.columns)}")
                raise ItemsError(msg)
            frame = frame.rename(columns={alias: "item_name"})
        if "item_code" not in frame.columns:
            alias = next((c for c in ("code", "kode") if c in frame.columns), None)
            frame = frame.rename(columns={alias: "item_code"}) if alias else frame.assign(item_code=None)
        for col in ITEM_COLUMNS:
            if col not in frame.columns:
                frame[col] = label if col == "doc_id" else None
    elif isinstance(x, (str, os.PathLike)):
        frame = extract_items(x)
    elif isinstance(x, Sequence) and x and all(isinstance(v, (str, os.PathLike)) for v in x):
        known = (".pdf", ".docx", ".txt", ".md", ".markdown", ".csv", ".xlsx")
        if all(isinstance(v, str) and not v.lower().endswith(known) for v in x):
            frame = pd.DataFrame({"item_name": list(x)})  # a list of names
            return _as_items(frame, label)
        frame = extract_items(list(x))
    else:
        msg = (f"{label} must be an items table (DataFrame with item_name), a file, a list of "
               f"files or a list of names. Got {type(x).__name__} instead.")
        raise ItemsError(msg)
    frame = frame.reset_index(drop=True)
    names = frame["item_name"]
    bad = names.isna() | (names.astype(str).str.strip() == "")
    if bad.any():
        msg = f"{label}: item_name is empty in row {int(np.flatnonzero(bad.to_numpy())[0])}"
        raise ItemsError(msg)
    frame["item_name"] = names.astype(str)
    frame["item_code"] = frame["item_code"].map(
        lambda c: None if c is None or (isinstance(c, float) and math.isnan(c)) or str(c).strip() == "" else str(c).strip().rstrip(".")
    )
    return frame


# ------------------------------------------------------------------ result
@dataclass
class ItemComparison:
    """The result of :func:`compare_items`.

    Attributes:
        a: the items of side A (with the key columns ``norm``, ``stem`` added).
        b: the items of side B.
        matches: one row per matched pair: ``a_row, b_row, a_code, a_name, b_code, b_name,
            method, score`` (score in 0..1; 1 for exact stages).
        labels: the names of the two sides.
    """

    a: pd.DataFrame
    b: pd.DataFrame
    matches: pd.DataFrame
    labels: tuple[str, str] = ("A", "B")
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def only_a(self) -> pd.DataFrame:
        """Items of A that matched nothing."""
        return self.a.drop(index=self.matches["a_row"].tolist())[list(ITEM_COLUMNS)]

    @property
    def only_b(self) -> pd.DataFrame:
        """Items of B that matched nothing."""
        return self.b.drop(index=self.matches["b_row"].tolist())[list(ITEM_COLUMNS)]

    def counts(self) -> dict[str, Any]:
        """The overlap counts as a dict (the row of :meth:`overlap`)."""
        la, lb = self.labels
        same = int(self.matches["method"].isin(SAME).sum())
        return {
            f"items in {la}": len(self.a),
            f"items in {lb}": len(self.b),
            "same name": same,
            "similar": len(self.matches) - same,
            f"only in {la}": len(self.a) - len(self.matches),
            f"only in {lb}": len(self.b) - len(self.matches),
            f"share of {la} in {lb}": (len(self.matches) / len(self.a)) if len(self.a) else math.nan,
        }

    def overlap(self) -> pd.DataFrame:
        """The overlap table of the study: one row of counts.

        Returns:
            Columns ``items in A, items in B, same name, similar, only in A, only in B``
            (with the labels instead of A and B) and ``share of A in B`` (matched items of
            A / items of A); the index names the comparison.
        """
        la, lb = self.labels
        return pd.DataFrame([self.counts()], index=pd.Index([f"{la} vs {lb}"], name="comparison"))

    def by_method(self) -> pd.Series:
        """Number of matches per method (every method listed, zeros included)."""
        return self.matches["method"].value_counts().reindex(list(METHODS), fill_value=0)

    def plot(self, ax: Any = None) -> Figure:
        """Two stacked bars (A and B): same name, similar, unmatched.

        Args:
            ax: a matplotlib Axes to draw on (default: a new figure).

        Returns:
            The matplotlib Figure (nothing is shown).
        """
        # a QualcodeFigure shows itself in Jupyter, like qualcode.plotting's figures
        from ..plotting._plots import QualcodeFigure

        if ax is None:
            fig = QualcodeFigure(figsize=(7, 2.6), layout="constrained")
            ax = fig.add_subplot()
        else:
            fig = ax.figure
        o = self.counts()
        la, lb = self.labels
        parts = [("same name", "#2b7bba"), ("similar", "#8fc0e3")]
        ys = [1, 0]
        left = [0, 0]
        for name, color in parts:
            vals = [o[name], o[name]]
            ax.barh(ys, vals, left=left, color=color, label=name)
            for y, v, lft in zip(ys, vals, left, strict=True):
                if v:
                    ax.text(lft + v / 2, y, str(int(v)), ha="center", va="center", fontsize=9)
            left = [lft + v for lft, v in zip(left, vals, strict=True)]
        only = [o[f"only in {la}"], o[f"only in {lb}"]]
        ax.barh(ys, only, left=left, color="#d9d9d9", label="unmatched")
        for y, v, lft in zip(ys, only, left, strict=True):
            if v:
                ax.text(lft + v / 2, y, str(int(v)), ha="center", va="center", fontsize=9)
        ax.set_yticks(ys, [f"{la} ({o[f'items in {la}']})", f"{lb} ({o[f'items in {lb}']})"])
        ax.set_xlabel("items")
        ax.set_title(f"Shared nomenclature: {la} vs {lb}")
        ax.legend(loc="lower right", fontsize=8, frameon=False, ncols=3, bbox_to_anchor=(1, 1.12))
        ax.spines[["top", "right"]].set_visible(False)
        return fig

    def __repr__(self) -> str:
        o = self.counts()
        return (f"ItemComparison({self.labels[0]}: {len(self.a)} items, {self.labels[1]}: "
                f"{len(self.b)} items, same name {o['same name']}, similar {o['similar']})")


# ------------------------------------------------------------------ matching
def _greedy(cands: list[tuple[float, int, int]], used_a: set[int], used_b: set[int]) -> list[tuple[int, int, float]]:
    out = []
    for score, i, j in sorted(cands, key=lambda t: (-t[0], t[1], t[2])):
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        out.append((i, j, score))
    return out


def compare_items(
    a: Any,
    b: Any,
    *,
    labels: tuple[str, str] = ("A", "B"),
    fuzzy_threshold: float = 85.0,
    embed: bool = False,
    embed_threshold: float = 0.86,
    embedder: Any = None,
    embed_same_language: bool = False,
    use_codes: bool = True,
) -> ItemComparison:
    """Match the items of two planning documents (or two sets of documents).

    Args:
        a: side A: an items table from :func:`extract_items` (or any DataFrame with an
            ``item_name`` / ``program_name`` column and optionally ``item_code`` / ``code``),
            a file, a list of files, or a list of item names.
        b: side B, the same way.
        labels: names of the two sides, used in the overlap table and the plot.
        fuzzy_threshold: minimum rapidfuzz ``token_sort_ratio`` (0-100) of a fuzzy match.
        embed: also match the remaining items by embedding similarity (across languages).
        embed_threshold: minimum cosine similarity of an embedding match.
        embedder: the embedding backend or its name (default: the default embedder of
            ``qualcode.backends.get_embedder()``, multilingual).
        embed_same_language: also let embeddings pair two names of the same language
            (off by default: an Indonesian pair that the name, stem and fuzzy stages left
            apart is, as measured, more often two different programmes than one; see
            :func:`name_language`).
        use_codes: use item codes (stages ``code+name`` and ``code``); switch off when
            the two sides number their items independently.

    Returns:
        An :class:`ItemComparison`: ``matches``, ``only_a``, ``only_b``, ``overlap()``,
        ``plot()``.

    Raises:
        ItemsError: an input is not an items table / file / list, a name is empty, or a
            threshold is out of range.

    Examples:
        >>> cmp = compare_items(["Prog. Penyelenggaraan Jalan", "Program Pengelolaan Hutan"],
        ...                     ["PROGRAM PENYELENGGARAAN JALAN", "Program Pendaftaran Penduduk"])
        >>> cmp.matches[["a_name", "b_name", "method"]].values.tolist()
        [['Prog. Penyelenggaraan Jalan', 'PROGRAM PENYELENGGARAAN JALAN', 'name']]
        >>> cmp.overlap()[["same name", "similar", "only in A", "only in B"]].values.tolist()
        [[1, 0, 1, 1]]
    """
    if not (isinstance(labels, (tuple, list)) and len(labels) == 2 and all(isinstance(x, str) and x for x in labels)):
        msg = f"labels must be two non-empty strings. Got {labels!r} instead."
        raise ItemsError(msg)
    if not 0 <= float(fuzzy_threshold) <= 100:
        msg = f"fuzzy_threshold must be between 0 and 100. Got {fuzzy_threshold!r} instead."
        raise ItemsError(msg)
    if not -1 <= float(embed_threshold) <= 1:
        msg = f"embed_threshold must be between -1 and 1. Got {embed_threshold!r} instead."
        raise ItemsError(msg)
    from rapidfuzz import fuzz, process

    la, lb = str(labels[0]), str(labels[1])
    A = _as_items(a, la)
    B = _as_items(b, lb)
    A["norm"] = A["item_name"].map(normalise_name)
    B["norm"] = B["item_name"].map(normalise_name)
    A["stem"] = A["norm"].map(lambda s: " ".join(_stem_word(w) for w in s.split()))
    B["stem"] = B["norm"].map(lambda s: " ".join(_stem_word(w) for w in s.split()))
    used_a: set[int] = set()
    used_b: set[int] = set()
    found: list[tuple[int, int, str, float]] = []

    def key_stage(method: str, key_a, key_b) -> None:
        index: dict[Any, list[int]] = {}
        for j in B.index:
            if j not in used_b:
                k = key_b(j)
                if k is not None:
                    index.setdefault(k, []).append(j)
        cands = []
        for i in A.index:
            if i in used_a:
                continue
            k = key_a(i)
            for j in index.get(k, []) if k is not None else []:
                score = 1.0 if method != "code" else fuzz.token_sort_ratio(A.at[i, "norm"], B.at[j, "norm"]) / 100
                cands.append((score, i, j))
        found.extend((i, j, method, s) for i, j, s in _greedy(cands, used_a, used_b))

    def code(frame: pd.DataFrame, i: int) -> str | None:
        c = frame.at[i, "item_code"]
        return c if use_codes and c else None

    key_stage("code+name", lambda i: (code(A, i), A.at[i, "norm"]) if code(A, i) else None,
              lambda j: (code(B, j), B.at[j, "norm"]) if code(B, j) else None)
    key_stage("name", lambda i: A.at[i, "norm"] or None, lambda j: B.at[j, "norm"] or None)
    key_stage("stem", lambda i: A.at[i, "stem"] or None, lambda j: B.at[j, "stem"] or None)
    key_stage("code", lambda i: code(A, i), lambda j: code(B, j))

    rest_a = [i for i in A.index if i not in used_a]
    rest_b = [j for j in B.index if j not in used_b]
    if rest_a and rest_b:
        scores = np.maximum(
            process.cdist([A.at[i, "norm"] for i in rest_a], [B.at[j, "norm"] for j in rest_b],
                          scorer=fuzz.token_sort_ratio, workers=1),
            process.cdist([A.at[i, "stem"] for i in rest_a], [B.at[j, "stem"] for j in rest_b],
                          scorer=fuzz.token_sort_ratio, workers=1),
        )
        cands = [
            (float(scores[x, y]) / 100, rest_a[x], rest_b[y])
            for x, y in zip(*np.nonzero(scores >= fuzzy_threshold), strict=True)
        ]
        found.extend((i, j, "fuzzy", s) for i, j, s in _greedy(cands, used_a, used_b))

    if embed:
        rest_a = [i for i in A.index if i not in used_a]
        rest_b = [j for j in B.index if j not in used_b]
        if rest_a and rest_b:
            from ..backends import get_embedder

            emb = get_embedder(embedder)
            # the normalised name in sentence case embeds best (measured: upper-case names and
            # a leading "Program" blur the multilingual model's similarities)
            ea = np.asarray(emb.embed([A.at[i, "norm"].capitalize() for i in rest_a]), dtype=float)
            eb = np.asarray(emb.embed([B.at[j, "norm"].capitalize() for j in rest_b]), dtype=float)
            ea /= np.linalg.norm(ea, axis=1, keepdims=True) + 1e-12
            eb /= np.linalg.norm(eb, axis=1, keepdims=True) + 1e-12
            sim = ea @ eb.T
            if not embed_same_language:
                lang_a = np.array([name_language(A.at[i, "norm"]) for i in rest_a])
                lang_b = np.array([name_language(B.at[j, "norm"]) for j in rest_b])
                sim = np.where(lang_a[:, None] != lang_b[None, :], sim, -1.0)
            best_b = sim.argmax(axis=1)
            best_a = sim.argmax(axis=0)
            cands = [
                (float(sim[x, best_b[x]]), rest_a[x], rest_b[best_b[x]])
                for x in range(len(rest_a))
                if best_a[best_b[x]] == x and sim[x, best_b[x]] >= embed_threshold
            ]
            found.extend((i, j, "embedding", s) for i, j, s in _greedy(cands, used_a, used_b))

    order = {m: k for k, m in enumerate(METHODS)}
    found.sort(key=lambda t: (order[t[2]], t[0]))
    matches = pd.DataFrame(
        [
            {
                "a_row": i, "b_row": j,
                "a_doc": A.at[i, "doc_id"], "a_code": A.at[i, "item_code"], "a_name": A.at[i, "item_name"],
                "b_doc": B.at[j, "doc_id"], "b_code": B.at[j, "item_code"], "b_name": B.at[j, "item_name"],
                "method": m, "score": round(float(s), 4),
            }
            for i, j, m, s in found
        ],
        columns=["a_row", "b_row", "a_doc", "a_code", "a_name", "b_doc", "b_code", "b_name", "method", "score"],
    )
    params = {"fuzzy_threshold": fuzzy_threshold, "embed": embed, "embed_threshold": embed_threshold,
              "embed_same_language": embed_same_language, "use_codes": use_codes}
    return ItemComparison(A, B, matches, (la, lb), params)
