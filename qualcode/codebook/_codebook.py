"""Codebooks as versioned data: the YAML format, validation, hierarchy, diff and fingerprint.

A codebook is a YAML file a researcher writes by hand and keeps in git (see
``codebooks/README.md``).  :meth:`Codebook.load` parses it with ruamel.yaml's round-trip loader
(which never constructs arbitrary Python objects), validates it with frozen pydantic models
(``extra="forbid"``) plus cross-code checks, and reports *every* problem at once with the YAML
line and column::

    codebooks/x.yaml:12:5: codes[3].rules.regex[0].pattern: invalid regular expression: ...

Rule ids: each rule has an explicit ``id`` or the generated ``"{code}.{kind}.{lang}.{n}"`` with
kind in ``kw, pat, re, prox``, ``lang`` the rule's language (``all`` when it applies to every
language) and ``n`` counting from 1 within (code, kind, lang).  :meth:`Code.rule_items` yields
them already normalised, so rule compilers never re-derive ids.
"""

from __future__ import annotations

import copy
import datetime as _dt
import difflib
import hashlib
import html
import io
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .._io import atomic_write_text
from ..corpus._model import ROLES
from ..errors import CodebookError

__all__ = [
    "ALL_LANGUAGES",
    "Code",
    "Codebook",
    "CodebookMetadata",
    "EmbeddingSettings",
    "Exclude",
    "PatternRule",
    "ProximityRule",
    "RegexRule",
    "RuleItem",
    "Rules",
    "Scope",
]

logger = logging.getLogger("qualcode")

#: Key used in per-language dicts (keywords, exclusion terms) for "every language".
ALL_LANGUAGES = "*"
SLUG_RE = re.compile(r"^[a-z][a-z0-9_]*$")
LANG_RE = re.compile(r"^[a-z]{2,3}$")
COLOR_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")
_KIND_SHORT = {"keyword": "kw", "pattern": "pat", "regex": "re", "proximity": "prox"}

NonEmptyStr = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def _strip(v: Any) -> Any:
    return v.strip() if isinstance(v, str) else v


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- rules schema
class PatternRule(_Frozen):
    """A spaCy token pattern (full Matcher syntax), checked with spaCy's own validator."""

    id: str | None = None
    lang: str | None = None
    pattern: Annotated[list[dict[str, Any]], Field(min_length=1)]

    @field_validator("pattern")
    @classmethod
    def _spacy_valid(cls, v: list[dict[str, Any]]) -> list[dict[str, Any]]:
        problems = _validate_token_pattern(v)
        if problems:
            msg = "invalid spaCy token pattern: " + "; ".join(problems)
            raise ValueError(msg)
        return v


class RegexRule(_Frozen):
    """A regular expression matched on the segment text (``re`` syntax)."""

    id: str | None = None
    lang: str | None = None
    pattern: NonEmptyStr
    ignore_case: StrictBool = True

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            msg = f"invalid regular expression {v!r}: {exc}"
            raise ValueError(msg) from None
        return v


class ProximityRule(_Frozen):
    """A term of list ``a`` within ``within`` tokens of a term of list ``b`` (either order)."""

    id: str | None = None
    lang: str | None = None
    a: Annotated[list[NonEmptyStr], Field(min_length=1)]
    b: Annotated[list[NonEmptyStr], Field(min_length=1)]
    within: Annotated[StrictInt, Field(ge=1, le=100)] = 5


def _per_language(v: Any) -> Any:
    """A plain list means "every language"."""
    if v is None:
        return {}
    if isinstance(v, list):
        return {ALL_LANGUAGES: v}
    return v


class Exclude(_Frozen):
    """Terms that veto a hit within ``window`` tokens (0 = anywhere in the segment)."""

    terms: dict[str, list[NonEmptyStr]] = Field(default_factory=dict)
    window: Annotated[StrictInt, Field(ge=0)] = 0

    v_terms = field_validator("terms", mode="before")(lambda cls, v: _per_language(v))


class Scope(_Frozen):
    """Only code turns of these roles / speakers (empty = no restriction)."""

    roles: list[Literal[ROLES]] = Field(default_factory=list)  # type: ignore[valid-type]
    speakers: list[NonEmptyStr] = Field(default_factory=list)


