"""The HTTP server (stdlib, HTTP/1.1 keep-alive) in front of the App; start_in_thread() for tests."""

from __future__ import annotations

import socket
import threading
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from connections.sandbox.app import App
from connections.sandbox.config import SandboxConfig, check_loopback
from connections.sandbox.web import Resp

__all__ = ["SandboxConfig", "SandboxServer", "start_in_thread"]

MAX_BODY = 1 << 20


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AcmeSandbox/1.0"
    sys_version = ""
    timeout = 300
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return  # quiet: never log requests (they carry credentials)

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            self._write(Resp(400, {"error": "bad request body framing"}))
            self.close_connection = True
            return
        app = self.server.app
        headers = {k.lower(): v for k, v in self.headers.items()}
        host = headers.get("host") or "%s:%s" % self.server.bound()  # noqa: UP031
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
        headers = {k: v for k, v in resp.headers.items() if k.lower() != "content-type"}
        if resp.status != 204:
            ctype = next(
                (v for k, v in resp.headers.items() if k.lower() == "content-type"),
                "application/json; charset=utf-8",
            )
            lines += [f"Content-Type: {ctype}", f"Content-Length: {len(payload)}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
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

    def __init__(self, address: tuple[str, int], app: App):
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.address_family = family
        super().__init__(address, _Handler)
        self.app = app
        name = self.socket.getsockname()
        self._bound = (str(name[0]), int(name[1]))

    def bound(self) -> tuple[str, int]:
        """The (host, port) the socket is bound to (port 0 resolved)."""
        return self._bound


class SandboxServer:
    """A running sandbox: base_url, app (org, state, faults) and stop()."""

    def __init__(self, config: SandboxConfig):
        check_loopback(config.host)
        self.app = App(config)
        self.httpd = _Server((config.host, config.port), self.app)
        host, port = self.httpd.bound()
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
