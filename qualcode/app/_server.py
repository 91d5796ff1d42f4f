"""The coding app's local web server.

Why the standard library (``http.server.ThreadingHTTPServer``) and not a framework: the app
is one user's browser talking JSON to a server on the same machine.  It needs a dozen routes,
a token check, static files and a background thread for re-training; every one of those is a
few lines on ``http.server``.  Flask, Starlette/uvicorn or aiohttp would add dependencies
(and, for the async ones, an event loop that Jupyter already owns) without removing any of
the code we must write ourselves (validation, escaping, project access).  The standard
library server runs inside a notebook's background thread unchanged (``qc.review``).

Safe by default:

- binds ``127.0.0.1`` only, and refuses requests whose ``Host`` is not this loopback
  address and port (no DNS rebinding);
- a random token (``secrets.token_urlsafe``) is required on every request: in the URL the
  server prints (``?token=...``), then as an ``HttpOnly; SameSite=Strict`` cookie or the
  ``X-Qualcode-Token`` header; writes (``POST``) must carry the header, which a page from
  another origin cannot send, so there is no cross-site request forgery;
- a Content-Security-Policy allows only this server's own script and style (no inline
  script), and the page builds every element with ``textContent``, never ``innerHTML``;
- every input is validated here (types, ranges, codes, ids) before it reaches the project,
  whose writes are transactions;
- the browser names no paths: exports are written into ``<project>-exports/`` beside the
  project file under names the server chooses, and only files there can be downloaded.
"""

from __future__ import annotations

import datetime as _dt
import hmac
import json
import logging
import re
import secrets
import threading
import traceback
from collections import OrderedDict
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from ..errors import QualcodeError
from ..project import Project, ProjectError
from ..project import _views as views

__all__ = ["AppServer"]

log = logging.getLogger("qualcode")

_STATIC = {"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8"}
_MAX_BODY = 1_000_000
_MAX_TEXT = 100_000
_EXPORT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}\.(qdpx|csv|zip)$")
_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'self' http://localhost:* http://127.0.0.1:* vscode-webview:")


class BadRequest(QualcodeError, ValueError):
    """A request the app refuses (answered with status 400 and the message)."""


class _State:
    """What the server keeps between requests."""

    def __init__(self, project: Project, *, user: str, token: str, embedder: Any, cache_dir: Any):
        self.project = project
        self.user = user
        self.token = token
        self.embedder = embedder
        self.cache_dir = cache_dir
        self.export_dir = project.path.with_name(f"{project.path.stem}-exports")
        self.job: dict[str, Any] = {"state": "idle", "message": "", "fraction": 0.0}
        self.job_lock = threading.Lock()
        self.sentences: OrderedDict[str, tuple[str, list[int], list[int]]] = OrderedDict()
        self.sent_lock = threading.Lock()


class AppServer:
    """The coding app on ``http://127.0.0.1:PORT/?token=...`` for one project.

    Args:
        project: a :class:`qualcode.Project` or the path of a project file.
        port: the port (0: a free one).
        user: the name under which this browser's codings, decisions and memos are stored
            (default: the login name).
        token: the access token (default: a new random one).
        embedder: replaces the project's embedder for re-training (an object or a name).
        cache_dir: the embedding cache folder for re-training (``None``: in memory).

    Examples:
        >>> server = AppServer("study.qcproj").start()  # doctest: +SKIP
        >>> print(server.url)  # doctest: +SKIP
    """

    def __init__(self, project: Project | str | Path, *, port: int = 0, user: str | None = None,
                 token: str | None = None, embedder: Any = None, cache_dir: Any = None):
        self.own_project = not isinstance(project, Project)
        proj = Project.open(project) if not isinstance(project, Project) else project
        if user is None:
            import getpass

            try:
                user = getpass.getuser()
            except (KeyError, OSError):  # pragma: no cover - no login name
                user = "researcher"
        if not isinstance(port, int) or not 0 <= port <= 65535:
            msg = f"port must be an int in [0, 65535]. Got {port!r} instead."
            raise ValueError(msg)
        self.state = _State(proj, user=user, token=token or secrets.token_urlsafe(24), embedder=embedder,
                            cache_dir=cache_dir)
        handler = type("Handler", (_Handler,), {"state": self.state})
        try:
            self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        except OSError as exc:
            msg = f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}"
            raise ProjectError(msg) from None
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The address to open, token included."""
        return f"http://127.0.0.1:{self.port}/?token={self.state.token}"

    @property
    def project(self) -> Project:
        """The project served."""
        return self.state.project

    def warm_up(self) -> None:
        """Load the sentence segmenter now (in the background), not on the first retrieval."""

        def work() -> None:
            from .. import Corpus, Document

            Corpus([Document("warm-up", "One. Two.")]).segments("sentence", attributes=False)

        threading.Thread(target=work, name="qualcode-app-warm-up", daemon=True).start()

    def start(self) -> AppServer:
        """Serve in a background (daemon) thread; returns ``self``."""
        self.warm_up()
        self._thread = threading.Thread(target=self.httpd.serve_forever, name=f"qualcode-app-{self.port}",
                                        daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted."""
        self.warm_up()
        self.httpd.serve_forever()

    def stop(self) -> None:
        """Stop serving and close the socket (and the project if this server opened it)."""
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.own_project:
            self.state.project.close()


