"""REFI-QDA codebook exchange (``.qdc``): export, lenient and safe import.

Export writes ``<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="qualcode x.y">`` with nested
``<Codes><Code guid name isCodable color><Description>``, validated against ``Codebook.xsd``
before it is written.  GUIDs are deterministic (uuid5 of a fixed namespace, the codebook name
and the code id), so repeated exports are byte-identical.

The qdc schema has no place for inclusion/exclusion criteria, examples, rules or embedding
settings, so qualcode folds them into the ``Description`` after the definition, inside a
delimited YAML block::

    What a coder looks for ...

    Include: ...

    Exclude: ...

    (qualcode settings below: keep them unchanged so that qualcode reads this code back)
    --- qualcode ---
    id: convergence
    inclusion: ...
    examples: {en: [...], id: [...]}
    rules: {...}
    --- end qualcode ---

The human description comes first (definition, then inclusion and exclusion criteria and
examples as plain text), then one line saying what follows, then the block; the block alone
is what import reads (the plain-text criteria are recognised and left out of the
definition).

Codebook metadata (name, version, languages, authors, ...) travels the same way in the
Description of a ``<Set>`` named after the codebook, whose members are all the codes.
Other tools show the block as part of the memo and keep it, so a round trip through them and
back into qualcode is lossless as long as the user leaves the block alone.

The building/parsing functions are reusable for the ``<CodeBook>`` inside a ``.qdpx`` project
(namespace ``urn:QDA-XML:project:1.0``): :func:`codes_to_xml`, :func:`metadata_set_to_xml`,
:func:`codebook_from_codes_element`, :func:`parse_xml_safely`, :func:`code_guid`.
"""

from __future__ import annotations

import io
import logging
import os
import re
import uuid
from collections.abc import Collection, Mapping
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

from lxml import etree

from .._inputs import yaml_bomb
from .._io import atomic_write_bytes
from ..codebook import Code, Codebook, slugify
from ..errors import CodebookError, ExportError, RefiError, UnsafeInputError

__all__ = [
    "BLOCK_END",
    "BLOCK_START",
    "CODEBOOK_NS",
    "CODEBOOK_NS_VARIANTS",
    "PROJECT_NS",
    "SEPARATOR",
    "code_guid",
    "codebook_element",
    "codebook_from_codes_element",
    "codes_to_xml",
    "is_codable",
    "metadata_set_to_xml",
    "parse_xml_safely",
    "read_qdc",
    "split_description",
    "validate_codebook_xml",
    "write_qdc",
]

logger = logging.getLogger("qualcode")

CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
PROJECT_NS = "urn:QDA-XML:project:1.0"
#: namespaces seen in real exports (and no namespace at all) that import accepts
CODEBOOK_NS_VARIANTS = (
    CODEBOOK_NS,
    "urn:QDA-XML:codebook:1:0",
    "urn:QDA-XML:codebook:0:4",
    "urn:QDA-XML:codebook:0.4",
    PROJECT_NS,
    "urn:QDA-XML:project:1:0",
    "",
)
BLOCK_START = "--- qualcode ---"
BLOCK_END = "--- end qualcode ---"
#: The line before a block, so that a reader of the memo in another tool knows what it is.
SEPARATOR = "(qualcode settings below: keep them unchanged so that qualcode reads this back)"
#: fixed namespace of qualcode's deterministic GUIDs (never change it: GUIDs would change)
GUID_NAMESPACE = uuid.UUID("6f1f4c1e-2b7a-5d3e-9c51-7a0c0de0b00c")
_MAX_BYTES = 50 * 1024 * 1024


# --------------------------------------------------------------------------- helpers
def code_guid(codebook_name: str, code_id: str) -> str:
    """Deterministic GUID of a code: uuid5(qualcode namespace, "{codebook}/{code}").

    Args:
        codebook_name: the codebook's name.
        code_id: the code id.

    Returns:
        The GUID as a lowercase ``8-4-4-4-12`` string.
    """
    return str(uuid.uuid5(GUID_NAMESPACE, f"{codebook_name}/{code_id}"))


def _safe_yaml_dump(data: Any) -> str:
    from ruamel.yaml import YAML

    y = YAML(typ="safe", pure=True)
    y.default_flow_style = False
    y.allow_unicode = True
    y.width = 100
    y.sort_base_mapping_type_on_output = False  # type: ignore[assignment]  # ruamel infers None from its unannotated default
    buf = io.StringIO()
    y.dump(data, buf)
    return buf.getvalue()


