"""Command-line options shared by `python -m connections.sandbox` and `manage.py sandbox`."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Protocol

from connections.sandbox.config import NotLoopback, SandboxConfig
from connections.sandbox.credentials import set_google_token_uri
from connections.sandbox.faults import FaultError, FaultSpec
from connections.sandbox.providers import SYSTEMS
from connections.sandbox.server import SandboxServer


class Output(Protocol):
    """Where start-up is printed: sys.stdout, or a management command's stdout."""

    def write(self, text: str, /) -> object: ...

    def flush(self) -> object: ...


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the sandbox's options on a parser."""
    parser.add_argument(
        "--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=8100, help="port (0 picks a free one)")
    parser.add_argument("--users", type=int, default=500, help="people in the organisation")
    parser.add_argument("--seed", type=int, default=1, help="seed of the organisation")
    parser.add_argument("--data-dir", default="var/sandbox", help="where credentials.json lives")
    parser.add_argument(
        "--system",
        default="all",
        choices=("all",) + SYSTEMS,
        help="system the fault flags apply to",
    )
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--jitter-ms", type=int, default=0)
    parser.add_argument(
        "--error-rate", type=float, default=0.0, help="fraction of API calls answered 500/503"
    )
    parser.add_argument(
        "--burst-429", type=int, default=0, help="answer the next N API calls with 429"
    )
    parser.add_argument(
        "--retry-after", type=int, default=1, help="Retry-After seconds for --burst-429"
    )
    parser.add_argument("--hang", action="store_true", help="never answer API calls")
    parser.add_argument(
        "--rate-limit-per-minute", default=None, help="an int, or 'default' for Okta-like limits"
    )
    parser.add_argument(
        "--okta-dpop",
        choices=("on", "off"),
        default="on",
        help="whether the Okta service app requires DPoP (default on, as Okta recommends)",
    )


def config_from(options: dict) -> SandboxConfig:
    """Build a SandboxConfig from parsed options (argparse or Django)."""
    spec: dict = {}
    if options.get("latency_ms"):
        spec["latency_ms"] = options["latency_ms"]
    if options.get("jitter_ms"):
        spec["jitter_ms"] = options["jitter_ms"]
    if options.get("error_rate"):
        spec["error_rate"] = options["error_rate"]
    if options.get("burst_429"):
        spec["burst_429"] = {
            "count": options["burst_429"],
            "retry_after": options.get("retry_after", 1),
        }
    if options.get("hang"):
        spec["hang"] = True
    limit = options.get("rate_limit_per_minute")
    if limit:
        spec["rate_limit_per_minute"] = limit if limit == "default" else int(limit)
    FaultSpec.from_dict(spec)
    system = options.get("system") or "all"
    faults = {s: dict(spec) for s in (SYSTEMS if system == "all" else (system,))} if spec else {}
    return SandboxConfig(
        host=options["host"],
        port=options["port"],
        users=options["users"],
        seed=options["seed"],
        data_dir=Path(options["data_dir"]),
        faults=faults,
        okta_dpop=options.get("okta_dpop", "on") != "off",
    )


def banner(server: SandboxServer, started: float) -> str:
    """What start-up prints: URLs of every system and the credentials file (never a secret)."""
    base = server.base_url
    app = server.app
    lines = [
        f"Sandbox: {app.org.n} people, seed {app.org.seed}, ready in {time.perf_counter() - started:.2f}s at {base}",
        *(p.describe(base, app.credentials) for p in app.providers.values()),
        f"  Control {base}/_sandbox/health, /_sandbox/people/<email>, /_sandbox/effects, /_sandbox/faults",
        f"  Credentials file: {app.credentials_path.resolve()}",
    ]
    if app.config.faults:
        lines.append(f"  Faults at start: {json.dumps(app.config.faults)}")
    return "\n".join(lines)


def run(options: dict, out: Output = sys.stdout) -> int:
    """Start the sandbox in the foreground until interrupted."""
    started = time.perf_counter()
    try:
        server = SandboxServer(config_from(options))
    except NotLoopback as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (FaultError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    server.app.credentials = set_google_token_uri(
        server.app.config.data_dir, f"{server.base_url}/google/token"
    )
    print(banner(server, started), file=out, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
    return 0
