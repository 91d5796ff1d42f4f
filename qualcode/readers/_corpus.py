"""``read_corpus`` and ``read_document``: files and folders into a :class:`Corpus`."""

from __future__ import annotations

import fnmatch
import logging
import os
import re
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..corpus._model import Corpus, Document
from ..errors import IngestError, IngestWarning
from ._base import Parsed, check_language, finalise
from ._decode import decode_bytes, read_bytes
from ._pseudonyms import Pseudonymiser, load_pseudonyms
from ._registry import SUPPORTED, reader_for
from ._sidecar import Sidecar, SidecarRow, read_sidecar

__all__ = ["read_corpus", "read_document", "read_documents"]

logger = logging.getLogger("qualcode")

SIDECAR_NAMES = ("cases.csv", "cases.xlsx")
_WARN_SUFFIXES = {".doc", ".rtf", ".odt", ".xls", ".pages", ".json"}
PathLike = str | os.PathLike[str]
#: the error for a directly named .csv/.xlsx without a text column
_NO_TEXT_COLUMN = "a table needs a text column (text, response, answer, jawaban, content, transcript) or text_column="


class _Options:
    def __init__(
        self,
        *,
        language: str | None,
        kind: str | None,
        encoding: str | None,
        text_column: str | None,
        id_column: str | None,
        case_column: str | None,
        attribute_columns: Sequence[str] | None,
        pseudonyms: PathLike | Mapping[str, str] | None,
    ):
        self.language = check_language(language) if language is not None else None
        self.kind = kind.strip().lower() if kind else None
        self.encoding = encoding
        self.text_column = text_column
        self.id_column = id_column
        self.case_column = case_column
        self.attribute_columns = attribute_columns
        self.transform: Callable[[str], str] | None = None
        if pseudonyms is not None:
            self.transform = Pseudonymiser(load_pseudonyms(pseudonyms))


def _parse_file(path: Path, opts: _Options) -> list[Parsed] | None:
    """Parse one file with the reader registered for its suffix; None for a csv/xlsx without a text column."""
    reader = reader_for(path)
    if reader is None:
        known = ", ".join(sorted(SUPPORTED))
        msg = f"unknown file type {path.suffix.lower() or '(no extension)'!r}; qualcode reads {known}"
        raise IngestError(msg, path=path)
    logger.info("reading %s", path)
    parsed = reader.read(
        path,
        encoding=opts.encoding,
        transform=opts.transform,
        kind=opts.kind,
        text_column=opts.text_column,
        id_column=opts.id_column,
        case_column=opts.case_column,
        attribute_columns=opts.attribute_columns,
    )
    if parsed is not None and opts.transform is not None:
        for p in parsed:
            p.attributes["pseudonymised"] = True
    return parsed


def read_documents(
    path: PathLike,
    *,
    language: str | None = None,
    kind: str | None = None,
    encoding: str | None = None,
    text_column: str | None = None,
    id_column: str | None = None,
    case_column: str | None = None,
    attribute_columns: Sequence[str] | None = None,
    pseudonyms: PathLike | Mapping[str, str] | None = None,
    sidecar: PathLike | Sidecar | None = None,
) -> list[Document]:
    """Read every document in one file (several for a .csv/.xlsx response table).

    Args:
        path: the file.
        language: language for documents whose metadata does not name one (default: guess).
        kind: kind for documents whose metadata does not name one (default: infer).
        encoding: force a text encoding (a byte-order mark still wins).
        text_column: table text column (default: ``text``, ``response``, ``answer``...).
        id_column: table id column (default: a unique ``id``/``response_id``... column,
            else row numbers).
        case_column: table case column (default: the doc id).
        attribute_columns: table columns kept as attributes (default: all others).
        pseudonyms: a name -> pseudonym dict, or a CSV/YAML mapping file.
        sidecar: a ``cases.csv``/``cases.xlsx`` (path or :class:`Sidecar`) for roles,
            languages and kinds; its case attributes are only kept by :func:`read_corpus`.

    Returns:
        The documents.

    Raises:
        IngestError: the file is missing, empty, binary, corrupt, of an unknown type,
            or a table without a text column. The message names the file.
    """
    opts = _Options(
        language=language,
        kind=kind,
        encoding=encoding,
        text_column=text_column,
        id_column=id_column,
        case_column=case_column,
        attribute_columns=attribute_columns,
        pseudonyms=pseudonyms,
    )
    _check_paths([path])
    p = Path(path)
    parsed = _parse_file(p, opts)
    if parsed is None:
        raise IngestError(_NO_TEXT_COLUMN, path=p)
    side = read_sidecar(sidecar) if isinstance(sidecar, (str, os.PathLike)) else sidecar
    return [finalise(x, language=opts.language, kind=opts.kind, sidecar=side)[0] for x in parsed]


