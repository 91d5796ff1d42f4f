"""Shipped codebooks, round trips (YAML, qdc, CSV/XLSX), diff, fingerprint, display."""

import uuid
from pathlib import Path

import pandas as pd
import pytest
from lxml import etree

from qualcode.codebook import Codebook
from qualcode.errors import CodebookError, UnsafeInputError
from qualcode.refi import read_qdc, write_qdc

ROOT = Path(__file__).parent.parent
DATA = Path(__file__).parent / "data" / "codebooks"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"  # REFI-QDA 1.0
XSD = etree.XMLSchema(etree.parse(str(ROOT / "qualcode" / "data" / "refi" / "Codebook.xsd"),
                                  etree.XMLParser(resolve_entities=False, no_network=True)))
SHIPPED = {
    "technocratic_planning.yaml": {"convergence", "discourse_space", "data_based_policy",
                                   "elite_involvement", "logical_framework", "synchronization",
                                   "fragile_technocracy"},
    "ai_in_government.yaml": {"efficiency_gains", "policy_analytics", "service_delivery",
                              "resistance_to_change", "technical_infrastructure",
                              "data_quality_integration", "language_limitations",
                              "accessibility_digital_divide", "privacy_regulation"},
}


@pytest.fixture(scope="module", params=sorted(SHIPPED))
def shipped(request):
    return request.param, Codebook.load(ROOT / "codebooks" / request.param)


#: study 1's codes whose direction carries the paper's argument, split into two subcodes each
DIRECTIONAL = {"convergence": ("convergence_imposed", "convergence_local_room"),
               "elite_involvement": ("elite_involvement_engaged", "elite_involvement_absent"),
               "discourse_space": ("discourse_space_open", "discourse_space_closed"),
               "data_based_policy": ("data_based_policy_used", "data_based_policy_ignored")}


def test_shipped_codebook_content(shipped):
    name, cb = shipped
    study_codes = [c for c in cb.ids if cb.depth(c) == 1]
    assert set(study_codes) == SHIPPED[name]
    assert cb.languages == ["en", "id"] and cb.metadata.license == "CC-BY-4.0"
    # the themes only group; the study codes and their directional subcodes are codable
    assert set(cb.codable) == set(cb.ids) - set(cb.roots)
    assert cb.scope == {"study": [name.removesuffix(".yaml")]}
    split = DIRECTIONAL if name == "technocratic_planning.yaml" else {}
    assert set(cb.leaves) == (SHIPPED[name] - set(split)) | {s for pair in split.values() for s in pair}
    for code, pair in split.items():
        assert tuple(cb.children(code)) == pair
        for sub in pair:
            c = cb[sub]
            assert c.definition.startswith("Direction of") and c.examples["en"] and c.examples["id"]
            assert c.counterexamples["en"]
    for leaf in study_codes:
        c = cb[leaf]
        assert cb.depth(leaf) == 1 and c.parent in cb.roots
        assert len(c.definition) > 150 and c.inclusion and c.exclusion
        assert len(c.examples["en"]) >= 4 and len(c.examples["id"]) >= 3
        assert len(c.all_counterexamples()) >= 2
        langs = {i.lang for i in c.rule_items() if i.kind == "keyword"}
        assert {"en", "id"} <= langs
    kinds = {i.kind for i in cb.rule_items()}
    assert kinds == {"keyword", "pattern", "regex", "proximity"}
    # examples of one code must not be repeated in another
    seen = [t for c in cb for t in c.all_examples()]
    assert len(seen) == len(set(seen))


def test_yaml_round_trip_is_byte_identical_and_lossless(shipped, tmp_path):
    name, cb = shipped
    out = cb.save(tmp_path / name)
    assert out.read_text(encoding="utf-8") == (ROOT / "codebooks" / name).read_text(encoding="utf-8")
    again = Codebook.load(out)
    assert again == cb and again.fingerprint == cb.fingerprint


