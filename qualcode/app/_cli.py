"""``qualcode serve PROJECT``: the coding app in the browser."""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["register", "run"]

_HELP = """\
examples:
  qualcode serve study.qcproj
  qualcode serve study.qcproj --port 8765 --no-browser
  qualcode serve study.qcproj --user ana

The app listens on 127.0.0.1 only; the address it prints carries a random token that every
request needs (share it with nobody). Press Ctrl+C to stop. Exports are written into
<project>-exports/ beside the project file.
"""


def register(subparsers: Any) -> None:
    """Add the ``serve`` subcommand."""
    p = subparsers.add_parser(
        "serve", help="code and review a project in the browser (local only, token protected)",
        description="Start the coding app for PROJECT and open it in the browser.",
        epilog=_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("project", metavar="PROJECT", help="the project file (see `qualcode project create`)")
    p.add_argument("--port", type=int, default=0, metavar="N", help="port on 127.0.0.1 (default: a free one)")
    p.add_argument("--no-browser", action="store_true", help="print the address, do not open a browser")
    p.add_argument("--user", metavar="NAME", help="the name you code and review as (default: your login name)")
    p.add_argument("--cache", metavar="DIR", help="embedding cache folder (default: $QUALCODE_CACHE_DIR or ~/.cache/qualcode)")
    p.add_argument("--no-cache", action="store_true", help="keep embeddings in memory only")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``qualcode serve``."""
    from pathlib import Path

    from .._io import default_cache_dir
    from ..project import ProjectError
    from ._server import AppServer

    if not 0 <= args.port <= 65535:
        msg = f"--port must be in [0, 65535]. Got {args.port} instead."
        raise ProjectError(msg)
    if args.user is not None and (not args.user.strip() or len(args.user) > 200):
        msg = "--user must be a non-empty name of at most 200 characters."
        raise ProjectError(msg)
    cache = None if args.no_cache else (Path(args.cache) if args.cache else default_cache_dir())
    server = AppServer(args.project, port=args.port, user=args.user, cache_dir=cache)
    print(f"qualcode: serving {server.project.name} at\n\n    {server.url}\n\nPress Ctrl+C to stop.", flush=True)
    if not args.no_browser:
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("qualcode: stopped", file=sys.stderr)
    finally:
        server.httpd.server_close()
        server.project.close()
    return 0
