"""Load the five-word-password survey answers and both coders' codes into qualcode objects.

Data: "User Perceptions of Five-Word Passwords" (Wu, Munyendo, Cosic, Flynn, Legault, Aviv;
ACSAC 2022), artifact repository ``gwusec/2022-ACSAC-Five-word-Passwords`` (commit
``6d3b6e5c685611b70eb16ba115788d4ce46f2d28``).  The repository states no licence, so the data
is NOT copied into qualcode: clone that repository (or copy its ``qualitative-analysis/``
folder) and point ``--fivewords-data`` / ``$QUALCODE_FIVEWORDS_DIR`` at it (default
``~/data/2022-ACSAC-Five-word-Passwords``).  See ``README.md`` next to this file.

The two workbooks hold, per free-response question, one sheet for the primary coder, one for
the secondary coder (``Response ID``, ``Treatment_ver``, the answer, ``Code 1`` ... ``Code 8``)
and one codebook sheet listing the question's codes.  Sub-codes are written ``parent->child``.

Mapping (documented decision):

* one :class:`qualcode.Document` per (question, respondent): ``doc_id`` ``"<question>:<id>"``,
  ``case_id`` the respondent, one Turn (role ``respondent``) over the whole answer,
  ``kind="survey"``, attributes ``question`` and ``respondent``; code with ``unit="turn"``;
* code ids are slugs of the raw names (:func:`code_id`): ``same->variation`` becomes
  ``same__variation`` with parent ``same``;
* a unit carries a parent code when the coder wrote the parent or any of its sub-codes
  (the coders' own convention is to write both);
* codes a coder used that are not in the question's codebook sheet are dropped (counted in
  :data:`DROPPED`);
* the secondary coder double-coded a sample of the answers (about a third): an answer counts
  as coded by a coder when that coder's sheet gives it at least one code
  (:attr:`Question.coded`); agreement with that coder is measured on those answers only.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pandas as pd

from qualcode import Codings, Corpus, Document, Turn

DEFAULT_DIR = Path(os.environ.get("QUALCODE_FIVEWORDS_DIR", "~/data/2022-ACSAC-Five-word-Passwords")).expanduser()
WORKBOOKS = ("Pre-Survey Qualitative Responses.xlsx", "Post-Survey Qualitative Responses.xlsx")
#: the free-response questions, in survey order, with their wording (survey-data/README.md).
QUESTIONS: dict[str, str] = {
    "S2": "Please describe how your password(s) are managed/used across different online accounts.",
    "S4": "Imagine you just joined a company or organization and are required by the IT department to create an account, how would you create a password for this account?",
    "S5": "Think of the strongest password you have. How did you create this password?",
    "S6-1": "Briefly describe your reasons for stopping on this password (a generated five-word password).",
    "S6-2": "Briefly describe your reasons for stopping on each word (of a generated five-word password).",
    "S6-3": "Briefly describe your reasons for choosing the words you decided on (for a five-word password).",
    "S9": "Please describe any methods you used to memorize the generated five-word password.",
    "Q5": "What is your motivation for using your five-word password for the accounts you mentioned?",
    "Q6": "What do you want to change (if any) about your five-word password?",
    "Q8": "Please elaborate on your choice of how confident you are that five-word passwords are capable of keeping your online accounts safe.",
    "Q10": "Please elaborate on your choice of how confident you are in remembering several different five-word passwords for your online accounts.",
    "Q11": "What do you want to change (if any) about five-word passwords?",
}
CODERS = ("primary", "secondary")
#: codes used by a coder but missing from the question's codebook sheet: {(question, coder): n}.
DROPPED: dict[tuple[str, str], int] = {}

_LITERAL = re.compile(r'COMPUTED_VALUE"""\),(.*)\)$')


def _value(cell: object) -> object:
    """The cached value of a Google-Sheets export cell (``=IFERROR(__xludf...)`` formulas)."""
    if isinstance(cell, str) and cell.startswith("=IFERROR(__xludf"):
        m = _LITERAL.search(cell)
        if not m:
            return None
        v = m.group(1)
        return v[1:-1] if v.startswith('"') else v
    return cell


