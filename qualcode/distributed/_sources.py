"""Partitions of a corpus, and the streaming scan that cuts big inputs into them.

A *partition* is a small, picklable description of some documents, in corpus order:

* :class:`CorpusPart`: documents already in memory (a :class:`~qualcode.Corpus` given in Python);
* :class:`FilesPart`: transcript files (``.txt``, ``.docx``, ``.pdf``...), read on the worker;
* :class:`TablePart`: a run of rows of a ``.csv``, ``.jsonl`` or ``.xlsx`` response table,
  read on the worker from a byte position (CSV, JSON Lines) or sheet rows (XLSX).

:func:`scan` streams the inputs once on the client (one row or one file name at a time,
never the whole text) and returns the partitions plus what a row-by-row reader cannot know
alone: the table's header, its id column (unique over the whole table), its language hint
(the first 500 answers), its sha256.  :func:`load` (on a worker) turns a partition into the
same :class:`~qualcode.Document` objects :func:`qualcode.read_corpus` would have made.
"""

from __future__ import annotations

import csv
import hashlib
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..corpus import Corpus, Document, SourceInfo
from ..errors import IngestError, IngestWarning
from ..readers import Pseudonymiser, Sidecar, load_pseudonyms, read_sidecar
from ..readers._base import finalise, guess_language
from ..readers._corpus import SIDECAR_NAMES, _walk, case_table, merge_case_attributes
from ..readers._jsonl import jsonl_source, jsonl_values
from ..readers._registry import reader_for
from ..readers._sidecar import _cell
from ..readers._tables import ID_COLUMNS, table_columns, table_row

__all__ = ["CorpusPart", "FilesPart", "ReadOptions", "TablePart", "load", "read_documents", "read_part", "scan"]

_TABLES = (".csv", ".jsonl", ".xlsx")
_HINT_ROWS = 500


@dataclass(frozen=True)
class ReadOptions:
    """The :func:`qualcode.read_corpus` options a streamed run reads with (shipped to every worker)."""

    language: str | None = None
    kind: str | None = None
    encoding: str | None = None
    text_column: str | None = None
    id_column: str | None = None
    case_column: str | None = None
    attribute_columns: tuple[str, ...] | None = None
    pseudonyms: Mapping[str, str] | None = None
    sidecar: Sidecar | None = None
    strict: bool = False

    def transform(self) -> Any:
        """The pseudonymiser (None without pseudonyms)."""
        return Pseudonymiser(self.pseudonyms) if self.pseudonyms else None


@dataclass(frozen=True)
class CorpusPart:
    """Documents in memory (a slice of a Corpus, with its case rows)."""

    corpus: Corpus

    def __len__(self) -> int:
        return len(self.corpus)


@dataclass(frozen=True)
class FilesPart:
    """Transcript files, read on the worker (one document each, or none when skipped)."""

    paths: tuple[str, ...]
    in_folder: bool = True

    def __len__(self) -> int:
        return len(self.paths)


@dataclass(frozen=True)
class TablePart:
    """``n_records`` raw records of a response table from ``start`` (see :func:`scan`)."""

    path: str
    fmt: str
    start: Any  # CSV: a text-file position; JSON Lines: a byte offset; XLSX: a sheet row
    n_records: int
    first_line: int  # file line (sheet row) of the first record
    first_n: int  # data rows before this part (the row number of an id-less row is first_n + i)
    n_docs: int
    columns: tuple[str, ...]
    chosen: tuple[Any, ...]  # (text_col, id_col, case_col, attr_cols)
    source: SourceInfo
    hint: str
    csv: dict[str, Any] = field(default_factory=dict)  # encoding and dialect

    def __len__(self) -> int:
        return self.n_docs


Part = CorpusPart | FilesPart | TablePart


# ---------------------------------------------------------------------------- scanning
def corpus_parts(corpus: Corpus, size: int) -> list[CorpusPart]:
    """A Corpus cut into runs of ``size`` documents (same case table rows)."""
    ids = corpus.doc_ids
    return [CorpusPart(corpus.subset(ids[i : i + size])) for i in range(0, len(ids), size)]


