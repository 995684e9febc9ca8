"""The HTTP server: routing by system prefix, auth, rate limits, faults, effect log; start_in_thread()."""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

from connections.sandbox import auth, control, google, google_devices, graph, okta, okta_more, zoom  # noqa: F401
from connections.sandbox.credentials import FILENAME, ensure_credentials
from connections.sandbox.data import Org
from connections.sandbox.faults import Faults, RateBuckets
from connections.sandbox.state import State
from connections.sandbox.web import (
    BadBody,
    Request,
    Resp,
    bad_body,
    method_not_allowed,
    not_found_path,
    rate_limited,
    server_error,
)

log = logging.getLogger("connections.sandbox")
API = {
    "okta": ("/api/v1", okta.router),
    "google": ("/admin/directory/v1", google.router),
    "zoom": ("/v2", zoom.router),
    "graph": ("/v1.0", graph.router),
}
TOKEN_PATHS = {"okta": "/oauth2/v1/token", "google": "/token", "zoom": "/oauth/token"}
TOKEN_HANDLERS = {
    "okta": auth.okta_token,
    "google": auth.google_token,
    "zoom": auth.zoom_token,
    "graph": auth.graph_token,
}
MAX_BODY = 1 << 20


class NotLoopback(ValueError):
    """The sandbox only ever binds to a loopback address."""


def check_loopback(host: str) -> None:
    """Raise NotLoopback unless host is localhost or a loopback IP."""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise NotLoopback(
        f"refusing to bind the sandbox to {host!r}: only loopback addresses (127.0.0.1, ::1, localhost) are allowed"
    )


@dataclass
class SandboxConfig:
    """How to run one sandbox."""

    host: str = "127.0.0.1"
    port: int = 8100
    users: int = 500
    seed: int = 1
    data_dir: Path = Path("var/sandbox")
    faults: dict[str, dict] = field(
        default_factory=dict
    )  # system -> fault fields, applied at start and on reset
    hang_max_seconds: float = 600.0


@dataclass
class Outcome:
    """The dispatcher's answer: a response, or drop the connection (after a hang, or after applying)."""

    resp: Resp | None
    drop: bool = False
    hang: bool = False


