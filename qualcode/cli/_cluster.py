"""``qualcode code ... --workers N`` / ``--scheduler ADDR``: the main job on a Dask cluster.

The inputs are streamed into partitions that the workers read (:mod:`qualcode.distributed`),
so the text is never all in this process.  One cluster serves the whole run (a LocalCluster
of ``--workers`` processes, started once, or the running cluster at ``--scheduler``):

1. ``--human FILE``: this process streams the inputs one partition at a time and keeps only
   the documents the human codings name (:func:`qualcode.distributed.read_documents`),
   reads the codings against them (ids, offsets and quotes checked as in one process) and
   fits the coder on them; the human rows win over the machine's;
2. the workers code their partitions (:func:`qualcode.distributed.code`);
3. the workers read their partitions again and count their part of the case matrices and
   send their cases' attributes; this process adds them up
   (:func:`qualcode.distributed.build_matrices`).

Outputs (in ``--out DIR``, swapped into place like the single-process job): ``codings.csv``,
``codes.xlsx`` (per code: codings by source, documents and cases), ``matrices.xlsx`` (case
× code codings with margins, coverage % and presence, code × case attribute: cases with the
code per value, co-occurrence counts and c-coefficients, and the cases per value; each sheet
equals the single-process sheet of the same name) and ``run.json``.  ``--no-reports`` leaves
out ``matrices.xlsx``.  ``segments.csv``, the framework matrix (quotes), figures and reports
need the whole corpus in one process: run the single-process job (or build them in Python) on
a corpus that fits.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from ._code import _check_args, _claim, _stage, make_coder
from ._code import run as run_single

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the cluster options to the ``code`` subcommand (registered before) and route it here."""
    from ._ingest import positive_int

    p = subparsers.choices["code"]
    g = p.add_argument_group("cluster (Dask; pip install 'qualcode[dask]')")
    where = g.add_mutually_exclusive_group()
    where.add_argument("--workers", type=positive_int, metavar="N",
                       help="code on a local Dask cluster of N worker processes (one per core)")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="code on a running Dask cluster, e.g. tcp://head-node:8786 (the workers must see "
                            "the input paths and the --cache folder)")
    g.add_argument("--scheduler-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="how long to wait for --scheduler (default 10)")
    g.add_argument("--partition-size", type=positive_int, metavar="N",
                   help="documents (files or table rows) per partition (default 2000)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``qualcode code``: on a cluster with ``--workers``/``--scheduler``, else in this process."""
    if not (args.workers or args.scheduler):
        return run_single(args)
    from .. import distributed

    started = time.perf_counter()
    _check_args(args)
    codebook, coder = make_coder(args)
    paths = list(args.paths)
    with _claim(args) as claim:  # before the work: a second run on --out stops at once
        human = _learn(args, coder, paths) if args.human else None
        where = args.scheduler or f"a local cluster of {args.workers} workers"
        with distributed.connect(workers=args.workers, scheduler=args.scheduler,
                                 timeout=args.scheduler_timeout) as client:  # fmt: skip
            _stage(f"coding {', '.join(map(str, paths))} with {codebook.name} v{codebook.version} on {where}", args)
            codings = distributed.code(coder, paths, client=client, partition_size=args.partition_size,
                                       human=human, progress=not args.no_progress)  # fmt: skip
            sheets = None
            if not args.no_reports:
                _stage("counting the case matrices on the workers", args)
                sheets = distributed.build_matrices(codings, paths, codebook, client=client,
                                                    partition_size=args.partition_size,
                                                    progress=not args.no_progress)  # fmt: skip
        codings.meta["settings"] = {
            k: getattr(args, k, None)
            for k in ("unit", "roles", "rules_only", "embeddings_only", "model", "threshold", "top_k", "human",
                      "workers", "scheduler", "partition_size")
        }  # fmt: skip
        codings.meta["embedding_cache"] = str(coder.cache_dir) if coder.cache_dir else "memory"
        out, outputs = _write(args, codings, codebook, claim, sheets)
    f = codings.to_frame()
    docs = codings.meta.get("documents", {})
    dist = codings.meta.get("distributed", {})
    print(f"\nqualcode {codebook.name} v{codebook.version}: {docs.get('in_scope')} documents coded "
          f"(of {docs.get('total')} read), {len(f)} {args.unit} codings in {time.perf_counter() - started:.0f} s "
          f"on {dist.get('workers')} workers, {dist.get('partitions')} partitions; "
          f"{dist.get('embedded', 0)} texts embedded, {dist.get('cached', 0)} found in the cache")  # fmt: skip
    if len(f):
        print(_codes_table(f, codebook).to_string())
    print(f"\nresults in {out}/: {', '.join(outputs)}")
    return 0


def _learn(args: argparse.Namespace, coder: Any, paths: list[Any]) -> Any:
    """Read ``--human`` against the documents it names (streamed, one partition at a time) and fit ``coder``."""
    from .. import distributed
    from ..codings._read import coded_doc_ids, read_codings
    from ..errors import QualcodeError

    ids = coded_doc_ids(args.human)
    _stage(f"reading the {len(ids)} documents named in {args.human} from {', '.join(map(str, paths))}", args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # files skipped while reading are reported once, by the coding run
        subset = distributed.read_documents(paths, ids, partition_size=args.partition_size)
    lost = [i for i in ids if i not in subset]
    if lost:
        shown = ", ".join(repr(i) for i in lost[:5]) + (f" and {len(lost) - 5} more" if len(lost) > 5 else "")
        msg = (f"{args.human}: {len(lost)} document id(s) of the human codings are in no input: {shown}; "
               "check the doc_id column against the documents' ids (for a table: FILE-STEM:ROW-ID)")  # fmt: skip
        raise QualcodeError(msg)
    subset = coder.in_scope(subset)  # as in one process: human codings only on documents the codebook codes
    human = read_codings(args.human, subset)
    _stage(f"learning from {len(human)} human codings in {args.human} ({len(subset)} documents)", args)
    coder.fit(subset, human)
    return human


def _codes_table(f: pd.DataFrame, codebook: Any) -> pd.DataFrame:
    counts = f.groupby(["code", "source"]).size().unstack(fill_value=0)
    counts["total"] = counts.sum(axis=1)
    counts["documents"] = f.groupby("code")["doc_id"].nunique()
    counts["cases"] = f.groupby("code")["case_id"].nunique()
    order = [c.id for c in codebook.codes if c.id in counts.index]
    return counts.loc[order]


def _write(args: argparse.Namespace, codings: Any, codebook: Any, claim: Any,
           sheets: dict[str, pd.DataFrame] | None) -> tuple[Path, list[str]]:  # fmt: skip
    from .. import reports
    from .._io import atomic_write_text

    tmp = claim.build_folder()
    codings.to_csv(tmp / "codings.csv")
    f = codings.to_frame()
    table = _codes_table(f, codebook) if len(f) else pd.DataFrame()
    reports.write_xlsx(tmp / "codes.xlsx", {"codes": table})
    outputs = ["codings.csv", "codes.xlsx"]
    if sheets is not None:
        reports.write_xlsx(tmp / "matrices.xlsx", sheets)
        outputs.append("matrices.xlsx")
    outputs.append("run.json")
    info = {"command": "code", "paths": [str(p) for p in args.paths], "codebook_path": str(args.codebook),
            **dict(codings.meta), "n_codings": len(f), "outputs": outputs}  # fmt: skip
    atomic_write_text(tmp / "run.json", json.dumps(info, indent=2, default=str) + "\n")
    return claim.commit(tmp), outputs
