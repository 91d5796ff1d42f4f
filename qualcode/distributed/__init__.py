"""Code big corpora on a Dask cluster, with the codings of a single-process run.

Usage::

    import qualcode as qc
    from qualcode import distributed

    coder = qc.Coder(qc.Codebook.load("codebook.yaml"), unit="sentence", cache_dir="/shared/qualcode-cache")
    codings = distributed.code(coder, "answers.csv", workers=8)              # a LocalCluster here
    codings = distributed.code(coder, corpus, scheduler="tcp://head:8786")   # a running cluster
    codings = distributed.code(coder, "answers/", client=client)             # your own Client

or from the shell: ``qualcode code answers.csv --codebook cb.yaml --out results/ --workers 8``
(``--scheduler tcp://head:8786`` for a running cluster).  ``docs/scaling.md`` has the numbers
and a SLURM example.

Design (the passes, and what travels)
    Work is cut by document into partitions (:mod:`._sources`): a Corpus already in memory is
    sliced; files, folders and ``.csv``/``.jsonl``/``.xlsx`` response tables are *scanned*
    once on the client, streaming (one row or file name at a time: header, id column, language
    hint, where each partition starts), and each worker reads its own partitions from the
    shared paths.  The coder (parameters and learned classifiers, not the model) is sent to
    every worker once; each worker loads the embedder once per run.

    Everything :meth:`qualcode.Coder.code` computes is per document except the embedding
    calibration reference (:class:`qualcode.coding.Reference`), which takes the similarities
    of the coded segments at :func:`qualcode.coding.reference_rows` of the *whole* run.  So:

    1. *read*: workers read their partitions; the client gets document counts, attribute
       names (a codebook scope key is ignored only when the whole corpus lacks it) and id
       hashes (duplicate ids across inputs);
    2. *embed* (with embeddings): workers segment and embed their coded segments through the
       embedding cache, and keep the similarities; the client gets each partition's count of
       coded segments, works out which global rows are reference rows, and gathers only those
       (at most 2,000 rows x codes); one worker computes the reference;
    3. *code*: workers code their partitions with that reference (vectors come from the cache,
       nothing is embedded twice) and send back their machine codings; the client
       concatenates them in partition order (= corpus order) and merges the metadata.

    Rules-only runs skip pass 2.  Scores equal the single-process run's (same reference, same
    vectors); ``meta["distributed"]`` counts vectors embedded and found in the cache.

Embedding cache
    Workers write the cache folder of ``coder.cache_dir`` (shards with unique names, each
    written atomically: safe for concurrent writers, see :mod:`qualcode.backends`), which must
    be a folder every worker sees (a shared filesystem on a cluster).  A second run finds every
    vector and embeds nothing.  ``cache_dir=None`` keeps vectors in each worker's memory for
    the run.

Failures
    A worker that dies is replaced by its nanny and Dask runs its tasks again elsewhere (every
    task is a pure function of its partition's description); the codings are complete and the
    same.  An unreachable scheduler raises :class:`ClusterError` with one line.

Human codings and matrices
    To learn from human codings, the client needs only the documents they name:
    :func:`read_documents` streams the inputs one partition at a time and keeps those; fit
    the coder on them and pass ``human=`` to :func:`code` (human rows win, as in one
    process).  The case matrices are computed from the partitions too: each worker counts
    its own documents for :func:`case_by_code` and sends its cases' attributes for
    :func:`case_table`; the client adds them up (:func:`code_by_attribute` follows from
    both, :func:`build_matrices` gives all of them from one read).

Streaming reads are the same documents :func:`qualcode.read_corpus` makes (tested), with two
differences: duplicate document ids across inputs are an error (``read_corpus`` skips the
later file), and ``meta["corpus_fingerprint"]`` is None (``meta["sources"]`` lists the inputs).
"""

from __future__ import annotations

from ._matrices import (
    ADDITIVE_VALUES,
    ATTRIBUTE_VALUES,
    build_matrices,
    case_by_code,
    case_table,
    code_by_attribute,
)
from ._run import DEFAULT_PARTITION_SIZE, ClusterError, code, connect
from ._sources import (
    CorpusPart,
    FilesPart,
    ReadOptions,
    TablePart,
    load,
    read_documents,
    read_options,
    scan,
)

__all__ = [
    "ADDITIVE_VALUES",
    "ATTRIBUTE_VALUES",
    "DEFAULT_PARTITION_SIZE",
    "ClusterError",
    "CorpusPart",
    "FilesPart",
    "ReadOptions",
    "TablePart",
    "build_matrices",
    "case_by_code",
    "case_table",
    "code",
    "code_by_attribute",
    "connect",
    "load",
    "read_documents",
    "read_options",
    "scan",
]