# -- validation helpers ----------------------------------------------------------------------------
def _int(d: dict[str, Any], key: str, *, lo: int = 0, hi: int = 2**31, default: int | None = None) -> int:
    v = d.get(key, default)
    if v is None:
        msg = f"'{key}' is required."
        raise BadRequest(msg)
    try:
        if isinstance(v, bool) or (isinstance(v, float) and not v.is_integer()):
            raise ValueError
        n = int(v)
    except (TypeError, ValueError):
        msg = f"'{key}' must be an integer. Got {v!r} instead."
        raise BadRequest(msg) from None
    if not lo <= n <= hi:
        msg = f"'{key}' must be between {lo} and {hi}. Got {n} instead."
        raise BadRequest(msg)
    return n


def _str(d: dict[str, Any], key: str, *, required: bool = True, max_len: int = 500, default: str | None = None) -> str | None:
    v = d.get(key, default)
    if v is None or v == "":
        if required:
            msg = f"'{key}' is required."
            raise BadRequest(msg)
        return default
    if not isinstance(v, str):
        msg = f"'{key}' must be text. Got {type(v).__name__} instead."
        raise BadRequest(msg)
    if len(v) > max_len:
        msg = f"'{key}' is too long ({len(v)} characters; at most {max_len})."
        raise BadRequest(msg)
    return v


def _choice(d: dict[str, Any], key: str, options: tuple[str, ...], default: str | None = None) -> str:
    v = _str(d, key, required=default is None, default=default)
    if v not in options:
        msg = f"'{key}' must be one of {', '.join(options)}. Got {v!r} instead."
        raise BadRequest(msg)
    return str(v)


def _now_tag() -> str:
    return _dt.datetime.now().strftime("%Y%m%d-%H%M%S")


