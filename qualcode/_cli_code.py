"""``qualcode code``: apply a codebook to a corpus and write codings, segments and run info.

Other commands (matrices, reports) can reuse :func:`run_coding`, which returns the corpus,
codebook and codings without writing anything.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path
from typing import Any

__all__ = ["register", "run", "run_coding", "write_outputs"]


def register(subparsers: Any) -> None:
    """Add the ``code`` subcommand."""
    p = subparsers.add_parser(
        "code",
        help="code a corpus with a codebook (rules + embeddings)",
        description="Code transcripts with a codebook and write DIR/codings.csv, DIR/segments.csv and DIR/run.json.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="transcript files or folders")
    p.add_argument("--codebook", required=True, metavar="FILE", help="codebook YAML")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--unit", default="sentence", choices=["sentence", "turn", "paragraph", "window"])
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--rules-only", action="store_true", help="no embeddings")
    mode.add_argument("--embeddings-only", action="store_true", help="no rules")
    p.add_argument("--model", metavar="NAME", help="embedder name or alias (e5, use, minilm-onnx, st:<folder>)")
    p.add_argument("--threshold", type=float, metavar="X", help="embedding score threshold in [0, 1]")
    p.add_argument("--top-k", type=int, metavar="K", help="at most K codes per segment")
    p.add_argument("--human", metavar="FILE", help="human codings (CSV/XLSX) to learn from; they win")
    p.add_argument("--cache", metavar="DIR", help="embedding cache folder")
    p.add_argument("--force", action="store_true", help="write into a non-empty DIR")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def _check_args(args: argparse.Namespace) -> None:
    from .errors import QualcodeError

    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        msg = f"--threshold must be a number in [0, 1]. Got {args.threshold} instead."
        raise QualcodeError(msg)
    if getattr(args, "top_k", None) is not None and args.top_k < 1:
        msg = f"--top-k must be >= 1. Got {args.top_k} instead."
        raise QualcodeError(msg)
    if not Path(args.codebook).is_file():
        msg = f"{args.codebook}: codebook file not found."
        raise QualcodeError(msg)
    for p in args.paths:
        if not Path(p).exists():
            msg = f"{p}: no such file or folder."
            raise QualcodeError(msg)
    if args.human and not Path(args.human).is_file():
        msg = f"{args.human}: human codings file not found."
        raise QualcodeError(msg)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        msg = f"{out} exists and is not a folder."
        raise QualcodeError(msg)
    if out.is_dir() and any(out.iterdir()) and not args.force:
        msg = f"{out} is not empty; refusing to overwrite it (pass --force)."
        raise QualcodeError(msg)


def run_coding(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """Read the corpus and codebook, (fit and) code; return ``(corpus, codebook, codings)``."""
    from ._codebook import Codebook
    from ._coder import Coder
    from .readers import read_corpus

    _check_args(args)
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        corpus = read_corpus(list(args.paths))
    codebook = Codebook.load(args.codebook)
    coder = Coder(
        codebook,
        unit=args.unit,
        embedder=args.model,
        threshold=args.threshold,
        rules=not args.embeddings_only,
        embeddings=not args.rules_only,
        top_k=getattr(args, "top_k", None),
        cache_dir=getattr(args, "cache", None),
        progress=not args.no_progress,
    )
    human = None
    if args.human:
        from ._codings_io import read_codings

        human = read_codings(args.human, corpus)
        coder.fit(corpus, human)
    codings = coder.code(corpus)
    codings.meta["settings"] = {
        k: getattr(args, k, None)
        for k in ("unit", "rules_only", "embeddings_only", "model", "threshold", "top_k", "human")
    }
    args._coder = coder
    return corpus, codebook, codings


def write_outputs(args: argparse.Namespace, corpus: Any, codebook: Any, codings: Any) -> Path:
    """Write ``codings.csv``, ``segments.csv`` and ``run.json`` into ``args.out``."""
    from ._io import atomic_path, atomic_write_text

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    codings.to_csv(out / "codings.csv")
    seg = corpus.segments(args.unit)
    with atomic_path(out / "segments.csv") as tmp:
        seg.to_csv(tmp, index=False)
    run_info = {
        "command": "code",
        "paths": [str(p) for p in args.paths],
        "codebook_path": str(args.codebook),
        **{k: v for k, v in codings.meta.items()},
        "corpus_fingerprint": corpus.fingerprint,
        "n_documents": len(corpus),
        "n_segments": len(seg),
        "n_codings": len(codings),
    }
    atomic_write_text(out / "run.json", json.dumps(run_info, indent=2, default=str) + "\n")
    return out


def run(args: argparse.Namespace) -> int:
    """Run ``qualcode code``; return the exit status."""
    corpus, codebook, codings = run_coding(args)
    out = write_outputs(args, corpus, codebook, codings)
    f = codings.to_frame()
    n_seg = len(corpus.segments(args.unit, attributes=False))
    print(f"{len(corpus)} documents, {n_seg} {args.unit} segments, {len(f)} codings -> {out}")
    if len(f):
        counts = f.groupby(["code", "source"]).size().unstack(fill_value=0)
        counts["total"] = counts.sum(axis=1)
        print(counts.sort_values("total", ascending=False).to_string())
    return 0