def _safe_yaml_load(text: str) -> Any:
    from ruamel.yaml import YAML

    bomb = yaml_bomb(YAML(typ="safe", pure=True).parse(text))  # alias bombs, deep nesting
    if bomb is not None:
        raise ValueError(bomb[0])
    return YAML(typ="safe", pure=True).load(text)


def _qualcode_fields(code: Code) -> dict[str, Any]:
    """The fields the qdc schema cannot hold, without defaults (plain data)."""
    out: dict[str, Any] = {"id": code.id}
    for f in ("inclusion", "exclusion"):
        if getattr(code, f):
            out[f] = getattr(code, f)
    for f in ("examples", "counterexamples"):
        if getattr(code, f):
            out[f] = {k: list(v) for k, v in getattr(code, f).items()}
    rules = code.rules.to_plain()
    if rules:
        out["rules"] = rules
    emb = code.embedding.model_dump(mode="json", exclude_defaults=True)
    if emb:
        out["embedding"] = emb
    return out


def _with_block(text: str, extra: Mapping[str, Any]) -> str:
    block = _safe_yaml_dump(dict(extra)).rstrip("\n")
    head = text.strip()
    return (head + "\n\n" if head else "") + f"{SEPARATOR}\n{BLOCK_START}\n{block}\n{BLOCK_END}"


def _criteria_text(fields: Mapping[str, Any]) -> str:
    """Inclusion, exclusion, examples and counterexamples of a code block as plain text."""
    parts: list[str] = []
    for key, label in (("inclusion", "Include"), ("exclusion", "Exclude")):
        value = fields.get(key)
        if isinstance(value, str) and value.strip():
            parts.append(f"{label}: {value.strip()}")
    for key, label in (("examples", "Examples"), ("counterexamples", "Counterexamples")):
        value = fields.get(key)
        if not isinstance(value, Mapping):
            continue
        for lang, texts in value.items():
            if isinstance(texts, list) and texts:
                parts.append(f"{label} ({lang}):\n" + "\n".join(f"- {t}" for t in texts))
    return "\n\n".join(parts)


def _code_description(code: Code) -> str:
    """A code's ``Description``: definition and criteria for people, then the qualcode block."""
    fields = _qualcode_fields(code)
    human = "\n\n".join(p for p in (code.definition.strip(), _criteria_text(fields)) if p)
    return _with_block(human, fields)


def split_description(text: str | None, *, where: str = "Description") -> tuple[str, dict[str, Any]]:
    """Split a Description into its free text and the qualcode block (parsed, safe YAML).

    Args:
        text: the Description text (None for none).
        where: names the element in warnings.

    Returns:
        ``(text_without_block, block_data)``; an unreadable block is logged and ignored.
    """
    if not text:
        return "", {}
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    start = text.find(BLOCK_START)
    if start < 0:
        return text.strip(), {}
    end = text.find(BLOCK_END, start)
    body = text[start + len(BLOCK_START) : end if end >= 0 else len(text)]
    before = text[:start].rstrip()
    if before.endswith(SEPARATOR):
        before = before[: -len(SEPARATOR)]
    rest = (before + (text[end + len(BLOCK_END) :] if end >= 0 else "")).strip()
    try:
        data = _safe_yaml_load(body)
    except Exception as exc:  # ruamel raises many types; never leak them
        logger.warning("%s: unreadable qualcode block ignored (%s)", where,
                       str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return rest, {}
    if not isinstance(data, dict):
        logger.warning("%s: qualcode block is not a mapping; ignored", where)
        return rest, {}
    return rest, data


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}" if ns else tag


# --------------------------------------------------------------------------- export
def is_codable(codebook: Codebook, code: Code, coded: Collection[str] | None = None) -> bool:
    """Whether codings may sit on ``code`` in an export (REFI-QDA ``isCodable``).

    The one place that decides it.  The codebook's ``codable`` field is final (a leaf is
    always codable; ``codable: false`` marks a theme that only groups its children, which
    other tools show as a category holding no codings).  For a code object without that field
    (a duck-typed codebook), a parent is codable when it has rules or examples of its own or
    direct codings (``coded``, the codes coded directly in what is exported).

    Args:
        codebook: the codebook.
        code: one of its codes.
        coded: ids of the codes that carry direct codings (None: not known, as for a .qdc).

    Returns:
        True when codings may be attached to the code.
    """
    declared = getattr(code, "codable", None)
    if isinstance(declared, bool):
        return declared or not codebook.children(code.id)
    if not codebook.children(code.id):
        return True
    if not code.rules.is_empty or bool(code.examples):
        return True
    return coded is not None and code.id in coded