class App:
    """The whole simulated organisation behind one server."""

    def __init__(self, config: SandboxConfig):
        self.config = config
        self.org = Org(config.users, config.seed)
        self.state = State(self.org)
        self.credentials_path = Path(config.data_dir) / FILENAME
        self.credentials = ensure_credentials(Path(config.data_dir))
        self.keys = auth.Keys(self.credentials)
        self.faults = Faults(config.seed)
        self.buckets = RateBuckets()
        self._apply_configured_faults()

    def _apply_configured_faults(self) -> None:
        for system, spec in self.config.faults.items():
            self.faults.set(system, spec)

    def reset(self) -> None:
        """Back to the seed: people, effect log, faults (to the configured ones), rate counters."""
        self.state.reset()
        self.faults.clear()
        self.buckets.clear()
        self._apply_configured_faults()

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes, base: str
    ) -> Outcome:
        """Answer one request; never raises."""
        path, _, qs = target.partition("?")
        parts = path.split("/", 2)
        system = parts[1] if len(parts) > 1 else ""
        rest = "/" + (parts[2] if len(parts) > 2 else "")
        req = Request(
            method, rest, target, parse_qs(qs, keep_blank_values=True), headers, body, base, system
        )
        try:
            return self._route(req)
        except Exception:
            log.exception("sandbox: unexpected error on %s %s", method, path)
            return Outcome(server_error(system, 500))

    def _route(self, req: Request) -> Outcome:
        if req.system == "_sandbox":
            return Outcome(self._control(req))
        if req.system not in API:
            return Outcome(
                Resp(
                    404,
                    {
                        "error": "not_found",
                        "message": f"No sandbox system at {req.raw_path.split('?')[0]}",
                    },
                )
            )
        token = self._token_endpoint(req)
        if token is not None:
            return Outcome(self._finish(req, token, "token"))
        prefix, router = API[req.system]
        if not req.path.startswith(prefix + "/"):
            return Outcome(self._finish(req, not_found_path(req.system, req.path), "other"))
        route, params, known = router.match(req.method, req.path[len(prefix) :])
        if route is None:
            resp = (
                method_not_allowed(req.system, req.method)
                if known
                else not_found_path(req.system, req.path)
            )
            return Outcome(self._finish(req, resp, "other"))
        req.params = params
        return self._api(req, route)

    def _token_endpoint(self, req: Request) -> Resp | None:
        if req.system == "graph":
            bits = req.path.split("/")
            if len(bits) != 6 or bits[1] != "login" or bits[3:] != ["oauth2", "v2.0", "token"]:
                return None
            req.params = {"tenant": bits[2]}
        elif req.path.rstrip("/") != TOKEN_PATHS[req.system]:
            return None
        if req.method != "POST":
            return Resp(
                405,
                {
                    "error": "invalid_request",
                    "error_description": "The token endpoint only accepts POST.",
                },
            )
        return TOKEN_HANDLERS[req.system](self, req)

    def _api(self, req: Request, route) -> Outcome:
        mutating = req.method != "GET"
        decision = self.faults.decide(req.system, mutating)
        if decision.delay:
            time.sleep(decision.delay)
        if decision.hang:
            self._log(req, None, False, "hang")
            return Outcome(None, hang=True)
        resp, fault = self._guarded(req, route, decision)
        resp = self._finish(req, resp, route.family)
        drop = decision.drop and fault is None
        if mutating:
            self._log(
                req,
                resp.status,
                resp.applied and fault is None,
                "apply_then_drop" if drop else fault,
            )
        return Outcome(None if drop else resp, drop=drop)

    def _guarded(self, req: Request, route, decision) -> tuple[Resp, str | None]:
        denied = auth.check_api(self, req, route.scopes)
        if denied:
            return denied, "auth"
        limit, enforced = self.faults.limit_for(req.system, route.family)
        remaining, reset_at, over = self.buckets.hit(req.system, route.family, limit)
        req.rate = (limit, remaining, reset_at)
        if enforced and over:
            return rate_limited(
                req.system, max(1, reset_at - int(time.time())), quota=True
            ), "rate_limit"
        if decision.burst_retry_after is not None:
            req.rate = (limit, 0, int(time.time()) + decision.burst_retry_after)
            return rate_limited(req.system, decision.burst_retry_after), "burst_429"
        if decision.error_status:
            return server_error(req.system, decision.error_status), "error_rate"
        try:
            with self.state.lock:
                return route.handler(self, req), None
        except BadBody as exc:
            return bad_body(req.system, exc.kind), "bad_body"

    def _finish(self, req: Request, resp: Resp, family: str) -> Resp:
        """Add the rate-limit headers each API sends."""
        rate = req.rate
        if rate is None and req.system in ("okta", "zoom"):
            limit, _ = self.faults.limit_for(req.system, family)
            remaining, reset_at, _ = self.buckets.hit(req.system, family, limit)
            rate = (limit, remaining, reset_at)
        if req.system == "okta":
            resp.headers.update(
                {
                    "X-Rate-Limit-Limit": str(rate[0]),
                    "X-Rate-Limit-Remaining": str(rate[1]),
                    "X-Rate-Limit-Reset": str(rate[2]),
                }
            )
        elif req.system == "zoom" and rate:
            resp.headers.update(
                {
                    "X-RateLimit-Category": "Light",
                    "X-RateLimit-Limit": str(rate[0]),
                    "X-RateLimit-Remaining": str(rate[1]),
                }
            )
            if resp.status == 429:
                resp.headers["X-RateLimit-Type"] = "QPS"
        return resp

    def _log(self, req: Request, status: int | None, applied: bool, fault: str | None) -> None:
        self.state.log_effect(
            system=req.system,
            method=req.method,
            path=req.raw_path,
            status=status,
            applied=applied,
            fault=fault,
        )

    def _control(self, req: Request) -> Resp:
        route, params, known = control.router.match(req.method, req.path)
        if route is None:
            return Resp(
                405 if known else 404,
                {"error": "method not allowed" if known else "unknown control path"},
            )
        req.params = params
        try:
            return route.handler(self, req)
        except BadBody:
            return Resp(
                400, {"error": "expected a JSON object body with Content-Type: application/json"}
            )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AcmeSandbox/1.0"
    sys_version = ""
    timeout = 300

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        return  # quiet: never log requests (they carry credentials)

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            self._write(Resp(400, {"error": "bad request body framing"}))
            self.close_connection = True
            return
        app: App = self.server.app  # type: ignore[attr-defined]
        headers = {k.lower(): v for k, v in self.headers.items()}
        host = headers.get("host") or "%s:%s" % self.server.server_address[:2]  # noqa: UP031
        outcome = app.handle(self.command, self.path, headers, body, f"http://{host}")
        if outcome.hang:
            app.faults.wait_hang(app.config.hang_max_seconds)
            self._drop()
        elif outcome.drop or outcome.resp is None:
            self._drop()
        else:
            self._write(outcome.resp)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        raw = self.headers.get("Content-Length", "0") or "0"
        if not raw.isdigit() or int(raw) > MAX_BODY:
            return None
        return self.rfile.read(int(raw)) if int(raw) else b""

    def _read_chunked(self) -> bytes | None:
        out = bytearray()
        while True:
            line = self.rfile.readline(1024).split(b";")[0].strip()
            try:
                size = int(line, 16)
            except ValueError:
                return None
            if size == 0:
                self.rfile.readline(1024)
                return bytes(out)
            out += self.rfile.read(size)
            self.rfile.readline(1024)
            if len(out) > MAX_BODY:
                return None

    def _write(self, resp: Resp) -> None:
        payload = resp.encode()
        try:
            reason = HTTPStatus(resp.status).phrase
        except ValueError:
            reason = "Unknown"
        lines = [
            f"HTTP/1.1 {resp.status} {reason}",
            f"Server: {self.server_version}",
            f"Date: {formatdate(usegmt=True)}",
        ]
        if resp.status != 204:
            lines += [
                "Content-Type: application/json; charset=utf-8",
                f"Content-Length: {len(payload)}",
            ]
        lines += [f"{k}: {v}" for k, v in resp.headers.items()]
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        try:
            self.wfile.write(head + (b"" if self.command == "HEAD" else payload))
        except OSError:
            self.close_connection = True

    def _drop(self) -> None:
        """Close the socket without answering."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address, app: App):
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.address_family = family
        super().__init__(address, _Handler)
        self.app = app


class SandboxServer:
    """A running sandbox: base_url, app (org, state, faults) and stop()."""

    def __init__(self, config: SandboxConfig):
        check_loopback(config.host)
        self.app = App(config)
        self.httpd = _Server((config.host, config.port), self.app)
        host, port = self.httpd.server_address[:2]
        self.port = port
        self.base_url = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
        self.thread: threading.Thread | None = None

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        self.app.faults.clear()  # releases hung requests
        self.httpd.shutdown()
        self.httpd.server_close()
        if self.thread:
            self.thread.join(timeout=5)


def start_in_thread(config: SandboxConfig | None = None, **overrides) -> SandboxServer:
    """Start a sandbox on a daemon thread (port 0 picks a free port); call .stop() when done."""
    config = config or SandboxConfig(**overrides)
    server = SandboxServer(config)
    server.thread = threading.Thread(target=server.serve_forever, name="sandbox", daemon=True)
    server.thread.start()
    return server
