"""Load the qabstracts-dev abstracts into a qualcode Corpus and human Codings.

Data: qabstracts by L. Prechelt, L. Montgomery, J. Frattini, F. Zieris (serqco/qabstracts,
CC-BY-4.0); see ``/work/shared/data/qabstracts-dev/README.md``.

File format: title line, blank line, abstract text; after every sentence a line
``{{code1,code2}}``; ``---`` ends the abstract.  Code suffixes after ``:`` are dropped, markers
starting with ``-`` (``-ignorediff``) are dropped.

One Document per abstract: ``text`` is the title, a blank line, then the abstract lines (the
``{{...}}`` lines removed).  Coders A and B sometimes split a sentence differently (one of
them removed a spurious ``{{}}``), so every boundary used by either coder in ``initial/`` or
``final/`` cuts the text, and each resulting piece is one Turn (speaker ``abstract``).  Code
with ``unit="turn"``.  Each coder's coding is a span over *their* sentence, so a piece
inherits the codes of the sentence that contains it.

Code mapping (documented decision, see ``codebook.yaml``): typos ``conculsion`` ->
``conclusion``, ``futurework`` -> ``fwork``; every ``h-*`` heading -> ``heading``; every
``a-*`` announcement -> ``announcement``; ``cruft`` and ``X`` are dropped.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from qualcode import Codings, Corpus, Document, Turn

DATA = Path("/work/shared/data/qabstracts-dev")
_CODE_LINE = re.compile(r"^\{\{([^{}]*)\}{1,2}\s*$")  # tolerate a missing closing brace
_ALIASES = {"conculsion": "conclusion", "futurework": "fwork"}
DROPPED = ("cruft", "X")
#: abstracts skipped because the coders' files differ in their text (filled by load()).
SKIPPED: list[str] = []


def normalise_code(raw: str) -> str | None:
    """Base code of a raw annotation (``result:u1`` -> ``result``); ``None`` when dropped."""
    code = re.sub(r"[^A-Za-z-]", "", raw.strip().split(":")[0])
    if not code or code.startswith("-") or code in DROPPED:
        return None
    code = _ALIASES.get(code, code)
    if code.startswith("h-"):
        return "heading"
    if code.startswith("a-"):
        return "announcement"
    return _ALIASES.get(code, code)


def parse_file(path: Path) -> tuple[str, list[str], list[list[str]]]:
    """``(title, sentence_texts, raw_codes_per_sentence)``; sentences keep their line breaks."""
    raw = path.read_bytes()
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError:  # a few files are cp1252
        content = raw.decode("cp1252", errors="replace")
    lines = content.replace("\r\n", "\n").split("\n")
    title = lines[0].strip()
    body: list[str] = []
    sentences: list[str] = []
    codes: list[list[str]] = []
    for line in lines[2:]:
        if line.strip() == "---":
            break
        m = _CODE_LINE.match(line)
        if m:
            sentences.append("\n".join(body))
            codes.append([c for c in m.group(1).split(",") if c.strip()])
            body = []
        else:
            body.append(line)
    if "\n".join(body).strip():
        sentences.append("\n".join(body))
        codes.append([])
    return title, sentences, codes


def _spans(title: str, sentences: list[str]) -> tuple[str, list[tuple[int, int]]]:
    head = title + "\n\n"
    text = head + "\n".join(sentences) + "\n"
    spans = []
    pos = len(head)
    for s in sentences:
        spans.append((pos, pos + len(s)))
        pos += len(s) + 1
    return text, spans


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def load(data: Path = DATA, *, limit: int | None = None) -> tuple[Corpus, dict[str, Codings]]:
    """Corpus of the abstracts and the human Codings ``{"initial/A", "initial/B", "final/A", "final/B"}``.

    Abstracts whose four files differ in their text (not only in ``{{}}`` lines) are skipped
    and listed in :data:`SKIPPED`.
    """
    keys = sorted(p.stem for p in (data / "initial" / "abstracts.A").glob("*.txt"))
    if limit is not None:
        keys = keys[:limit]
    docs = []
    rows: dict[str, list[dict]] = {f"{s}/{c}": [] for s in ("initial", "final") for c in "AB"}
    for key in keys:
        parsed = {}
        for stage in ("initial", "final"):
            for slot in "AB":
                parsed[f"{stage}/{slot}"] = parse_file(data / stage / f"abstracts.{slot}" / f"{key}.txt")
        ref_title, ref_sents, _ = parsed["initial/A"]
        ref_text = "\n".join(ref_sents)
        cuts = set()
        spans_of = {}
        text = None
        if any("\n".join(p[1]) != ref_text for p in parsed.values()):
            SKIPPED.append(key)  # a coder edited the text itself; alignment would be unsafe
            continue
        for name, (_title, sents, _codes) in parsed.items():
            text, spans = _spans(ref_title, sents)
            spans_of[name] = spans
            cuts.update(b for _a, b in spans)
        assert text is not None
        start = len(ref_title) + 2
        turns = []
        for b in sorted(cuts):
            a2, b2 = _trim(text, start, b)
            if b2 > a2:
                turns.append(Turn("abstract", "unknown", a2, b2))
            start = b
        docs.append(Document(key, text, kind="other", language="en", turns=tuple(turns),
                             attributes={"title": ref_title}))
        for name, (_t, _s, codes) in parsed.items():
            coder = name.split("/")[1]
            for (a, b), raw in zip(spans_of[name], codes, strict=True):
                a2, b2 = _trim(text, a, b)
                if b2 <= a2:
                    continue
                for code in dict.fromkeys(filter(None, (normalise_code(r) for r in raw))):
                    rows[name].append({"doc_id": key, "start": a2, "end": b2, "code": code,
                                       "coder": coder, "source": "human"})
    corpus = Corpus(docs)
    return corpus, {k: Codings(pd.DataFrame(v)) for k, v in rows.items()}
