"""Common invariants over every matrix builder, plus a vectorised-vs-brute-force check."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _matrix_fixtures import CODEBOOK_SPEC, StubCodebook, make_codings, make_corpus  # noqa: E402

from qualcode import Codings  # noqa: E402
from qualcode import matrices as M  # noqa: E402

CORPUS = make_corpus()
CODINGS = make_codings(CORPUS)
CB = StubCodebook(CODEBOOK_SPEC)
COUNT_VALUES = ["n_segments", "present", "n_docs", "n_cases", "n_words", "n_chars", "coverage", "normalized"]

BUILDERS = {
    **{f"case_by_code[{v}]": (lambda v=v: M.case_by_code(CODINGS, CORPUS, v, margins=True)) for v in COUNT_VALUES},
    "case_by_code[agg]": lambda: M.case_by_code(CODINGS, CORPUS, codebook=CB, aggregate="children"),
    "framework": lambda: M.framework_matrix(CODINGS, CORPUS),
    "code_by_attribute": lambda: M.code_by_attribute(CODINGS, CORPUS, "region", "share_cases"),
    "cooccurrence": lambda: M.cooccurrence(CODINGS, CORPUS),
    "case_profile": lambda: M.case_profile(CODINGS, CORPUS, "c1"),
    "case_timeline": lambda: M.case_timeline(CODINGS, CORPUS, "d1"),
}


@pytest.mark.parametrize("name", list(BUILDERS))
def test_matrix_invariants(name):
    m = BUILDERS[name]()
    assert m.index.name and m.columns.name
    for key in ("value", "coder", "unit", "aggregate"):
        assert key in m.attrs, key
    if name.startswith(("case_by_code", "framework")):
        rows = [r for r in m.index if r != "All"]
        assert rows == list(CORPUS.cases.index)
    assert not m.isna().to_numpy().any()
    if name == "framework":
        assert all(isinstance(v, str) for v in m.to_numpy().ravel())


def _random(seed):
    rng = np.random.default_rng(seed)
    rows = []
    docs = CORPUS.documents
    for _ in range(60):
        d = docs[rng.integers(0, len(docs))]
        a = int(rng.integers(0, len(d.text) - 1))
        b = int(min(len(d.text), a + rng.integers(1, 30)))
        rows.append({"doc_id": d.doc_id, "start": a, "end": b, "code": f"k{rng.integers(0, 4)}",
                     "coder": f"c{rng.integers(0, 2)}", "case_id": d.case_id})
    return Codings.from_records(rows)


@pytest.mark.parametrize("seed", range(3))
def test_vectorised_unions_and_pairs_match_brute_force(seed):
    cod = _random(seed)
    f = cod.to_frame()
    chars = M.case_by_code(cod, CORPUS, "n_chars")
    words = M.case_by_code(cod, CORPUS, "n_words")
    co = M.cooccurrence(cod)
    texts = {d.doc_id: d.text for d in CORPUS.documents}
    for (case, code), g in f.groupby(["case_id", "code"]):
        covered = {(r.doc_id, i) for r in g.itertuples() for i in range(r.start, r.end)}
        assert chars.loc[case, code] == len(covered)
        n_words = 0
        for doc in g.doc_id.unique():
            mask = "".join("x" if (doc, i) in covered else " " for i in range(len(texts[doc])))
            for m in __import__("re").finditer(r"x+", mask):
                n_words += len(texts[doc][m.start():m.end()].split())
        assert words.loc[case, code] == n_words
    recs = f.to_dict("records")
    for a in co.index:
        for b in co.columns:
            if a == b:
                continue
            n = sum(1 for x in recs for y in recs if x["code"] == a and y["code"] == b and x["coder"] == y["coder"]
                    and x["doc_id"] == y["doc_id"] and x["start"] < y["end"] and y["start"] < x["end"])
            assert co.loc[a, b] == n, (a, b)
    assert isinstance(co, pd.DataFrame)