def _check_paths(items: Sequence[PathLike]) -> None:
    """Refuse an empty path ("" would silently mean the current folder)."""
    for item in items:
        if not isinstance(item, (str, os.PathLike)):
            msg = f"a path must be a str or os.PathLike. Got {type(item).__name__} instead."
            raise IngestError(msg)
        if not os.fspath(item).strip():
            msg = "an empty path was given (name a file or folder; use '.' for the current folder)"
            raise IngestError(msg)


def read_document(path: PathLike, **kwargs: Any) -> Document:
    r"""Read one transcript, notes file or caption file into a :class:`Document`.

    Takes the same keyword arguments as :func:`read_documents`.  A .csv/.xlsx table
    holds one document per row: use :func:`read_documents` or :func:`read_corpus` for
    those (a one-row table is accepted here).

    Args:
        path: the file.
        **kwargs: see :func:`read_documents`.

    Returns:
        The document.

    Raises:
        IngestError: the file cannot be read (the message names it), or it is a table with
            several rows.

    Examples:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "int01.txt"
        >>> _ = p.write_text("I: How are programs chosen?\nR: From the ministry list.\n")
        >>> doc = read_document(p)
        >>> [(t.speaker, t.role) for t in doc.turns]
        [('I', 'interviewer'), ('R', 'respondent')]
        >>> doc.turn_text(1)
        'From the ministry list.'
    """
    docs = read_documents(path, **kwargs)
    if len(docs) != 1:
        msg = f"the table holds {len(docs)} documents; use read_documents() or read_corpus()"
        raise IngestError(msg, path=path)
    return docs[0]


def _ignore_patterns(folder: Path) -> list[str]:
    f = folder / ".qualcodeignore"
    if not f.is_file():
        return []
    text = decode_bytes(read_bytes(f), path=f, fmt="ignore").text
    pats = []
    for line in text.split("\n"):
        line = line.strip()
        if line and not line.startswith("#"):
            pats.append(line)
    return pats


def _ignored(rel: str, name: str, is_dir: bool, patterns: list[str]) -> bool:
    for pat in patterns:
        dir_only = pat.endswith("/")
        p = pat.rstrip("/")
        if dir_only and not is_dir:
            continue
        if "/" in p:
            if fnmatch.fnmatchcase(rel, p.lstrip("/")):
                return True
        elif fnmatch.fnmatchcase(name, p):
            return True
    return False


def _skip_name(name: str) -> bool:
    low = name.lower()
    return name.startswith((".", "_")) or low.startswith(("readme", "license", "licence"))


def _walk(folder: Path, recursive: bool) -> Iterable[Path]:
    patterns = _ignore_patterns(folder)
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        rel_dir = here.relative_to(folder).as_posix()
        keep = []
        for d in sorted(dirnames):
            rel = d if rel_dir == "." else f"{rel_dir}/{d}"
            if not _skip_name(d) and not _ignored(rel, d, True, patterns):
                keep.append(d)
        dirnames[:] = keep if recursive else []
        for f in sorted(filenames):
            rel = f if rel_dir == "." else f"{rel_dir}/{f}"
            if _skip_name(f) or f.lower() in SIDECAR_NAMES or _ignored(rel, f, False, patterns):
                continue
            suffix = Path(f).suffix.lower()
            if suffix not in SUPPORTED:
                if suffix in _WARN_SUFFIXES:
                    warnings.warn(
                        f"{here / f}: skipped, qualcode cannot read {suffix} files "
                        "(save it as .docx, .txt or .md)",
                        IngestWarning,
                        stacklevel=2,
                    )
                continue
            yield here / f


#: the most cells the case attribute table may have (cases x attribute columns)
MAX_CASE_CELLS = 50_000_000


_INT = re.compile(r"[+-]?\d{1,18}")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|(?i:[+-]?(?:nan|inf|infinity))")