def scan(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    partition_size: int,
    options: ReadOptions | None = None,
    recursive: bool = True,
) -> tuple[list[Part], ReadOptions]:
    """Cut files, folders and response tables into partitions, streaming (see the module docstring).

    Args:
        paths: files and folders, as for :func:`qualcode.read_corpus`.
        partition_size: documents (files, or table rows with text) per partition.
        options: reading options; the folder's ``cases.csv``/``cases.xlsx`` is added as the
            sidecar when none is given.
        recursive: descend into sub-folders.

    Returns:
        ``(partitions, options)`` in corpus order.

    Raises:
        IngestError: a path does not exist, a named table is bad, or ids are duplicated.
    """
    opts = options or ReadOptions()
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if not items:
        msg = "nothing to read: give at least one file or folder"
        raise IngestError(msg)
    files: list[tuple[Path, bool]] = []
    side_path = None
    for item in items:
        p = Path(item)
        if p.is_dir():
            files.extend((f, True) for f in _walk(p, recursive))
            if side_path is None:
                side_path = next((p / n for n in SIDECAR_NAMES if (p / n).is_file()), None)
        elif p.exists():
            files.append((p, False))
        else:
            msg = "no such file or folder"
            raise IngestError(msg, path=p)
    if opts.sidecar is None and side_path is not None:
        opts = _replace(opts, sidecar=read_sidecar(side_path, encoding=opts.encoding))
    parts: list[Part] = []
    run: list[str] = []
    run_folder = True
    for f, in_folder in files:
        if f.suffix.lower() in _TABLES:
            if run:
                parts.append(FilesPart(tuple(run), run_folder))
                run = []
            try:
                table = _scan_table(f, opts, partition_size)
            except IngestError as exc:
                if opts.strict or not in_folder:
                    raise
                warnings.warn(f"skipped: {exc}", IngestWarning, stacklevel=2)
                continue
            if table is None:
                if not in_folder:
                    msg = "a table needs a text column (text, response, answer, jawaban, content, transcript) or text_column="
                    raise IngestError(msg, path=f)
                warnings.warn(f"{f}: skipped, not a document table (no text column such as 'text', "
                              "'response' or 'answer'; pass text_column= to read it)", IngestWarning, stacklevel=2)
                continue
            parts.extend(table)
            continue
        if run and (len(run) >= partition_size or in_folder != run_folder):
            parts.append(FilesPart(tuple(run), run_folder))
            run = []
        run.append(str(f))
        run_folder = in_folder
    if run:
        parts.append(FilesPart(tuple(run), run_folder))
    return parts, opts


def _replace(opts: ReadOptions, **changes: Any) -> ReadOptions:
    from dataclasses import replace

    return replace(opts, **changes)


class _Rows:
    """Streams the records of one table: ``(line, cells)``, and the position of the next record.

    ``cells`` is a list (CSV, XLSX) or a dict (JSON Lines), None for a blank JSON Lines line;
    ``line`` is the file line the record ends on (sheet row for XLSX), as
    :func:`qualcode.readers._sidecar.read_table_rows` numbers them.
    """

    def __init__(self, path: Path, opts: ReadOptions):
        self.path = path
        self.fmt = path.suffix.lower().lstrip(".")
        self.csv: dict[str, Any] = _csv_setup(path, opts.encoding) if self.fmt == "csv" else {}
        self._fh: Any = None
        self._pos = 0
        self._line = 0

    def tell(self) -> tuple[Any, int]:
        """Where the next record starts, and how many lines (sheet rows) come before it."""
        if self.fmt == "csv":
            return self._fh.tell(), self._line
        return self._pos, self._line

    def records(self) -> Iterator[tuple[int, list[Any] | dict[str, Any] | None]]:
        if self.fmt == "csv":
            with open(self.path, encoding=self.csv["encoding"], newline=None) as fh:
                self._fh = fh
                reader = csv.reader(iter(fh.readline, ""), **self.csv["dialect"])
                for line, row in _csv_rows(reader, self.path, 0):
                    self._line = line
                    yield line, row
        elif self.fmt == "jsonl":
            for line, end, values in _jsonl_records(self.path, 0, None, 0):
                self._pos, self._line = end, line
                yield line, values
        else:
            for line, row in _xlsx_records(self.path, 1, None):
                self._pos, self._line = line + 1, line
                yield line, row


def _values(cells: Any, columns: Sequence[str]) -> dict[str, Any]:
    if isinstance(cells, dict):
        return {c: cells.get(c) for c in columns}
    return {c: _cell(cells[i]) if i < len(cells) else None for i, c in enumerate(columns)}


