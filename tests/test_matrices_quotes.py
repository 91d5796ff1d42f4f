"""Quote ranking (framework matrix, case profile, drill-down) against a plain-Python reference."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _matrix_fixtures import make_corpus  # noqa: E402

from qualcode import Codings, Corpus  # noqa: E402
from qualcode import matrices as M  # noqa: E402
from qualcode.matrices._common import text_index  # noqa: E402
from qualcode.matrices._framework import top_quotes  # noqa: E402


def _frame(seed: int, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = rng.integers(0, 8, n)  # few distinct spans: many duplicates and ties
    return pd.DataFrame(
        {
            "case_id": rng.choice(["c1", "c2", "c10"], n),
            "code": rng.choice(["b", "a", "z"], n),
            "doc_id": rng.choice(["d2", "d1", "d10"], n),
            "start": start,
            "end": start + rng.integers(1, 3, n),
            "source": rng.choice(["human", "rule", "embedding"], n),
            "score": np.where(rng.random(n) < 0.2, np.nan, rng.integers(0, 4, n) / 4),
        }
    )


def _reference(f: pd.DataFrame, keys: list[str], k: int) -> list[int]:
    recs = list(f.itertuples())

    def rank_key(r):
        s = -math.inf if math.isnan(r.score) else r.score
        return (*[getattr(r, c) for c in keys], r.source != "human", -s, r.doc_id, r.start, r.end)

    out, seen, count = [], set(), {}
    for r in sorted(recs, key=rank_key):  # sorted() is stable: ties keep row order
        g = tuple(getattr(r, c) for c in keys)
        span = (*g, r.doc_id, r.start, r.end)
        if span in seen:
            continue
        seen.add(span)
        if count.get(g, 0) < k:
            out.append(r.Index)
            count[g] = count.get(g, 0) + 1
    return out


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("keys", [["case_id", "code"], ["code"], []])
def test_top_quotes_matches_reference(seed, keys):
    f = _frame(seed)
    for k in (1, 3, None):
        pos, rank = top_quotes(f, keys, k)
        want = _reference(f, keys, k if k is not None else 10**9)
        assert f.index[pos].tolist() == want
        # ranks restart at 0 in every group and count up
        groups = [tuple(f.iloc[p][c] for c in keys) for p in pos]
        for i in range(len(pos)):
            assert rank[i] == (0 if i == 0 or groups[i] != groups[i - 1] else rank[i - 1] + 1)


def test_framework_cells_hold_the_top_k_in_order():
    corpus = make_corpus()
    text = corpus["d1"].text
    rows = []
    for i, (a, score, source) in enumerate([(0, 0.2, "rule"), (5, 0.9, "rule"), (10, 1.0, "human"), (15, np.nan, "rule")]):
        rows.append({"doc_id": "d1", "start": a, "end": a + 4, "code": "x", "coder": f"k{i}", "source": source,
                     "score": score, "case_id": "c1"})
    fm = M.framework_matrix(Codings.from_records(rows), corpus, quotes=3)
    shown = [q.split("\u201d")[0].lstrip("\u201c") for q in fm.loc["c1", "x"].split("\n")]
    assert shown == [" ".join(text[a:a + 4].split()) for a in (10, 5, 0)]


def test_text_index_cache_follows_the_documents():
    corpus = make_corpus()
    first = text_index(corpus)
    assert text_index(corpus) is first
    # a different corpus object with other documents never reuses it
    other = Corpus(corpus.documents[:2])
    assert text_index(other) is not first
    assert text_index(other).doc_ids == [d.doc_id for d in corpus.documents[:2]]