# -- the request handler -----------------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    state: _State
    server: ThreadingHTTPServer  # AppServer serves it (an AF_INET server: the address is (host, port))
    server_version = "qualcode-app"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        log.debug("app: " + format, *args)

    # plumbing ------------------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Content-Security-Policy", _CSP)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, data: Any, status: int = 200) -> None:
        self._send(status, json.dumps(data, default=_default, allow_nan=False).encode("utf-8"),
                   "application/json; charset=utf-8")

    def _error(self, status: int, message: str) -> None:
        self._json({"error": message}, status)

    def _host_ok(self) -> bool:
        host = (self.headers.get("Host") or "").lower()
        port = self.server.server_address[1]
        return host in {f"127.0.0.1:{port}", f"localhost:{port}"}

    def _authorised(self, query: dict[str, str], *, write: bool) -> bool:
        token = self.state.token
        header = self.headers.get("X-Qualcode-Token") or ""
        if write:  # a page from another origin cannot set this header
            return hmac.compare_digest(header, token)
        if header and hmac.compare_digest(header, token):
            return True
        q = query.get("token") or ""
        if q and hmac.compare_digest(q, token):
            return True
        cookie = SimpleCookie(self.headers.get("Cookie") or "")
        c = cookie.get(self._cookie_name())
        return bool(c is not None and hmac.compare_digest(c.value, token))

    def _cookie_name(self) -> str:
        return f"qualcode_token_{self.server.server_address[1]}"

    def _body(self) -> dict[str, Any]:
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            n = -1
        if n < 0 or n > _MAX_BODY:
            msg = f"the request body must be at most {_MAX_BODY} bytes."
            raise BadRequest(msg)
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        raw = self.rfile.read(n) if n else b""
        if ctype != "application/json":
            msg = "the request body must be JSON (Content-Type: application/json)."
            raise BadRequest(msg)
        try:
            data = json.loads(raw.decode("utf-8") or "{}")
        except (UnicodeDecodeError, ValueError):
            msg = "the request body is not valid JSON."
            raise BadRequest(msg) from None
        if not isinstance(data, dict):
            msg = "the request body must be a JSON object."
            raise BadRequest(msg)
        return data

    def do_HEAD(self) -> None:  # noqa: N802 - the base class's name
        self._dispatch("GET")

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._error(405, "method not allowed")

    do_DELETE = do_PUT  # noqa: N815
    do_PATCH = do_PUT  # noqa: N815

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        try:
            if not self._host_ok():
                self._error(403, "requests must come from this machine (Host 127.0.0.1)")
                return
            if not self._authorised(query, write=method == "POST"):
                if parts.path == "/" and method == "GET":
                    self._send(403, _FORBIDDEN_PAGE, "text/html; charset=utf-8")
                else:
                    self._error(403, "missing or wrong token: open the address that `qualcode serve` printed")
                return
            self._route(method, parts.path, query)
        except (BadRequest, ProjectError) as exc:
            self._error(400, str(exc))
        except QualcodeError as exc:
            self._error(400, str(exc))
        except (BrokenPipeError, ConnectionResetError):  # pragma: no cover - the browser went away
            pass
        except Exception:  # pragma: no cover - reported, never shown with internals
            log.error("app: %s %s failed:\n%s", method, parts.path, traceback.format_exc())
            self._error(500, "internal error (see the server log)")
        finally:
            self.state.project.release_thread()

    # routing -----------------------------------------------------------------------------------
    def _route(self, method: str, path: str, q: dict[str, str]) -> None:
        segs = [unquote(s) for s in path.strip("/").split("/")] if path.strip("/") else []
        if method == "GET" and not segs:
            self._index()
            return
        if method == "GET" and len(segs) == 2 and segs[0] == "static":
            self._static(segs[1])
            return
        if not segs or segs[0] != "api":
            self._error(404, "not found")
            return
        api = segs[1:]
        key = (method, api[0] if api else "", len(api))
        routes = {
            ("GET", "project", 1): self.get_project,
            ("GET", "documents", 1): self.get_documents,
            ("GET", "documents", 2): self.get_document,
            ("POST", "codings", 1): self.post_coding,
            ("POST", "codings", 3): self.post_coding_action,
            ("GET", "queue", 1): self.get_queue,
            ("GET", "retrieve", 1): self.get_retrieve,
            ("GET", "attributes", 1): self.get_attributes,
            ("GET", "memos", 1): self.get_memos,
            ("POST", "memos", 1): self.post_memo,
            ("POST", "memos", 3): self.post_memo_action,
            ("GET", "compare", 1): self.get_compare,
            ("GET", "retrain", 1): self.get_retrain,
            ("POST", "retrain", 1): self.post_retrain,
            ("GET", "runs", 1): self.get_runs,
            ("POST", "export", 1): self.post_export,
            ("GET", "exports", 2): self.get_export_file,
            ("GET", "changes", 1): self.get_changes,
        }
        handler = routes.get(key)
        if handler is None:
            self._error(404 if method == "GET" else 405, "not found")
            return
        if method == "POST":
            handler(api, self._body())
        else:
            handler(api, q)

    def _index(self) -> None:
        page = resources.files("qualcode.app").joinpath("static", "index.html").read_text(encoding="utf-8")
        import html

        page = page.replace("{{TOKEN}}", self.state.token).replace("{{PROJECT}}", html.escape(self.state.project.name))
        cookie = (f"{self._cookie_name()}={self.state.token}; Path=/; HttpOnly; SameSite=Strict")
        self._send(200, page.encode("utf-8"), "text/html; charset=utf-8", {"Set-Cookie": cookie})

    def _static(self, name: str) -> None:
        ctype = _STATIC.get(name)
        if ctype is None:
            self._error(404, "not found")
            return
        data = resources.files("qualcode.app").joinpath("static", name).read_bytes()
        self._send(200, data, ctype)

    # API: reads ----------------------------------------------------------------------------------
    def get_project(self, api: list[str], q: dict[str, str]) -> None:
        p = self.state.project
        cb = p.codebook
        codes = []
        if cb is not None:
            for depth, c in cb.walk():
                codes.append({"id": c.id, "name": c.name, "parent": c.parent, "depth": depth,
                              "definition": c.definition, "inclusion": c.inclusion, "exclusion": c.exclusion,
                              "color": c.color, "leaf": not cb.children(c.id)})
        coders = p.coders().to_dict("records")
        n = p._q("SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM codings WHERE status='proposed'), "
                 "(SELECT count(*) FROM codings WHERE status='accepted'), (SELECT count(*) FROM memos)")[0]
        self._json({
            "name": p.name, "file": p.path.name, "user": self.state.user,
            "codebook": None if cb is None else {"name": cb.name, "version": str(cb.version),
                                                 "fingerprint": cb.fingerprint, "codes": codes},
            "coders": coders, "settings": p.coder_settings, "last_change": p.last_change(),
            "counts": {"documents": n[0], "proposed": n[1], "accepted": n[2], "memos": n[3]},
        })

    def get_documents(self, api: list[str], q: dict[str, str]) -> None:
        self._json(views.documents_page(self.state.project, offset=_int(q, "offset", default=0),
                                        limit=_int(q, "limit", lo=1, hi=500, default=50),
                                        query=_str(q, "q", required=False, max_len=200)))

    def get_document(self, api: list[str], q: dict[str, str]) -> None:
        p = self.state.project
        doc_id = api[1]
        doc = views.document(p, doc_id)
        if q.get("codings_only") == "1":  # a refresh: the page already has the text and turns
            doc.pop("text")
            doc.pop("turns")
        statuses = ["proposed", "accepted"] + (["rejected"] if _str(q, "rejected", required=False) == "1" else [])
        doc["codings"] = views.document_codings(p, doc_id, statuses)
        memos = p.memos(doc_id=doc_id)
        doc["memos"] = _records(memos)
        doc["coding_memos"] = _records(p.memos(target="coding").pipe(lambda m: m[m["coding_doc_id"] == doc_id]))
        doc["last_change"] = p.last_change()
        self._json(doc)

    def get_queue(self, api: list[str], q: dict[str, str]) -> None:
        p = self.state.project
        code = _str(q, "code", required=False, max_len=100)
        page = views.suggestion_queue(p, offset=_int(q, "offset", default=0),
                                      limit=_int(q, "limit", lo=1, hi=200, default=20), code=code)
        for item in page["items"]:
            item["before"], item["after"], item["speaker"] = self._context(item["doc_id"], item["start"], item["end"])
        self._json(page)

    def get_retrieve(self, api: list[str], q: dict[str, str]) -> None:
        p = self.state.project
        code = _str(q, "code", max_len=100)
        status = _choice(q, "status", ("accepted", "proposed", "all"), default="accepted")
        statuses = ("accepted", "proposed") if status == "all" else (status,)
        page = views.passages(p, str(code), coder=_str(q, "coder", required=False, max_len=200), statuses=statuses,
                              attribute=_str(q, "attribute", required=False, max_len=200),
                              value=_str(q, "value", required=False, max_len=500),
                              offset=_int(q, "offset", default=0), limit=_int(q, "limit", lo=1, hi=200, default=50))
        for item in page["items"]:
            item["before"], item["after"], item["speaker"] = self._context(item["doc_id"], item["start"], item["end"])
        self._json(page)

    def get_attributes(self, api: list[str], q: dict[str, str]) -> None:
        self._json(views.case_attributes(self.state.project))

    def get_memos(self, api: list[str], q: dict[str, str]) -> None:
        p = self.state.project
        target = _str(q, "target", required=False, max_len=20)
        if target is not None and target not in ("project", "code", "document", "coding"):
            msg = f"'target' must be project, code, document or coding. Got {target!r} instead."
            raise BadRequest(msg)
        m = p.memos(target=target, code=_str(q, "code", required=False, max_len=100),
                    doc_id=_str(q, "doc_id", required=False, max_len=500),
                    coding_id=_int(q, "coding_id") if q.get("coding_id") else None)
        off, lim = _int(q, "offset", default=0), _int(q, "limit", lo=1, hi=500, default=100)
        self._json({"total": len(m), "items": _records(m.iloc[off:off + lim])})

    def get_compare(self, api: list[str], q: dict[str, str]) -> None:
        from ._compare import compare

        a = _str(q, "a", max_len=200)
        b = _str(q, "b", max_len=200)
        unit = _choice(q, "unit", ("sentence", "paragraph", "turn"), default="sentence")
        self._json(compare(self.state.project, str(a), str(b), unit=unit, offset=_int(q, "offset", default=0),
                           limit=_int(q, "limit", lo=1, hi=200, default=25)))

    def get_retrain(self, api: list[str], q: dict[str, str]) -> None:
        with self.state.job_lock:
            self._json(dict(self.state.job))

    def get_runs(self, api: list[str], q: dict[str, str]) -> None:
        self._json({"runs": self.state.project.runs()[-20:]})

    def get_changes(self, api: list[str], q: dict[str, str]) -> None:
        p = self.state.project
        ch = p.changes_since(_int(q, "since", default=0), limit=200)
        with self.state.job_lock:
            job = self.state.job["state"]
        self._json({"last": p.last_change(), "changes": _records(ch), "job": job})

    def get_export_file(self, api: list[str], q: dict[str, str]) -> None:
        name = api[1]
        if not _EXPORT_NAME.match(name):
            self._error(404, "not found")
            return
        f = self.state.export_dir / name
        if not f.is_file():
            self._error(404, "not found")
            return
        ctype = {"qdpx": "application/zip", "csv": "text/csv; charset=utf-8"}.get(f.suffix[1:], "application/zip")
        self._send(200, f.read_bytes(), ctype, {"Content-Disposition": f'attachment; filename="{name}"'})

    # API: writes ---------------------------------------------------------------------------------
    def _code(self, d: dict[str, Any], key: str = "code") -> str:
        code = str(_str(d, key, max_len=100))
        cb = self.state.project.codebook
        if cb is None or code not in cb:
            msg = f"unknown code {code!r}."
            raise BadRequest(msg)
        return code

    def post_coding(self, api: list[str], d: dict[str, Any]) -> None:
        p = self.state.project
        doc_id = str(_str(d, "doc_id", max_len=500))
        start, end = _int(d, "start"), _int(d, "end")
        code = self._code(d)
        cid = p.add_coding(doc_id, start, end, code, coder=self.state.user)
        self._json({"id": cid, "coding": p.coding(cid), "last_change": p.last_change()})

    def post_coding_action(self, api: list[str], d: dict[str, Any]) -> None:
        p = self.state.project
        cid = _int({"id": api[1]}, "id", lo=1)
        action = api[2]
        user = self.state.user
        if action == "review":
            act = _choice(d, "action", ("accept", "reject", "recode", "reopen"))
            new_code = self._code(d, "new_code") if act == "recode" else None
            out = p.review(cid, act, who=user, new_code=new_code)
        elif action == "move":
            p.move_coding(cid, _int(d, "start"), _int(d, "end"), who=user)
            out = {"coding": p.coding(cid)}
        elif action == "delete":
            p.delete_coding(cid, who=user)
            out = {"deleted": cid}
        else:
            self._error(404, "not found")
            return
        out["last_change"] = p.last_change()
        self._json(out)

    def post_memo(self, api: list[str], d: dict[str, Any]) -> None:
        p = self.state.project
        text = str(_str(d, "text", max_len=_MAX_TEXT))
        title = _str(d, "title", required=False, max_len=300, default="") or ""
        code = self._code(d) if d.get("code") is not None else None
        doc_id = _str(d, "doc_id", max_len=500) if d.get("doc_id") is not None else None
        coding_id = _int(d, "coding_id", lo=1) if d.get("coding_id") is not None else None
        mid = p.add_memo(text, author=self.state.user, title=title, code=code, doc_id=doc_id, coding_id=coding_id)
        self._json({"id": mid, "last_change": p.last_change()})

    def post_memo_action(self, api: list[str], d: dict[str, Any]) -> None:
        p = self.state.project
        mid = _int({"id": api[1]}, "id", lo=1)
        if api[2] == "update":
            p.update_memo(mid, str(_str(d, "text", max_len=_MAX_TEXT)),
                          title=_str(d, "title", required=False, max_len=300))
        elif api[2] == "delete":
            p.delete_memo(mid)
        else:
            self._error(404, "not found")
            return
        self._json({"id": mid, "last_change": p.last_change()})

    def post_retrain(self, api: list[str], d: dict[str, Any]) -> None:
        st = self.state
        with st.job_lock:
            if st.job["state"] == "running":
                self._json(dict(st.job), 409)
                return
            st.job = {"state": "running", "message": "starting", "fraction": 0.0, "started": _now_tag()}
        threading.Thread(target=_run_retrain, args=(st,), name="qualcode-retrain", daemon=True).start()
        with st.job_lock:
            self._json(dict(st.job), 202)

    def post_export(self, api: list[str], d: dict[str, Any]) -> None:
        fmt = _choice(d, "format", ("qdpx", "csv"))
        p = self.state.project
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", p.path.stem).strip("._") or "project"
        name = f"{stem}-{_now_tag()}.{fmt}"
        k = 2
        while (self.state.export_dir / name).exists():
            name, k = f"{stem}-{_now_tag()}-{k}.{fmt}", k + 1
        self.state.export_dir.mkdir(exist_ok=True)
        dest = self.state.export_dir / name
        if fmt == "qdpx":
            include = ("accepted", "proposed") if d.get("include_suggestions") is True else ("accepted",)
            p.export_qdpx(dest, status=include)
        else:
            p.export_codings(dest)
        self._json({"file": name, "folder": str(self.state.export_dir), "url": f"/api/exports/{name}"})

    # helpers -------------------------------------------------------------------------------------
    def _context(self, doc_id: str, start: int, end: int) -> tuple[str, str, str | None]:
        """One sentence of context either side of a passage, and the speaker at its start."""
        import bisect

        text, starts, ends = self._sentences(doc_id)
        i = bisect.bisect_left(starts, start) - 1  # the last sentence starting before the passage
        before = text[starts[i]:start] if i >= 0 else text[max(0, start - 200):start]
        j = bisect.bisect_right(ends, end)  # the first sentence ending after the passage
        after = text[end:ends[j]] if j < len(ends) else text[end:end + 200]
        doc = self.state.project.corpus[doc_id]
        turn = doc.turn_at(start)
        return before[-400:], after[:400], (turn.speaker if turn is not None else None)

    def _sentences(self, doc_id: str) -> tuple[str, list[int], list[int]]:
        st = self.state
        with st.sent_lock:
            hit = st.sentences.get(doc_id)
            if hit is not None:
                st.sentences.move_to_end(doc_id)
                return hit
        corpus = st.project.corpus
        seg = corpus.subset([doc_id]).segments("sentence", attributes=False)
        value = (corpus[doc_id].text, seg["start"].astype(int).tolist(), seg["end"].astype(int).tolist())
        with st.sent_lock:
            st.sentences[doc_id] = value
            while len(st.sentences) > 256:
                st.sentences.popitem(last=False)
        return value


