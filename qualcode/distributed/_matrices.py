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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..codebook import Codebook
from ..codings import Codings
from ..corpus import Corpus
from ..readers._corpus import _cases_frame, merge_case_attributes
from ._sources import Part, ReadOptions, corpus_parts, scan
from ._tasks import Loaded

__all__ = ["ADDITIVE_VALUES", "ATTRIBUTE_VALUES", "build_matrices", "case_by_code", "case_table", "code_by_attribute"]

#: cell values that add up over disjoint sets of documents (``present`` is combined with max)
ADDITIVE_VALUES: tuple[str, ...] = ("n_segments", "present", "n_docs", "n_chars", "n_words")

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


def matrix_part(loaded: Loaded, codebook: Codebook, missing: set[str], frame: pd.DataFrame, value: str,
                margins: bool = False) -> pd.DataFrame:  # fmt: skip
    """The case x code table of one partition's documents (in the codebook's scope)."""
    from .. import matrices

    part = loaded.in_scope(codebook, missing)
    mine = frame[frame["doc_id"].astype(str).isin(set(part.doc_ids))]
    return matrices.case_by_code(Codings(mine.reset_index(drop=True)), part, value, codebook=codebook,
                                 margins=margins)  # fmt: skip


def case_part(loaded: Loaded, codebook: Codebook | None, missing: set[str]) -> CaseRows:
    """One partition's case ids (all, and in the codebook's scope) and its files' raw case attributes."""
    needed = [str(c) for c in loaded.corpus.cases.index]
    scoped = needed if codebook is None else [str(c) for c in loaded.in_scope(codebook, missing).cases.index]
    return CaseRows(needed, scoped, loaded.case_rows)


def _parts(source: Any, size: int, read: ReadOptions | None) -> tuple[list[Part], ReadOptions]:
    if isinstance(source, Corpus):
        return list(corpus_parts(source, size)), ReadOptions()
    return scan(source, partition_size=size, options=read)


def _by_partition(
    codings: Codings | None,
    source: Any,
    codebook: Codebook | None,
    value: str | None,
    *,
    margins: bool,
    cases: bool,
    client: Any,
    workers: int | None,
    scheduler: str | None,
    partition_size: int | None,
    read: ReadOptions | None,
    timeout: float,
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """One read of the partitions on the workers: the case x code matrix of ``value`` and/or the case table."""
    from ._run import DEFAULT_PARTITION_SIZE, connect, constant, read_stage

    size = int(partition_size or DEFAULT_PARTITION_SIZE)
    parts, opts = _parts(source, size, read)
    token = uuid.uuid4().hex[:12]  # unique task keys: another run on the same scheduler never shares them
    with connect(client, workers=workers, scheduler=scheduler, timeout=timeout) as cl:
        opts_f = constant(cl, opts, f"qualcode-options-tables-{token}")  # referenced until the end (retries)
        loaded, _infos, missing, _n = read_stage(cl, codebook, parts, opts_f, token=f"tables-{token}", show=False,
                                                 hook=None)  # fmt: skip
        cb_f = constant(cl, codebook, f"qualcode-codebook-{token}") if codebook is not None else None
        matrix_f: list[Any] = []
        if value is not None:
            assert codings is not None
            frame_f = cl.scatter(codings.to_frame(), broadcast=True, hash=False)
            matrix_f = [cl.submit(matrix_part, f, cb_f, missing, frame_f, value, margins,
                                  key=f"qualcode-matrix-{i}-{token}") for i, f in enumerate(loaded)]  # fmt: skip
        rows_f = [cl.submit(case_part, f, cb_f, missing, key=f"qualcode-cases-{i}-{token}")
                  for i, f in enumerate(loaded)] if cases else []  # fmt: skip
        pieces = cl.gather(matrix_f)
        rows: list[CaseRows] = cl.gather(rows_f)
    matrix = _add_up(pieces, value, margins, codebook, len(parts)) if value is not None else None
    if matrix is not None and isinstance(source, Corpus) and len(matrix.index):
        from ._tasks import scoped

        order = [str(c) for c in (scoped(source, codebook, missing) if codebook is not None else source).cases.index]
        attrs = matrix.attrs
        matrix = matrix.reindex(index=pd.Index(order + ([_ALL] if margins else []), name=matrix.index.name))
        matrix.attrs = attrs
    table = _case_table(rows, source, opts) if cases else None
    return matrix, table


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
        value: one of :data:`ADDITIVE_VALUES`.
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
        ValueError: ``value`` does not add up over documents (coverage, percentages, quotes:
            compute them from this matrix and the case lengths, or in one process).
    """
    _check_value(value, ADDITIVE_VALUES, "case_by_code", "values that add up over documents")
    matrix, _ = _by_partition(codings, source, codebook, value, margins=margins, cases=False, client=client,
                              workers=workers, scheduler=scheduler, partition_size=partition_size, read=read,
                              timeout=timeout)  # fmt: skip
    assert matrix is not None
    return matrix


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
    _, table = _by_partition(None, source, codebook, None, margins=False, cases=True, client=client,
                             workers=workers, scheduler=scheduler, partition_size=partition_size, read=read,
                             timeout=timeout)  # fmt: skip
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
) -> dict[str, pd.DataFrame]:
    """The case matrices of ``qualcode code --workers``'s ``matrices.xlsx``, from one read of the partitions.

    The sheets, each equal to the sheet of the same name in a single-process run's
    ``matrices.xlsx`` (:func:`qualcode.reports.build_matrices`):

    * ``case x code (segments)``: codings per case and code, with the ``"All"`` margins;
    * ``case x code (presence)``: 1 where the case has the code;
    * ``code x ATTRIBUTE``: cases with the code per value of each case attribute the reports
      compare (2 to 12 values, not an id: :func:`qualcode.reports.report_attributes`);

    plus ``cases per attribute value`` (``attribute``, ``value``, ``cases``): the group sizes
    behind those tables.  Parents roll up their children (``aggregate="children"``).

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

    Returns:
        Sheet name -> table, in workbook order (for :func:`qualcode.reports.write_xlsx`).

    Raises:
        ClusterError: the scheduler is unreachable, or the cluster lost the run.
        IngestError: a streamed input is bad.
    """
    from ..reports import report_attributes

    seg, cases = _by_partition(codings, source, codebook, "n_segments", margins=True, cases=True, client=client,
                               workers=workers, scheduler=scheduler, partition_size=partition_size, read=read,
                               timeout=timeout)  # fmt: skip
    assert seg is not None and cases is not None
    inner = seg.drop(index=_ALL, columns=_ALL, errors="ignore")
    present = (inner > 0).astype("int64")
    present.attrs = {**seg.attrs, "value": "present", "margins": False}
    sheets = {"case x code (segments)": seg, "case x code (presence)": present}
    sizes = []
    for attribute in report_attributes(cases):
        table = code_by_attribute(present, cases, attribute, "n_cases")
        sheets[f"code x {attribute}"] = table
        sizes += [(attribute, group, n) for group, n in table.attrs["group_sizes"].items()]
    if sizes:
        sheets["cases per attribute value"] = pd.DataFrame(sizes, columns=["attribute", "value", "cases"])
    return sheets