class Rules(_Frozen):
    """Matching rules of one code (see ``docs/architecture.md``, section Codebook)."""

    keywords: dict[str, list[NonEmptyStr]] = Field(default_factory=dict)
    match_on: Literal["lemma", "lower"] = "lemma"
    patterns: list[PatternRule] = Field(default_factory=list)
    regex: list[RegexRule] = Field(default_factory=list)
    proximity: list[ProximityRule] = Field(default_factory=list)
    exclude: Exclude = Field(default_factory=Exclude)
    negation: StrictBool = False
    negation_window: Annotated[StrictInt, Field(ge=1, le=20)] = 3
    scope: Scope = Field(default_factory=Scope)
    min_hits: Annotated[StrictInt, Field(ge=1)] = 1

    v_keywords = field_validator("keywords", mode="before")(lambda cls, v: _per_language(v))

    @property
    def is_empty(self) -> bool:
        """True when the code has no keyword, pattern, regex or proximity rule."""
        return not (
            any(self.keywords.values()) or self.patterns or self.regex or self.proximity
        )

    def items(self, code_id: str) -> Iterator[RuleItem]:
        """Yield every rule entry of ``code_id`` normalised, with its final rule id.

        Args:
            code_id: the id of the code these rules belong to (part of generated ids).

        Returns:
            An iterator of :class:`RuleItem` in a stable order: keywords, patterns, regex,
            proximity.
        """
        counters: dict[tuple[str, str | None], int] = {}

        def next_id(kind: str, lang: str | None, explicit: str | None) -> str:
            key = (kind, lang)
            counters[key] = counters.get(key, 0) + 1
            if explicit:
                return explicit
            return f"{code_id}.{_KIND_SHORT[kind]}.{lang or 'all'}.{counters[key]}"

        for lang_key, words in self.keywords.items():
            lang = None if lang_key == ALL_LANGUAGES else lang_key
            for word in words:
                yield RuleItem(next_id("keyword", lang, None), code_id, "keyword", lang, word,
                               match_on=self.match_on)
        for p in self.patterns:
            yield RuleItem(next_id("pattern", p.lang, p.id), code_id, "pattern", p.lang,
                           copy.deepcopy(p.pattern))
        for r in self.regex:
            yield RuleItem(next_id("regex", r.lang, r.id), code_id, "regex", r.lang, r.pattern,
                           ignore_case=r.ignore_case)
        for x in self.proximity:
            yield RuleItem(next_id("proximity", x.lang, x.id), code_id, "proximity", x.lang,
                           (tuple(x.a), tuple(x.b)), within=x.within, match_on=self.match_on)


@dataclass(frozen=True)
class RuleItem:
    """One normalised rule entry.

    Attributes:
        id: the final rule id (explicit or ``"{code}.{kind}.{lang}.{n}"``).
        code: the code id.
        kind: ``"keyword"``, ``"pattern"``, ``"regex"`` or ``"proximity"``.
        lang: the language the rule applies to, or None for every language.
        value: a keyword/phrase (str), a spaCy token pattern (list of dicts), a regular
            expression (str), or for proximity a pair ``(a_terms, b_terms)`` of tuples.
        match_on: ``"lemma"`` or ``"lower"`` (keywords and proximity terms).
        ignore_case: regex only.
        within: proximity only, the maximum distance in tokens.
    """

    id: str
    code: str
    kind: Literal["keyword", "pattern", "regex", "proximity"]
    lang: str | None
    value: Any
    match_on: Literal["lemma", "lower"] = "lemma"
    ignore_case: bool = True
    within: int | None = None


class EmbeddingSettings(_Frozen):
    """How a code takes part in embedding similarity."""

    enabled: StrictBool = True
    threshold: float | None = None
    use_definition: StrictBool = True
    use_examples: StrictBool = True
    use_counterexamples: StrictBool = True

    @field_validator("threshold", mode="before")
    @classmethod
    def _number(cls, v: Any) -> Any:
        if isinstance(v, (bool, str)):
            msg = f"threshold must be a number between 0 and 1 (or null). Got {v!r}."
            raise ValueError(msg)
        return v

    @field_validator("threshold")
    @classmethod
    def _in_range(cls, v: float | None) -> float | None:
        if v is not None and not 0.0 <= v <= 1.0:
            msg = f"threshold out of range: must be between 0 and 1 (a cosine similarity). Got {v}."
            raise ValueError(msg)
        return v


