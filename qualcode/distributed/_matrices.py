"""Case x code matrices computed partition by partition on the cluster.

A case x code count is a sum over documents, and partitions split the corpus by document, so
each worker computes :func:`qualcode.matrices.case_by_code` on its own documents and the client
adds the partial tables up: no process needs the whole text.  The result equals
``matrices.case_by_code(codings, corpus, value, codebook=...)`` computed in one process
(tested).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..codebook import Codebook
from ..codings import Codings
from ..corpus import Corpus
from ._sources import Part, ReadOptions, corpus_parts, scan
from ._tasks import Loaded

__all__ = ["ADDITIVE_VALUES", "case_by_code"]

#: cell values that add up over disjoint sets of documents (``present`` is combined with max)
ADDITIVE_VALUES: tuple[str, ...] = ("n_segments", "present", "n_docs", "n_chars", "n_words")


def matrix_part(loaded: Loaded, codebook: Codebook, missing: set[str], frame: pd.DataFrame, value: str) -> pd.DataFrame:
    """The case x code table of one partition's documents (in the codebook's scope)."""
    from .. import matrices

    part = loaded.in_scope(codebook, missing)
    mine = frame[frame["doc_id"].astype(str).isin(set(part.doc_ids))]
    return matrices.case_by_code(Codings(mine.reset_index(drop=True)), part, value, codebook=codebook)


def case_by_code(
    codings: Codings,
    source: Corpus | str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    codebook: Codebook,
    value: str = "n_segments",
    *,
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
        client: a ``distributed.Client`` to run on (as in :func:`qualcode.distributed.code`).
        workers: worker processes of a new LocalCluster.
        scheduler: address of a running Dask scheduler.
        partition_size: documents (files, or table rows) per partition.
        read: reading options for streamed inputs.
        timeout: seconds to wait for the scheduler.

    Returns:
        The matrix :func:`qualcode.matrices.case_by_code` gives for the whole corpus (without
        margins).

    Raises:
        ValueError: ``value`` does not add up over documents (coverage, percentages, quotes:
            compute them from this matrix and the case lengths, or in one process).
    """
    from ._run import DEFAULT_PARTITION_SIZE, connect, read_stage

    if value not in ADDITIVE_VALUES:
        msg = (f"The 'value' parameter of distributed.case_by_code must be one of {list(ADDITIVE_VALUES)} "
               f"(values that add up over documents). Got {value!r} instead.")  # fmt: skip
        raise ValueError(msg)
    size = int(partition_size or DEFAULT_PARTITION_SIZE)
    parts: list[Part]
    if isinstance(source, Corpus):
        parts, opts = list(corpus_parts(source, size)), ReadOptions()
    else:
        parts, opts = scan(source, partition_size=size, options=read)
    frame = codings.to_frame()
    with connect(client, workers=workers, scheduler=scheduler, timeout=timeout) as cl:
        opts_f = cl.scatter(opts, broadcast=True, hash=False)  # referenced until the end (retries)
        loaded, _infos, missing, _n = read_stage(cl, codebook, parts, opts_f, token=f"matrix-{value}", show=False,
                                                 hook=None)  # fmt: skip
        cb_f = cl.scatter(codebook, broadcast=True, hash=False)
        frame_f = cl.scatter(frame, broadcast=True, hash=False)
        pieces = cl.gather([cl.submit(matrix_part, f, cb_f, missing, frame_f, value) for f in loaded])
    pieces = [p for p in pieces if len(p.index) or len(p.columns)]
    if not pieces:
        return pd.DataFrame()
    attrs = {k: v for k, v in pieces[0].attrs.items() if isinstance(v, (str, int, float, bool, list, dict))}
    for p in pieces:
        p.attrs = {}  # partition metadata (selections, sizes) does not add up; concat compares it
    columns = list(dict.fromkeys(c for p in pieces for c in p.columns))
    table = pd.concat([p.reindex(columns=columns, fill_value=0) for p in pieces])
    how = "max" if value == "present" else "sum"
    out = table.groupby(level=0, sort=False).agg(how)
    out.index.name = pieces[0].index.name
    out.columns.name = pieces[0].columns.name
    out.attrs = {**attrs, "value": value, "partitions": len(parts)}
    return out
