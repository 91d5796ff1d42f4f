"""The README's Quick start does what it says on the bundled sample."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import qualcode as qc
from qualcode import matrices

README = Path(__file__).resolve().parents[1] / "README.md"


def _quick_start_matrix_call() -> str:
    text = README.read_text(encoding="utf-8")
    block = text.split("## Quick start", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    m = re.search(r"^m = matrices\.case_by_code\(.*?\)(?=\s*(#[^\n]*)?\n)", block, re.S | re.M)
    assert m, "the Quick start builds a case x code matrix"
    return m.group(0)


def test_quick_start_matrix_keeps_focus_group_participants(sample_dir, codebooks_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        corpus = qc.read_corpus(sample_dir)
    codebook = qc.Codebook.load(codebooks_dir / "technocratic_planning.yaml")
    codings = qc.read_codings(sample_dir / "gold_codings.csv", corpus)
    codings = codings.filter(code=[c for c in codings.codes if c in codebook])
    scope = {"matrices": matrices, "codings": codings, "corpus": corpus, "codebook": codebook}
    exec(_quick_start_matrix_call(), scope)  # noqa: S102 - the README's own line
    m = scope["m"]
    participants = [t.case_id for d in corpus for t in d.turns if t.role == "participant" and t.case_id]
    assert participants
    everyone = matrices.case_by_code(codings, corpus, codebook=codebook, aggregate="children")
    coded = [c for c in set(participants) if c in everyone.index and everyone.loc[c].sum() > 0]
    assert coded, "the gold coding codes focus-group participants"
    for case in coded:  # the Quick start must not silently zero them
        assert m.loc[case].sum() == everyone.loc[case].sum() > 0, case