# --------------------------------------------------------------------------- code
class Code(_Frozen):
    """One code of a codebook (immutable).

    Attributes:
        id: slug (``^[a-z][a-z0-9_]*$``), unique in the codebook.
        name: human label (defaults to the id).
        parent: id of the parent code, or None for a root.
        definition, inclusion, exclusion: what a coder looks for / includes / excludes.
        examples, counterexamples: passages per language (``{"en": [...], "id": [...]}``).
        color: ``#RRGGBB`` or None.
        rules: :class:`Rules`.
        embedding: :class:`EmbeddingSettings`.
    """

    id: str
    name: NonEmptyStr
    parent: str | None = None
    definition: str = ""
    inclusion: str = ""
    exclusion: str = ""
    examples: dict[str, list[NonEmptyStr]] = Field(default_factory=dict)
    counterexamples: dict[str, list[NonEmptyStr]] = Field(default_factory=dict)
    color: str | None = None
    rules: Rules = Field(default_factory=Rules)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.id))

    @model_validator(mode="before")
    @classmethod
    def _default_name(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and data.get("name") is None and isinstance(data.get("id"), str):
            data = dict(data)
            data["name"] = data["id"]
        return data

    @field_validator("id")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not SLUG_RE.match(v):
            msg = (
                "code ids must be slugs: lowercase letters, digits and '_', starting with a "
                f"letter (e.g. 'data_based_policy'). Got {v!r}."
            )
            raise ValueError(msg)
        return v

    @field_validator("parent")
    @classmethod
    def _parent_slug(cls, v: str | None) -> str | None:
        if v is not None and not SLUG_RE.match(v):
            msg = f"parent must be the id of another code (a slug). Got {v!r}."
            raise ValueError(msg)
        return v

    v_text = field_validator("definition", "inclusion", "exclusion", mode="before")(
        lambda cls, v: "" if v is None else _strip(v)
    )

    @field_validator("examples", "counterexamples", mode="before")
    @classmethod
    def _by_language(cls, v: Any, info: ValidationInfo) -> Any:
        if v is None:
            return {}
        if isinstance(v, list):
            langs = (info.context or {}).get("languages") or ["en"]
            return {langs[0]: v}
        return v

    @field_validator("color")
    @classmethod
    def _color(cls, v: str | None) -> str | None:
        if v is not None and not COLOR_RE.match(v):
            msg = f"bad colour {v!r}: use '#RRGGBB' hex, e.g. '#1f77b4'."
            raise ValueError(msg)
        return v

    def rule_items(self) -> list[RuleItem]:
        """Every rule of this code, normalised, with its final id (see :meth:`Rules.items`)."""
        return list(self.rules.items(self.id))

    def all_examples(self) -> list[str]:
        """Examples of every language, in language order."""
        return [t for texts in self.examples.values() for t in texts]

    def all_counterexamples(self) -> list[str]:
        """Counterexamples of every language, in language order."""
        return [t for texts in self.counterexamples.values() for t in texts]


# --------------------------------------------------------------------------- metadata
class CodebookMetadata(_Frozen):
    """Top-level metadata of a codebook."""

    name: NonEmptyStr
    version: NonEmptyStr = "0.1.0"
    languages: Annotated[list[str], Field(min_length=1)] = Field(default_factory=lambda: ["en"])
    authors: list[NonEmptyStr] = Field(default_factory=list)
    description: str = ""
    license: str | None = None
    created: str | None = None
    changed: str | None = None

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, v: Any) -> Any:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            msg = f"version must be a string; quote it in YAML (version: '{v}')."
            raise ValueError(msg)
        return v

    @field_validator("languages")
    @classmethod
    def _langs(cls, v: list[str]) -> list[str]:
        bad = [x for x in v if not LANG_RE.match(x)]
        if bad:
            msg = f"languages must be ISO 639 codes such as 'en' or 'id'. Got {bad}."
            raise ValueError(msg)
        if len(set(v)) != len(v):
            msg = f"languages lists a language twice: {v}."
            raise ValueError(msg)
        return v

    v_authors = field_validator("authors", mode="before")(
        lambda cls, v: [v] if isinstance(v, str) else ([] if v is None else v)
    )
    v_description = field_validator("description", mode="before")(
        lambda cls, v: "" if v is None else _strip(v)
    )

    @field_validator("created", "changed", mode="before")
    @classmethod
    def _date(cls, v: Any) -> Any:
        if isinstance(v, (_dt.date, _dt.datetime)):
            return v.isoformat()
        return v


_META_FIELDS = tuple(CodebookMetadata.model_fields)


# --------------------------------------------------------------------------- spaCy validation
def _validate_token_pattern(pattern: list[dict[str, Any]]) -> list[str]:
    """Run spaCy's own token-pattern validator; return readable problems (never raise)."""
    try:
        from spacy.schemas import validate_token_pattern
    except Exception:  # pragma: no cover - spaCy is a core dependency
        return []
    try:
        errors = validate_token_pattern(pattern)
    except Exception as exc:  # never leak spaCy's traceback
        return [str(exc).splitlines()[0] if str(exc) else type(exc).__name__]
    out = []
    for e in errors:
        m = re.match(r"\[(.*?)\]\s*(.*)", e)
        if m:
            parts = [p.strip() for p in m.group(1).split("->")]
            if parts and parts[0] == "pattern":
                parts = parts[1:]
            where = ""
            if parts and parts[0].isdigit():
                where = f"token {parts[0]}"
                parts = parts[1:]
            if parts:
                where += (": " if where else "") + ".".join(parts)
            out.append(f"{where}: {m.group(2)}" if where else m.group(2))
        else:
            out.append(e)
    return out


# --------------------------------------------------------------------------- problems
@dataclass(frozen=True)
class _Problem:
    line: int | None
    col: int | None
    path: str
    message: str

    def render(self, source: str | None) -> str:
        where = ""
        if source is not None:
            where = source
            if self.line is not None:
                where += f":{self.line}:{self.col or 1}"
            where += ": "
        elif self.line is not None:
            where = f"line {self.line}:{self.col or 1}: "
        return f"{where}{self.path + ': ' if self.path else ''}{self.message}"


