"""Hostile codebooks: catastrophic regular expressions, huge repetition counts, YAML alias bombs,
deep nesting (issue 16). Each used to hang, exhaust memory or end in a traceback."""

from __future__ import annotations

import time

import pytest

import qualcode as qc
from qualcode.cli import main
from qualcode.codebook import Codebook
from qualcode.errors import CodebookError, IngestError
from qualcode.rules import RuleMatcher

HEAD = 'name: t\nversion: "1"\nlanguages: [en]\n'


def _regex_codebook(pattern: str) -> str:
    return HEAD + f"codes:\n  - id: c\n    definition: d\n    rules:\n      regex:\n        - pattern: '{pattern}'\n"


BOMB = """\
name: t
version: "1"
languages: [en]
lol: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
codes:
  - id: c
    definition: d
"""

EXAMPLES_BOMB = """\
name: t
version: "1"
languages: [en]
codes:
  - id: c
    definition: d
    counterexamples:
      en: &a ["x","x","x","x","x","x","x","x","x","x"]
    examples:
      en: [[[[[[[*a,*a,*a,*a,*a,*a,*a,*a,*a,*a],*a],*a],*a],*a],*a],*a]
  - id: d
    definition: d
    examples: {en: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]}
  - id: e
    definition: d
    examples: {en: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]}
  - id: f
    definition: d
    examples: {en: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]}
  - id: g
    definition: d
    examples: {en: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]}
  - id: h
    definition: d
    examples: {en: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]}
"""


@pytest.mark.parametrize("pattern", [r"a{1000000000}", r"(x{1000}){1000}", r"a{5000,}", "a" * 3000])
def test_hostile_regex_that_cannot_be_bounded_is_refused_at_validation(pattern):
    with pytest.raises(CodebookError, match=r"codes\[0\]\.rules\.regex\[0\]\.pattern"):
        Codebook.loads(_regex_codebook(pattern))


def test_hostile_huge_repeat_is_a_clean_cli_error(tmp_path, capsys):
    f = tmp_path / "cb.yaml"
    f.write_text(_regex_codebook("a{1000000000}"))
    assert main(["codebook", "validate", str(f)]) != 0
    err = capsys.readouterr().err
    assert "cb.yaml" in err and "repetition count" in err and "Traceback" not in err


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(a|aa)+b", r"(a|a)+$"])
def test_hostile_catastrophic_regex_stops_within_its_budget(pattern, monkeypatch):
    monkeypatch.setenv("QUALCODE_REGEX_BUDGET_S", "0.5")
    cb = Codebook.loads(_regex_codebook(pattern))
    texts = ["Fine.", "a" * 5000 + "!"]
    t0 = time.monotonic()
    with pytest.raises(CodebookError, match=r"rule c\.re\.all\.1: .*ran longer than 0\.5 s.*backtracks"):
        RuleMatcher(cb).match(texts)
    assert time.monotonic() - t0 < 30  # a hang bound, not a speed target: unbounded takes hours


def test_hostile_regex_semantics_are_those_of_re():
    cb = Codebook.loads(HEAD + """codes:
  - id: c
    definition: d
    rules:
      regex:
        - pattern: '\\b(DAK|DAU)\\b'
          ignore_case: false
        - pattern: '(?<!not )\\bhelpful\\b'
        - pattern: '\\bcaf\\b'
""")
    hits = RuleMatcher(cb).match(["The DAK and dak.", "It was helpful, not helpful.", "un café"])
    got = sorted(zip(hits["segment"], hits["matched"], strict=True))
    assert got == [(0, "DAK"), (1, "helpful")]


def test_hostile_yaml_alias_bomb_is_refused_quickly():
    t0 = time.monotonic()
    with pytest.raises(CodebookError, match="alias bomb"):
        Codebook.loads(BOMB)
    assert time.monotonic() - t0 < 30  # unbounded: minutes and gigabytes


def test_hostile_yaml_alias_bomb_inside_examples_is_refused():
    with pytest.raises(CodebookError, match="alias bomb"):
        Codebook.loads(EXAMPLES_BOMB)


def test_hostile_yaml_small_aliases_still_work():
    cb = Codebook.loads(HEAD + "codes:\n  - id: c\n    definition: d\n    examples: {en: &ex [one, two]}\n"
                        "  - id: e\n    definition: d\n    examples: {en: *ex}\n")
    assert cb["e"].examples == {"en": ["one", "two"]}


@pytest.mark.parametrize(
    "body",
    [
        "deep: " + "[" * 5000 + "]" * 5000 + "\n",
        "deep:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(2000)) + "  " * 2001 + "v\n",
        "deep: &x [1, *x]\n",
    ],
    ids=["flow", "block", "recursive"],
)
def test_hostile_yaml_deep_nesting_is_a_clean_error(body):
    with pytest.raises(CodebookError, match=r"nested more than|recursive alias"):
        Codebook.loads(HEAD + body + "codes:\n  - id: c\n    definition: d\n")


def test_hostile_front_matter_alias_bomb_names_the_file(tmp_path):
    f = tmp_path / "t.md"
    fm = "\n".join(BOMB.splitlines()[3:10])
    f.write_text(f"---\n{fm}\n---\nI: Hello?\nR: Yes.\n")
    with pytest.raises(IngestError, match=r"t\.md, line \d+: YAML expands"):
        qc.read_document(f)
    g = tmp_path / "deep.md"
    g.write_text("---\nx: " + "[" * 3000 + "]" * 3000 + "\n---\nI: Hello?\n")
    with pytest.raises(IngestError, match=r"deep\.md, line 2: YAML nested"):
        qc.read_document(g)


def test_hostile_qdc_code_memo_alias_bomb_is_ignored_with_a_warning(tmp_path, caplog):
    from qualcode.refi import read_qdc, write_qdc

    cb = Codebook.loads(HEAD + "codes:\n  - id: budget\n    definition: Talk about the budget.\n"
                        "    rules: {keywords: [budget]}\n")
    good = tmp_path / "ok.qdc"
    write_qdc(cb, good)
    text = good.read_text(encoding="utf-8")
    assert "--- qualcode ---\nid: budget\n" in text
    bomb = "\n".join(BOMB.splitlines()[3:10]).replace("&", "&amp;") + "\n"
    bad = tmp_path / "bomb.qdc"
    bad.write_text(text.replace("--- qualcode ---\nid: budget\n", "--- qualcode ---\nid: budget\n" + bomb, 1), encoding="utf-8")
    t0 = time.monotonic()
    got = read_qdc(bad)
    assert time.monotonic() - t0 < 30  # a hang bound: expanding the bomb took a minute
    assert got["budget"].definition == "Talk about the budget."
    assert "alias bomb" in caplog.text
