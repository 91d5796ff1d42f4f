"""Reading human codings from CSV or XLSX files.

A codings file has one row per coding.  Each row names a document (``doc_id``), a code
(``code``) and where the coded passage is, either as character offsets (``start`` and
``end``, ``end`` exclusive) or as the quoted passage itself (``quote``, or ``text``), which is
then located in the document.  Optional columns: ``coder``, ``case_id``, ``memo``,
``source``, ``score``, ``evidence``, ``page``, ``page_end``; any other column rides along as
an extra.  The pages of a document the corpus has with page boundaries (a PDF) are
computed from the offsets; otherwise the file's pages are kept.

Row numbers in messages are spreadsheet rows: the header is row 1, the first coding row 2.
"""

from __future__ import annotations

import io
import logging
import os
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._inputs import TABLE_ZIP_LIMITS, open_zip, read_input_bytes
from .._params import Options, validate_params
from ..errors import CodingsError, QualcodeWarning
from ._codings import SOURCES, Codings

__all__ = ["coded_doc_ids", "locate_quote", "read_codings"]

logger = logging.getLogger("qualcode")

_QUOTE_COLUMNS = ("quote", "text")
_KNOWN = {
    "doc_id",
    "code",
    "start",
    "end",
    "quote",
    "text",
    "coder",
    "case_id",
    "memo",
    "source",
    "score",
    "evidence",
    "segment_id",
    "speaker",
    "role",
    "page",
    "page_end",
}

# Characters folded together by the lenient quote match (typographic quotes and dashes).
_FOLD = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "`": "'",
    "\u00b4": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u201f": '"',
    "\u2033": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2012": "-",
    "\u2212": "-",
}
# Characters dropped by the lenient match (zero-width and soft hyphen).
_DROP = {"\u200b", "\u200c", "\u200d", "\ufeff", "\u00ad"}
_STRIP_QUOTES = "\"'\u2018\u2019\u201c\u201d\u201e\u00ab\u00bb"


class CodingsWarning(QualcodeWarning):
    """Rows of a codings file were skipped (``on_error="warn"``)."""


def _normalise_with_map(text: str) -> tuple[str, list[int]]:
    """Fold whitespace runs to one space and typographic quotes/dashes to ASCII.

    Returns the folded string and, for each of its characters, the offset of the
    original character it came from.
    """
    out: list[str] = []
    pos: list[int] = []
    in_space = False
    for i, ch in enumerate(text):
        if ch in _DROP:
            continue
        if ch.isspace():
            if not in_space:
                out.append(" ")
                pos.append(i)
            in_space = True
            continue
        in_space = False
        out.append(_FOLD.get(ch, ch))
        pos.append(i)
    return "".join(out), pos


def _normalise(text: str) -> str:
    return _normalise_with_map(text)[0]


def _find_all(haystack: str, needle: str) -> list[int]:
    hits: list[int] = []
    i = haystack.find(needle)
    while i != -1:
        hits.append(i)
        i = haystack.find(needle, i + 1)
    return hits


def locate_quote(
    text: str, quote: str, *, _cache: dict[str, Any] | None = None
) -> list[tuple[int, int]]:
    """Find every place where ``quote`` occurs in ``text``.

    An exact match is tried first.  When there is none, the quote and the text are both
    folded (whitespace runs become one space, typographic quotes and dashes become ASCII,
    zero-width characters are dropped) and matched again; the hits are mapped back to
    exact offsets of ``text``, so that ``text[start:end]`` is the passage as written.

    Args:
        text: the document text.
        quote: the passage to find (surrounding whitespace is ignored).
        _cache: internal cache for the folded text of one document.

    Returns:
        A list of ``(start, end)`` character offsets, one per occurrence (possibly empty).

    Examples:
        >>> locate_quote("He said:  \u201cno\u201d.", 'said: "no"')
        [(3, 14)]
    """
    q = quote.strip()
    if not q:
        return []
    hits = _find_all(text, q)
    if hits:
        return [(h, h + len(q)) for h in hits]
    nq = _normalise(q).strip()
    if not nq:
        return []
    if _cache is not None and "norm" in _cache:
        norm, pos = _cache["norm"]
    else:
        norm, pos = _normalise_with_map(text)
        if _cache is not None:
            _cache["norm"] = (norm, pos)
    out = []
    for h in _find_all(norm, nq):
        out.append((pos[h], pos[h + len(nq) - 1] + 1))
    return out