def _slug(name: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")
    if not s or not s[0].isalpha():
        s = "c_" + s
    return s


def code_id(raw: str) -> tuple[str, str | None]:
    """``(id, parent_id)`` of a raw code name (``"same->variation"`` -> ``("same__variation", "same")``)."""
    parts = [p for p in (x.strip() for x in raw.split("->")) if p]
    if len(parts) == 1:
        return _slug(parts[0]), None
    parent = _slug(parts[0])
    return parent + "__" + "__".join(_slug(p) for p in parts[1:]), parent


def code_label(raw: str) -> str:
    """Readable label of a raw code name (``"same->variation"`` -> ``"same: variation"``)."""
    parts = [p.strip().replace("_", " ").replace("-", " ") for p in raw.split("->")]
    return ": ".join(" ".join(p.split()) for p in parts if p)


def _sheet(wb: openpyxl.Workbook, question: str, kind: str) -> object:
    for name in wb.sheetnames:
        head = name.split(" (")[0].split("-codebook")[0]
        if head != question:
            continue
        if kind == "codebook" and "codebook" in name:
            return wb[name]
        if kind != "codebook" and "codebook" not in name and f"({kind})" in name:
            return wb[name]
    msg = f"no {kind} sheet for question {question} in the workbook"
    raise KeyError(msg)


def _workbook_of(data: Path, question: str) -> Path:
    return data / "qualitative-analysis" / (WORKBOOKS[0] if question.startswith("S") else WORKBOOKS[1])


def _check(data: Path) -> None:
    missing = [w for w in WORKBOOKS if not (data / "qualitative-analysis" / w).is_file()]
    if missing:
        msg = (
            f"five-word-password data not found in {data} (missing qualitative-analysis/{missing[0]}). "
            "Clone https://github.com/gwusec/2022-ACSAC-Five-word-Passwords and pass its folder "
            "with --fivewords-data or $QUALCODE_FIVEWORDS_DIR."
        )
        raise FileNotFoundError(msg)


def codebook_codes(question: str, data: Path = DEFAULT_DIR) -> list[str]:
    """The raw code names of a question's codebook sheet (column "All Codes"), in sheet order."""
    _check(data)
    wb = openpyxl.load_workbook(_workbook_of(data, question), read_only=True)
    rows = list(_sheet(wb, question, "codebook").iter_rows(values_only=True))
    out: list[str] = []
    for r in rows[2:]:  # row 1: headers, row 2: the QUERY formula header
        v = _value(r[0]) if r else None
        if isinstance(v, str) and v.strip() and v.strip() not in out:
            out.append(v.strip())
    return out


@dataclass
class Question:
    """One free-response question: its corpus, both coders' codings and its raw code names."""

    qid: str
    text: str
    corpus: Corpus
    codings: dict[str, Codings]
    raw_codes: list[str]
    coded: dict[str, set[str]]


def _rows(ws: object) -> dict[str, tuple[str, list[str]]]:
    out: dict[str, tuple[str, list[str]]] = {}
    header = True
    for r in ws.iter_rows(values_only=True):  # type: ignore[attr-defined]
        if header:
            header = False
            continue
        r = [_value(c) for c in r]
        if len(r) < 3 or r[0] in (None, "") or r[2] in (None, ""):
            continue
        rid = str(int(r[0])) if isinstance(r[0], float) else str(r[0]).strip()
        out[rid] = (str(r[2]).strip(), [str(c).strip() for c in r[3:] if c not in (None, "")])
    return out


def load(data: Path = DEFAULT_DIR, questions: list[str] | None = None) -> dict[str, Question]:
    """Every question (or the listed ones) as :class:`Question`, keyed by question id."""
    data = Path(data).expanduser()
    _check(data)
    out: dict[str, Question] = {}
    books: dict[Path, openpyxl.Workbook] = {}
    for qid in questions or list(QUESTIONS):
        path = _workbook_of(data, qid)
        wb = books.setdefault(path, openpyxl.load_workbook(path, read_only=True))
        raw_codes = codebook_codes(qid, data)
        known = {code_id(c)[0] for c in raw_codes} | {p for c in raw_codes if (p := code_id(c)[1])}
        by_coder = {c: _rows(_sheet(wb, qid, c)) for c in CODERS}
        ids = [k for k in by_coder["primary"] if k in by_coder["secondary"]]
        docs = []
        recs: dict[str, list[dict]] = {c: [] for c in CODERS}
        coded: dict[str, set[str]] = {c: set() for c in CODERS}
        for rid in ids:
            text = by_coder["primary"][rid][0]
            doc_id = f"{qid}:{rid}"
            docs.append(Document(doc_id, text, case_id=rid, kind="survey", language="en",
                                 turns=(Turn("respondent", "respondent", 0, len(text)),),
                                 attributes={"question": qid, "respondent": rid}))
            for coder in CODERS:
                if by_coder[coder][rid][1]:
                    coded[coder].add(doc_id)
                codes: list[str] = []
                for raw in by_coder[coder][rid][1]:
                    cid, parent = code_id(raw)
                    for c in (parent, cid):
                        if c is None:
                            continue
                        if c not in known:
                            DROPPED[(qid, coder)] = DROPPED.get((qid, coder), 0) + 1
                        elif c not in codes:
                            codes.append(c)
                for c in codes:
                    recs[coder].append({"doc_id": doc_id, "start": 0, "end": len(text), "code": c,
                                        "coder": coder, "source": "human"})
        out[qid] = Question(qid, QUESTIONS[qid], Corpus(docs),
                            {c: Codings(pd.DataFrame(recs[c])) for c in CODERS}, raw_codes, coded)
    return out
