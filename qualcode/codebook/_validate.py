"""Codebook validation: every problem at once, each with its file:line:col and field path.

:func:`validate` checks plain data (metadata, then each code with the pydantic models of
:mod:`._schema`, then the cross-code checks: duplicate ids, unknown parents, cycles, leaf codes
without a definition, language keys, duplicate rule ids). With the ruamel document of a YAML
file it places each problem at its line and column::

    codebooks/x.yaml:12:5: codes[3].rules.regex[0].pattern: invalid regular expression: ...

:func:`raise_problems` turns the list into one :class:`~qualcode.errors.CodebookError`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, get_args, get_origin

from pydantic import BaseModel, ValidationError

from ..errors import CodebookError
from ..rules import ALL_LANGUAGES, RULE_KINDS, RulesBase
from ._schema import Code, CodebookMetadata

__all__ = ["Problem", "position", "raise_problems", "to_plain", "validate"]


@dataclass(frozen=True)
class Problem:
    """One problem: 1-based line/column in the YAML (None without a document), field path."""

    line: int | None
    col: int | None
    path: str
    message: str

    def render(self, source: str | None) -> str:
        """``file:line:col: path: message`` (``line L:C:`` without a file name)."""
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


def position(node: Any, loc: Sequence[Any], *, key: bool = False) -> tuple[int | None, int | None]:
    """Line/column (1-based) of the deepest node of ``loc`` found in a ruamel document."""
    pos: tuple[int | None, int | None] = (None, None)
    lc = getattr(node, "lc", None)
    if lc is not None and getattr(lc, "line", None) is not None:
        pos = (lc.line + 1, lc.col + 1)
    for i, el in enumerate(loc):
        last = i == len(loc) - 1
        try:
            if isinstance(node, Mapping) and not isinstance(el, int) and el in node:
                node_lc = node.lc  # type: ignore[attr-defined]  # ruamel CommentedMap
                ln, cn = node_lc.key(el) if (key and last) else node_lc.value(el)
                pos = (ln + 1, cn + 1)
                node = node[el]
            elif isinstance(node, list) and isinstance(el, int) and 0 <= el < len(node):
                ln, cn = node.lc.item(el)  # type: ignore[attr-defined]  # ruamel CommentedSeq
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
        if cls is not None and issubclass(cls, RulesBase):
            cls = RULE_KINDS.rules_model  # the kinds registered now
    return cls


def _problems_from_validation(
    exc: ValidationError, root: type[BaseModel], prefix: tuple[Any, ...], doc: Any
) -> list[Problem]:
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
            line, col = position(doc, full, key=True)
        elif typ == "missing":
            msg = f"missing required field {str(loc[-1])!r}"
            line, col = position(doc, full[:-1])
        else:
            if typ.endswith("_type") or typ in {"bool_parsing", "int_parsing", "float_parsing",
                                               "model_type", "dict_type", "list_type"}:
                got = err.get("input")
                msg = f"wrong type: {msg} (got {type(got).__name__} {_short(got)})"
            line, col = position(doc, full)
        out.append(Problem(line, col, _path_str(full), msg))
    return out


def _short(value: Any, n: int = 40) -> str:
    text = repr(to_plain(value))
    return text if len(text) <= n else text[: n - 3] + "..."


# --------------------------------------------------------------------------- plain data
_STD_TAG = "tag:yaml.org,2002:"


def to_plain(node: Any, problems: list[Problem] | None = None, loc: tuple[Any, ...] = (),
             doc: Any = None) -> Any:
    """Convert ruamel round-trip data to plain Python, flagging non-standard YAML tags."""
    from ruamel.yaml.comments import TaggedScalar

    tag = getattr(getattr(node, "tag", None), "value", None)
    if tag is not None and not (
        tag.startswith(_STD_TAG) and tag[len(_STD_TAG) :] in {"str", "int", "float", "bool", "null",
                                                              "map", "seq", "omap", "timestamp"}
    ):
        if problems is not None:
            line, col = position(doc, loc)
            problems.append(
                Problem(line, col, _path_str(loc),
                        f"unsupported YAML tag {tag!r}: codebooks hold plain data only")
            )
        return None
    if isinstance(node, TaggedScalar):
        return str(node.value)
    if isinstance(node, Mapping):
        return {str(k) if not isinstance(k, (str, int)) else k:
                to_plain(v, problems, (*loc, k), doc) for k, v in node.items()}
    if isinstance(node, list):
        return [to_plain(v, problems, (*loc, i), doc) for i, v in enumerate(node)]
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
def validate(
    raw: Any, doc: Any = None, *, require_definitions: bool = False
) -> tuple[CodebookMetadata | None, list[Code], list[Problem]]:
    """Validate plain data (``doc`` = the ruamel tree for positions); collect every problem.

    A leaf code without a definition is a problem only with ``require_definitions``; the
    loaders warn about such codes instead (:func:`warn_missing_definitions`), so that codes
    imported from tools that keep no descriptions load.
    """
    problems: list[Problem] = []
    if not isinstance(raw, Mapping):
        problems.append(Problem(1 if doc is not None else None, 1, "",
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
        problems.append(Problem(*position(doc, ()), "codes",
                                "missing required field 'codes' (a list of code mappings)"))
        codes_raw = []
    elif not isinstance(codes_raw, list):
        problems.append(Problem(*position(doc, ("codes",)), "codes",
                                f"wrong type: 'codes' must be a list of mappings (got "
                                f"{type(codes_raw).__name__})"))
        codes_raw = []
    ctx = {"languages": languages}
    for i, c in enumerate(codes_raw):
        if not isinstance(c, Mapping):
            problems.append(Problem(*position(doc, ("codes", i)), f"codes[{i}]",
                                    f"wrong type: each code must be a mapping with an 'id' "
                                    f"(got {type(c).__name__} {_short(c)})"))
            continue
        try:
            codes.append(Code.model_validate(c, context=ctx))
        except ValidationError as exc:
            problems.extend(_problems_from_validation(exc, Code, ("codes", i), doc))
    problems.extend(_cross_checks(codes_raw, codes, languages, doc, require_definitions))
    if meta is not None and meta.sequence is not None:
        problems.extend(_sequence_checks(meta, codes, doc))
    problems.sort(key=lambda p: (p.line or 0, p.col or 0, p.path))
    return meta, codes, problems


def _sequence_checks(meta: CodebookMetadata, codes: list[Code], doc: Any) -> list[Problem]:
    """Every code named in ``sequence`` exists; the ordered ones are codable."""
    seq = meta.sequence
    assert seq is not None
    by_id = {c.id: c for c in codes}
    out: list[Problem] = []

    def check(loc: tuple[Any, ...], cid: str, *, ordered: bool) -> None:
        where = position(doc, loc)
        path = _path_str(loc)
        if cid not in by_id:
            close = difflib.get_close_matches(cid, list(by_id), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            out.append(Problem(*where, path, f"unknown code {cid!r}: no code has this id{hint}"))
        elif ordered and not by_id[cid].codable:
            out.append(Problem(*where, path, f"code {cid!r} is not codable (codable: false), so it cannot be "
                                             "a stage of the sequence"))

    raw_order = doc.get("sequence", {}).get("order") if isinstance(doc, Mapping) else None
    for i, stage in enumerate(seq.order):
        nested = isinstance(raw_order, list) and i < len(raw_order) and isinstance(raw_order[i], list)
        for j, cid in enumerate(stage):
            check(("sequence", "order", i, j) if nested else ("sequence", "order", i), cid, ordered=True)
    for j, cid in enumerate(seq.skip):
        check(("sequence", "skip", j), cid, ordered=False)
        if cid in seq.codes:
            out.append(Problem(*position(doc, ("sequence", "skip", j)), f"sequence.skip[{j}]",
                               f"{cid!r} is both a stage of the sequence and skipped"))
    return out


def _cross_checks(codes_raw: list[Any], codes: list[Code], languages: list[str],
                  doc: Any, require_definitions: bool = False) -> list[Problem]:
    out: list[Problem] = []
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
            out.append(Problem(*position(doc, ("codes", i, "id")), f"codes[{i}].id",
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
            out.append(Problem(*position(doc, ("codes", i, "parent")), f"codes[{i}].parent",
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
                    out.append(Problem(*position(doc, ("codes", i, "parent")),
                                       f"codes[{i}].parent",
                                       "cycle in the hierarchy: " + " -> ".join(ordered)))
                break
            chain.append(cur)
            seen.add(cur)
    # leaf codes need a definition, and are codable
    has_children = set(parents.values())
    for cid, i in index_of.items():
        c = codes_raw[i]
        if cid not in has_children and c.get("codable") is False:
            out.append(Problem(*position(doc, ("codes", i, "codable")), f"codes[{i}].codable",
                               f"leaf code {cid!r} has no children, so it must be codable "
                               "(codable: false is for a theme that groups other codes)"))
    for cid, i in index_of.items():
        c = codes_raw[i]
        if cid in has_children or not require_definitions:
            continue
        d = c.get("definition")
        if d is None or (isinstance(d, str) and not d.strip()):
            where = ("codes", i, "definition") if "definition" in c else ("codes", i)
            out.append(Problem(*position(doc, where), f"codes[{i}].definition",
                               f"empty definition: leaf code {cid!r} has no children, so it "
                               "must have a definition saying what a coder looks for"))
    # language keys
    allowed = set(languages)
    for i, c in enumerate(codes_raw):
        if not isinstance(c, Mapping):
            continue
        keyed = [(("examples",), c.get("examples")), (("counterexamples",), c.get("counterexamples"))]
        for sub, value in keyed:
            if not isinstance(value, Mapping):
                continue
            for k in value:
                if k not in allowed:
                    loc = ("codes", i, *sub, k)
                    out.append(Problem(*position(doc, loc, key=True), _path_str(loc),
                                       _unknown_lang(k, languages)))
        rules = c.get("rules")
        if not isinstance(rules, Mapping):
            continue
        for sub, lang, is_key in RULE_KINDS.rules_model.language_refs(rules):
            if (is_key and lang == ALL_LANGUAGES) or lang in allowed:
                continue
            loc = ("codes", i, "rules", *sub)
            out.append(Problem(*position(doc, loc, key=is_key), _path_str(loc),
                               _unknown_lang(lang, languages)))
    # rule ids unique across the codebook
    seen_rules: dict[str, str] = {}
    for code in codes:
        for item in code.rule_items():
            if item.id in seen_rules:
                i = index_of.get(code.id, 0)
                out.append(Problem(*position(doc, ("codes", i, "rules")), f"codes[{i}].rules",
                                   f"duplicate rule id {item.id!r} (also used by code "
                                   f"{seen_rules[item.id]!r})"))
            else:
                seen_rules[item.id] = code.id
    return out


def _unknown_lang(k: Any, languages: list[str]) -> str:
    return (f"unknown language key {k!r}: the codebook's languages are {languages} "
            "(add it to 'languages:' at the top)")


def raise_problems(problems: list[Problem], source: str | None) -> NoReturn:
    """Raise one CodebookError listing every problem (``.problems``: one string each)."""
    rendered = [p.render(source) for p in problems]
    n = len(rendered)
    head = f"{source + ': ' if source else ''}{n} problem{'s' if n != 1 else ''} in codebook"
    msg = head + ":\n  " + "\n  ".join(rendered)
    raise CodebookError(msg, problems=rendered)


def warn_missing_definitions(codes: list[Code], source: str | None, *, stacklevel: int = 3) -> None:
    """Warn (one :class:`~qualcode.errors.QualcodeWarning`) about leaf codes without a definition."""
    import warnings

    from ..errors import QualcodeWarning

    parents = {c.parent for c in codes if c.parent}
    missing = [c.id for c in codes if not c.definition and c.id not in parents]
    if missing:
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        warnings.warn(
            f"{source or 'codebook'}: {len(missing)} code(s) without a definition: "
            f"{', '.join(missing[:10])}{more}; a coder has only the name to go on "
            "(write definitions before coding)",
            QualcodeWarning,
            stacklevel=stacklevel,
        )
