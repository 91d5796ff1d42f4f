"""``qualcode export`` and ``qualcode import``: REFI-QDA projects (.qdpx)."""

from __future__ import annotations

import argparse
import logging
import re
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from .._io import atomic_path, atomic_write_text, write_csv
from ..errors import ExportError

__all__ = ["register", "run_export", "run_import"]

log = logging.getLogger("qualcode")

_EXPORT_HELP = """\
examples:
  qualcode export transcripts_sample/ --codebook codebooks/technocratic_planning.yaml --qdpx project.qdpx
  qualcode export transcripts_sample/ --codebook cb.yaml --codings gold_codings.csv --qdpx p.qdpx --force
  qualcode export transcripts_sample/ --codebook cb.yaml --qdpx for_nvivo.qdpx --target nvivo
"""
_IMPORT_HELP = """\
examples:
  qualcode import project.qdpx --out imported/
  qualcode import nvivo_export.qdpx --out imported/ --lenient

The folder gets one UTF-8 .txt per document, cases.csv (a sidecar that `qualcode ingest`
reads back), codebook.yaml and codings.csv.
"""


def register(subparsers: Any) -> None:
    """Add the ``export`` and ``import`` subcommands."""
    e = subparsers.add_parser(
        "export",
        help="export transcripts, codebook and codings as a REFI-QDA project (.qdpx)",
        description="Write a .qdpx project for NVivo, ATLAS.ti, MAXQDA or QualCoder.",
        epilog=_EXPORT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    e.add_argument("path", metavar="PATH", help="transcript folder or file(s) to export")
    e.add_argument("--codebook", required=True, metavar="CB", help="the YAML codebook")
    e.add_argument("--codings", metavar="CSV", help="codings to include (read with read_codings)")
    e.add_argument("--qdpx", required=True, metavar="OUT", help="the .qdpx file to write")
    e.add_argument("--name", help="project name (default: the folder name)")
    e.add_argument("--offsets", choices=["codepoint", "utf16"],
                   help="how selection positions count: Unicode code points (the REFI-QDA spec, "
                        "default) or UTF-16 code units (emoji take two)")
    e.add_argument("--target", choices=["nvivo", "atlasti", "maxqda", "qualcoder"],
                   help="write the offsets, line ends and BOM this tool counts (see "
                        "qualcode/refi/_targets.py for the evidence behind each preset)")
    e.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    e.set_defaults(func=run_export)

    i = subparsers.add_parser(
        "import",
        help="import a REFI-QDA project (.qdpx) as texts, cases.csv, codebook.yaml, codings.csv",
        description="Read a .qdpx from NVivo, ATLAS.ti, MAXQDA, QualCoder or qualcode.",
        epilog=_IMPORT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    i.add_argument("input", metavar="IN.qdpx")
    i.add_argument("--out", required=True, metavar="DIR", help="folder to write into")
    i.add_argument("--lenient", action="store_true",
                   help="drop selections that cannot be mapped (with a warning) instead of failing")
    i.add_argument("--force", action="store_true", help="replace DIR if it holds an earlier import")
    i.set_defaults(func=run_import)


def run_export(args: argparse.Namespace) -> int:
    """Run ``qualcode export``."""
    from .. import read_codings, read_corpus
    from ..codebook._codebook import Codebook
    from ..errors import IngestError
    from ..refi import write_qdpx
    from ..refi._targets import export_convention
    from ._io import OutputClaim

    if Path(args.qdpx).exists() and not args.force:  # before reading anything
        msg = f"{args.qdpx} already exists; refusing to overwrite it (pass --force)."
        raise ExportError(msg)
    corpus = read_corpus(args.path)
    if len(corpus) == 0:
        msg = "no documents with text found; nothing to export."
        raise IngestError(msg, path=args.path)
    codebook = Codebook.load(args.codebook)
    codings = read_codings(args.codings, corpus) if args.codings else None
    name = args.name or Path(args.path).resolve().name
    offsets, target = getattr(args, "offsets", None), getattr(args, "target", None)
    with OutputClaim(args.qdpx, force=args.force, kind="file", command="export") as claim:
        built = claim.build_file()
        write_qdpx(built, corpus, codebook, codings, overwrite=True, name=name, offsets=offsets, target=target)
        out = claim.commit(built)
    n = 0 if codings is None else len(codings)
    conv = export_convention(offsets, target)
    print(f"wrote {out}: {len(corpus)} documents, {len(codebook)} codes, {n} codings; offsets {conv.label}"
          + (f" (for {target})" if target else ""))
    return 0


_UNSAFE = re.compile(r"[^\w\-. ]+", re.UNICODE)


def _file_stem(doc_id: str, taken: set[str]) -> str:
    stem = _UNSAFE.sub("_", doc_id).strip(" .") or "document"
    base, k = stem, 2
    while stem.lower() in taken:
        stem, k = f"{base}_{k}", k + 1
    taken.add(stem.lower())
    return stem


def _earlier_import(out: Path) -> str | None:
    """None when ``out`` is a folder ``qualcode import`` wrote (``--force`` may replace it)."""
    if (out / ".qualcodeignore").is_file() and (out / "codings.csv").is_file():
        return None
    return (f"{out} is not a folder written by qualcode import; --force only replaces an earlier "
            "import. Choose another --out folder.")


def run_import(args: argparse.Namespace) -> int:
    """Run ``qualcode import``."""
    from ..refi import read_qdpx
    from ._io import OutputClaim

    with OutputClaim(args.out, force=args.force, replaceable=_earlier_import, command="import") as claim:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            project = read_qdpx(args.input, strict=not args.lenient)
        for w in caught:
            print(f"qualcode: warning: {w.message}")
        out = claim.build_folder()
        _write_import(project, out)
        final = claim.commit(out)
    counts = Counter(project.conventions.values())
    conv = ", ".join(f"{v} x{n}" for v, n in sorted(counts.items())) or "none"
    print(
        f"imported {args.input} ({project.origin or 'unknown tool'}): {len(project.corpus)} documents, "
        f"{len(project.codes)} codes, {len(project.codings)} codings, users {project.users}; "
        f"offsets {conv}; written to {final}"
    )
    return 0


def _write_import(project: Any, out: Path) -> None:
    """Write the texts, cases.csv, codebook.yaml and codings.csv of ``project`` into ``out``."""
    taken: set[str] = set()
    stems = {d.doc_id: _file_stem(d.doc_id, taken) for d in project.corpus}
    cases = project.corpus.cases
    rows: list[dict[str, Any]] = []
    for d in project.corpus:
        atomic_write_text(out / f"{stems[d.doc_id]}.txt", d.text)
        row: dict[str, Any] = {"doc_id": stems[d.doc_id], "speaker": None, "case_id": d.case_id,
                               "kind": d.kind, "language": d.language}
        if d.case_id in cases.index:
            row.update(cases.loc[d.case_id].to_dict())
        rows.append(row)
        for t in d.turns:
            if t.case_id and t.case_id != d.case_id:
                srow: dict[str, Any] = {"doc_id": stems[d.doc_id], "speaker": t.speaker, "case_id": t.case_id}
                if t.case_id in cases.index:
                    srow.update(cases.loc[t.case_id].to_dict())
                if srow not in rows:
                    rows.append(srow)
    if rows:
        table = pd.DataFrame(rows)
        if table["speaker"].isna().all():
            table = table.drop(columns=["speaker"])
        with atomic_path(out / "cases.csv") as tmp:
            table.to_csv(tmp, index=False)
    if project.codebook is not None:
        project.codebook.save(out / "codebook.yaml")
    frame = project.codings.to_frame()
    frame["doc_id"] = frame["doc_id"].map(lambda x: stems.get(x, x))
    frame["segment_id"] = frame["doc_id"] + "@" + frame["start"].astype(str) + "-" + frame["end"].astype(str)
    write_csv(frame, out / "codings.csv")
    # so that `qualcode ingest DIR` / read_corpus(DIR) reads the texts only
    atomic_write_text(out / ".qualcodeignore", "codings.csv\ncodebook.yaml\n")
