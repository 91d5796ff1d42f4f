"""The benchmark's datasets as lists of :class:`~qcbench.core.Task`.

* ``qabstracts``: ``/work/shared/data/qabstracts-dev`` (CC-BY-4.0), one task; units are the
  sentence pieces of ``benchmarks/qabstracts/load.py`` (``unit="turn"``); references are the
  two coders' initial codings, training labels coder A's final coding; the macro κ is over the
  7 main codes :data:`QABSTRACTS_MAIN`.
* ``fivewords``: the five-word-password survey (``benchmarks/fivewords``), one task per
  question with its names-only codebook; references primary and secondary coder, training
  labels the primary coder's; the secondary coder double-coded about a third of the answers, so
  agreement with the secondary coder (and human κ) is measured on those; the macro κ is over the
  codes the primary coder gave to at least :data:`FIVEWORDS_MIN_POS` answers of the question.
* ``sample``: the bundled ``transcripts_sample`` gold coding, one task per study (``tp*``
  documents with ``codebooks/technocratic_planning.yaml``, ``ai*`` with
  ``codebooks/ai_in_government.yaml``); sentence units, only informant sentences (roles
  respondent, participant, unknown) are scored; the macro κ is over all leaf codes.  Report
  numbers on it; never tune on it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import qualcode as qc

from .core import Task, codings_labels

ROOT = Path(__file__).resolve().parents[2]
#: the 7 main codes of qabstracts: the archetype's core codes with substance (codebook.md §2.2-2.4)
#: that are not rare: background, gap, objective, method, design, result, conclusion.
QABSTRACTS_MAIN = ["background", "gap", "objective", "method", "design", "result", "conclusion"]
FIVEWORDS_MIN_POS = 5
INFORMANT_ROLES = ("respondent", "participant", "unknown")
STUDIES = {"tp": "technocratic_planning.yaml", "ai": "ai_in_government.yaml"}


def _units(corpus: qc.Corpus, unit: str, group: str) -> pd.DataFrame:
    u = corpus.segments(unit, attributes=False).reset_index(drop=True)
    u["group"] = u[group].astype(str)
    return u


def qabstracts(cache_dir: Any, *, limit: int | None = None) -> list[Task]:
    from qabstracts.load import SKIPPED, load

    corpus, humans = load(limit=limit)
    cb = qc.Codebook.load(ROOT / "benchmarks/qabstracts/codebook.yaml")
    codes = list(cb.leaves)
    units = _units(corpus, "turn", "doc_id")
    labels = {k: codings_labels(v, units, codes) for k, v in humans.items()}
    return [Task("qabstracts", "all", corpus, cb, "turn", units, codes, list(QABSTRACTS_MAIN), labels,
                 ["initial/A", "initial/B"], "final/A", dict(humans), np.ones(len(units), dtype=bool),
                 cache_dir, info={"skipped": list(SKIPPED), "documents": len(corpus)})]


def fivewords(cache_dir: Any, *, data: Path | None = None, questions: list[str] | None = None) -> list[Task]:
    from fivewords.load import DEFAULT_DIR, load

    here = ROOT / "benchmarks/fivewords/codebooks"
    tasks = []
    for qid, q in load(data or DEFAULT_DIR, questions).items():
        cb = qc.Codebook.load(here / f"{qid}.yaml")
        codes = [c.id for c in cb.codes]
        units = _units(q.corpus, "turn", "case_id")
        labels = {k: codings_labels(v, units, codes) for k, v in q.codings.items()}
        main = [c for j, c in enumerate(codes) if labels["primary"][:, j].sum() >= FIVEWORDS_MIN_POS]
        tasks.append(Task("fivewords", qid, q.corpus, cb, "turn", units, codes, main, labels,
                          ["primary", "secondary"], "primary", q.codings,
                          np.ones(len(units), dtype=bool), cache_dir,
                          {c: units["doc_id"].isin(q.coded[c]).to_numpy() for c in q.coded},
                          {"question": q.text}))
    return tasks


def sample(cache_dir: Any) -> list[Task]:
    corpus = qc.read_corpus(ROOT / "transcripts_sample")
    gold = qc.read_codings(ROOT / "transcripts_sample/gold_codings.csv", corpus)
    tasks = []
    for prefix, cb_name in STUDIES.items():
        cb = qc.Codebook.load(ROOT / "codebooks" / cb_name)
        sub = corpus.subset([d for d in corpus.doc_ids if d.startswith(prefix)])
        g = gold.filter(doc_id=sub.doc_ids)
        # the codes the gold uses: the study-1 gold codes the four directional codes at the
        # parent (directions are in gold_directions.csv), so their subcodes are not scored
        used = set(g.codes)
        codes = [c for c in cb.codable if c in used]
        units = _units(sub, "sentence", "doc_id")
        mask = units["role"].isin(INFORMANT_ROLES).to_numpy()
        tasks.append(Task("sample", prefix, sub, cb, "sentence", units, codes, codes,
                          {"gold": codings_labels(g, units, codes)}, ["gold"], "gold", {"gold": g},
                          mask, cache_dir, info={"codebook": cb_name, "documents": len(sub)}))
    return tasks