def _path_str(loc: Sequence[Any]) -> str:
    out = ""
    for el in loc:
        if isinstance(el, int):
            out += f"[{el}]"
        else:
            out += ("." if out else "") + str(el)
    return out


def _position(node: Any, loc: Sequence[Any], *, key: bool = False) -> tuple[int | None, int | None]:
    """Line/column (1-based) of the deepest node of ``loc`` found in a ruamel document."""
    pos: tuple[int | None, int | None] = (None, None)
    lc = getattr(node, "lc", None)
    if lc is not None and getattr(lc, "line", None) is not None:
        pos = (lc.line + 1, lc.col + 1)
    for i, el in enumerate(loc):
        last = i == len(loc) - 1
        try:
            if isinstance(node, Mapping) and not isinstance(el, int) and el in node:
                ln, cn = node.lc.key(el) if (key and last) else node.lc.value(el)
                pos = (ln + 1, cn + 1)
                node = node[el]
            elif isinstance(node, list) and isinstance(el, int) and 0 <= el < len(node):
                ln, cn = node.lc.item(el)
                pos = (ln + 1, cn + 1)
                node = node[el]
            else:
                break
        except (AttributeError, KeyError, TypeError, IndexError):
            break
    return pos


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _model_at(root: type[BaseModel], loc: Sequence[Any]) -> type[BaseModel] | None:
    cls: type[BaseModel] | None = root
    for el in loc:
        if cls is None:
            return None
        if isinstance(el, int):
            continue
        field = cls.model_fields.get(str(el))
        if field is None:
            return None
        ann = field.annotation
        origin = get_origin(ann)
        if origin is dict:
            return None
        cls = _inner_model(ann)
    return cls


def _problems_from_validation(
    exc: ValidationError, root: type[BaseModel], prefix: tuple[Any, ...], doc: Any
) -> list[_Problem]:
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(el for el in err["loc"] if el != "[key]")
        full = prefix + loc
        typ = err["type"]
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if typ == "extra_forbidden":
            field = str(loc[-1]) if loc else "?"
            cls = _model_at(root, loc[:-1])
            msg = f"unknown field {field!r}"
            if cls is not None:
                known = list(cls.model_fields)
                close = difflib.get_close_matches(field, known, n=1, cutoff=0.6)
                if close:
                    msg += f"; did you mean {close[0]!r}?"
                else:
                    msg += f" (allowed: {', '.join(known)})"
            line, col = _position(doc, full, key=True)
        elif typ == "missing":
            msg = f"missing required field {str(loc[-1])!r}"
            line, col = _position(doc, full[:-1])
        else:
            if typ.endswith("_type") or typ in {"bool_parsing", "int_parsing", "float_parsing",
                                               "model_type", "dict_type", "list_type"}:
                got = err.get("input")
                msg = f"wrong type: {msg} (got {type(got).__name__} {_short(got)})"
            line, col = _position(doc, full)
        out.append(_Problem(line, col, _path_str(full), msg))
    return out


def _short(value: Any, n: int = 40) -> str:
    text = repr(_plain(value))
    return text if len(text) <= n else text[: n - 3] + "..."


# --------------------------------------------------------------------------- YAML helpers
def _yaml(typ: str = "rt") -> Any:
    from ruamel.yaml import YAML

    y = YAML(typ=typ)
    y.width = 4096  # never re-wrap lines: saving must reproduce the file
    y.indent(mapping=2, sequence=4, offset=2)
    y.preserve_quotes = True
    y.allow_unicode = True
    return y


_STD_TAG = "tag:yaml.org,2002:"


def _plain(node: Any, problems: list[_Problem] | None = None, loc: tuple[Any, ...] = (),
           doc: Any = None) -> Any:
    """Convert ruamel round-trip data to plain Python, flagging non-standard YAML tags."""
    from ruamel.yaml.comments import TaggedScalar

    tag = getattr(getattr(node, "tag", None), "value", None)
    if tag is not None and not (
        tag.startswith(_STD_TAG) and tag[len(_STD_TAG) :] in {"str", "int", "float", "bool", "null",
                                                              "map", "seq", "omap", "timestamp"}
    ):
        if problems is not None:
            line, col = _position(doc, loc)
            problems.append(
                _Problem(line, col, _path_str(loc),
                         f"unsupported YAML tag {tag!r}: codebooks hold plain data only")
            )
        return None
    if isinstance(node, TaggedScalar):
        return str(node.value)
    if isinstance(node, Mapping):
        return {str(k) if not isinstance(k, (str, int)) else k:
                _plain(v, problems, (*loc, k), doc) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v, problems, (*loc, i), doc) for i, v in enumerate(node)]
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


