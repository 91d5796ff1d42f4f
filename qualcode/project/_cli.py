"""``qualcode project create|import|export|show``: the project database from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["register", "run"]

_HELP = """\
examples:
  qualcode project create study.qcproj --from results/
  qualcode project create study.qcproj --from transcripts_sample/ --codebook codebooks/technocratic_planning.yaml
  qualcode project create nvivo.qcproj --from exported.qdpx --rules-only
  qualcode project import study.qcproj my_codings.csv --coder ana
  qualcode project export study.qcproj --qdpx study.qdpx
  qualcode project export study.qcproj --csv codings.csv --folder study_files/
  qualcode project show study.qcproj

PATH may be a transcript folder, a results/ folder of `qualcode code` (its run.json names the
transcripts and the codebook), a .qdpx project, a codings CSV/XLSX, or a folder written by
`qualcode project export --folder`.  Then: qualcode serve study.qcproj
"""


def register(subparsers: Any) -> None:
    """Add the ``project`` subcommand and its actions."""
    p = subparsers.add_parser(
        "project", help="create, import into, export and show a project database (.qcproj)",
        description="A project holds documents, codebook versions, codings (human and machine, with their "
                    "review status), memos and review decisions in one SQLite file.",
        epilog=_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    c = sub.add_parser("create", help="create a project, optionally importing PATHs",
                       epilog=_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("project", metavar="PROJECT", help="the project file to create (.qcproj)")
    c.add_argument("--from", dest="paths", nargs="+", default=[], metavar="PATH", help="what to import (see below)")
    c.add_argument("--codebook", metavar="CB", help="codebook YAML (not needed with results/ or .qdpx)")
    c.add_argument("--name", help="project name (default: the file name)")
    c.add_argument("--unit", choices=["sentence", "turn", "paragraph", "window"], help="the machine coder's unit")
    mode = c.add_mutually_exclusive_group()
    mode.add_argument("--rules-only", action="store_true", help="the machine coder uses no embeddings")
    mode.add_argument("--embeddings-only", action="store_true", help="the machine coder uses no rules")
    c.add_argument("--model", metavar="NAME", help="embedder name or alias for the machine coder")
    c.add_argument("--coder", metavar="NAME", help="coder name for CSV rows without one")
    c.add_argument("--force", action="store_true", help="replace an existing project file")
    i = sub.add_parser("import", help="import PATHs into a project",
                       epilog=_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    i.add_argument("project", metavar="PROJECT")
    i.add_argument("paths", nargs="+", metavar="PATH")
    i.add_argument("--codebook", metavar="CB", help="make this codebook YAML the active version first")
    i.add_argument("--coder", metavar="NAME", help="coder name for CSV rows without one")
    e = sub.add_parser("export", help="export a project as .qdpx, codings CSV and/or a folder",
                       epilog=_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    e.add_argument("project", metavar="PROJECT")
    e.add_argument("--qdpx", metavar="OUT", help="REFI-QDA project; memos become Notes")
    e.add_argument("--csv", metavar="OUT", help="every coding with its status")
    e.add_argument("--folder", metavar="DIR", help="texts, cases, codebook, codings, memos and decisions")
    e.add_argument("--include-suggestions", action="store_true",
                   help="also put the open machine suggestions in the .qdpx (default: accepted codings only)")
    e.add_argument("--force", action="store_true", help="overwrite existing outputs")
    s = sub.add_parser("show", help="what a project holds")
    s.add_argument("project", metavar="PROJECT")
    p.set_defaults(func=run)


def _summary(added: dict[str, Any]) -> str:
    return ", ".join(f"{v} {k}" if isinstance(v, int) else f"{k} {v}" for k, v in added.items()) or "nothing new"


def run(args: argparse.Namespace) -> int:
    """Run ``qualcode project ACTION``."""
    from .. import Codebook
    from ._store import Project, ProjectError

    if args.action == "create":
        settings: dict[str, Any] = {}
        if args.unit:
            settings["unit"] = args.unit
        if args.rules_only:
            settings["embeddings"] = False
        if args.embeddings_only:
            settings["rules"] = False
        if args.model:
            settings["embedder"] = args.model
        for p in args.paths:
            if not Path(p).exists():
                msg = f"{p}: no such file or folder."
                raise ProjectError(msg)
        codebook = Codebook.load(args.codebook) if args.codebook else None
        project = Project.create(args.project, codebook=codebook, name=args.name, coder=settings,
                                 overwrite=args.force)
        try:
            for p in args.paths:
                print(f"qualcode: {p}: {_summary(project.import_path(p, coder=args.coder))}", file=sys.stderr)
        except BaseException:
            project.close()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{args.project}{suffix}").unlink(missing_ok=True)
            raise
        print(repr(project))
        project.close()
        return 0
    with Project.open(args.project) as project:
        if args.action == "import":
            if args.codebook:
                project.set_codebook(Codebook.load(args.codebook))
            for p in args.paths:
                print(f"qualcode: {p}: {_summary(project.import_path(p, coder=args.coder))}", file=sys.stderr)
            print(repr(project))
        elif args.action == "export":
            if not (args.qdpx or args.csv or args.folder):
                msg = "say what to export: --qdpx OUT, --csv OUT and/or --folder DIR."
                raise ProjectError(msg)
            if args.qdpx:
                status = ("accepted", "proposed") if args.include_suggestions else ("accepted",)
                print(project.export_qdpx(args.qdpx, status=status, overwrite=args.force))
            if args.csv:
                print(project.export_codings(args.csv, overwrite=args.force))
            if args.folder:
                print(project.export_folder(args.folder, overwrite=args.force))
        else:
            _show(project)
    return 0


def _show(project: Any) -> None:
    print(repr(project))
    cb = project.codebook
    print(f"codebook: {cb.name} v{cb.version} ({len(cb)} codes, fingerprint {cb.fingerprint})" if cb is not None
          else "codebook: none")
    versions = project.codebooks()
    if len(versions) > 1:
        print(f"codebook versions: {len(versions)}")
    coders = project.coders()
    if len(coders):
        print("coders:")
        print(coders.to_string(index=False))
    runs = project.runs()
    if runs:
        last = runs[-1]
        pts = last["summary"].get("curve", {}).get("points", [])
        tail = f", held-out κ {pts[-1]['kappa']}" if pts else ""
        print(f"last machine run: {last['at']} by {last['coder']}{tail}")
    print(f"settings: {project.coder_settings or 'defaults'}")
