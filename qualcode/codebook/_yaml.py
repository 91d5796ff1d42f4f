"""Codebook YAML: safe round-trip loading, writing back with comments, canonical dump.

Loading uses ruamel.yaml's round-trip loader, which never constructs arbitrary Python objects;
a non-standard tag (``!!python/...``) is reported as a problem, never run. The parsed document
is kept, so a loaded codebook is saved with its comments, key order and quoting unchanged. A
codebook built in Python is written in canonical order with default values left out; each rule
kind writes its own fields (:meth:`qualcode.rules.RuleKind.to_yaml`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from .._inputs import yaml_bomb
from ..rules import yaml_flow, yaml_lang_dict, yaml_text
from ._schema import Code, CodebookMetadata
from ._validate import Problem, raise_problems, to_plain, validate

__all__ = ["canonical_doc", "dump_yaml", "parse_yaml"]


def _yaml(typ: str = "rt") -> Any:
    from ruamel.yaml import YAML

    y = YAML(typ=typ)
    y.width = 4096  # never re-wrap lines: saving must reproduce the file
    y.indent(mapping=2, sequence=4, offset=2)
    y.preserve_quotes = True
    y.allow_unicode = True
    return y


def parse_yaml(text: str, source: str | None) -> tuple[CodebookMetadata, list[Code], Any]:
    """Parse and validate codebook YAML.

    Args:
        text: the YAML text.
        source: the file name for messages (``<string>`` when None).

    Returns:
        ``(metadata, codes, document)``; the ruamel document keeps comments for saving.

    Raises:
        CodebookError: invalid YAML or invalid codebook, every problem with line:col.
    """
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    src = source or "<string>"
    try:
        bomb = yaml_bomb(_yaml().parse(text))
        if bomb is not None:
            raise_problems([Problem(bomb[1], None, "", bomb[0])], src)
        doc = _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        col = mark.column + 1 if mark is not None else None
        what = " ".join(x for x in (exc.context, exc.problem) if x) or "invalid YAML"
        raise_problems([Problem(line, col, "", f"YAML syntax error: {what}")], src)
    except YAMLError as exc:
        raise_problems([Problem(None, None, "", f"YAML syntax error: {exc}")], src)
    if doc is None:
        raise_problems([Problem(1, 1, "", "the file is empty; a codebook needs metadata and "
                                          "'codes:'")], src)
    tag_problems: list[Problem] = []
    raw = to_plain(doc, tag_problems, (), doc)
    meta, codes, problems = validate(raw, doc)
    problems = sorted(tag_problems + problems, key=lambda p: (p.line or 0, p.col or 0))
    if problems or meta is None:
        raise_problems(problems, src)
    return meta, codes, doc


def dump_yaml(doc: Any) -> str:
    """The YAML text of a ruamel document, lines never re-wrapped."""
    buf = io.StringIO()
    _yaml().dump(doc, buf)
    return buf.getvalue()


def canonical_doc(meta: CodebookMetadata, codes: Sequence[Code]) -> Any:
    """The canonical YAML document of a codebook (default values left out)."""
    from ruamel.yaml.comments import CommentedMap

    root = CommentedMap()
    root["name"] = meta.name
    root["version"] = meta.version
    root["languages"] = yaml_flow(meta.languages)
    if meta.authors:
        root["authors"] = list(meta.authors)
    if meta.description:
        root["description"] = yaml_text(meta.description)
    if meta.scope:
        root["scope"] = CommentedMap({k: (v[0] if len(v) == 1 else yaml_flow(v)) for k, v in meta.scope.items()})
    if meta.exhaustive:
        root["exhaustive"] = True
    if meta.sequence is not None:
        seq = meta.sequence
        sm = CommentedMap()
        sm["order"] = [stage[0] if len(stage) == 1 else yaml_flow(stage) for stage in seq.order]
        if seq.skip:
            sm["skip"] = yaml_flow(seq.skip)
        if "back" in seq.model_fields_set:
            sm["back"] = seq.back
        root["sequence"] = sm
    for f in ("license", "created", "changed"):
        if getattr(meta, f) is not None:
            root[f] = getattr(meta, f)
    out = []
    for c in codes:
        cm = CommentedMap()
        cm["id"] = c.id
        cm["name"] = c.name
        for f in ("parent", "color"):
            if getattr(c, f) is not None:
                cm[f] = getattr(c, f)
        if not c.codable:
            cm["codable"] = False
        for f in ("definition", "inclusion", "exclusion"):
            if getattr(c, f):
                cm[f] = yaml_text(getattr(c, f))
        for f in ("examples", "counterexamples"):
            if getattr(c, f):
                cm[f] = yaml_lang_dict(getattr(c, f), False)
        rules = c.rules.to_yaml()
        if rules:
            cm["rules"] = rules
        emb = c.embedding.model_dump(exclude_defaults=True)
        if emb:
            cm["embedding"] = CommentedMap(emb)
        out.append(cm)
    root["codes"] = out
    return root