def codes_to_xml(codebook: Codebook, parent: etree._Element,
                 namespace: str = CODEBOOK_NS, *, coded: Collection[str] | None = None) -> etree._Element:
    """Append ``<Codes>`` with the nested code tree of ``codebook`` to ``parent``.

    Args:
        codebook: the codebook.
        parent: a ``<CodeBook>`` element (of a .qdc, or of a .qdpx project).
        namespace: ``urn:QDA-XML:codebook:1.0`` (.qdc) or ``urn:QDA-XML:project:1.0`` (.qdpx).
        coded: ids of the codes with direct codings in a project export (see
            :func:`is_codable`).

    Returns:
        The ``<Codes>`` element.
    """
    codes_el = etree.SubElement(parent, _q(namespace, "Codes"))

    def add(el: etree._Element, code_id: str) -> None:
        code = codebook[code_id]
        attrs = {"guid": code_guid(codebook.name, code.id), "name": code.name,
                 "isCodable": "true" if is_codable(codebook, code, coded) else "false"}
        if code.color:
            attrs["color"] = code.color
        ce = etree.SubElement(el, _q(namespace, "Code"), attrs)
        desc = etree.SubElement(ce, _q(namespace, "Description"))
        desc.text = _code_description(code)
        for child in codebook.children(code.id):
            add(ce, child)

    for root in codebook.roots:
        add(codes_el, root)
    return codes_el


def metadata_set_to_xml(codebook: Codebook, parent: etree._Element,
                        namespace: str = CODEBOOK_NS) -> etree._Element:
    """Append a ``<Set>`` carrying the codebook metadata (all codes as members) to ``parent``.

    Args:
        codebook: the codebook.
        parent: a ``<Sets>`` element.
        namespace: the element namespace (see :func:`codes_to_xml`).

    Returns:
        The ``<Set>`` element.
    """
    meta = codebook.metadata.model_dump(mode="json", exclude_defaults=True)
    meta["name"] = codebook.name
    meta["version"] = codebook.version
    meta["languages"] = codebook.languages
    description = meta.pop("description", "")
    block = {"codebook": meta}
    set_el = etree.SubElement(parent, _q(namespace, "Set"), {
        "guid": code_guid(codebook.name, "<codebook>"), "name": codebook.name})
    desc = etree.SubElement(set_el, _q(namespace, "Description"))
    desc.text = _with_block(description, block)
    for cid in codebook.ids:
        etree.SubElement(set_el, _q(namespace, "MemberCode"),
                         {"guid": code_guid(codebook.name, cid)})
    return set_el


def codebook_element(codebook: Codebook, *, origin: str | None = None) -> etree._Element:
    """The ``<CodeBook>`` root of a .qdc file (codes plus the metadata set)."""
    from .. import __version__

    root = etree.Element(_q(CODEBOOK_NS, "CodeBook"), nsmap={None: CODEBOOK_NS})
    root.set("origin", origin or f"qualcode {__version__}")
    codes_to_xml(codebook, root, CODEBOOK_NS)
    sets = etree.SubElement(root, _q(CODEBOOK_NS, "Sets"))
    metadata_set_to_xml(codebook, sets, CODEBOOK_NS)
    return root


_SCHEMA: etree.XMLSchema | None = None


def _schema() -> etree.XMLSchema:
    global _SCHEMA
    if _SCHEMA is None:
        with as_file(files("qualcode") / "data" / "refi" / "Codebook.xsd") as xsd:
            parser = etree.XMLParser(resolve_entities=False, no_network=True)
            _SCHEMA = etree.XMLSchema(etree.parse(str(xsd), parser))
    return _SCHEMA


def validate_codebook_xml(root: etree._Element) -> list[str]:
    """Validate a ``<CodeBook>`` element against the REFI-QDA ``Codebook.xsd``.

    Returns:
        The schema errors as ``"line N: message"`` strings (empty when valid).
    """
    schema = _schema()
    if schema.validate(root):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def write_qdc(codebook: Codebook, path: str | os.PathLike[str], *, overwrite: bool = True,
              origin: str | None = None) -> Path:
    """Export ``codebook`` as a REFI-QDA ``.qdc`` file (validated, deterministic, atomic).

    Args:
        codebook: the codebook.
        path: destination file.
        overwrite: when False, refuse to replace an existing file.
        origin: the ``origin`` attribute (default ``"qualcode <version>"``).

    Returns:
        The path written.

    Raises:
        ExportError: the XML fails the schema (a bug) or the file cannot be written.
    """
    root = codebook_element(codebook, origin=origin)
    errors = validate_codebook_xml(root)
    if errors:
        msg = f"the .qdc for {codebook.name!r} does not validate against Codebook.xsd: " + "; ".join(errors[:5])
        raise ExportError(msg)
    data = etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
    return atomic_write_bytes(path, data, overwrite=overwrite)