def _run_retrain(st: _State) -> None:
    from ..project import retrain

    def progress(message: str, fraction: float) -> None:
        with st.job_lock:
            st.job.update(message=message, fraction=round(float(fraction), 3))

    try:
        summary = retrain(st.project, who=st.user, embedder=st.embedder, cache_dir=st.cache_dir,
                          on_progress=progress)
        with st.job_lock:
            st.job = {"state": "done", "message": "done", "fraction": 1.0, "summary": summary}
    except QualcodeError as exc:
        with st.job_lock:
            st.job = {"state": "error", "message": str(exc), "fraction": 0.0}
    except Exception as exc:  # pragma: no cover - shown to the user, logged in full
        log.error("app: re-training failed:\n%s", traceback.format_exc())
        with st.job_lock:
            st.job = {"state": "error", "message": f"re-training failed: {type(exc).__name__}: {exc}", "fraction": 0.0}
    finally:
        st.project.release_thread()


def _records(frame: Any) -> list[dict[str, Any]]:
    import pandas as pd

    out = []
    for r in frame.to_dict("records"):
        out.append({k: (None if (v is pd.NA or (isinstance(v, float) and v != v)) else v) for k, v in r.items()})
    return out


def _default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.generic):
        v = o.item()
        return None if isinstance(v, float) and v != v else v
    if isinstance(o, float) and o != o:  # pragma: no cover - NaN handled before
        return None
    return str(o)


_FORBIDDEN_PAGE = (b"<!doctype html><meta charset=utf-8><title>qualcode</title>"
                   b"<p>This coding app needs its access token. Open the full address that "
                   b"<code>qualcode serve</code> printed (it ends in <code>?token=...</code>).</p>")
