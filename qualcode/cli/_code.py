"""``qualcode code``: the main job: ingest, auto-code, matrices, figures and reports.

Outputs (in ``--out DIR``): ``codings.csv``, ``segments.csv``, ``matrices.xlsx``,
``figures/*.png``, ``report.docx``, ``report.html`` and ``run.json``.  When the corpus has
PDF sources, ``codings.csv`` and ``segments.csv`` carry ``page`` and ``page_end``, and the
quotes of the framework matrix and the reports cite their page (``p. 12``).  The run claims ``DIR``
before it starts (a second run on the same ``DIR`` stops at once), builds everything in a
temporary folder beside it and moves it into place in one step at the end, so an interrupted
or killed run leaves either no ``DIR`` or the previous one intact, and no temporary folder
(``qualcode/cli/_io.py``); an existing ``DIR`` is only replaced with ``--force``.

Other commands can reuse :func:`run_coding`, which returns the corpus, codebook and codings
without writing anything.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from ..readers._registry import formats_help
from ._ingest import positive_int

_EPILOG = """\
examples:
  qualcode code transcripts_sample/ --codebook codebooks/technocratic_planning.yaml --out results/
  qualcode code interviews/ --codebook cb.yaml --out results/ --rules-only --no-reports
  qualcode code interviews/ --codebook cb.yaml --out results/ --human my_codings.csv --force
  qualcode code answers.csv --codebook cb.yaml --out results/ --workers 8
  qualcode code answers.jsonl --codebook cb.yaml --out results/ --scheduler tcp://head-node:8786