def _scan_table(path: Path, opts: ReadOptions, size: int) -> list[TablePart] | None:
    """Stream one table: header, id column, language hint, sha256, and partition starts.

    Partitions hold ``size`` data rows each (rows without text, which make no document, are
    rare).  The id column is the first ``id``/``response_id``... column whose values on rows
    with text are all present and unique (compared by 64-bit hashes, kept as one array).
    """
    rows = _Rows(path, opts)
    tf = opts.transform() or (lambda s: s)
    columns = _jsonl_columns(path) if rows.fmt == "jsonl" else None
    text_col: str | None = None
    cands: list[str] = []
    starts: list[tuple[Any, int, int]] = []  # (position, lines before, data rows before)
    n_docs: list[int] = []
    hint: list[str] = []
    id_hashes: dict[str, list[int]] = {}
    id_ok: dict[str, bool] = {}
    n_rows = 0
    seen_any = False
    next_start: tuple[Any, int] | None = (0, 0) if columns is not None else None
    for line, cells in rows.records():
        if cells is None:
            continue
        if isinstance(cells, list):
            if not any(_cell(v) is not None for v in cells):
                continue
            seen_any = True
            if columns is None:
                columns = [str(_cell(c) or f"column_{i + 1}") for i, c in enumerate(cells)]
                dupes = {c for c in columns if columns.count(c) > 1}
                if dupes:
                    msg = f"duplicate column names {sorted(dupes)}"
                    raise IngestError(msg, path=path, line=line)
                next_start = rows.tell()
                continue
            if len(cells) > len(columns) and any(_cell(v) is not None for v in cells[len(columns) :]):
                msg = f"the row has {len(cells)} cells but the header has {len(columns)} columns"
                raise IngestError(msg, path=path, line=line)
        seen_any = True
        if text_col is None:
            pre = table_columns(columns or [], [], path, text_column=opts.text_column, id_column=opts.id_column,
                                case_column=opts.case_column, attribute_columns=opts.attribute_columns)  # fmt: skip
            if pre is None:
                return None
            text_col = pre[0]
            cands = [opts.id_column] if opts.id_column else _id_names(columns or [])
        values = _values(cells, columns or [])
        if n_rows % size == 0:
            assert next_start is not None
            starts.append((*next_start, n_rows))
            n_docs.append(0)
        n_rows += 1
        if n_rows % size == 0:
            next_start = rows.tell()
        if values.get(text_col) is None:
            continue
        n_docs[-1] += 1
        if len(hint) < _HINT_ROWS:
            hint.append(str(values[text_col]))
        for c in cands:
            v = values.get(c)
            if v is None:
                id_ok[c] = False
            elif id_ok.setdefault(c, True):
                id_hashes.setdefault(c, []).append(_h64(tf(str(v))))
    if not seen_any:
        msg = "the file is empty (no JSON object)" if rows.fmt == "jsonl" else "the table is empty"
        raise IngestError(msg, path=path)
    if text_col is None:  # a header without data rows
        return [] if table_columns(columns or [], [], path, text_column=opts.text_column) is not None else None
    id_col = opts.id_column
    if id_col is None:
        id_col = next((c for c in cands if id_ok.get(c) and id_hashes.get(c) and _unique(id_hashes[c])), None)
    elif not _unique(id_hashes.get(id_col, [])):
        _raise_duplicate(path, opts, columns or [], text_col, id_col, tf)
    chosen = table_columns(columns or [], [], path, text_column=opts.text_column, id_column=id_col,
                           case_column=opts.case_column, attribute_columns=opts.attribute_columns)  # fmt: skip
    assert chosen is not None
    sha, bom = _sha256(path)
    if rows.fmt == "jsonl":
        source = jsonl_source(path, sha, bom)
    else:
        source = SourceInfo(path=str(path), format=rows.fmt, encoding="utf-8", bom=bom, newline="\n", sha256=sha)
    from ..readers._decode import normalise_newlines

    lang = guess_language(" ".join(tf(normalise_newlines(t)) for t in hint))
    ends = [s[2] for s in starts[1:]] + [n_rows]
    return [
        TablePart(str(path), rows.fmt, pos, end - first_n, before, first_n, nd, tuple(columns or []),
                  (chosen[0], chosen[1], chosen[2], tuple(chosen[3])), source, lang, dict(rows.csv))  # fmt: skip
        for (pos, before, first_n), end, nd in zip(starts, ends, n_docs, strict=True)
    ]


