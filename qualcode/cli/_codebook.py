"""``qualcode codebook validate|show|diff|export|import``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import CodebookError, QualcodeError

__all__ = ["register", "run"]

_HELP = """\
examples:
  qualcode codebook validate codebooks/*.yaml
  qualcode codebook show codebooks/technocratic_planning.yaml
  qualcode codebook show codebooks/ai_in_government.yaml --table
  qualcode codebook diff old.yaml new.yaml
  qualcode codebook export codebooks/technocratic_planning.yaml --qdc tp.qdc
  qualcode codebook import tp.qdc --yaml tp.yaml
  qualcode codebook import team_codebook.xlsx --yaml tp.yaml --languages en id
"""


def register(subparsers: Any) -> None:
    """Add the ``codebook`` subcommand and its actions."""
    p = subparsers.add_parser(
        "codebook", help="validate, show, diff, export and import codebooks",
        description="Work with YAML codebooks (see codebooks/README.md).", epilog=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    v = sub.add_parser("validate", help="check codebooks; report every problem with line:col")
    v.add_argument("files", nargs="+", metavar="FILE")
    s = sub.add_parser("show", help="print the code tree (or a table)")
    s.add_argument("file", metavar="FILE")
    s.add_argument("--table", action="store_true", help="one row per code instead of a tree")
    s.add_argument("--no-definitions", action="store_true", help="ids and names only")
    d = sub.add_parser("diff", help="what changed from OLD to NEW, field by field")
    d.add_argument("old", metavar="OLD")
    d.add_argument("new", metavar="NEW")
    d.add_argument("--csv", metavar="OUT", help="also write the diff table to a CSV file")
    e = sub.add_parser("export", help="export a codebook to REFI-QDA .qdc")
    e.add_argument("file", metavar="FILE")
    e.add_argument("--qdc", required=True, metavar="OUT", help="the .qdc file to write")
    e.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    i = sub.add_parser("import", help="import a .qdc, .csv or .xlsx codebook as YAML")
    i.add_argument("input", metavar="IN")
    i.add_argument("--yaml", required=True, metavar="OUT", help="the YAML file to write")
    i.add_argument("--name", help="codebook name (default: from the file)")
    i.add_argument("--languages", nargs="+", metavar="LANG",
                   help="languages of a CSV/XLSX codebook (default: en)")
    i.add_argument("--no-split", action="store_true",
                   help="keep ATLAS.ti 'Parent::Child' names flat")
    i.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``qualcode codebook ACTION``; return the exit status."""
    from ..codebook._codebook import Codebook

    action = args.action
    if action == "validate":
        status = 0
        for f in args.files:
            try:
                cb = Codebook.load(f)
            except CodebookError as exc:
                print(str(exc), file=sys.stderr)
                status = 1
                continue
            if not len(cb):
                print(f"{f}: the codebook has no codes; `qualcode code` needs at least one.",
                      file=sys.stderr)
                status = 1
                continue
            print(f"{f}: OK ({cb.name} v{cb.version}, {len(cb)} codes, {len(cb.leaves)} leaves, "
                  f"{len(cb.rule_items())} rules, fingerprint {cb.fingerprint})")
        return status
    if action == "show":
        cb = Codebook.load(args.file)
        if args.table:
            import pandas as pd

            cols = ["id", "name", "parent", "depth", "n_examples", "n_counterexamples",
                    "n_rules", "languages"]
            with pd.option_context("display.width", 200, "display.max_rows", 500):
                print(cb.to_frame()[cols].to_string(index=False))
        else:
            print(cb.show(definitions=not args.no_definitions))
        return 0
    if action == "diff":
        old, new = Codebook.load(args.old), Codebook.load(args.new)
        table = new.diff(old)
        if table.empty:
            print(f"no differences (fingerprint {new.fingerprint})")
        else:
            for row in table.itertuples(index=False):
                if row.change == "changed":
                    print(f"~ {row.code}.{row.field}: {_clip(row.old)} -> {_clip(row.new)}")
                elif row.change == "added":
                    print(f"+ {row.code} ({row.new})")
                else:
                    print(f"- {row.code} ({row.old})")
            print(f"{len(table)} change(s); fingerprint {old.fingerprint} -> {new.fingerprint}")
        if args.csv:
            from .._io import atomic_path

            with atomic_path(args.csv) as tmp:
                table.to_csv(tmp, index=False)
        return 0
    if action == "export":
        from ..refi import write_qdc

        cb = Codebook.load(args.file)
        out = write_qdc(cb, args.qdc, overwrite=args.force or not Path(args.qdc).exists())
        print(f"wrote {out} ({len(cb)} codes)")
        return 0
    if action == "import":
        src = Path(args.input)
        suffix = src.suffix.lower()
        if suffix in (".qdc", ".xml"):
            from ..refi import read_qdc

            cb = read_qdc(src, split_names=not args.no_split, name=args.name)
        elif suffix in (".csv", ".tsv", ".xlsx", ".xlsm"):
            cb = Codebook.from_table(src, name=args.name, languages=args.languages)
        else:
            msg = f"{src}: cannot import {suffix or 'a file without extension'!r}; use .qdc, .csv or .xlsx"
            raise CodebookError(msg, problems=[msg])
        out = cb.save(args.yaml, overwrite=args.force or not Path(args.yaml).exists())
        missing = [cid for cid in cb.leaves if not cb[cid].definition]
        print(f"wrote {out} ({len(cb)} codes)")
        if missing:
            print(f"note: {len(missing)} leaf code(s) have no definition yet "
                  f"({', '.join(missing[:8])}{'...' if len(missing) > 8 else ''}); "
                  "write them before coding", file=sys.stderr)
        return 0
    msg = f"unknown codebook action {action!r}"  # pragma: no cover - argparse prevents it
    raise QualcodeError(msg)


def _clip(value: Any, n: int = 70) -> str:
    text = "" if value is None else str(value).replace("\n", " ")
    return text if len(text) <= n else text[: n - 3] + "..."