# --------------------------------------------------------------------------- validation
def _validate(
    raw: Any, doc: Any = None, *, require_definitions: bool = True
) -> tuple[CodebookMetadata | None, list[Code], list[_Problem]]:
    """Validate plain data (``doc`` = the ruamel tree for positions); collect every problem."""
    problems: list[_Problem] = []
    if not isinstance(raw, Mapping):
        problems.append(_Problem(1 if doc is not None else None, 1, "",
                                 "a codebook must be a mapping with metadata keys and 'codes:'"))
        return None, [], problems
    meta_raw = {k: v for k, v in raw.items() if k != "codes"}
    meta: CodebookMetadata | None = None
    try:
        meta = CodebookMetadata.model_validate(meta_raw)
    except ValidationError as exc:
        problems.extend(_problems_from_validation(exc, CodebookMetadata, (), doc))
    languages = meta.languages if meta else (
        [x for x in raw.get("languages", []) if isinstance(x, str)]
        if isinstance(raw.get("languages"), list) else ["en"]
    ) or ["en"]

    codes_raw = raw.get("codes")
    codes: list[Code] = []
    if codes_raw is None:
        problems.append(_Problem(*_position(doc, ()), "codes",
                                 "missing required field 'codes' (a list of code mappings)"))
        codes_raw = []
    elif not isinstance(codes_raw, list):
        problems.append(_Problem(*_position(doc, ("codes",)), "codes",
                                 f"wrong type: 'codes' must be a list of mappings (got "
                                 f"{type(codes_raw).__name__})"))
        codes_raw = []
    ctx = {"languages": languages}
    for i, c in enumerate(codes_raw):
        if not isinstance(c, Mapping):
            problems.append(_Problem(*_position(doc, ("codes", i)), f"codes[{i}]",
                                     f"wrong type: each code must be a mapping with an 'id' "
                                     f"(got {type(c).__name__} {_short(c)})"))
            continue
        try:
            codes.append(Code.model_validate(c, context=ctx))
        except ValidationError as exc:
            problems.extend(_problems_from_validation(exc, Code, ("codes", i), doc))
    problems.extend(_cross_checks(codes_raw, codes, languages, doc, require_definitions))
    problems.sort(key=lambda p: (p.line or 0, p.col or 0, p.path))
    return meta, codes, problems


