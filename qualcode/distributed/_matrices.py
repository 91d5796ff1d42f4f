"""Case matrices computed partition by partition on the cluster, and the case table they need.

A case x code count is a sum over documents, and partitions split the corpus by document, so
each worker computes :func:`qualcode.matrices.case_by_code` on its own documents and the client
adds the partial tables up: no process needs the whole text.  The case table (each case's
attributes) is put together on the client from the attributes each partition's files give,
as :func:`qualcode.read_corpus` builds it (first file to give a value wins, then the sidecar;
a column is numbers when every value of the whole column is one).  A code x attribute table
of cases then follows on the client from the case x code matrix and the case table: a case
has a code or not, so the cases with a code per attribute value are a sum over the cases.

Each result equals the one computed in one process on the same codings and corpus (tested):
:func:`case_by_code` equals ``matrices.case_by_code(codings, corpus, value,
codebook=codebook)``, :func:`case_table` the corpus's ``cases`` (of the documents in the
codebook's scope) and :func:`code_by_attribute` ``matrices.code_by_attribute(codings, corpus,
attribute, value="n_cases", codebook=codebook)``.  :func:`build_matrices` gives these tables
as the workbook sheets of ``qualcode code --workers``, from one read of the partitions.
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..codebook import Codebook
from ..codings import Codings
from ..corpus import Corpus
from ..readers._corpus import _cases_frame, merge_case_attributes
from ._sources import Part, ReadOptions, corpus_parts, scan
from ._tasks import Loaded

__all__ = ["ADDITIVE_VALUES", "ATTRIBUTE_VALUES", "PER_SIZE_VALUES", "build_matrices", "case_by_code", "case_table", "code_by_attribute"]

#: cell values that add up over disjoint sets of documents (``present`` is combined with max)
ADDITIVE_VALUES: tuple[str, ...] = ("n_segments", "present", "n_docs", "n_chars", "n_words")

#: cell values that are a sum over documents divided by the case's size (also a sum over documents)
PER_SIZE_VALUES: dict[str, tuple[str, str]] = {"coverage": ("n_chars", "chars"), "normalized": ("n_segments", "words")}

#: code x attribute values that follow from which cases have a code
ATTRIBUTE_VALUES: tuple[str, ...] = ("n_cases", "share_cases")

_ALL = "All"  # the margin label of qualcode.matrices


@dataclass
class CaseRows:
    """A partition's share of the case table.

    Attributes:
        needed: its case ids, in corpus order (each document's case, then its speakers' cases).
        scoped: the case ids of its documents in the codebook's scope.
        raw: the case attributes its files give, as read (None for a Corpus in memory).
    """

    needed: list[str]
    scoped: list[str]
    raw: dict[str, dict[str, Any]] | None


def matrix_part(loaded: Loaded, codebook: Codebook, missing: set[str], frame: pd.DataFrame,
                specs: tuple[tuple[str, bool], ...], sizes: bool = False) -> tuple[list[pd.DataFrame], pd.DataFrame | None]:  # fmt: skip
    """One partition's case x code tables (``(value, margins)`` each) and, with ``sizes``, its cases' characters and words.

    ``frame`` holds the codings of this partition's documents (the client splits them).
    """
    from .. import matrices
    from ..matrices._common import text_index

    part = loaded.in_scope(codebook, missing)
    mine = Codings(frame[frame["doc_id"].astype(str).isin(set(part.doc_ids))].reset_index(drop=True))
    tables = [matrices.case_by_code(mine, part, value, codebook=codebook, margins=margins) for value, margins in specs]
    if not sizes:
        return tables, None
    tidx = text_index(part)
    return tables, pd.DataFrame({"chars": tidx.case_chars, "words": tidx.case_words})


def case_part(loaded: Loaded, codebook: Codebook | None, missing: set[str]) -> CaseRows:
    """One partition's case ids (all, and in the codebook's scope) and its files' raw case attributes."""
    needed = [str(c) for c in loaded.corpus.cases.index]
    scoped = needed if codebook is None else [str(c) for c in loaded.in_scope(codebook, missing).cases.index]
    return CaseRows(needed, scoped, loaded.case_rows)


def _parts(source: Any, size: int, read: ReadOptions | None) -> tuple[list[Part], ReadOptions]:
    if isinstance(source, Corpus):
        return list(corpus_parts(source, size)), ReadOptions()
    return scan(source, partition_size=size, options=read)