def _read_table(path: Path, sheet: str | int | None) -> pd.DataFrame:
    suffix = path.suffix.lower()

    def fail(msg: str, unsafe: bool) -> Exception:
        return CodingsError(f"{path}: {'unsafe file: ' if unsafe else ''}{msg}")

    if suffix in (".xlsx", ".xlsm", ".xls", ".csv", ".tsv", ".txt"):
        data = read_input_bytes(path, fail=fail)  # regular files only, bounded size
        if suffix in (".xlsx", ".xlsm"):
            with open_zip(data, limits=TABLE_ZIP_LIMITS, fail=lambda m, u: fail(f"not a valid spreadsheet: {m}", u)):
                pass
    try:
        if suffix in (".xlsx", ".xlsm", ".xls"):
            try:
                frame = pd.read_excel(io.BytesIO(data), sheet_name=0 if sheet is None else sheet, dtype=object)
            except ValueError as exc:
                if "not found" in str(exc).lower() or "worksheet" in str(exc).lower():
                    msg = f"{path}: no sheet {sheet!r} ({exc})"
                    raise CodingsError(msg) from exc
                raise
        elif suffix in (".csv", ".tsv", ".txt"):
            sep = "," if suffix == ".csv" else "\t"
            frame = pd.read_csv(
                io.BytesIO(data),
                sep=sep,
                dtype=str,
                keep_default_na=False,
                encoding="utf-8-sig",
                skip_blank_lines=True,
            )
            from .._io import unprotect_formulas

            frame = unprotect_formulas(frame)  # qualcode's CSVs protect formula cells
        else:
            msg = (
                f"{path}: unsupported codings file type {suffix or '(none)'!r}; "
                "use .csv, .tsv or .xlsx."
            )
            raise CodingsError(msg)
    except CodingsError:
        raise
    except UnicodeDecodeError as exc:
        msg = f"{path}: the file is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8 CSV."
        raise CodingsError(msg) from exc
    except pd.errors.EmptyDataError as exc:
        msg = f"{path}: the file is empty (expected a header row with doc_id, code, ...)."
        raise CodingsError(msg) from exc
    except pd.errors.ParserError as exc:
        msg = f"{path}: cannot parse the file as a table: {exc}"
        raise CodingsError(msg) from exc
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        msg = f"{path}: cannot read the codings file: {exc}"
        raise CodingsError(msg) from exc
    except Exception as exc:  # XML parse errors from inside openpyxl and friends
        msg = f"{path}: cannot read the codings file ({type(exc).__name__}: {exc})"
        raise CodingsError(msg) from exc
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return frame