def _numeric(values: list[Any]) -> Any:
    """One attribute column: numbers when every value is or parses as one (as pandas would).

    Text columns are recognised without pandas (a regular expression per value), so a table of
    10,000 columns costs one pandas call per numeric-looking column only.
    """
    present = [v for v in values if v is not None]
    if not present:
        return values
    if not any(isinstance(v, str) for v in present):  # numbers, booleans, dates from xlsx / front matter
        col = pd.Series(values)
        if pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
            return col.to_numpy()
        try:
            return pd.to_numeric(col).to_numpy()
        except (ValueError, TypeError):
            return values
    if not all(isinstance(v, str) and _NUMBER.fullmatch(v) for v in present):
        return values
    if len(present) == len(values) and all(_INT.fullmatch(v) for v in present):
        return np.array([int(v) for v in present], dtype=np.int64)
    try:
        return pd.to_numeric(pd.Series(values, dtype=object)).to_numpy()
    except (ValueError, TypeError):
        return values


def merge_case_attributes(case_attrs: dict[str, dict[str, Any]], cases: Mapping[str, Mapping[str, Any]]) -> None:
    """Add one file's case attributes to ``case_attrs`` (the first file to give a value wins)."""
    for cid, attrs in cases.items():
        slot = case_attrs.setdefault(cid, {})
        for k, v in attrs.items():
            slot.setdefault(k, v)


def case_table(docs: Sequence[Document], case_attrs: dict[str, dict[str, Any]], side: Sidecar | None,
               files: list[tuple[Path, bool]]) -> pd.DataFrame:  # fmt: skip
    """The corpus's case table: the documents' cases and speaker cases, the sidecar's values winning."""
    if side is not None:
        for cid, attrs in side.case_attributes().items():
            case_attrs.setdefault(cid, {}).update(attrs)
    needed: list[str] = []
    for d in docs:
        needed.append(str(d.case_id))
        needed.extend(t.case_id for t in d.turns if t.case_id)
    return _cases_frame(list(dict.fromkeys(needed)), case_attrs, files)


def _cases_frame(needed: list[str], case_attrs: dict[str, dict[str, Any]], files: list[tuple[Path, bool]]) -> pd.DataFrame:
    """The case table, built column by column (linear in its cells; wide tables stay fast)."""
    empty: dict[str, Any] = {}
    rows = [case_attrs.get(c, empty) for c in needed]
    columns = list(dict.fromkeys(k for r in rows for k in r))
    cells = len(needed) * len(columns)
    if cells > MAX_CASE_CELLS:
        msg = (
            f"the case attributes would form a table of {len(needed):,} cases x {len(columns):,} "
            f"columns ({cells:,} cells, more than {MAX_CASE_CELLS:,}); keep fewer columns with "
            "attribute_columns= or read wide tables on their own"
        )
        raise IngestError(msg, path=files[0][0] if len(files) == 1 else None)
    data = {col: _numeric([r.get(col) for r in rows]) for col in columns}
    index = pd.Index(needed, name="case_id")
    if not columns:
        return pd.DataFrame(index=index)
    return pd.DataFrame(data, index=index, columns=columns)