def _cross_checks(codes_raw: list[Any], codes: list[Code], languages: list[str],
                  doc: Any, require_definitions: bool = True) -> list[_Problem]:
    out: list[_Problem] = []
    ids: dict[str, int] = {}
    parents: dict[str, str] = {}
    index_of: dict[str, int] = {}
    for i, c in enumerate(codes_raw):
        if not isinstance(c, Mapping):
            continue
        cid = c.get("id")
        if not isinstance(cid, str):
            continue
        if cid in ids:
            out.append(_Problem(*_position(doc, ("codes", i, "id")), f"codes[{i}].id",
                                f"duplicate code id {cid!r} (first defined at codes[{ids[cid]}])"))
            continue
        ids[cid] = i
        index_of[cid] = i
        if isinstance(c.get("parent"), str):
            parents[cid] = c["parent"]
    for cid, parent in parents.items():
        i = index_of[cid]
        if parent not in ids:
            close = difflib.get_close_matches(parent, list(ids), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            out.append(_Problem(*_position(doc, ("codes", i, "parent")), f"codes[{i}].parent",
                                f"unknown parent {parent!r}: no code has this id{hint}"))
    # cycles
    reported: set[str] = set()
    for cid in ids:
        chain = [cid]
        seen = {cid}
        cur = cid
        while cur in parents and parents[cur] in ids:
            cur = parents[cur]
            if cur in seen:
                cycle = chain[chain.index(cur):] + [cur]
                members = set(cycle)
                if not members & reported:
                    reported |= members
                    first = min(members, key=lambda x: index_of[x])
                    start = cycle.index(first)
                    ordered = cycle[start:-1] + cycle[:start] + [first]
                    i = index_of[first]
                    out.append(_Problem(*_position(doc, ("codes", i, "parent")),
                                        f"codes[{i}].parent",
                                        "cycle in the hierarchy: " + " -> ".join(ordered)))
                break
            chain.append(cur)
            seen.add(cur)
    # leaf codes need a definition
    has_children = set(parents.values())
    for cid, i in index_of.items():
        c = codes_raw[i]
        if cid in has_children or not require_definitions:
            continue
        d = c.get("definition")
        if d is None or (isinstance(d, str) and not d.strip()):
            where = ("codes", i, "definition") if "definition" in c else ("codes", i)
            out.append(_Problem(*_position(doc, where), f"codes[{i}].definition",
                                f"empty definition: leaf code {cid!r} has no children, so it "
                                "must have a definition saying what a coder looks for"))
    # language keys
    allowed = set(languages)
    for i, c in enumerate(codes_raw):
        if not isinstance(c, Mapping):
            continue
        rules = c.get("rules") if isinstance(c.get("rules"), Mapping) else {}
        exclude = rules.get("exclude") if isinstance(rules.get("exclude"), Mapping) else {}
        keyed = [(("examples",), c.get("examples"), False),
                 (("counterexamples",), c.get("counterexamples"), False),
                 (("rules", "keywords"), rules.get("keywords"), True),
                 (("rules", "exclude", "terms"), exclude.get("terms"), True)]
        for sub, value, star in keyed:
            if not isinstance(value, Mapping):
                continue
            for k in value:
                if k == ALL_LANGUAGES and star:
                    continue
                if k not in allowed:
                    loc = ("codes", i, *sub, k)
                    out.append(_Problem(*_position(doc, loc, key=True), _path_str(loc),
                                        _unknown_lang(k, languages)))
        for kind in ("patterns", "regex", "proximity"):
            entries = rules.get(kind)
            if not isinstance(entries, list):
                continue
            for j, e in enumerate(entries):
                if isinstance(e, Mapping) and e.get("lang") is not None and e["lang"] not in allowed:
                    loc = ("codes", i, "rules", kind, j, "lang")
                    out.append(_Problem(*_position(doc, loc), _path_str(loc),
                                        _unknown_lang(e["lang"], languages)))
    # rule ids unique across the codebook
    seen_rules: dict[str, str] = {}
    for code in codes:
        for item in code.rule_items():
            if item.id in seen_rules:
                i = index_of.get(code.id, 0)
                out.append(_Problem(*_position(doc, ("codes", i, "rules")), f"codes[{i}].rules",
                                    f"duplicate rule id {item.id!r} (also used by code "
                                    f"{seen_rules[item.id]!r})"))
            else:
                seen_rules[item.id] = code.id
    return out


def _unknown_lang(k: Any, languages: list[str]) -> str:
    return (f"unknown language key {k!r}: the codebook's languages are {languages} "
            "(add it to 'languages:' at the top)")


def _raise(problems: list[_Problem], source: str | None) -> None:
    rendered = [p.render(source) for p in problems]
    n = len(rendered)
    head = f"{source + ': ' if source else ''}{n} problem{'s' if n != 1 else ''} in codebook"
    msg = head + ":\n  " + "\n  ".join(rendered)
    raise CodebookError(msg, problems=rendered)


# --------------------------------------------------------------------------- codebook
class Codebook:
    """A validated, immutable codebook: metadata plus a list of :class:`Code` in file order.

    Build one with :meth:`load` (YAML file), :meth:`from_dict`, :meth:`from_qdc`,
    :meth:`from_table` (CSV/XLSX), or ``Codebook(codes, name=..., languages=[...])``.

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
        meta, code_list, problems = _validate(raw)
        if problems or meta is None:
            _raise(problems, None)
        self._setup(meta, code_list, doc=None, source=None)  # type: ignore[arg-type]

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
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None) -> Codebook:
        """Build and validate a codebook from plain data (the YAML structure as dicts/lists).

        Args:
            data: mapping with metadata keys and ``codes`` (a list of code mappings).
            source: a name for error messages (e.g. a file name).

        Returns:
            The validated codebook.

        Raises:
            CodebookError: listing every problem found.
        """
        meta, codes, problems = _validate(_plain(data))
        if problems or meta is None:
            _raise(problems, source)
        return cls._make(meta, codes)  # type: ignore[arg-type]

    @classmethod
    def _from_import(cls, data: Mapping[str, Any], *, source: str | None = None) -> Codebook:
        """Like :meth:`from_dict` but tolerating leaf codes without a definition (imports)."""
        meta, codes, problems = _validate(_plain(data), require_definitions=False)
        if problems or meta is None:
            _raise(problems, source)
        missing = [c.id for c in codes if not c.definition]
        if missing:
            logger.warning("%s: %d code(s) without a definition: %s", source or "codebook",
                           len(missing), ", ".join(missing[:10]))
        return cls._make(meta, codes)  # type: ignore[arg-type]

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
        other = {".qdc": "from_qdc", ".csv": "from_table", ".tsv": "from_table", ".xlsx": "from_table"}
        if p.suffix.lower() in other and p.is_file():
            msg = (
                f"{source}: Codebook.load reads YAML codebooks, and this is a {p.suffix.lower()} file; "
                f"read it with Codebook.{other[p.suffix.lower()]}(path) or convert it with "
                f"`qualcode codebook import {p.name} --yaml codebook.yaml`."
            )
            raise CodebookError(msg, problems=[msg])
        try:
            text = p.read_bytes().decode("utf-8-sig")
        except FileNotFoundError:
            msg = f"{source}: no such codebook file"
            raise CodebookError(msg, problems=[msg]) from None
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
        from ruamel.yaml.error import MarkedYAMLError, YAMLError

        src = source or "<string>"
        try:
            doc = _yaml().load(text)
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else None
            col = mark.column + 1 if mark is not None else None
            what = " ".join(x for x in (exc.context, exc.problem) if x) or "invalid YAML"
            prob = _Problem(line, col, "", f"YAML syntax error: {what}")
            _raise([prob], src)
        except YAMLError as exc:
            _raise([_Problem(None, None, "", f"YAML syntax error: {exc}")], src)
        if doc is None:
            _raise([_Problem(1, 1, "", "the file is empty; a codebook needs metadata and "
                                        "'codes:'")], src)
        tag_problems: list[_Problem] = []
        raw = _plain(doc, tag_problems, (), doc)
        meta, codes, problems = _validate(raw, doc)
        problems = sorted(tag_problems + problems, key=lambda p: (p.line or 0, p.col or 0))
        if problems or meta is None:
            _raise(problems, src)
        return cls._make(meta, codes, doc=doc, source=source)  # type: ignore[arg-type]

    @classmethod
    def from_qdc(cls, path: str | os.PathLike[str], **kwargs: Any) -> Codebook:
        """Read a REFI-QDA codebook (``.qdc``); see :func:`qualcode._qdc.read_qdc`."""
        from ..refi._qdc import read_qdc

        return read_qdc(path, **kwargs)

    @classmethod
    def from_table(cls, path: str | os.PathLike[str], **kwargs: Any) -> Codebook:
        """Read a flat CSV/XLSX codebook; see :func:`qualcode._codebook_import.read_table`."""
        from ._table import read_table

        return read_table(path, **kwargs)

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
        rows = []
        for c in self._codes:
            langs = set(c.examples) | set(c.counterexamples)
            for item in c.rule_items():
                langs |= set(self.languages) if item.lang is None else {item.lang}
            langs.discard(ALL_LANGUAGES)
            ordered = [x for x in self.languages if x in langs] + sorted(langs - set(self.languages))
            rows.append({
                "id": c.id,
                "name": c.name,
                "parent": c.parent,
                "depth": self.depth(c.id),
                "definition": c.definition,
                "inclusion": c.inclusion,
                "exclusion": c.exclusion,
                "n_examples": len(c.all_examples()),
                "n_counterexamples": len(c.all_counterexamples()),
                "n_rules": len(c.rule_items()),
                "languages": ", ".join(ordered),
            })
        cols = ["id", "name", "parent", "depth", "definition", "inclusion", "exclusion",
                "n_examples", "n_counterexamples", "n_rules", "languages"]
        df = pd.DataFrame(rows, columns=cols)
        df.attrs["codebook"] = self.name
        df.attrs["version"] = self.version
        df.attrs["fingerprint"] = self.fingerprint
        return df

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
        rows: list[dict[str, Any]] = []
        old_meta = other._meta.model_dump(mode="json")
        new_meta = self._meta.model_dump(mode="json")
        for f in _META_FIELDS:
            if old_meta.get(f) != new_meta.get(f):
                rows.append({"code": "<codebook>", "change": "changed", "field": f,
                             "old": _show(old_meta.get(f)), "new": _show(new_meta.get(f))})
        for c in other._codes:
            if c.id not in self._by_id:
                rows.append({"code": c.id, "change": "removed", "field": None,
                             "old": c.name, "new": None})
        for c in self._codes:
            if c.id not in other._by_id:
                rows.append({"code": c.id, "change": "added", "field": None,
                             "old": None, "new": c.name})
                continue
            old = _flat_fields(other._by_id[c.id])
            new = _flat_fields(c)
            for f in new:
                if old.get(f) != new.get(f):
                    rows.append({"code": c.id, "change": "changed", "field": f,
                                 "old": _show(old.get(f)), "new": _show(new.get(f))})
        return pd.DataFrame(rows, columns=["code", "change", "field", "old", "new"], dtype=object)

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
        buf = io.StringIO()
        y = _yaml()
        y.dump(self._doc if self._doc is not None else self._canonical_doc(), buf)
        return buf.getvalue()

    def _canonical_doc(self) -> Any:
        from ruamel.yaml.comments import CommentedMap, CommentedSeq
        from ruamel.yaml.scalarstring import LiteralScalarString

        def text(v: str) -> Any:
            return LiteralScalarString(v + "\n") if "\n" in v else v

        def flow(seq: Iterable[Any]) -> Any:
            s = CommentedSeq(list(seq))
            s.fa.set_flow_style()
            return s

        def lang_dict(d: Mapping[str, list[str]], collapse_all: bool) -> Any:
            if collapse_all and set(d) == {ALL_LANGUAGES}:
                return [text(x) for x in d[ALL_LANGUAGES]]
            return CommentedMap((k, [text(x) for x in v]) for k, v in d.items())

        root = CommentedMap()
        m = self._meta
        root["name"] = m.name
        root["version"] = m.version
        root["languages"] = flow(m.languages)
        if m.authors:
            root["authors"] = list(m.authors)
        if m.description:
            root["description"] = text(m.description)
        for f in ("license", "created", "changed"):
            if getattr(m, f) is not None:
                root[f] = getattr(m, f)
        codes = []
        for c in self._codes:
            cm = CommentedMap()
            cm["id"] = c.id
            cm["name"] = c.name
            for f in ("parent", "color"):
                if getattr(c, f) is not None:
                    cm[f] = getattr(c, f)
            for f in ("definition", "inclusion", "exclusion"):
                if getattr(c, f):
                    cm[f] = text(getattr(c, f))
            for f in ("examples", "counterexamples"):
                if getattr(c, f):
                    cm[f] = lang_dict(getattr(c, f), False)
            rules = _rules_canonical(c.rules, lang_dict, flow)
            if rules:
                cm["rules"] = rules
            emb = c.embedding.model_dump(exclude_defaults=True)
            if emb:
                cm["embedding"] = CommentedMap(emb)
            codes.append(cm)
        root["codes"] = codes
        return root

    def show(self, *, definitions: bool = True, width: int = 100) -> str:
        """The code tree as text (also what ``repr`` prints)."""
        lines = [
            f"Codebook {self.name!r} v{self.version} ({', '.join(self.languages)}): "
            f"{len(self)} codes, {len(self.leaves)} leaves, fingerprint {self.fingerprint}"
        ]
        for depth, c in self.walk():
            pad = "  " * (depth + 1)
            head = f"{pad}{c.id}" + (f" ({c.name})" if c.name != c.id else "")
            if definitions and c.definition:
                first = " ".join(c.definition.split())
                room = max(20, width - len(head) - 3)
                if len(first) > room:
                    first = first[: room - 3].rstrip() + "..."
                head += f": {first}"
            lines.append(head)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.show()

    def _repr_html_(self) -> str:
        e = html.escape
        parts = [
            "<div class='qualcode-codebook'>",
            f"<p><b>Codebook {e(self.name)}</b> v{e(self.version)} "
            f"({e(', '.join(self.languages))}): {len(self)} codes, {len(self.leaves)} leaves, "
            f"fingerprint <code>{self.fingerprint}</code></p>",
        ]

        def render(ids: list[str]) -> None:
            parts.append("<ul>")
            for cid in ids:
                c = self._by_id[cid]
                style = f" style='border-left: 4px solid {c.color}; padding-left: 4px'" if c.color else ""
                parts.append(f"<li{style}><code>{e(c.id)}</code> <b>{e(c.name)}</b>")
                if c.definition:
                    parts.append(f"<br><span>{e(c.definition)}</span>")
                kids = self._children.get(cid, [])
                if kids:
                    render(kids)
                parts.append("</li>")
            parts.append("</ul>")

        render(self.roots)
        parts.append("</div>")
        return "".join(parts)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": repr(self), "text/html": self._repr_html_()}

    def to_qdc(self, path: str | os.PathLike[str], **kwargs: Any) -> Path:
        """Export as a REFI-QDA codebook (``.qdc``); see :func:`qualcode._qdc.write_qdc`."""
        from ..refi._qdc import write_qdc

        return write_qdc(self, path, **kwargs)


def _rules_canonical(rules: Rules, lang_dict: Any, flow: Any) -> Any:
    from ruamel.yaml.comments import CommentedMap

    out = CommentedMap()
    if rules.keywords:
        out["keywords"] = lang_dict(rules.keywords, True)
    if rules.match_on != "lemma":
        out["match_on"] = rules.match_on
    if rules.patterns:
        pats = []
        for p in rules.patterns:
            pm = CommentedMap()
            if p.id:
                pm["id"] = p.id
            if p.lang:
                pm["lang"] = p.lang
            pm["pattern"] = flow(CommentedMap(tok) for tok in p.pattern)
            for tok in pm["pattern"]:
                tok.fa.set_flow_style()
            pats.append(pm)
        out["patterns"] = pats
    if rules.regex:
        out["regex"] = [CommentedMap(r.model_dump(exclude_defaults=True)) for r in rules.regex]
    if rules.proximity:
        prox = []
        for x in rules.proximity:
            pm = CommentedMap()
            if x.id:
                pm["id"] = x.id
            if x.lang:
                pm["lang"] = x.lang
            pm["a"] = flow(x.a)
            pm["b"] = flow(x.b)
            pm["within"] = x.within
            prox.append(pm)
        out["proximity"] = prox
    if rules.exclude != Exclude():
        em = CommentedMap()
        if rules.exclude.terms:
            em["terms"] = lang_dict(rules.exclude.terms, True)
        if rules.exclude.window:
            em["window"] = rules.exclude.window
        out["exclude"] = em
    for f in ("negation", "negation_window", "min_hits"):
        if getattr(rules, f) != Rules.model_fields[f].default:
            out[f] = getattr(rules, f)
    if rules.scope != Scope():
        out["scope"] = CommentedMap(rules.scope.model_dump(exclude_defaults=True))
    return out


def _flat_fields(code: Code) -> dict[str, Any]:
    d = code.model_dump(mode="json")
    out: dict[str, Any] = {}
    for k, v in d.items():
        if k in ("rules", "embedding"):
            for kk, vv in v.items():
                out[f"{k}.{kk}"] = vv
        else:
            out[k] = v
    return out


def _show(v: Any) -> Any:
    if v is None or isinstance(v, str):
        return v
    return json.dumps(v, ensure_ascii=False, sort_keys=True)
