"""Validation of YAML codebooks: every problem, with file:line:col, at once."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from qualcode.codebook import Code, Codebook, Rules
from qualcode.errors import CodebookError, QualcodeWarning

DATA = Path(__file__).parent / "data" / "codebooks"

CASES = [
    ("syntax_error.yaml", "7:7", "", "YAML syntax error"),
    ("unknown_field.yaml", "7:5", "codes[0].colr", "unknown field 'colr'; did you mean 'color'?"),
    ("duplicate_id.yaml", "7:9", "codes[1].id", "duplicate code id 'a'"),
    ("unknown_parent.yaml", "8:13", "codes[1].parent", "unknown parent 'aa'"),
    ("cycle.yaml", "6:13", "codes[0].parent", "cycle in the hierarchy: a -> c -> b -> a"),
    ("invalid_regex.yaml", "9:20", "codes[0].rules.regex[0].pattern", "invalid regular expression 'plan(ning'"),
    ("invalid_spacy_pattern.yaml", "9:20", "codes[0].rules.patterns[0].pattern", "invalid spaCy token pattern: token 1: OP"),
    ("wrong_type.yaml", "8:17", "codes[0].rules.min_hits", "wrong type: Input should be a valid integer"),
    ("bad_color.yaml", "7:12", "codes[0].color", "bad colour '#12345G'"),
    ("threshold_range.yaml", "8:18", "codes[0].embedding.threshold", "threshold out of range"),
    ("unknown_language.yaml", "8:7", "codes[0].examples.fr", "unknown language key 'fr'"),
    ("bad_slug.yaml", "5:9", "codes[0].id", "code ids must be slugs"),
    ("python_tag.yaml", "6:17", "codes[0].definition", "unsupported YAML tag"),
]


@pytest.mark.parametrize(("name", "where", "path", "message"), CASES)
def test_each_validation_error_names_file_line_col_and_field(name, where, path, message):
    file = DATA / name
    with pytest.raises(CodebookError) as info:
        Codebook.load(file)
    expected_prefix = f"{file}:{where}: " + (f"{path}: " if path else "")
    matching = [p for p in info.value.problems if p.startswith(expected_prefix) and message in p]
    assert matching, info.value.problems
    assert "Traceback" not in str(info.value)


def test_every_problem_is_reported_at_once():
    with pytest.raises(CodebookError) as info:
        Codebook.load(DATA / "many_problems.yaml")
    problems = info.value.problems
    assert len(problems) == 6
    joined = "\n".join(problems)
    for fragment in ["version must be a string", "did you mean 'color'", "invalid regular expression",
                     "duplicate code id 'a'", "unknown parent 'nowhere'", "unknown language key 'de'"]:
        assert fragment in joined
    lines = [int(p.split(":")[1]) for p in problems]
    assert lines == sorted(lines)


def test_empty_definition_is_a_warning_unless_definitions_are_required():
    # codes imported from NVivo & co. often have no description: they load, with a warning
    file = DATA / "empty_definition.yaml"
    with pytest.warns(QualcodeWarning, match=r"1 code\(s\) without a definition: a"):
        cb = Codebook.load(file)
    assert cb["a"].definition == ""
    with pytest.raises(CodebookError, match=r"empty definition: leaf code 'a'"):
        Codebook.from_dict({"name": "t", "codes": [{"id": "a"}]}, require_definitions=True)


def test_python_tag_is_never_executed(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    text = (DATA / "python_tag.yaml").read_text().replace("echo pwned", f"touch {marker}")
    with pytest.raises(CodebookError):
        Codebook.loads(text)
    assert not marker.exists()


def test_missing_file_and_non_mapping_give_codebook_errors(tmp_path):
    with pytest.raises(CodebookError, match="no such codebook file"):
        Codebook.load(tmp_path / "nope.yaml")
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(CodebookError, match="must be a mapping"):
        Codebook.load(tmp_path / "list.yaml")


def test_theme_codes_may_lack_definition_and_rules():
    cb = Codebook([{"id": "theme"}, {"id": "leaf", "parent": "theme", "definition": "L."}], name="x")
    assert cb.leaves == ["leaf"] and cb.roots == ["theme"]


def test_rule_items_ids_and_normalisation():
    code = Code.model_validate(
        {"id": "c", "definition": "d",
         "rules": {"keywords": {"en": ["plan", "budget"], "id": ["rencana"]},
                   "patterns": [{"lang": "en", "pattern": [{"LOWER": "plan"}]}, {"id": "mine", "pattern": [{"LOWER": "x"}]}],
                   "regex": [{"pattern": "RPJMD", "ignore_case": False}],
                   "proximity": [{"lang": "id", "a": ["data"], "b": ["siap"], "within": 4}]}})
    items = code.rule_items()
    assert [i.id for i in items] == ["c.kw.en.1", "c.kw.en.2", "c.kw.id.1", "c.pat.en.1", "mine",
                                     "c.re.all.1", "c.prox.id.1"]
    assert items[5].ignore_case is False and items[5].lang is None
    assert items[6].value == (("data",), ("siap",)) and items[6].within == 4
    plain = Rules.model_validate({"keywords": ["a", "b"]})
    assert [(i.lang, i.value, i.id) for i in plain.items("k")] == [(None, "a", "k.kw.all.1"), (None, "b", "k.kw.all.2")]


def test_plain_example_list_goes_to_first_language():
    cb = Codebook.load(DATA / "ok_minimal.yaml")
    assert cb["leaf"].examples == {"en": ["One example in the first language."]}
    assert cb["leaf"].rules.keywords == {"*": ["plan", "rencana"]}


def test_duplicate_explicit_rule_ids_are_rejected():
    code = {"id": "a", "definition": "A.", "rules": {"regex": [{"id": "r1", "pattern": "x"}]}}
    code2 = {"id": "b", "definition": "B.", "rules": {"regex": [{"id": "r1", "pattern": "y"}]}}
    with pytest.raises(CodebookError, match="duplicate rule id 'r1'"):
        Codebook([code, code2], name="x")


def test_models_are_frozen_and_forbid_extra():
    cb = Codebook.load(DATA / "ok_minimal.yaml")
    with pytest.raises(ValidationError, match="frozen"):
        cb["leaf"].definition = "changed"
    with pytest.raises(ValidationError, match="Extra inputs"):
        Code.model_validate({"id": "a", "definitoin": "x"})