def _jsonl_columns(path: Path) -> list[str]:
    """Every key of a JSON Lines file, in the order they first appear (a first streaming pass)."""
    keys: dict[str, None] = {}
    for _line, _end, values in _jsonl_records(path, 0, None, 0):
        if values is not None:
            for k in values:
                keys.setdefault(k, None)
    return list(keys)


def _id_names(columns: Sequence[str]) -> list[str]:
    lower = {c.strip().lower(): c for c in columns}
    return [lower[n] for n in ID_COLUMNS if n in lower]


def _h64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def _unique(hashes: list[int]) -> bool:
    arr = np.asarray(hashes, dtype=np.uint64)
    return len(np.unique(arr)) == len(arr)


def _raise_duplicate(path: Path, opts: ReadOptions, columns: list[str], text_col: str, id_col: str, tf: Any) -> None:
    """Find the first duplicated id (a second pass, only on the error path) and raise."""
    seen: dict[str, int] = {}
    header = path.suffix.lower() != ".jsonl"
    for line, cells in _Rows(path, opts).records():
        if cells is None or (isinstance(cells, list) and not any(_cell(v) is not None for v in cells)):
            continue
        if header:
            header = False
            continue
        values = _values(cells, columns)
        if values.get(text_col) is None or values.get(id_col) is None:
            continue
        ident = tf(str(values[id_col]))
        if ident in seen:
            what = "key" if path.suffix.lower() == ".jsonl" else "column"
            msg = f"duplicate id {ident!r} in {what} {id_col!r} (first on line {seen[ident]})"
            raise IngestError(msg, path=path, line=line)
        seen[ident] = line


def _sha256(path: Path) -> tuple[str, bool]:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        head = fh.read(1 << 20)
        bom = head.startswith(b"\xef\xbb\xbf")
        while head:
            h.update(head)
            head = fh.read(1 << 20)
    return h.hexdigest(), bom


# ---------------------------------------------------------------------------- record streams
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
         (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))  # fmt: skip


def _csv_setup(path: Path, encoding: str | None) -> dict[str, Any]:
    """Encoding and dialect of a CSV, decided as :func:`qualcode.readers._sidecar.read_table_rows` decides."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    enc = next((name for mark, name in _BOMS if head.startswith(mark)), None)
    if enc is None:
        enc = encoding or "utf-8"
        if encoding is None and not _decodes(path, "utf-8"):
            enc = "cp1252"
            warnings.warn(f"{path}: not valid UTF-8; read as cp1252 (Windows-1252). Check accented "
                          "characters, or save the file as UTF-8.", IngestWarning, stacklevel=4)  # fmt: skip
    with open(path, encoding=enc, newline=None) as fh:
        sample = fh.read(4096)
    try:
        d: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        d = csv.excel
    dialect = {k: getattr(d, k) for k in ("delimiter", "quotechar", "doublequote", "skipinitialspace",
                                          "lineterminator", "quoting", "escapechar")}  # fmt: skip
    return {"encoding": enc, "dialect": dialect}


def _decodes(path: Path, enc: str) -> bool:
    import codecs

    dec = codecs.getincrementaldecoder(enc)()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                dec.decode(chunk)
            dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _csv_rows(reader: Any, path: Path, lines_before: int) -> Iterator[tuple[int, list[str]]]:
    """``(line the record ends on, cells)`` of a csv reader's records."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            msg = f"malformed CSV: {exc}"
            raise IngestError(msg, path=path, line=lines_before + reader.line_num) from None
        yield lines_before + reader.line_num, row


def _jsonl_records(path: Path, start: int, limit: int | None,
                   lines_before: int) -> Iterator[tuple[int, int, dict[str, Any] | None]]:  # fmt: skip
    """``(line, byte offset after it, values or None)`` of JSON Lines lines from ``start``."""
    with open(path, "rb") as fh:
        fh.seek(start)
        pos = start
        for i, raw in enumerate(fh, start=lines_before + 1):
            if limit is not None and i - lines_before > limit:
                return
            pos += len(raw)
            yield i, pos, jsonl_values(raw.rstrip(b"\n").rstrip(b"\r"), path=path, lineno=i)


