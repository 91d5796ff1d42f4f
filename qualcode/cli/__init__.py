"""The ``qualcode`` command line.

Each subcommand lives in its own module (``_ingest.py``, ``_codebook.py``, ``_code.py``,
``_evaluate.py``, ``_refi.py``) exposing ``register(subparsers)``, which adds its parser and
sets the ``func`` default that runs it.  :data:`SUBCOMMANDS` lists them in help order: a
new subcommand is one new module plus its entry there.  ``python -m qualcode.cli`` runs
:func:`main` (``__main__.py``).
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from ..app import _cli as _serve
from ..errors import QualcodeError, QualcodeWarning
from ..project import _cli as _project
from . import _cluster, _code, _codebook, _evaluate, _ingest, _refi

__all__ = ["SUBCOMMANDS", "build_parser", "main"]

#: The subcommand modules, in the order ``qualcode --help`` lists them (``_cluster`` adds the
#: ``--workers``/``--scheduler`` options to ``code``).
SUBCOMMANDS = (_ingest, _codebook, _code, _cluster, _evaluate, _refi, _project, _serve)

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
  qualcode project create study.qcproj --from results/ && qualcode serve study.qcproj
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="qualcode",
        description="Computer-assisted qualitative coding: ingest, code, analyse, exchange.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"qualcode {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.register(sub)
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
    shown = warnings.showwarning
    warnings.showwarning = _one_line_warnings(shown)
    try:
        result = args.func(args)
    except QualcodeError as exc:
        print(f"qualcode: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file or folder the system refused: one line naming it, no traceback
        print(f"qualcode: error: {_os_error_text(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("qualcode: interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.showwarning = shown
    return int(result or 0)


def _os_error_text(exc: OSError) -> str:
    """``path: reason`` for an OSError (``path -> other: reason`` for a rename)."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.filename is None:
        return reason
    where = str(exc.filename)
    if exc.filename2 is not None:
        where += f" -> {exc.filename2}"
    return f"{where}: {reason}"


def _one_line_warnings(fallback: Any) -> Any:
    """A ``warnings.showwarning`` printing qualcode's own warnings as one plain line."""

    def show(message: Any, category: type[Warning], filename: str, lineno: int, file: Any = None,
             line: str | None = None) -> None:
        if issubclass(category, QualcodeWarning):
            print(f"qualcode: warning: {message}", file=sys.stderr if file is None else file)
        else:
            fallback(message, category, filename, lineno, file, line)

    return show


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
