"""A small hand-made corpus and coding whose matrix values are worked out by hand in the tests."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from qualcode import Codings, Corpus
from qualcode.testing import build_document


@dataclass(frozen=True)
class StubCode:
    id: str
    name: str
    parent: str | None


class StubCodebook:
    """Stand-in with the Codebook contract of docs/architecture.md."""

    def __init__(self, spec: list[tuple[str, str | None]]):
        self.codes = [StubCode(i, i.title(), p) for i, p in spec]
        self._by = {c.id: c for c in self.codes}

    @property
    def ids(self):
        return [c.id for c in self.codes]

    @property
    def roots(self):
        return [c.id for c in self.codes if c.parent is None]

    def __getitem__(self, i):
        return self._by[i]

    def __contains__(self, i):
        return i in self._by

    def __iter__(self):
        return iter(self.codes)

    def __len__(self):
        return len(self.codes)

    def children(self, i):
        return [c.id for c in self.codes if c.parent == i]

    def descendants(self, i):
        out = []
        for ch in self.children(i):
            out += [ch, *self.descendants(ch)]
        return out

    def ancestors(self, i):
        out = []
        p = self._by[i].parent
        while p is not None:
            out.append(p)
            p = self._by[p].parent
        return out


CODEBOOK_SPEC = [
    ("planning", None),
    ("resources", None),
    ("budget", "resources"),
    ("staff", "resources"),
    ("data", None),
    ("forum", None),
]


def make_corpus() -> Corpus:
    d1 = build_document(
        "d1",
        [
            ("I", "interviewer", "Tell me about planning."),
            ("R", "respondent", "We plan every year. Budget is tight."),
            ("I", "interviewer", "And data?"),
            ("R", "respondent", "Data is rarely used."),
        ],
        case_id="c1",
    )
    d2 = build_document(
        "d2",
        [
            ("I", "interviewer", "Any problems?"),
            ("R", "respondent", "Budget cuts hurt us. Planning is late."),
        ],
        case_id="c2",
    )
    fg = build_document(
        "fg",
        [
            ("M", "moderator", "What about the forum?"),
            ("Ani", "participant", "The forum is useful."),
            ("Budi", "participant", "The forum wastes time."),
        ],
        kind="fgd",
        case_id="fg",
        speaker_cases={"Ani": "p_ani", "Budi": "p_budi"},
    )
    d3 = build_document("d3", [("I", "interviewer", "Hello?"), ("R", "respondent", "Nothing to add.")], case_id="c3")
    cases = pd.DataFrame(
        {"region": ["north", "south", "north", "south", "north", None]},
        index=pd.Index(["c1", "c2", "c3", "fg", "p_ani", "p_budi"], name="case_id"),
    )
    return Corpus([d1, d2, fg, d3], cases=cases)


def span(corpus: Corpus, doc_id: str, quote: str, nth: int = 0) -> tuple[int, int]:
    text = corpus[doc_id].text
    i = -1
    for _ in range(nth + 1):
        i = text.index(quote, i + 1)
    return i, i + len(quote)


def make_codings(corpus: Corpus) -> Codings:
    rows = []

    def add(doc, quote, code, coder="ana", case=None, source="human", score=1.0):
        a, b = span(corpus, doc, quote)
        rows.append(
            {"doc_id": doc, "start": a, "end": b, "code": code, "coder": coder, "source": source,
             "score": score, "case_id": case or corpus[doc].case_id}
        )

    add("d1", "We plan every year.", "planning")
    add("d1", "Budget is tight.", "budget")
    add("d1", "Budget is tight.", "staff")
    add("d1", "Budget", "budget")
    add("d1", "Data is rarely used.", "data")
    add("d2", "Budget cuts hurt us.", "budget")
    add("d2", "Planning is late.", "planning")
    add("fg", "The forum is useful.", "forum", case="p_ani")
    add("fg", "The forum wastes time.", "forum", case="p_budi")
    add("fg", "What about the forum?", "forum")
    add("d1", "We plan every year.", "planning", coder="bob")
    add("d2", "Budget cuts hurt us.", "staff", coder="bob")
    return Codings.from_records(rows)