# --------------------------------------------------------------------------- import
_DOCTYPE_RE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def parse_xml_safely(data: bytes, source: str = "<xml>") -> etree._Element:
    """Parse untrusted XML: no entities, no DTD, no network, no huge trees.

    Args:
        data: the raw bytes.
        source: names the file in errors.

    Returns:
        The root element.

    Raises:
        UnsafeInputError: the document declares a DOCTYPE/ENTITY (entity expansion, external
            entities) or is larger than 50 MB.
        RefiError: the XML is not well-formed.
    """
    if len(data) > _MAX_BYTES:
        msg = f"{source}: XML larger than {_MAX_BYTES // 2**20} MB; refused"
        raise UnsafeInputError(msg)
    probe = data
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            probe = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            probe = data
    if _DOCTYPE_RE.search(probe):
        msg = (f"{source}: the XML declares a DOCTYPE or ENTITY; refused for safety "
               "(entity expansion / external entities are not allowed in REFI-QDA files)")
        raise UnsafeInputError(msg)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                             load_dtd=False, dtd_validation=False, remove_comments=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        msg = f"{source}: not well-formed XML (line {exc.lineno}): {exc.msg}"
        raise RefiError(msg) from None
    if root.getroottree().docinfo.doctype:
        msg = f"{source}: the XML declares a DOCTYPE; refused for safety"
        raise UnsafeInputError(msg)
    return root


def _local(el: etree._Element) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return etree.QName(tag).localname


def _ns(el: etree._Element) -> str:
    return etree.QName(el.tag).namespace or ""


def _kids(el: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in el if _local(c) == name]


def _color(value: str | None) -> str | None:
    if not value:
        return None
    v = value.strip()
    if re.fullmatch(r"#[0-9A-Fa-f]{3}", v):
        v = "#" + "".join(ch * 2 for ch in v[1:])
    if re.fullmatch(r"#[0-9A-Fa-f]{6}", v):
        return v
    logger.warning("ignoring colour %r (not #RRGGBB)", value)
    return None