def test_canonical_save_of_built_codebook_round_trips(shipped, tmp_path):
    _, cb = shipped
    built = Codebook.from_dict(cb.to_dict())
    text = built.to_yaml()
    assert "#" not in text.split("\n")[0]
    back = Codebook.loads(text)
    assert back == cb and back.fingerprint == cb.fingerprint


def test_qdc_round_trip_validates_and_keeps_every_field(shipped, tmp_path):
    _, cb = shipped
    p1, p2 = tmp_path / "a.qdc", tmp_path / "b.qdc"
    write_qdc(cb, p1)
    write_qdc(cb, p2)
    assert p1.read_bytes() == p2.read_bytes()  # deterministic
    root = etree.fromstring(p1.read_bytes())
    assert root.tag == f"{{{CODEBOOK_NS}}}CodeBook"
    assert XSD.validate(root), XSD.error_log
    guids = {c.get("name"): c.get("guid") for c in root.iter(f"{{{CODEBOOK_NS}}}Code")}
    assert len(set(guids.values())) == len(cb) and all(uuid.UUID(g).version == 5 for g in guids.values())
    # a code's GUID depends on the codebook name and the code id only
    leaf = cb[cb.leaves[0]]
    write_qdc(Codebook([{**leaf.model_dump(), "parent": None}], name=cb.name, languages=cb.languages),
              tmp_path / "one.qdc")
    one = etree.fromstring((tmp_path / "one.qdc").read_bytes())
    assert one.find(f"{{{CODEBOOK_NS}}}Codes/{{{CODEBOOK_NS}}}Code").get("guid") == guids[leaf.name]
    back = read_qdc(p1)
    assert back == cb and back.fingerprint == cb.fingerprint
    for code in cb:
        assert back[code.id].rules == code.rules and back[code.id].examples == code.examples


def test_fingerprint_ignores_comments_key_order_and_layout(tmp_path):
    text = (DATA / "ok_minimal.yaml").read_text()
    cb = Codebook.loads(text)
    reordered = text.replace("# a comment that must survive saving\n", "").replace(
        'name: minimal\nversion: "0.2"\n', 'version: "0.2"\nname: minimal   # moved\n')
    assert Codebook.loads(reordered).fingerprint == cb.fingerprint
    changed = text.replace("What a coder looks for.", "What a coder looks for!")
    assert Codebook.loads(changed).fingerprint != cb.fingerprint
    assert len(cb.fingerprint) == 16 and int(cb.fingerprint, 16) >= 0


def test_save_keeps_comments(tmp_path):
    cb = Codebook.load(DATA / "ok_minimal.yaml")
    text = cb.save(tmp_path / "m.yaml").read_text()
    assert "# a comment that must survive saving" in text and "# inline comment" in text


def test_diff_on_modified_copy(tmp_path):
    src = (ROOT / "codebooks" / "technocratic_planning.yaml").read_text(encoding="utf-8")
    old = Codebook.loads(src)
    modified = src.replace("version: 1.1.0", "version: 1.2.0").replace(
        "          - nomenclature\n", "          - nomenclature\n          - program menu\n")
    modified += ("  - id: musrenbang_participation\n    parent: institutions_and_actors\n"
                 "    definition: Community participation in musrenbang.\n")
    modified = modified.replace("    name: Logframe reasoning\n", "    name: Logical framework\n")
    new = Codebook.loads(modified)
    d = new.diff(old)
    assert list(d.columns) == ["code", "change", "field", "old", "new"]
    rows = {(r.code, r.change, r.field) for r in d.itertuples()}
    assert ("<codebook>", "changed", "version") in rows
    assert ("musrenbang_participation", "added", None) in rows
    assert ("logical_framework", "changed", "name") in rows
    assert ("convergence", "changed", "rules.keywords") in rows
    assert len(d) == 4
    back = old.diff(new)
    assert ("musrenbang_participation", "removed", None) in {(r.code, r.change, r.field) for r in back.itertuples()}
    assert old.diff(old).empty


