"""``qualcode code ... --workers N`` / ``--scheduler ADDR``: the main job on a Dask cluster.

The inputs are streamed into partitions that the workers read (:mod:`qualcode.distributed`),
so the text is never all in this process.  Outputs (in ``--out DIR``, swapped into place like
the single-process job): ``codings.csv``, ``codes.xlsx`` (per code: codings by source,
documents and cases; computed from the codings, which is all the client holds) and
``run.json``.  ``segments.csv``, the case matrices, figures and reports need the whole corpus
in one process: run the single-process job (or build them in Python) on a corpus that fits.
"""

from __future__ import annotations

import argparse
import json
import time
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
    from ..errors import QualcodeError

    started = time.perf_counter()
    _check_args(args)
    if args.human:
        msg = "--human is not supported with --workers/--scheduler yet: fit the coder in Python and pass it to qualcode.distributed.code"
        raise QualcodeError(msg)
    codebook, coder = make_coder(args)
    with _claim(args) as claim:  # before the work: a second run on --out stops at once
        where = args.scheduler or f"a local cluster of {args.workers} workers"
        _stage(f"coding {', '.join(map(str, args.paths))} with {codebook.name} v{codebook.version} on {where}", args)
        codings = distributed.code(
            coder, list(args.paths), workers=args.workers, scheduler=args.scheduler,
            partition_size=args.partition_size, progress=not args.no_progress, timeout=args.scheduler_timeout,
        )  # fmt: skip
        codings.meta["settings"] = {
            k: getattr(args, k, None)
            for k in ("unit", "roles", "rules_only", "embeddings_only", "model", "threshold", "top_k",
                      "workers", "scheduler", "partition_size")
        }  # fmt: skip
        codings.meta["embedding_cache"] = str(coder.cache_dir) if coder.cache_dir else "memory"
        out = _write(args, codings, codebook, claim)
    f = codings.to_frame()
    docs = codings.meta.get("documents", {})
    dist = codings.meta.get("distributed", {})
    print(f"\nqualcode {codebook.name} v{codebook.version}: {docs.get('in_scope')} documents coded "
          f"(of {docs.get('total')} read), {len(f)} {args.unit} codings in {time.perf_counter() - started:.0f} s "
          f"on {dist.get('workers')} workers, {dist.get('partitions')} partitions; "
          f"{dist.get('embedded', 0)} texts embedded, {dist.get('cached', 0)} found in the cache")  # fmt: skip
    if len(f):
        print(_codes_table(f, codebook).to_string())
    print(f"\nresults in {out}/: codings.csv, codes.xlsx, run.json")
    return 0


def _codes_table(f: pd.DataFrame, codebook: Any) -> pd.DataFrame:
    counts = f.groupby(["code", "source"]).size().unstack(fill_value=0)
    counts["total"] = counts.sum(axis=1)
    counts["documents"] = f.groupby("code")["doc_id"].nunique()
    counts["cases"] = f.groupby("code")["case_id"].nunique()
    order = [c.id for c in codebook.codes if c.id in counts.index]
    return counts.loc[order]


def _write(args: argparse.Namespace, codings: Any, codebook: Any, claim: Any) -> Path:
    from .. import reports
    from .._io import atomic_write_text

    tmp = claim.build_folder()
    codings.to_csv(tmp / "codings.csv")
    f = codings.to_frame()
    table = _codes_table(f, codebook) if len(f) else pd.DataFrame()
    reports.write_xlsx(tmp / "codes.xlsx", {"codes": table})
    info = {"command": "code", "paths": [str(p) for p in args.paths], "codebook_path": str(args.codebook),
            **dict(codings.meta), "n_codings": len(f), "outputs": ["codings.csv", "codes.xlsx", "run.json"]}  # fmt: skip
    atomic_write_text(tmp / "run.json", json.dumps(info, indent=2, default=str) + "\n")
    return claim.commit(tmp)
