"""The ``qualcode`` command line.

Each subcommand lives in its own ``_cli_<name>.py`` module exposing
``register(subparsers)``; the parser's ``func`` default runs it.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from .errors import QualcodeError

__all__ = ["build_parser", "main"]

_SUBCOMMAND_MODULES = (
    "qualcode._cli_ingest",
    "qualcode._cli_codebook",
    "qualcode._cli_code",
    "qualcode._cli_evaluate",
    "qualcode._cli_refi",
)

_EPILOG = """\
examples:
  qualcode ingest transcripts_sample/
  qualcode ingest transcripts_sample/ --segments segments.csv --unit sentence
  qualcode codebook validate codebooks/technocratic_planning.yaml
  qualcode codebook diff old.yaml new.yaml
  qualcode code transcripts_sample/ --codebook codebooks/technocratic_planning.yaml --out results/
  qualcode evaluate results/codings.csv transcripts_sample/gold_codings.csv --corpus transcripts_sample/
  qualcode export transcripts_sample/ --codebook codebooks/technocratic_planning.yaml --qdpx project.qdpx
  qualcode import project.qdpx --out imported/
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="qualcode",
        description="Computer-assisted qualitative coding: ingest, code, analyse, exchange.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"qualcode {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _SUBCOMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        result = args.func(args)
    except QualcodeError as exc:
        print(f"qualcode: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("qualcode: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