def _split(codings: Codings, ids: list[np.ndarray]) -> list[pd.DataFrame]:
    """The codings of each partition's documents (by the 64-bit id hashes the partitions report)."""
    from ._tasks import doc_hashes

    frame = codings.to_frame()
    owner = pd.Series(np.repeat(np.arange(len(ids)), [len(i) for i in ids]),
                      index=np.concatenate(ids) if ids else np.zeros(0, dtype=np.uint64))  # fmt: skip
    which = owner.reindex(doc_hashes(frame["doc_id"].astype(str).tolist())).fillna(-1).to_numpy(np.int64)
    order = np.argsort(which, kind="stable")  # one pass, not one scan of the table per partition
    bounds = np.searchsorted(which[order], np.arange(len(ids) + 1))
    return [frame.iloc[order[bounds[i] : bounds[i + 1]]].reset_index(drop=True) for i in range(len(ids))]


def _by_partition(
    codings: Codings | None,
    source: Any,
    codebook: Codebook | None,
    specs: Sequence[tuple[str, bool]],
    *,
    sizes: bool = False,
    cases: bool,
    client: Any,
    workers: int | None,
    scheduler: str | None,
    partition_size: int | None,
    read: ReadOptions | None,
    timeout: float,
    progress: bool = False,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> tuple[list[pd.DataFrame], pd.DataFrame | None, pd.DataFrame | None]:
    """One read of the partitions on the workers.

    Returns the case x code matrices of ``specs`` (``(value, margins)``, values of
    :data:`ADDITIVE_VALUES`), the cases' characters and words (with ``sizes``) and the case
    table (with ``cases``).  Each partition's task carries the codings of its own documents (a
    task the cluster can run again when a worker dies), not the whole table.
    """
    from ._run import DEFAULT_PARTITION_SIZE, _as_completed, _Stage, connect, constant, read_stage

    size = int(partition_size or DEFAULT_PARTITION_SIZE)
    parts, opts = _parts(source, size, read)
    token = uuid.uuid4().hex[:12]  # unique task keys: another run on the same scheduler never shares them
    with connect(client, workers=workers, scheduler=scheduler, timeout=timeout) as cl:
        opts_f = constant(cl, opts, f"qualcode-options-tables-{token}")  # referenced until the end (retries)
        loaded, infos, missing, _n = read_stage(cl, codebook, parts, opts_f, token=f"tables-{token}", show=False,
                                                hook=None)  # fmt: skip
        cb_f = constant(cl, codebook, f"qualcode-codebook-{token}") if codebook is not None else None
        matrix_f: list[Any] = []
        if specs or sizes:
            assert codings is not None
            with warnings.catch_warnings():  # a partition's codings travel in its task, by design
                warnings.filterwarnings("ignore", message=".*[Ll]arge graph.*")
                slices = _split(codings, [i[3] for i in infos])
                frames_f = [constant(cl, f, f"qualcode-codings-{i}-{token}") for i, f in enumerate(slices)]
                del slices
            matrix_f = [cl.submit(matrix_part, f, cb_f, missing, frames_f[i], tuple(specs), sizes,
                                  key=f"qualcode-matrix-{i}-{token}") for i, f in enumerate(loaded)]  # fmt: skip
        rows_f = [cl.submit(case_part, f, cb_f, missing, key=f"qualcode-cases-{i}-{token}")
                  for i, f in enumerate(loaded)] if cases else []  # fmt: skip
        pieces = _as_completed(cl, matrix_f, _Stage("counting matrices", len(matrix_f), progress and bool(matrix_f),
                                                         on_progress))  # fmt: skip
        rows: list[CaseRows] = _as_completed(cl, rows_f, _Stage("case attributes", len(rows_f), False, None))
    out = [_add_up([p[0][k] for p in pieces], value, margins, codebook, len(parts)) for k, (value, margins) in enumerate(specs)]
    if isinstance(source, Corpus):
        from ._tasks import scoped

        order = [str(c) for c in (scoped(source, codebook, missing) if codebook is not None else source).cases.index]
        for k, (_value, margins) in enumerate(specs):
            if len(out[k].index):
                attrs = out[k].attrs
                out[k] = out[k].reindex(index=pd.Index(order + ([_ALL] if margins else []), name=out[k].index.name))
                out[k].attrs = attrs
    size_table = None
    if sizes:
        found = [p[1] for p in pieces if p[1] is not None and len(p[1])]
        size_table = pd.concat(found).groupby(level=0, sort=False).sum() if found else pd.DataFrame(columns=["chars", "words"])
    table = _case_table(rows, source, opts) if cases else None
    return out, size_table, table


def _add_up(pieces: list[pd.DataFrame], value: str, margins: bool, codebook: Codebook | None,
            n_parts: int) -> pd.DataFrame:  # fmt: skip
    """The partitions' case x code tables added up (``present`` by maximum); margins add up too."""
    from ..matrices._common import code_order

    pieces = [p for p in pieces if len(p.index) or len(p.columns)]
    if not pieces:
        return pd.DataFrame()
    attrs = {k: v for k, v in pieces[0].attrs.items() if isinstance(v, (str, int, float, bool, list, dict))}
    for p in pieces:
        p.attrs = {}  # partition metadata (selections, sizes) does not add up; concat compares it
    codes = [c for c in dict.fromkeys(c for p in pieces for c in p.columns) if c != _ALL]
    columns = code_order(codes, codebook) + ([_ALL] if margins else [])
    table = pd.concat([p.reindex(columns=columns, fill_value=0) for p in pieces])
    how = "max" if value == "present" else "sum"
    out = table.groupby(level=0, sort=False).agg(how)
    if margins:  # each partition's margin row counts its own documents: they add up, and go last
        out = out.loc[[i for i in out.index if i != _ALL] + [_ALL]]
    out.index.name = pieces[0].index.name
    out.columns.name = pieces[0].columns.name
    out.attrs = {**attrs, "value": value, "margins": margins, "partitions": n_parts}
    return out


def _case_table(rows: list[CaseRows], source: Any, opts: ReadOptions) -> pd.DataFrame:
    """The corpus's case table (cases of the documents in scope), as :func:`qualcode.read_corpus` builds it."""
    keep = {c for r in rows for c in r.scoped}
    if isinstance(source, Corpus):
        table = source.cases
        return table[table.index.astype(str).isin(keep)]
    needed = list(dict.fromkeys(c for r in rows for c in r.needed))
    attrs: dict[str, dict[str, Any]] = {}
    for r in rows:
        merge_case_attributes(attrs, r.raw or {})
    if opts.sidecar is not None:
        for cid, values in opts.sidecar.case_attributes().items():
            attrs.setdefault(cid, {}).update(values)
    table = _cases_frame(needed, attrs, [])
    return table[table.index.isin(keep)]


def _check_value(value: str, allowed: tuple[str, ...], func: str, why: str) -> None:
    if value not in allowed:
        msg = f"The 'value' parameter of distributed.{func} must be one of {list(allowed)} ({why}). Got {value!r} instead."
        raise ValueError(msg)


def case_by_code(
    codings: Codings,
    source: Corpus | str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    codebook: Codebook,
    value: str = "n_segments",
    *,
    margins: bool = False,
    client: Any = None,
    workers: int | None = None,
    scheduler: str | None = None,
    partition_size: int | None = None,
    read: ReadOptions | None = None,
    timeout: float = 10.0,
) -> pd.DataFrame:
    """Cases x codes, computed on the cluster from the documents each worker reads.

    Args:
        codings: the codings (for instance from :func:`qualcode.distributed.code`).
        source: the same corpus or input paths the codings were made from.
        codebook: the codebook (its scope decides the cases; columns in codebook order, parents
            rolling up their children as in :func:`qualcode.matrices.case_by_code`).
        value: one of :data:`ADDITIVE_VALUES`, or ``coverage`` / ``normalized`` (a sum over
            documents divided by the case's characters / per 1,000 of its words, both summed
            over the partitions).
        margins: add the ``"All"`` row and column of :func:`qualcode.matrices.case_by_code`
            (each coding counted once, also when it counts for a parent and a child).
        client: a ``distributed.Client`` to run on (as in :func:`qualcode.distributed.code`).
        workers: worker processes of a new LocalCluster.
        scheduler: address of a running Dask scheduler.
        partition_size: documents (files, or table rows) per partition.
        read: reading options for streamed inputs.
        timeout: seconds to wait for the scheduler.

    Returns:
        The matrix :func:`qualcode.matrices.case_by_code` gives for the whole corpus.

    Raises:
        ValueError: ``value`` does not follow from sums over documents (percentages of row or
            column totals, quotes: compute them from this matrix, or in one process).
    """
    _check_value(value, (*ADDITIVE_VALUES, *PER_SIZE_VALUES), "case_by_code",
                 "values that add up over documents, or such a sum divided by the case's size")  # fmt: skip
    stat, size = PER_SIZE_VALUES.get(value, (value, ""))
    (matrix,), sizes, _ = _by_partition(codings, source, codebook, [(stat, margins)], sizes=bool(size), cases=False,
                                        client=client, workers=workers, scheduler=scheduler,
                                        partition_size=partition_size, read=read, timeout=timeout)  # fmt: skip
    if size and sizes is not None:
        return _per_size(matrix, sizes[size], value, margins)
    return matrix


def _per_size(counts: pd.DataFrame, sizes: pd.Series, value: str, margins: bool) -> pd.DataFrame:
    """``coverage`` / ``normalized`` from the summed counts and the summed case sizes (as one process computes them)."""
    from ..matrices._tables import _values

    if not len(counts.index):
        return counts
    rows = counts.index.drop(_ALL) if margins else counts.index
    den = sizes.reindex(rows.astype(str), fill_value=0)
    den.index = rows
    out = _values(counts, value, den, axis=0, margins=margins, name=_ALL)
    out.attrs = {**counts.attrs, "value": value}
    return out


def case_table(
    source: Corpus | str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    codebook: Codebook | None = None,
    client: Any = None,
    workers: int | None = None,
    scheduler: str | None = None,
    partition_size: int | None = None,
    read: ReadOptions | None = None,
    timeout: float = 10.0,
) -> pd.DataFrame:
    """The case table of a corpus (``corpus.cases``), read on the cluster: the text stays on the workers.

    Each worker reads its partitions and sends back only their case ids and the case
    attributes their files give; the client puts them together as
    :func:`qualcode.read_corpus` does (the first file to give a value wins, the sidecar's
    values win over the files', a column is numbers when all its values are).

    Args:
        source: a corpus in memory, or files and folders to stream (as for
            :func:`qualcode.distributed.code`).
        codebook: with a codebook, only the cases of the documents in its scope (as the
            matrices count them).
        client: a ``distributed.Client`` to run on.
        workers: worker processes of a new LocalCluster.
        scheduler: address of a running Dask scheduler.
        partition_size: documents (files, or table rows) per partition.
        read: reading options for streamed inputs.
        timeout: seconds to wait for the scheduler.

    Returns:
        One row per case, indexed by ``case_id``, in corpus order: ``read_corpus(source).cases``
        (of ``codebook.in_scope(corpus)`` with a codebook).

    Raises:
        ClusterError: the scheduler is unreachable, or the cluster lost the run.
        IngestError: a streamed input is bad, or the table would be too large.
    """
    _, _, table = _by_partition(None, source, codebook, [], cases=True, client=client, workers=workers,
                                scheduler=scheduler, partition_size=partition_size, read=read, timeout=timeout)  # fmt: skip
    assert table is not None
    return table


def code_by_attribute(matrix: pd.DataFrame, cases: pd.DataFrame, attribute: str, value: str = "n_cases") -> pd.DataFrame:
    """Codes x values of a case attribute: how many cases of each group have each code (in this process).

    The cases are the rows of ``matrix``; a case has a code where its cell is above 0.  On the
    codings and corpus the matrix was computed from, the result equals
    ``matrices.code_by_attribute(codings, corpus, attribute, value, codebook=codebook)``.

    Args:
        matrix: a case x code matrix from :func:`case_by_code` (``present`` or any count;
            its margins are left out).
        cases: the case table (:func:`case_table`); cases without a value, or missing from
            it, form the group ``"(missing)"``.
        attribute: a column of ``cases``.
        value: ``n_cases`` (cases of the group with the code) or ``share_cases`` (that number
            divided by the group's cases).

    Returns:
        DataFrame with ``index.name == "code"`` and ``columns.name == attribute`` (groups
        sorted, ``"(missing)"`` last); ``attrs["group_sizes"]`` maps each group to its
        number of cases.

    Raises:
        ValueError: an unknown ``value`` or ``attribute`` (the speaker role needs the text:
            compute ``code x role`` in one process).
    """
    from ..matrices._tables import MISSING_GROUP, group_labels, group_order

    _check_value(value, ATTRIBUTE_VALUES, "code_by_attribute", "values that follow from which cases have a code")
    if attribute not in cases.columns:
        msg = (f"The 'attribute' parameter of distributed.code_by_attribute must be a column of the case table "
               f"{[str(c) for c in cases.columns]}. Got {attribute!r} instead.")  # fmt: skip
        raise ValueError(msg)
    m = matrix.drop(index=_ALL, columns=_ALL, errors="ignore") if matrix.attrs.get("margins") else matrix
    labels = group_labels(cases[attribute])
    labels.index = labels.index.astype(str)
    labels = labels.reindex(m.index.astype(str), fill_value=MISSING_GROUP)
    order = group_order(labels)
    sizes = labels.groupby(labels).size().reindex(order)
    has = (m.to_numpy() > 0).astype("int64")
    counts = pd.DataFrame(has, index=labels.index, columns=m.columns).groupby(labels.to_numpy()).sum()
    out = counts.reindex(index=order, fill_value=0).T.astype("int64")
    if value == "share_cases":
        out = out.astype("float64").div(sizes.where(sizes > 0).to_numpy(), axis=1)
    out.index.name = "code"
    out.columns = pd.Index(order, name=attribute)
    out.attrs = {"kind": "code_by_attribute", "value": value, "attribute": attribute,
                 "group_sizes": {str(k): int(v) for k, v in sizes.items()}}  # fmt: skip
    return out


def build_matrices(
    codings: Codings,
    source: Corpus | str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    codebook: Codebook,
    *,
    client: Any = None,
    workers: int | None = None,
    scheduler: str | None = None,
    partition_size: int | None = None,
    read: ReadOptions | None = None,
    timeout: float = 10.0,
    progress: bool = False,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, pd.DataFrame]:
    """The case matrices of ``qualcode code --workers``'s ``matrices.xlsx``, from one read of the partitions.

    The sheets, each equal to the sheet of the same name in a single-process run's
    ``matrices.xlsx`` (:func:`qualcode.reports.build_matrices`):

    * ``case x code (segments)``: codings per case and code, with the ``"All"`` margins;
    * ``case x code (coverage %)``: coded characters in percent of the case's characters
      (both summed over the partitions);
    * ``case x code (presence)``: 1 where the case has the code;
    * ``code x ATTRIBUTE``: cases with the code per value of each case attribute the reports
      compare (2 to 12 values, not an id: :func:`qualcode.reports.report_attributes`);
    * ``co-occurrence`` and ``co-occurrence (c)``: overlapping codings (counts, and the
      c-coefficient), from the codings alone;

    plus ``cases per attribute value`` (``attribute``, ``value``, ``cases``): the group sizes
    behind those tables.  Parents roll up their children (``aggregate="children"``) in the case
    tables.  Only the framework matrix (quotes) of the single-process workbook is missing.

    Args:
        codings: the codings (for instance from :func:`qualcode.distributed.code`).
        source: the same corpus or input paths the codings were made from.
        codebook: the codebook.
        client: a ``distributed.Client`` to run on.
        workers: worker processes of a new LocalCluster.
        scheduler: address of a running Dask scheduler.
        partition_size: documents (files, or table rows) per partition.
        read: reading options for streamed inputs.
        timeout: seconds to wait for the scheduler.
        progress: print the partitions counted (a bar on a terminal).
        on_progress: called as ``on_progress("counting matrices", done, total)`` after each partition.

    Returns:
        Sheet name -> table, in workbook order (for :func:`qualcode.reports.write_xlsx`).

    Raises:
        ClusterError: the scheduler is unreachable, or the cluster lost the run.
        IngestError: a streamed input is bad.
    """
    from .. import matrices
    from ..reports._build import coverage_percent, report_attributes

    (seg, chars), sizes, cases = _by_partition(codings, source, codebook, [("n_segments", True), ("n_chars", False)],
                                               sizes=True, cases=True, client=client, workers=workers,
                                               scheduler=scheduler, partition_size=partition_size, read=read,
                                               timeout=timeout, progress=progress, on_progress=on_progress)  # fmt: skip
    assert sizes is not None and cases is not None
    inner = seg.drop(index=_ALL, columns=_ALL, errors="ignore")
    present = (inner > 0).astype("int64")
    present.attrs = {**seg.attrs, "value": "present", "margins": False}
    percent = coverage_percent(_per_size(chars, sizes["chars"], "coverage", False))
    sheets = {"case x code (segments)": seg, "case x code (coverage %)": percent, "case x code (presence)": present}
    groups = []
    for attribute in report_attributes(cases):
        table = code_by_attribute(present, cases, attribute, "n_cases")
        sheets[f"code x {attribute}"] = table
        groups += [(attribute, group, n) for group, n in table.attrs["group_sizes"].items()]
    # from the codings alone, here, as one process computes them
    sheets["co-occurrence"] = matrices.cooccurrence(codings, level="segment", measure="count")
    sheets["co-occurrence (c)"] = matrices.cooccurrence(codings, level="segment", measure="c")
    if groups:
        sheets["cases per attribute value"] = pd.DataFrame(groups, columns=["attribute", "value", "cases"])
    return sheets