def _cell(value: Any) -> str:
    """A cell as a stripped string; missing values become ``""``."""
    if value is None:
        return ""
    if isinstance(value, float) and np.isnan(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _as_offset(raw: str) -> int | None:
    try:
        val = float(raw)
    except ValueError:
        return None
    if not val.is_integer():
        return None
    return int(val)


def coded_doc_ids(path: str | os.PathLike[str], *, sheet: str | int | None = None) -> list[str]:
    """The document ids a codings file names, in file order without repeats (nothing else is checked).

    What a process that reads a big corpus in parts needs first: which documents to keep for
    :func:`read_codings` (see :func:`qualcode.distributed.read_documents`).  A file without
    a ``doc_id`` column, or a path that is no file, names none (:func:`read_codings` says
    what is wrong with it).

    Args:
        path: the codings file (``.csv``, ``.tsv`` or ``.xlsx``).
        sheet: the worksheet of an XLSX file (default the first).

    Returns:
        The non-empty ``doc_id`` values.

    Raises:
        CodingsError: the file cannot be read as a table.
    """
    p = Path(path)
    if not p.is_file():
        return []
    frame = _read_table(p, sheet)
    if "doc_id" not in frame.columns:
        return []
    return list(dict.fromkeys(v for v in map(_cell, frame["doc_id"]) if v))


#: the declared constraints of :func:`read_codings` (checked in its body, which warns)
READ_CODINGS_PARAMS = {
    "source": [Options(str, SOURCES)],
    "on_error": [Options(str, ("raise", "warn"))],
}


def read_codings(
    path: str | os.PathLike[str],
    corpus: Any = None,
    *,
    coder: str | None = None,
    source: str = "human",
    sheet: str | int | None = None,
    on_error: str = "raise",
) -> Codings:
    r"""Read human codings from a CSV, TSV or XLSX file.

    Each row gives ``doc_id``, ``code`` and the coded passage, either as ``start``/``end``
    character offsets into ``corpus[doc_id].text`` (``end`` exclusive) or as a ``quote``
    (or ``text``) column.  A quote is looked for exactly first, then with whitespace,
    typographic quotes and dashes folded; the hit is mapped back to exact offsets.  A quote
    found nowhere, or found more than once, is reported, never guessed: give offsets or a
    longer quote.  When both offsets and a quote are given, the quote must match the text
    at the offsets (after folding).

    Every problem in the file is collected and reported at once, with its row number
    (the header is row 1).

    Args:
        path: the ``.csv`` (UTF-8, comma-separated), ``.tsv`` or ``.xlsx`` file.
        corpus: the Corpus the codings refer to.  Needed for quotes; when given, ids and
            offsets are checked against it and the extras ``text`` (the covered text),
            ``speaker`` and ``role`` (of the turn where the coding starts) are added, and
            ``page``/``page_end`` are computed for the documents it has with page
            boundaries (PDF sources; the file's values are kept for the others).
        coder: coder id for rows without a ``coder`` value (default ``"human"``).
        source: ``source`` for rows without a ``source`` value; one of
            ``human, rule, embedding, classifier``.
        sheet: the worksheet to read from an XLSX file (name or 0-based position; default
            the first).
        on_error: ``"raise"`` (default) raises on any bad row; ``"warn"`` skips bad rows with
            one warning listing them.

    Returns:
        A :class:`~qualcode.Codings` table.  ``case_id`` comes from the ``case_id`` column or
        else from ``corpus.case_of(doc_id, speaker at start)`` (or ``doc_id`` without a
        corpus); ``score`` defaults to 1.0.

    Raises:
        CodingsError: the file cannot be read, lacks required columns, or has bad rows
            (unknown ``doc_id``, offsets outside the text or reversed, quote not found or
            ambiguous, unknown case or source).  The message lists file, row and reason
            for every problem; ``err.problems`` holds them as a list.

    Examples:
        >>> import tempfile, pathlib
        >>> from qualcode.testing import tiny_corpus
        >>> corpus = tiny_corpus()
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "codings.csv"
        >>> _ = p.write_text("doc_id,code,quote\nint_b,leadership,The head rarely attends.\n")
        >>> c = read_codings(p, corpus, coder="ana")
        >>> row = c.to_frame().iloc[0]
        >>> corpus["int_b"].text[row.start:row.end]
        'The head rarely attends.'
    """
    validate_params(READ_CODINGS_PARAMS, {"source": source, "on_error": on_error}, "read_codings")
    p = Path(path)
    if p.is_dir():
        msg = f"{p}: is a folder; read_codings needs a codings file (.csv, .tsv or .xlsx)."
        raise CodingsError(msg)
    if not p.exists():
        msg = f"{p}: no such codings file."
        raise CodingsError(msg)
    frame = _read_table(p, sheet)  # refuses FIFOs, devices and oversized files, naming them
    cols = set(frame.columns)
    quote_col = next((c for c in _QUOTE_COLUMNS if c in cols), None)
    has_offsets = "start" in cols and "end" in cols
    missing = [c for c in ("doc_id", "code") if c not in cols]
    if missing or (not has_offsets and quote_col is None):
        need = list(missing)
        if not has_offsets and quote_col is None:
            need.append("start+end or quote")
        msg = (
            f"{p}: the codings file lacks the column(s) {need}. It needs doc_id, code and "
            f"either start and end offsets or a quote (or text) column; it has {list(frame.columns)}."
        )
        raise CodingsError(msg)
    if quote_col is not None and not has_offsets and corpus is None:
        msg = f"{p}: rows give quotes, not offsets, so read_codings needs the corpus to locate them (read_codings(path, corpus))."
        raise CodingsError(msg)

    default_coder = coder if coder is not None else "human"
    extras = [c for c in frame.columns if c not in _KNOWN]
    problems: list[str] = []
    records: list[dict[str, Any]] = []
    caches: dict[str, dict[str, Any]] = {}
    known_cases = set(corpus.cases.index.astype(str)) if corpus is not None else set()

    for i, row in enumerate(frame.to_dict("records")):
        rowno = i + 2
        cells = {k: _cell(v) for k, v in row.items()}
        if not any(cells.values()):
            continue  # blank line
        bad: list[str] = []
        doc_id = cells.get("doc_id", "")
        code = cells.get("code", "")
        if not doc_id:
            bad.append("empty doc_id")
        if not code:
            bad.append("empty code")
        doc = None
        if doc_id and corpus is not None:
            if doc_id in corpus:
                doc = corpus[doc_id]
            else:
                bad.append(f"unknown doc_id {doc_id!r}")
        raw_start = cells.get("start", "") if has_offsets else ""
        raw_end = cells.get("end", "") if has_offsets else ""
        quote = cells.get(quote_col, "") if quote_col else ""
        start: int | None = None
        end: int | None = None
        if raw_start or raw_end:
            start, end = _as_offset(raw_start), _as_offset(raw_end)
            if start is None or end is None:
                bad.append(
                    f"start/end must be whole numbers; got start={raw_start!r}, end={raw_end!r}"
                )
                start = end = None
            elif start < 0:
                bad.append(f"start {start} is negative")
                start = end = None
            elif end < start:
                bad.append(f"end ({end}) < start ({start})")
                start = end = None
            elif doc is not None and end > len(doc.text):
                bad.append(f"end ({end}) is beyond the text of {doc_id!r} ({len(doc.text)} characters)")
                start = end = None
            elif doc is not None and quote:
                found = doc.text[start:end]
                if _normalise(found).strip() != _normalise(quote).strip():
                    bad.append(
                        f"the quote does not match the text at {start}-{end} "
                        f"({found[:60]!r} vs {quote[:60]!r})"
                    )
        elif quote:
            if doc is not None:
                hits = locate_quote(doc.text, quote, _cache=caches.setdefault(doc_id, {}))
                if len(hits) == 1:
                    start, end = hits[0]
                elif not hits:
                    bad.append(f"quote not found in {doc_id!r}: {quote[:80]!r}")
                else:
                    where = ", ".join(f"{a}-{b}" for a, b in hits[:5])
                    bad.append(
                        f"quote found {len(hits)} times in {doc_id!r} (at {where}); give start/end "
                        f"or a longer quote: {quote[:80]!r}"
                    )
        else:
            bad.append("no start/end and no quote")
        src = cells.get("source", "") or source
        if src not in SOURCES:
            bad.append(f"source {src!r} is not among {list(SOURCES)}")
        score_raw = cells.get("score", "")
        score = 1.0
        if score_raw:
            try:
                score = float(score_raw)
            except ValueError:
                bad.append(f"score {score_raw!r} is not a number")
        pages: dict[str, int | None] = {}
        for k in ("page", "page_end"):
            raw = cells.get(k, "")
            number = _as_offset(raw) if raw else None
            if raw and (number is None or number < 1):
                bad.append(f"{k} must be a whole page number >= 1 or empty; got {raw!r}")
            pages[k] = number
        case_id = cells.get("case_id", "")
        if case_id and corpus is not None and case_id not in known_cases:
            bad.append(f"case_id {case_id!r} is not a case of the corpus")
        if bad:
            problems.extend(f"row {rowno}: {b}" for b in bad)
            continue
        assert start is not None and end is not None
        rec: dict[str, Any] = {
            "doc_id": doc_id,
            "case_id": case_id or None,
            "start": start,
            "end": end,
            "code": code,
            "coder": cells.get("coder", "") or default_coder,
            "source": src,
            "score": score,
            "evidence": cells.get("evidence", ""),
        }
        if cells.get("segment_id"):
            rec["segment_id"] = cells["segment_id"]
        if "memo" in cols:
            rec["memo"] = cells.get("memo", "")
        if doc is not None:
            turn = doc.turn_at(start)
            rec["text"] = doc.text[start:end]
            rec["speaker"] = turn.speaker if turn is not None else None
            rec["role"] = turn.role if turn is not None else None
            if not case_id:
                rec["case_id"] = (turn.case_id if turn is not None and turn.case_id else None) or doc.case_id
        else:
            if quote:
                rec["text"] = quote
            for k in ("speaker", "role"):
                if cells.get(k):
                    rec[k] = cells[k]

        for k in ("page", "page_end"):
            if k in cols:  # the file's pages, unless the corpus has the document's pages
                rec[k] = pages[k]
        for k in extras:
            rec[k] = row[k]
        records.append(rec)

    if problems:
        head = f"{p}: {len(problems)} problem(s) in the codings file:\n  " + "\n  ".join(
            problems[:50]
        )
        if len(problems) > 50:
            head += f"\n  ... and {len(problems) - 50} more"
        if on_error == "raise":
            err = CodingsError(head)
            err.problems = problems
            raise err
        warnings.warn(head + "\nThese rows were skipped.", CodingsWarning, stacklevel=2)
        logger.warning("read_codings skipped %d row(s) of %s", len(problems), p)
    if not records:
        frame_out = pd.DataFrame(
            columns=["doc_id", "case_id", "start", "end", "code", "coder", "source", "score", "evidence"]
        )
        return Codings(frame_out, meta={"path": str(p)})
    out = pd.DataFrame.from_records(records)
    out["case_id"] = out["case_id"].where(out["case_id"].notna(), out["doc_id"])
    logger.info("read %d coding(s) from %s", len(out), p)
    codings = Codings(out, meta={"path": str(p)})
    return codings.with_pages(corpus) if corpus is not None else codings