def read_corpus(
    paths: PathLike | Sequence[PathLike],
    *,
    strict: bool = False,
    sidecar: PathLike | Sidecar | None = None,
    language: str | None = None,
    kind: str | None = None,
    text_column: str | None = None,
    id_column: str | None = None,
    case_column: str | None = None,
    attribute_columns: Sequence[str] | None = None,
    pseudonyms: PathLike | Mapping[str, str] | None = None,
    encoding: str | None = None,
    recursive: bool = True,
    progress: bool = False,
) -> Corpus:
    r"""Read transcripts, notes, caption files and response tables into a :class:`Corpus`.

    In a folder, every file of a supported format (:func:`supported_formats`: ``.txt .md
    .docx .pdf .vtt .srt .csv .xlsx .jsonl`` and any registered reader) is read in sorted order
    (sub-folders too unless ``recursive=False``).  Skipped: hidden files, files and
    folders whose name starts with ``_``, ``README*``, ``LICENSE*``, the sidecar
    (``cases.csv``/``cases.xlsx``) and whatever the folder's ``.qualcodeignore`` lists
    (gitignore-like glob lines; ``name/`` matches folders only).  A .csv/.xlsx without a
    text column is skipped with an :class:`IngestWarning`.  A file that cannot be read is
    reported with an :class:`IngestWarning` and skipped (``strict=True``: raise); a file
    named directly always raises.

    Args:
        paths: a folder, a file, or a list of them.
        strict: raise on the first bad file, duplicate doc id or sidecar row naming an
            unknown document instead of warning and skipping.
        sidecar: a case sidecar; default: ``cases.csv`` / ``cases.xlsx`` in the folder(s).
        language: language of documents whose metadata does not name one (default: guess).
        kind: kind of documents whose metadata does not name one (default: infer).
        text_column: table text column (default: first of ``text, response, answer,
            jawaban, content, transcript``).
        id_column: table id column (default: a unique ``id``/``response_id``... column,
            else the row number).
        case_column: table case column (default: the doc id).
        attribute_columns: table columns kept as attributes (default: all others).
        pseudonyms: name -> pseudonym dict or CSV (``name,pseudonym``) / YAML file; names
            are replaced in labels and text before parsing.
        encoding: force a text encoding (default: BOM, then UTF-8, then cp1252 + warning).
        recursive: descend into sub-folders.
        progress: show a tqdm progress bar over files.

    Returns:
        The corpus, with case attributes from the sidecar, front matter and tables.

    Raises:
        IngestError: a path does not exist, a directly named file is bad, or (strict) any
            file, duplicate id or sidecar row is bad.  The message names file and line.

    Examples:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (d / "a.txt").write_text("I: Why?\nR: Because the ministry says so.\n")
        >>> _ = (d / "cases.csv").write_text("doc_id,region\na,north\n")
        >>> corpus = read_corpus(d)
        >>> corpus.cases.loc["a", "region"]
        'north'
    """
    items: list[PathLike] = (
        [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    )
    if not items:
        msg = "read_corpus needs at least one path"
        raise IngestError(msg)
    _check_paths(items)
    opts = _Options(
        language=language,
        kind=kind,
        encoding=encoding,
        text_column=text_column,
        id_column=id_column,
        case_column=case_column,
        attribute_columns=attribute_columns,
        pseudonyms=pseudonyms,
    )
    files: list[tuple[Path, bool]] = []  # (path, from a folder)
    side_rows: list[SidecarRow] = []
    side_path: str | None = None
    for item in items:
        p = Path(item)
        if p.is_dir():
            files.extend((f, True) for f in _walk(p, recursive))
            if sidecar is None:
                for name in SIDECAR_NAMES:
                    if (p / name).is_file():
                        s = read_sidecar(p / name, encoding=encoding)
                        side_rows.extend(s.rows)
                        side_path = side_path or s.path
                        break
        elif p.exists():
            files.append((p, False))
        else:
            msg = "no such file or folder"
            raise IngestError(msg, path=p)
    side: Sidecar | None
    if isinstance(sidecar, Sidecar):
        side = sidecar
    elif sidecar is not None:
        side = read_sidecar(sidecar, encoding=encoding)
    else:
        side = Sidecar(side_path, side_rows) if side_rows and side_path else None
    iterator: Iterable[tuple[Path, bool]] = files
    if progress:
        from .._progress import tqdm

        iterator = tqdm(files, desc="reading", unit="file")
    docs: list[Document] = []
    by_id: dict[str, Document] = {}
    case_attrs: dict[str, dict[str, Any]] = {}
    for f, in_folder in iterator:
        try:
            parsed = _parse_file(f, opts)
            if parsed is None:
                if not in_folder:
                    raise IngestError(_NO_TEXT_COLUMN, path=f)
                warnings.warn(
                    f"{f}: skipped, not a document table (no text column such as 'text', "
                    "'response' or 'answer'; pass text_column= to read it)",
                    IngestWarning,
                    stacklevel=2,
                )
                continue
            found = []
            found_ids: set[str] = set()
            for x in parsed:
                doc, cases = finalise(x, language=opts.language, kind=opts.kind, sidecar=side)
                if doc.doc_id in by_id or doc.doc_id in found_ids:
                    other = by_id[doc.doc_id].source.path if doc.doc_id in by_id else f
                    msg = f"duplicate doc_id {doc.doc_id!r} (also used by {other})"
                    raise IngestError(msg, path=f, line=x.line)
                found.append((doc, cases))
                found_ids.add(doc.doc_id)
        except IngestError as exc:
            if strict or not in_folder:
                raise
            warnings.warn(f"skipped: {exc}", IngestWarning, stacklevel=2)
            continue
        for doc, cases in found:
            docs.append(doc)
            by_id[doc.doc_id] = doc
            merge_case_attributes(case_attrs, cases)
    if side is not None:
        side.check({d.doc_id: set(d.speakers) for d in docs}, strict=strict)
    cases_frame = case_table(docs, case_attrs, side, files)
    logger.info("read %d documents from %d files", len(docs), len(files))
    return Corpus(docs, cases=cases_frame)