outputs: codings.csv, segments.csv, matrices.xlsx, figures/*.png, report.docx, report.html,
run.json. The embedding cache lives in $QUALCODE_CACHE_DIR (default ~/.cache/qualcode);
--no-cache keeps it in memory.

formats read (by file suffix):
"""

__all__ = ["register", "run", "run_coding", "write_outputs"]


def register(subparsers: Any) -> None:
    """Add the ``code`` subcommand."""
    p = subparsers.add_parser(
        "code",
        help="the main job: code a corpus with a codebook and write matrices and reports",
        description=(
            "Ingest transcripts, code them with a codebook (spaCy rules + sentence embeddings, "
            "optionally learning from human codings), and write codings, theme matrices, figures "
            "and reports into DIR."
        ),
        epilog=_EPILOG + formats_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="transcript files or folders")
    p.add_argument("--codebook", required=True, metavar="FILE", help="codebook YAML")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--unit", default="passage", choices=["passage", "sentence", "turn", "paragraph", "window"],
                   help="what one coding covers (default: passage: adjacent coded sentences of one speaker merged)")
    p.add_argument("--roles", default="informants", type=_roles, metavar="ROLES",
                   help="speaker roles to code: informants (default: respondents, participants and "
                        "unlabelled turns), all, or a comma-separated list such as respondent,participant")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--rules-only", action="store_true", help="no embeddings")
    mode.add_argument("--embeddings-only", action="store_true", help="no rules")
    p.add_argument("--model", metavar="NAME", help="embedder name or alias (e5, use, minilm-onnx, st:<folder>)")
    p.add_argument("--threshold", type=float, metavar="X", help="embedding score threshold in [0, 1]")
    p.add_argument("--top-k", type=positive_int, metavar="K", help="at most K codes per segment")
    p.add_argument("--human", metavar="FILE", help="human codings (CSV/XLSX) to learn from; they win")
    p.add_argument("--cache", metavar="DIR", help="embedding cache folder (default: $QUALCODE_CACHE_DIR or ~/.cache/qualcode)")
    p.add_argument("--no-cache", action="store_true", help="keep embeddings in memory only")
    p.add_argument("--no-reports", action="store_true", help="only codings.csv, segments.csv and run.json")
    p.add_argument("--quotes", type=int, default=3, metavar="K", help="exemplar quotes per code in the report (default 3)")
    p.add_argument("--force", action="store_true", help="replace an existing results folder")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def _roles(value: str) -> str | list[str]:
    """``--roles``: ``informants``, ``all`` or a comma-separated list of roles."""
    from ..corpus import ROLES

    v = value.strip().lower()
    if v in ("informants", "all"):
        return v
    roles = [r.strip() for r in v.split(",") if r.strip()]
    bad = [r for r in roles if r not in ROLES]
    if not roles or bad:
        msg = f"--roles must be informants, all, or a comma-separated list among {', '.join(ROLES)}. Got {value!r}."
        raise argparse.ArgumentTypeError(msg)
    return roles


def _check_args(args: argparse.Namespace) -> None:
    from ..errors import QualcodeError

    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        msg = f"--threshold must be a number in [0, 1]. Got {args.threshold} instead."
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
    if getattr(args, "quotes", 1) < 0:
        msg = f"--quotes must be >= 0. Got {args.quotes} instead."
        raise QualcodeError(msg)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        msg = f"{out} exists and is not a folder."
        raise QualcodeError(msg)
    if out.is_dir() and any(out.iterdir()):
        if not args.force:
            msg = f"{out} already exists and is not empty; refusing to overwrite it (pass --force to replace it)."
            raise QualcodeError(msg)
        if not (out / "run.json").is_file():
            msg = (
                f"{out} is not a qualcode results folder (it has no run.json); --force only "
                "replaces earlier results. Choose another --out folder."
            )
            raise QualcodeError(msg)


def _cache_dir(args: argparse.Namespace) -> Path | None:
    if getattr(args, "no_cache", False):
        return None
    if getattr(args, "cache", None):
        return Path(args.cache)
    from .._io import default_cache_dir

    return default_cache_dir()


def _stage(message: str, args: argparse.Namespace) -> None:
    if not getattr(args, "no_progress", False):
        print(f"qualcode: {message}", file=sys.stderr, flush=True)


def make_coder(args: argparse.Namespace) -> tuple[Any, Any]:
    """The codebook of ``--codebook`` and a Coder with the command line's settings."""
    from ..codebook._codebook import Codebook
    from ..coding._coder import Coder
    from ..errors import QualcodeError

    codebook = Codebook.load(args.codebook)
    if not codebook.codes:
        msg = f"{args.codebook}: the codebook has no codes; nothing to code with."
        raise QualcodeError(msg)
    coder = Coder(
        codebook,
        unit=args.unit,
        roles=getattr(args, "roles", "informants"),
        embedder=args.model,
        threshold=args.threshold,
        rules=not args.embeddings_only,
        embeddings=not args.rules_only,
        top_k=getattr(args, "top_k", None),
        cache_dir=_cache_dir(args),
        progress=not args.no_progress,
    )
    return codebook, coder


def run_coding(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """Read the corpus and codebook, (fit and) code; return ``(corpus, codebook, codings)``."""
    from ..errors import QualcodeError
    from ..readers import read_corpus

    _check_args(args)
    _stage(f"reading {', '.join(map(str, args.paths))}", args)
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        corpus = read_corpus(list(args.paths))
    if len(corpus) == 0:
        msg = f"no documents with text found in {', '.join(map(str, args.paths))}; nothing to code."
        raise QualcodeError(msg)
    codebook, coder = make_coder(args)
    n_read = len(corpus)
    corpus = coder.in_scope(corpus)  # matrices, figures and reports count only these documents
    if len(corpus) == 0:
        msg = f"{args.codebook}: no document matches the codebook's scope ({_scope_text(codebook)}); nothing to code."
        raise QualcodeError(msg)
    if len(corpus) < n_read:
        _stage(f"codebook scope {_scope_text(codebook)}: {len(corpus)} of {n_read} documents are coded", args)
    _stage(f"coding {len(corpus)} documents with {codebook.name} v{codebook.version}", args)
    human = None
    if args.human:
        from ..codings._read import read_codings

        human = read_codings(args.human, corpus)
        _stage(f"learning from {len(human)} human codings in {args.human}", args)
        coder.fit(corpus, human)
    codings = coder.code(corpus, human=human)
    codings.meta["documents"] = {**codings.meta.get("documents", {}), "read": n_read}
    codings.meta["settings"] = {
        k: getattr(args, k, None)
        for k in ("unit", "roles", "rules_only", "embeddings_only", "model", "threshold", "top_k", "human")
    }
    codings.meta["embedding_cache"] = str(coder.cache_dir) if coder.cache_dir else "memory"
    return corpus, codebook, codings


def _scope_text(codebook: Any) -> str:
    return ", ".join(f"{k}={'|'.join(v)}" for k, v in codebook.scope.items()) or "none"


def _segment_unit(args: argparse.Namespace) -> str:
    """The corpus unit behind the codings (passages are merged from sentences)."""
    return "sentence" if args.unit == "passage" else args.unit


def write_outputs(args: argparse.Namespace, corpus: Any, codebook: Any, codings: Any,
                  claim: Any = None) -> Path:
    """Write every output into ``args.out`` (atomically, via a temporary sibling folder).

    Args:
        args: the parsed command line.
        corpus: the corpus coded.
        codebook: the codebook.
        codings: the codings.
        claim: the :class:`~qualcode.cli._io.OutputClaim` of ``args.out`` (taken here when
            None).

    Returns:
        The results folder.
    """
    if claim is None:
        from ._io import OutputClaim

        with _claim(args) as own:
            assert isinstance(own, OutputClaim)
            return write_outputs(args, corpus, codebook, codings, own)
    from .._io import atomic_write_text, write_csv
    from ..codings._pages import page_columns

    tmp = claim.build_folder()
    started = time.perf_counter()
    seg = corpus.segments(_segment_unit(args))
    codings = codings.with_pages(corpus)  # page and page_end of PDF sources (no-op otherwise)
    codings.to_csv(tmp / "codings.csv")
    write_csv(page_columns(seg, corpus), tmp / "segments.csv")
    run_info: dict[str, Any] = {
        "command": "code",
        "paths": [str(p) for p in args.paths],
        "codebook_path": str(args.codebook),
        **dict(codings.meta),
        "corpus_fingerprint": corpus.fingerprint,
        "n_documents": len(corpus),
        "n_segments": len(seg),
        "n_codings": len(codings),
        "outputs": ["codings.csv", "segments.csv", "run.json"],
    }
    if not getattr(args, "no_reports", False):
        run_info["outputs"] += _write_reports(args, tmp, corpus, codebook, codings, run_info)
    run_info["seconds_writing"] = round(time.perf_counter() - started, 2)
    atomic_write_text(tmp / "run.json", json.dumps(run_info, indent=2, default=str) + "\n")
    return claim.commit(tmp)


def _claim(args: argparse.Namespace) -> Any:
    """The exclusive claim on ``--out`` (see ``qualcode/cli/_io.py``)."""
    from ._io import OutputClaim

    def replaceable(out: Path) -> str | None:
        if (out / "run.json").is_file():
            return None
        return (f"{out} is not a qualcode results folder (it has no run.json); --force only "
                "replaces earlier results. Choose another --out folder.")

    return OutputClaim(args.out, force=getattr(args, "force", False), replaceable=replaceable, command="code")


def _write_reports(
    args: argparse.Namespace, folder: Path, corpus: Any, codebook: Any, codings: Any, run_info: dict[str, Any]
) -> list[str]:
    from .. import reports

    _stage("building matrices and figures", args)
    settings = dict(run_info)
    settings["rules"] = not args.embeddings_only
    settings["embeddings"] = not args.rules_only
    report, sheets = reports.build_report(
        corpus, codebook, codings, settings=settings, figures_dir=folder / "figures",
        quotes=args.quotes,
    )
    _stage("writing matrices.xlsx, report.docx and report.html", args)
    reports.write_xlsx(folder / "matrices.xlsx", sheets)
    reports.write_docx(folder / "report.docx", report)
    reports.write_html(folder / "report.html", report)
    figures = sorted(p.name for p in (folder / "figures").glob("*.png"))
    return ["matrices.xlsx", "report.docx", "report.html"] + [f"figures/{f}" for f in figures]


def run(args: argparse.Namespace) -> int:
    """Run ``qualcode code``; return the exit status."""
    started = time.perf_counter()
    _check_args(args)
    with _claim(args) as claim:  # before the work: a second run on --out stops at once
        corpus, codebook, codings = run_coding(args)
        out = write_outputs(args, corpus, codebook, codings, claim)
    f = codings.to_frame()
    seg = corpus.segments(_segment_unit(args), attributes=False)
    docs = codings.meta.get("documents", {})
    scope = f" (of {docs['read']} read; codebook scope {_scope_text(codebook)})" if docs.get("read", len(corpus)) > len(corpus) else ""
    print(f"\nqualcode {codebook.name} v{codebook.version}: {len(corpus)} documents{scope}, {len(corpus.cases)} cases, "
          f"{len(seg)} {_segment_unit(args)}s, {len(f)} {args.unit} codings in {time.perf_counter() - started:.0f} s")
    turns = codings.meta.get("turns_by_role") or {}
    if turns:
        coded = ", ".join(f"{r} {n['coded']}" for r, n in turns.items() if n["coded"])
        skipped = ", ".join(f"{r} {n['not_coded']}" for r, n in turns.items() if n["not_coded"])
        print(f"turns coded: {coded or 'none'}" + (f"; not coded (context only): {skipped}" if skipped else ""))
    if len(f):
        counts = f.groupby(["code", "source"]).size().unstack(fill_value=0)
        counts["total"] = counts.sum(axis=1)
        counts["cases"] = f.groupby("code")["case_id"].nunique()
        order = [c.id for c in codebook.codes if c.id in counts.index]
        print(counts.loc[order].to_string())
    print(f"\nresults in {out}/:")
    info = json.loads((out / "run.json").read_text(encoding="utf-8"))
    for name in info.get("outputs", []):
        if not name.startswith("figures/"):
            print(f"  {name}")
    n_fig = sum(1 for n in info.get("outputs", []) if n.startswith("figures/"))
    if n_fig:
        print(f"  figures/ ({n_fig} PNG files)")
    return 0