def _xlsx_records(path: Path, first: int, last: int | None) -> Iterator[tuple[int, list[Any]]]:
    import zipfile

    import openpyxl

    with open(path, "rb") as fh:
        if not fh.read(8).startswith(b"PK"):
            msg = "not a valid .xlsx file (corrupt, password-protected, or an old .xls)"
            raise IngestError(msg, path=path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        msg = f"not a valid .xlsx file ({type(exc).__name__}: {exc})"
        raise IngestError(msg, path=path) from None
    try:
        ws = wb.worksheets[0]
        for i, r in enumerate(ws.iter_rows(min_row=first, max_row=last, values_only=True), start=first):
            yield i, list(r)
    finally:
        wb.close()


# ---------------------------------------------------------------------------- loading (on a worker)
def load(part: Part, opts: ReadOptions) -> tuple[Corpus, list[str]]:
    """The documents of a partition as a Corpus, and the warnings met while reading them.

    Raises:
        IngestError: a bad file (``strict`` or a file named directly), a bad row.
    """
    corpus, notes, _raw = read_part(part, opts)
    return corpus, notes


def read_part(part: Part, opts: ReadOptions) -> tuple[Corpus, list[str], dict[str, dict[str, Any]] | None]:
    """:func:`load`, plus the case attributes the partition's files give, as read (before the sidecar).

    The raw values let the client build the case table of the whole corpus exactly as
    :func:`qualcode.read_corpus` does (the first file to give a value wins, then the sidecar;
    numbers decided over the whole column), which a partition's own typed table cannot
    (a column can be all numbers in one partition and not in another).  None for a
    :class:`CorpusPart`, whose case rows are already the corpus's.

    Raises:
        IngestError: a bad file (``strict`` or a file named directly), a bad row.
    """
    if isinstance(part, CorpusPart):
        return part.corpus, [], None
    found: list[tuple[Document, dict[str, dict[str, Any]]]] = []
    notes: list[str] = []
    side = opts.sidecar
    if isinstance(part, FilesPart):
        from ..readers._corpus import _Options, _parse_file

        ropts = _Options(language=opts.language, kind=opts.kind, encoding=opts.encoding,
                         text_column=opts.text_column, id_column=opts.id_column, case_column=opts.case_column,
                         attribute_columns=opts.attribute_columns, pseudonyms=opts.pseudonyms)  # fmt: skip
        for f in part.paths:
            try:
                parsed = _parse_file(Path(f), ropts)
                if parsed is None:  # a table inside a FilesPart never happens (scan routes tables)
                    continue
                found.extend(finalise(x, language=ropts.language, kind=ropts.kind, sidecar=side) for x in parsed)
            except IngestError as exc:
                if opts.strict or not part.in_folder:
                    raise
                notes.append(f"skipped: {exc}")
    else:
        found = [finalise(p, language=_lang(opts), kind=_kind(opts), sidecar=side) for p in _table_docs(part, opts)]
    corpus, raw = _corpus(found, side)
    return corpus, notes, raw


def _lang(opts: ReadOptions) -> str | None:
    return opts.language.strip().lower() if opts.language else None


def _kind(opts: ReadOptions) -> str | None:
    return opts.kind.strip().lower() if opts.kind else None


def _table_docs(part: TablePart, opts: ReadOptions) -> list[Any]:
    path = Path(part.path)
    tf = opts.transform() or (lambda s: s)
    text_col, id_col, case_col, attr_cols = part.chosen
    columns = list(part.columns)
    records: Iterator[tuple[int, Any]]
    if part.fmt == "csv":
        fh = open(path, encoding=part.csv["encoding"], newline=None)  # noqa: SIM115 - closed below
        fh.seek(part.start)
        reader = csv.reader(iter(fh.readline, ""), **part.csv["dialect"])
        records = _csv_rows(reader, path, part.first_line)
    elif part.fmt == "jsonl":
        fh = None
        records = ((line, v) for line, _end, v in _jsonl_records(path, part.start, None, part.first_line))
    else:
        fh = None
        records = _xlsx_records(path, part.start, None)
    out = []
    n = part.first_n
    try:
        for line, cells in records:
            if n - part.first_n >= part.n_records:
                break
            if cells is None or (isinstance(cells, list) and not any(_cell(v) is not None for v in cells)):
                continue
            n += 1
            p = table_row(_values(cells, columns), n=n, line=line, path=path, stem=path.stem, text_col=text_col,
                          id_col=id_col, case_col=case_col, attr_cols=list(attr_cols), source=part.source,
                          transform=tf)  # fmt: skip
            if p is None:
                continue
            if opts.pseudonyms:
                p.attributes["pseudonymised"] = True
            p.language_hint = part.hint
            out.append(p)
    finally:
        if fh is not None:
            fh.close()
    return out


def _corpus(found: list[tuple[Document, dict[str, dict[str, Any]]]],
            side: Sidecar | None) -> tuple[Corpus, dict[str, dict[str, Any]]]:  # fmt: skip
    """A Corpus with its case table built as :func:`qualcode.read_corpus` builds it, and the files' raw case attributes."""
    docs = [d for d, _ in found]
    case_attrs: dict[str, dict[str, Any]] = {}
    for _d, cases in found:
        merge_case_attributes(case_attrs, cases)
    raw = {cid: dict(attrs) for cid, attrs in case_attrs.items()}  # case_table adds the sidecar's values in place
    return Corpus(docs, cases=case_table(docs, case_attrs, side, [])), raw


def read_documents(
    source: Corpus | str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    ids: Iterable[str],
    *,
    read: ReadOptions | None = None,
    partition_size: int | None = None,
) -> Corpus:
    """The documents with the given ids, read in this process one partition at a time.

    For the few documents the client needs whole, such as the ones a human coded (to fit a
    Coder before the cluster codes the rest): the inputs are scanned and read partition by
    partition, as the workers read them (:func:`scan`, :func:`load`), and only the wanted
    documents are kept, so this process holds one partition plus the wanted documents, never
    the whole corpus.

    Example::

        ids = set(pd.read_csv("human.csv")["doc_id"])
        subset = distributed.read_documents("answers.csv", ids)
        human = qc.read_codings("human.csv", subset)
        coder.fit(subset, human)
        codings = distributed.code(coder, "answers.csv", workers=8, human=human)

    Args:
        source: files and folders, as for :func:`qualcode.read_corpus` (or a Corpus in
            memory, of which this is the subset).
        ids: the document ids wanted.  Ids that no input has are left out: compare them with
            the result's ``doc_ids``.
        read: reading options (:func:`read_options`).
        partition_size: documents (files, or table rows) read at a time (default 2,000).

    Returns:
        A Corpus of the documents found, in corpus order, with the case rows of their cases
        (as the partitions holding those documents give them: a case attribute that another
        file gives first in the whole corpus can differ).

    Raises:
        IngestError: an input is bad (named by file and line), or ids repeat within a table.
    """
    wanted = {str(i) for i in ids}
    if isinstance(source, Corpus):
        return source.subset([i for i in source.doc_ids if i in wanted])
    if not wanted:
        return Corpus([])
    parts, opts = scan(source, partition_size=int(partition_size or 2000), options=read)
    docs: list[Document] = []
    cases: list[pd.DataFrame] = []
    seen: set[str] = set()
    for part in parts:
        corpus, _notes = load(part, opts)  # one partition at a time; the cluster run reports the notes
        hits = [i for i in corpus.doc_ids if i in wanted and i not in seen]  # a repeated id: code() reports it
        seen.update(hits)
        if hits:
            keep = corpus.subset(hits)
            docs.extend(keep.documents)
            cases.append(keep.cases)
        del corpus
    if not cases:
        return Corpus([])
    table = pd.concat(cases, sort=False)
    return Corpus(docs, cases=table[~table.index.duplicated(keep="first")])


def read_options(**kwargs: Any) -> ReadOptions:
    """:class:`ReadOptions` from :func:`qualcode.read_corpus`-style keyword arguments."""
    if kwargs.get("pseudonyms") is not None:
        kwargs["pseudonyms"] = load_pseudonyms(kwargs["pseudonyms"])
    if isinstance(kwargs.get("sidecar"), (str, os.PathLike)):
        kwargs["sidecar"] = read_sidecar(kwargs["sidecar"], encoding=kwargs.get("encoding"))
    if kwargs.get("attribute_columns") is not None:
        kwargs["attribute_columns"] = tuple(kwargs["attribute_columns"])
    return ReadOptions(**{k: v for k, v in kwargs.items() if v is not None or k == "sidecar"})


def reader_known(path: Path) -> bool:
    """Whether qualcode reads ``path`` (by suffix)."""
    return reader_for(path) is not None