def test_hierarchy_frame_and_display():
    cb = Codebook.load(ROOT / "codebooks" / "ai_in_government.yaml")
    assert cb.children("benefits") == ["efficiency_gains", "policy_analytics", "service_delivery"]
    assert cb.ancestors("privacy_regulation") == ["inclusion_and_governance"]
    assert cb.descendants("implementation_challenges")[0] == "resistance_to_change"
    df = cb.to_frame()
    assert list(df.columns) == ["id", "name", "parent", "depth", "definition", "inclusion", "exclusion",
                                "n_examples", "n_counterexamples", "n_rules", "languages"]
    assert df.set_index("id").loc["efficiency_gains", "languages"] == "en, id"
    assert (df["depth"] == 1).sum() == 9
    bundle = cb._repr_mimebundle_()
    assert "privacy_regulation" in bundle["text/plain"] and "<ul>" in bundle["text/html"]
    assert "efficiency_gains (Efficiency gains)" in repr(cb)
    with pytest.raises(KeyError, match="Did you mean 'efficiency_gains'"):
        cb["efficiency_gain"]


def test_lenient_qdc_variants():
    cb = read_qdc(DATA / "variant_colon_ns.qdc")
    assert cb.ids == ["trust_in_data", "trust_in_data_2", "elite_involvement"]
    assert cb["trust_in_data"].color == "#FF0000" and cb["trust_in_data_2"].parent == "trust_in_data"
    assert read_qdc(DATA / "variant_no_ns.qdc").ids == ["forums"]
    proj = read_qdc(DATA / "variant_project_ns.qdc")
    assert proj["data_use"].definition == "Use of data in planning."
    atlas = read_qdc(DATA / "atlas_flat_names.qdc")
    assert atlas.roots == ["planning", "actors"]
    assert atlas.children("planning") == ["convergence", "synchronisation"]
    assert atlas["elite"].definition == "Regional head and DPRD."
    flat = read_qdc(DATA / "atlas_flat_names.qdc", split_names=False)
    assert flat.ids == ["planning_convergence", "planning_synchronisation", "actors_elite"]


@pytest.mark.parametrize("name", ["billion_laughs.qdc", "xxe.qdc"])
def test_unsafe_xml_is_refused(name):
    with pytest.raises(UnsafeInputError, match="DOCTYPE or ENTITY"):
        read_qdc(DATA / name)


def test_csv_and_xlsx_import(tmp_path):
    cb = Codebook.from_table(DATA / "flat_codebook.csv", languages=["en", "id"])
    assert cb.ids == ["planning_process", "convergence", "data_based_policy"]
    assert cb["convergence"].parent == "planning_process"
    assert cb["convergence"].examples == {"en": ["We copy last year's list.", "The DAK menu decides"]}
    assert cb["data_based_policy"].examples["en"] == ["Data arrive late.", "BPS and OPD data differ."]
    df = pd.read_csv(DATA / "flat_codebook.csv", dtype=str, keep_default_na=False)
    df = df.rename(columns={"code": "id"})
    df.to_excel(tmp_path / "cb.xlsx", index=False)
    assert Codebook.from_table(tmp_path / "cb.xlsx").ids == cb.ids
    df.drop(columns=["id"]).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(CodebookError, match="missing column 'code' \\(or 'id'\\)"):
        Codebook.from_table(tmp_path / "bad.csv")


def test_readme_annotated_example_is_valid():
    text = (ROOT / "codebooks" / "README.md").read_text(encoding="utf-8")
    example = text.split("## A small annotated example")[1].split("```yaml\n")[1].split("```")[0]
    cb = Codebook.loads(example)
    assert cb.leaves == ["convergence"]
    assert [i.id for i in cb["convergence"].rule_items()][-3:] == ["convergence.given", "convergence.re.all.1",
                                                                 "convergence.prox.id.1"]
