"""The :class:`Codebook`: a validated, immutable list of codes with metadata.

A codebook is a YAML file a researcher writes by hand and keeps in git (see
``codebooks/README.md``). :meth:`Codebook.load` parses it safely (:mod:`._yaml`), validates it
with the frozen models of :mod:`._schema` plus the cross-code checks of :mod:`._validate`, and
reports *every* problem at once with the YAML line and column. The class gives access by id,
the hierarchy (children, ancestors, depth, walk), the content fingerprint, and delegates
display (:mod:`._display`), diff (:mod:`._diff`) and table import (:mod:`._table`). The REFI-QDA
``.qdc`` exchange lives in :mod:`qualcode.refi` (``read_qdc``/``write_qdc``).

Rule ids: each rule has an explicit ``id`` or the generated ``"{code}.{kind}.{lang}.{n}"``
(kind ``kw``, ``pat``, ``re``, ``prox`` or a registered kind's short name); :meth:`Code.rule_items`
yields them already normalised by the rule kinds (:mod:`qualcode.rules`).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .._inputs import read_input_bytes
from .._io import atomic_write_text
from ..errors import CodebookError
from ..rules import RuleItem
from ._diff import codebook_diff
from ._display import codebook_frame, codebook_html, codebook_text
from ._schema import Code, CodebookMetadata, SequenceSettings
from ._table import table_data
from ._validate import raise_problems, to_plain, validate, warn_missing_definitions
from ._yaml import canonical_doc, dump_yaml, parse_yaml

__all__ = ["Codebook", "read_table"]

logger = logging.getLogger("qualcode")

#: the largest codebook file read (a 500-code codebook with examples is well under 1 MB)
MAX_CODEBOOK_BYTES = 16 * 1024**2

#: Where ``Codebook.load`` sends files that are not YAML codebooks.
_OTHER_READERS = {
    ".qdc": "qualcode.refi.read_qdc(path)",
    ".csv": "Codebook.from_table(path)",
    ".tsv": "Codebook.from_table(path)",
    ".xlsx": "Codebook.from_table(path)",
}


class Codebook:
    """A validated, immutable codebook: metadata plus a list of :class:`Code` in file order.

    Build one with :meth:`load` (YAML file), :meth:`loads`, :meth:`from_dict`,
    :meth:`from_table` (CSV/XLSX), :func:`qualcode.refi.read_qdc` (REFI-QDA ``.qdc``), or
    ``Codebook(codes, name=..., languages=[...])``.

    Examples:
        >>> cb = Codebook([{"id": "theme"}, {"id": "a", "parent": "theme", "definition": "A."}],
        ...               name="demo")
        >>> cb.children("theme"), cb.depth("a"), len(cb.fingerprint)
        (['a'], 1, 16)
    """

    __slots__ = ("_by_id", "_children", "_codes", "_doc", "_meta", "_source")

    def __init__(self, codes: Iterable[Code | Mapping[str, Any]] = (), **metadata: Any) -> None:
        raw = dict(metadata)
        raw["codes"] = [
            c.model_dump(mode="python") if isinstance(c, Code) else dict(c) for c in codes
        ]
        meta, code_list, problems = validate(raw)
        if problems or meta is None:
            raise_problems(problems, None)
        warn_missing_definitions(code_list, None)
        self._setup(meta, code_list, doc=None, source=None)

    def _setup(self, meta: CodebookMetadata, codes: list[Code], *, doc: Any,
               source: str | None) -> None:
        self._meta = meta
        self._codes = tuple(codes)
        self._by_id = {c.id: c for c in codes}
        children: dict[str | None, list[str]] = {}
        for c in codes:
            children.setdefault(c.parent, []).append(c.id)
        self._children = children
        self._doc = doc
        self._source = source

    @classmethod
    def _make(cls, meta: CodebookMetadata, codes: list[Code], *, doc: Any = None,
              source: str | None = None) -> Codebook:
        self = cls.__new__(cls)
        self._setup(meta, codes, doc=doc, source=source)
        return self

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None,
                  require_definitions: bool = False) -> Codebook:
        """Build and validate a codebook from plain data (the YAML structure as dicts/lists).

        Args:
            data: mapping with metadata keys and ``codes`` (a list of code mappings).
            source: a name for error messages (e.g. a file name).
            require_definitions: when True, a leaf code without a definition is an error;
                by default (as for :meth:`load`) a warning lists such codes.

        Returns:
            The validated codebook.

        Raises:
            CodebookError: listing every problem found.
        """
        meta, codes, problems = validate(to_plain(data), require_definitions=require_definitions)
        if problems or meta is None:
            raise_problems(problems, source)
        warn_missing_definitions(codes, source)
        return cls._make(meta, codes)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Codebook:
        """Load and validate a YAML codebook (safe: no code from the file is ever run).

        Args:
            path: a ``.yaml``/``.yml`` file (JSON also works).

        Returns:
            The validated codebook; :meth:`save` writes back its comments and key order.

        Raises:
            CodebookError: the file is missing, not valid YAML, or fails validation; the
                message lists every problem as ``file:line:col: path: message``.
        """
        p = Path(path)
        source = str(path)
        reader = _OTHER_READERS.get(p.suffix.lower())
        if reader is not None and p.is_file():
            msg = (
                f"{source}: Codebook.load reads YAML codebooks, and this is a {p.suffix.lower()} file; "
                f"read it with {reader} or convert it with "
                f"`qualcode codebook import {p.name} --yaml codebook.yaml`."
            )
            raise CodebookError(msg, problems=[msg])
        def fail(msg: str, unsafe: bool) -> Exception:
            text = f"{source}: no such codebook file" if msg == "file not found" else f"{source}: {msg}"
            return CodebookError(text, problems=[text])

        try:
            text = read_input_bytes(p, fail=fail, max_bytes=MAX_CODEBOOK_BYTES).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            msg = f"{source}: not UTF-8 text ({exc.reason} at byte {exc.start})"
            raise CodebookError(msg, problems=[msg]) from None
        except OSError as exc:
            msg = f"{source}: cannot read codebook ({exc.strerror or exc})"
            raise CodebookError(msg, problems=[msg]) from None
        return cls.loads(text, source=source)

    @classmethod
    def loads(cls, text: str, *, source: str | None = None) -> Codebook:
        """Parse and validate codebook YAML text (see :meth:`load`)."""
        meta, codes, doc = parse_yaml(text, source)
        warn_missing_definitions(codes, source, stacklevel=4)
        return cls._make(meta, codes, doc=doc, source=source)

    @classmethod
    def from_table(cls, path: str | os.PathLike[str], *, name: str | None = None,
                   languages: list[str] | None = None, sheet: str | int = 0) -> Codebook:
        """Read a flat codebook table (``.csv``, ``.tsv`` or ``.xlsx``), one row per code.

        Args:
            path: the file; columns ``code`` or ``id`` (required), ``name``, ``parent``,
                ``definition``, ``inclusion``, ``exclusion``, ``examples``,
                ``counterexamples`` (passages separated by `` | `` or newlines), ``color``.
            name: codebook name (default: the file stem).
            languages: codebook languages (default ``["en"]``); examples go to the first.
            sheet: the XLSX sheet name or index.

        Returns:
            The codebook (leaf codes may lack a definition; a warning lists them).

        Raises:
            CodebookError: unreadable file, missing ``code``/``id`` column, empty or duplicate
                codes, unknown parents; each problem names the row (spreadsheet row number).
        """
        data = table_data(path, name=name, languages=languages, sheet=sheet)
        return cls.from_dict(data, source=str(path), require_definitions=False)

    # ------------------------------------------------------------------ access
    @property
    def metadata(self) -> CodebookMetadata:
        """The codebook's metadata (name, version, languages, authors, ...)."""
        return self._meta

    @property
    def name(self) -> str:
        """The codebook's name."""
        return self._meta.name

    @property
    def version(self) -> str:
        """The codebook's version string."""
        return self._meta.version

    @property
    def languages(self) -> list[str]:
        """Languages of the codebook, the first being the default."""
        return list(self._meta.languages)

    @property
    def codes(self) -> list[Code]:
        """Every code in file order."""
        return list(self._codes)

    @property
    def ids(self) -> list[str]:
        """Every code id in file order."""
        return [c.id for c in self._codes]

    @property
    def source(self) -> str | None:
        """The file this codebook was loaded from, if any."""
        return self._source

    def __getitem__(self, code_id: str) -> Code:
        try:
            return self._by_id[code_id]
        except (KeyError, TypeError):
            close = difflib.get_close_matches(str(code_id), self.ids, n=3)
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            msg = f"No code {code_id!r} in codebook {self.name!r}.{hint}"
            raise KeyError(msg) from None

    def get(self, code_id: str, default: Any = None) -> Any:
        """The code with this id, or ``default``."""
        return self._by_id.get(code_id, default)

    def __contains__(self, code_id: object) -> bool:
        return code_id in self._by_id

    def __iter__(self) -> Iterator[Code]:
        return iter(self._codes)

    def __len__(self) -> int:
        return len(self._codes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Codebook):
            return NotImplemented
        return self._meta == other._meta and self._codes == other._codes

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    # ------------------------------------------------------------------ hierarchy
    def _check(self, code_id: str) -> None:
        if code_id not in self._by_id:
            self[code_id]  # raises KeyError with suggestions

    def children(self, code_id: str | None) -> list[str]:
        """Ids of the direct children of ``code_id`` in file order (``None``: the roots)."""
        if code_id is not None:
            self._check(code_id)
        return list(self._children.get(code_id, []))

    def descendants(self, code_id: str) -> list[str]:
        """Ids of every code below ``code_id`` (depth first, file order)."""
        self._check(code_id)
        out: list[str] = []
        stack = list(reversed(self._children.get(code_id, [])))
        while stack:
            cur = stack.pop()
            out.append(cur)
            stack.extend(reversed(self._children.get(cur, [])))
        return out

    def ancestors(self, code_id: str) -> list[str]:
        """Ids from the parent of ``code_id`` up to its root."""
        self._check(code_id)
        out = []
        cur = self._by_id[code_id].parent
        while cur is not None:
            out.append(cur)
            cur = self._by_id[cur].parent
        return out

    @property
    def roots(self) -> list[str]:
        """Ids of the codes without a parent."""
        return list(self._children.get(None, []))

    @property
    def leaves(self) -> list[str]:
        """Ids of the codes without children (in file order)."""
        return [c.id for c in self._codes if not self._children.get(c.id)]

    @property
    def codable(self) -> list[str]:
        """Ids of the codes that may be assigned directly (leaves and codable parents), in file order."""
        return [c.id for c in self._codes if c.codable or not self._children.get(c.id)]

    @property
    def scope(self) -> dict[str, list[str]]:
        """The document or case attributes the codebook applies to (empty: every document)."""
        return {k: list(v) for k, v in self._meta.scope.items()}

    @property
    def sequence(self) -> SequenceSettings | None:
        """The codes that follow an order within each document (``sequence:``), or None.

        See :class:`~qualcode.codebook.SequenceSettings`: the coder decodes them together.
        """
        return self._meta.sequence

    @property
    def exhaustive(self) -> bool:
        """Whether the coders give every segment at least one code (``exhaustive: true``)."""
        return bool(self._meta.exhaustive)

    def in_scope(self, corpus: Any, *, missing: Iterable[str] | None = None) -> list[str]:
        """The ids of the documents of ``corpus`` this codebook applies to (see :attr:`scope`).

        A document matches when, for every scope key, its own attribute of that name or its
        case's attribute (the ``cases`` table) has one of the listed values.  A key that no
        document or case of the corpus has at all is not applied (the codebook is then being
        used on another corpus than the one it was scoped for; :meth:`scope_keys_missing`
        names such keys).

        Args:
            corpus: a :class:`qualcode.Corpus`.
            missing: the scope keys not to apply (default: :meth:`scope_keys_missing` of
                ``corpus``; a part of a larger corpus passes the keys missing from the whole).

        Returns:
            Document ids in corpus order (all of them when the codebook has no scope).
        """
        missing = set(self.scope_keys_missing(corpus) if missing is None else missing)
        scope = {k: v for k, v in self._meta.scope.items() if k not in missing}
        docs = list(corpus.documents)
        if not scope:
            return [d.doc_id for d in docs]
        cases = corpus.cases
        out = []
        for d in docs:
            case = cases.loc[d.case_id] if d.case_id in cases.index else None
            ok = True
            for key, values in scope.items():
                value = d.attributes.get(key)
                if value is None and case is not None and key in case.index:
                    value = case[key]
                if value is None or (isinstance(value, float) and value != value) or str(value) not in values:
                    ok = False
                    break
            if ok:
                out.append(d.doc_id)
        return out

    def scope_keys_missing(self, corpus: Any) -> list[str]:
        """The scope keys that no document or case of ``corpus`` has (not applied by :meth:`in_scope`)."""
        cols = set(map(str, corpus.cases.columns))
        have = cols | {k for d in corpus.documents for k in d.attributes}
        return [k for k in self._meta.scope if k not in have]

    def depth(self, code_id: str) -> int:
        """0 for a root, 1 for its children, and so on."""
        return len(self.ancestors(code_id))

    def walk(self) -> Iterator[tuple[int, Code]]:
        """Yield ``(depth, code)`` in tree order (depth first, siblings in file order)."""
        for root in self.roots:
            yield 0, self._by_id[root]
            for d in self.descendants(root):
                yield self.depth(d), self._by_id[d]

    # ------------------------------------------------------------------ content
    def to_dict(self) -> dict[str, Any]:
        """Plain data: metadata keys then ``codes`` (every field, defaults included)."""
        out = self._meta.model_dump(mode="json")
        out["codes"] = [c.model_dump(mode="json") for c in self._codes]
        return out

    def canonical_json(self) -> str:
        """The canonical JSON the fingerprint hashes (sorted keys, codes sorted by id)."""
        data = self._meta.model_dump(mode="json")
        if data.get("sequence") is None:  # codebooks without these keep the fingerprint they had
            data.pop("sequence", None)
        if not data.get("exhaustive"):
            data.pop("exhaustive", None)
        codes = sorted((c.model_dump(mode="json") for c in self._codes), key=lambda c: c["id"])
        return json.dumps({"metadata": data, "codes": codes}, sort_keys=True,
                          ensure_ascii=False, separators=(",", ":"))

    @property
    def fingerprint(self) -> str:
        """sha256 (16 hex chars) of the content, independent of key order, comments and layout.

        Default values count as written, and the order of codes in the file does not matter.
        """
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()[:16]

    def rule_items(self) -> list[RuleItem]:
        """Every rule of every code, normalised with its final id."""
        return [item for c in self._codes for item in c.rule_items()]

    def to_frame(self) -> pd.DataFrame:
        """One row per code (file order).

        Returns:
            DataFrame with columns ``id, name, parent, depth, definition, inclusion, exclusion,
            n_examples, n_counterexamples, n_rules, languages`` (languages with examples or
            language-specific rules, comma-separated).
        """
        return codebook_frame(self)

    def diff(self, other: Codebook) -> pd.DataFrame:
        """What changed from ``other`` (the older codebook) to this one, field by field.

        Args:
            other: the codebook to compare against (taken as the old version).

        Returns:
            DataFrame with columns ``code, change, field, old, new``; ``change`` is
            ``added``, ``removed`` or ``changed``; metadata changes have code ``"<codebook>"``;
            nested rule/embedding settings are compared per sub-field (``rules.keywords``).
            Values are shown as text (JSON for lists and mappings).

        Raises:
            TypeError: ``other`` is not a Codebook.
        """
        if not isinstance(other, Codebook):
            msg = f"Codebook.diff expects a Codebook. Got {type(other).__name__} instead."
            raise TypeError(msg)
        return codebook_diff(self, other)

    # ------------------------------------------------------------------ output
    def save(self, path: str | os.PathLike[str], *, overwrite: bool = True) -> Path:
        """Write the codebook as YAML (atomically).

        A codebook loaded from YAML is written back from its parsed document, keeping key
        order and comments; a programmatically built one is written in canonical key order
        with default values left out.

        Args:
            path: destination file.
            overwrite: when False, refuse to replace an existing file.

        Returns:
            The path written.

        Raises:
            ExportError: the file exists (and ``overwrite`` is False) or cannot be written.
        """
        return atomic_write_text(path, self.to_yaml(), overwrite=overwrite)

    def to_yaml(self) -> str:
        """The YAML text :meth:`save` writes."""
        doc = self._doc if self._doc is not None else canonical_doc(self._meta, self._codes)
        return dump_yaml(doc)

    def show(self, *, definitions: bool = True, width: int = 100) -> str:
        """The code tree as text (also what ``repr`` prints)."""
        return codebook_text(self, definitions=definitions, width=width)

    def __repr__(self) -> str:
        return self.show()

    def _repr_html_(self) -> str:
        return codebook_html(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": repr(self), "text/html": self._repr_html_()}


def read_table(path: str | os.PathLike[str], *, name: str | None = None,
               languages: list[str] | None = None, sheet: str | int = 0) -> Codebook:
    """Read a flat CSV/XLSX codebook; the same as :meth:`Codebook.from_table`."""
    return Codebook.from_table(path, name=name, languages=languages, sheet=sheet)