def codebook_from_codes_element(
    codes_el: etree._Element,
    *,
    sets_el: etree._Element | None = None,
    name: str | None = None,
    split_names: bool = True,
    source: str | None = None,
    guid_map: dict[str, str] | None = None,
) -> Codebook:
    """Build a Codebook from a REFI-QDA ``<Codes>`` element (any namespace variant).

    Args:
        codes_el: the ``<Codes>`` element (of a .qdc or of a .qdpx project's ``<CodeBook>``).
        sets_el: an optional ``<Sets>`` element; a set carrying a qualcode block provides the
            codebook metadata.
        name: codebook name when no metadata set is found.
        split_names: turn ATLAS.ti-style flat names ``"Parent::Child"`` into a hierarchy.
        source: names the file in errors.
        guid_map: filled with ``<Code>`` GUID (lower case, no braces) -> code id.

    Returns:
        The codebook; ids come from the qualcode block when present, otherwise slugs of the
        names (made unique); qualcode fields are restored from the block.  A flat
        ``"Parent::Child"`` name and a code named ``"Parent"`` at the same level (ATLAS.ti
        writes both, in either order) give one parent code.

    Raises:
        RefiError: a code lacks a name, or the result is not a valid codebook.
    """
    src = source or "<qdc>"
    meta: dict[str, Any] = {}
    if sets_el is not None:
        for s in _kids(sets_el, "Set"):
            descs = _kids(s, "Description")
            text, block = split_description(descs[0].text if descs else None,
                                            where=f"{src}: Set {s.get('name')!r}")
            if isinstance(block.get("codebook"), dict):
                meta = dict(block["codebook"])
                if text:
                    meta["description"] = text
                break
    if not meta.get("name"):
        meta["name"] = name or (Path(source).stem if source else "imported")

    taken: set[str] = set()
    records: list[dict[str, Any]] = []
    by_flat_name: dict[tuple[str | None, str], str] = {}
    implied: dict[str, dict[str, Any]] = {}  # parents made from "A::B" names, not yet seen as codes

    def make_id(block_id: Any, label: str) -> str:
        if isinstance(block_id, str) and block_id and block_id not in taken:
            taken.add(block_id)
            return block_id
        return slugify(label, taken)

    def visit(el: etree._Element, parent: str | None) -> None:
        label = (el.get("name") or "").strip()
        if not label:
            msg = f"{src}: a <Code> (guid {el.get('guid')!r}, line {el.sourceline}) has no name"
            raise RefiError(msg)
        descs = _kids(el, "Description")
        text, block = split_description(descs[0].text if descs else None,
                                        where=f"{src}: Code {label!r}")
        criteria = _criteria_text(block)
        if criteria and text.endswith(criteria):  # the plain-text copy written for people
            text = text[: -len(criteria)].rstrip()
        chain_parent = parent
        if split_names and "::" in label and not block:
            parts = [p.strip() for p in label.split("::") if p.strip()]
            for part in parts[:-1]:
                key = (chain_parent, part)
                if key not in by_flat_name:
                    pid = slugify(part, taken)
                    by_flat_name[key] = pid
                    implied[pid] = {"id": pid, "name": part, "parent": chain_parent}
                    records.append(implied[pid])
                chain_parent = by_flat_name[key]
            label = parts[-1] if parts else label
        rec: dict[str, Any] = {k: v for k, v in block.items() if k not in ("id", "name", "parent")}
        known = by_flat_name.get((chain_parent, label))
        if known in implied and not block.get("id"):
            # "Coke" after "Coke::diet Coke": the parent the flat names implied is this code
            implied[known].update(rec)
            rec = implied.pop(known)
            cid = known
            rec["definition"] = text
        else:
            cid = make_id(block.get("id"), label)
            rec.update({"id": cid, "name": label, "parent": chain_parent, "definition": text})
            records.append(rec)
        color = _color(el.get("color"))
        if color:
            rec["color"] = color
        if (el.get("isCodable") or "").strip().lower() == "false" and _kids(el, "Code"):
            rec["codable"] = False  # a theme that only groups codes (a leaf is always codable)
        by_flat_name.setdefault((chain_parent, label), cid)
        g = (el.get("guid") or "").strip().strip("{}").lower()
        if guid_map is not None and g:
            guid_map[g] = cid
        for child in _kids(el, "Code"):
            visit(child, cid)

    for code_el in _kids(codes_el, "Code"):
        visit(code_el, None)
    data = dict(meta)
    data["codes"] = records
    try:
        return Codebook.from_dict(data, source=src, require_definitions=False)
    except CodebookError as exc:
        msg = f"{src}: the imported codebook is invalid:\n  " + "\n  ".join(exc.problems)
        raise RefiError(msg) from None


def read_qdc(path: str | os.PathLike[str], *, split_names: bool = True,
             name: str | None = None) -> Codebook:
    """Import a REFI-QDA ``.qdc`` codebook (lenient about what real tools write, safe).

    Accepts the standard namespace, the ``1:0``/``0:4`` variants, the project namespace and no
    namespace; missing optional attributes; an empty ``<Sets/>``; codes without descriptions;
    ATLAS.ti ``Parent::Child`` names (split into a hierarchy when ``split_names``).

    Args:
        path: the ``.qdc`` file.
        split_names: split ``::`` names into parent/child codes.
        name: codebook name when the file carries no qualcode metadata (default: file stem).

    Returns:
        The codebook.

    Raises:
        UnsafeInputError: DOCTYPE/entities or an oversized file.
        RefiError: not XML, not a codebook, or unusable content.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        msg = f"{path}: cannot read ({exc.strerror or exc})"
        raise RefiError(msg) from None
    root = parse_xml_safely(data, str(path))
    if _local(root) == "Project":
        books = _kids(root, "CodeBook")
        if not books:
            msg = f"{path}: project file has no <CodeBook>"
            raise RefiError(msg)
        sets_candidates = _kids(root, "Sets")
        root = books[0]
    else:
        sets_candidates = _kids(root, "Sets")
    if _local(root) != "CodeBook":
        msg = f"{path}: root element is <{_local(root)}>, expected <CodeBook>"
        raise RefiError(msg)
    if _ns(root) not in CODEBOOK_NS_VARIANTS:
        logger.warning("%s: unknown namespace %r; reading it anyway", path, _ns(root))
    codes = _kids(root, "Codes")
    if not codes or not _kids(codes[0], "Code"):
        msg = f"{path}: the codebook has no <Codes>/<Code> elements"
        raise RefiError(msg)
    sets_el = sets_candidates[0] if sets_candidates else None
    return codebook_from_codes_element(codes[0], sets_el=sets_el, name=name or p.stem,
                                       split_names=split_names, source=str(path))

