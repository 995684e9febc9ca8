"""Sandbox throughput on one core (get-user, suspend+unsuspend) and 100k-user start-up time and memory."""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

_WORKERS = iter(["admin", "alice.anders", "grace.garcia", "dan.dalton", "bob.brandt", "carol.chen"])

ROOT = Path(__file__).resolve().parents[2]
SECONDS = float(os.environ.get("BENCH_SECONDS", "4"))
MAX_REQUESTS = 20000


def _pin(cpu: int):
    def pin() -> None:
        if hasattr(os, "sched_setaffinity") and cpu < os.cpu_count():
            os.sched_setaffinity(0, {cpu})

    return pin


def start_server(users: int, data_dir: str) -> tuple[subprocess.Popen, str, float]:
    """Start `python -m connections.sandbox` pinned to CPU 0; returns (process, base URL, seconds to ready)."""
    started = time.perf_counter()
    cmd = [
        sys.executable,
        "-m",
        "connections.sandbox",
        "--port",
        "0",
        "--users",
        str(users),
        "--data-dir",
        data_dir,
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True, preexec_fn=_pin(0))  # noqa: S603, PLW1509
    line = proc.stdout.readline()
    ready = time.perf_counter() - started
    found = re.search(r"at (http://\S+)", line)
    if not found:
        proc.kill()
        raise RuntimeError(f"sandbox did not start: {line!r}")
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    return proc, found.group(1), ready


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _rate(call, seconds: float = SECONDS) -> tuple[float, int]:
    done, deadline = 0, time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < deadline and done < MAX_REQUESTS:
        done += call()
    return done / (time.perf_counter() - start), done


def _parallel(make_call, clients: int) -> float:
    results: list[tuple[float, int]] = []
    threads = [
        threading.Thread(target=lambda: results.append(_rate(make_call()))) for _ in range(clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(r[0] for r in results)


def throughput(base: str, token: str) -> dict[str, float]:
    """Requests/second for get-user and for suspend+unsuspend pairs over keep-alive connections."""
    headers = {"Authorization": f"SSWS {token}"}
    user = f"{base}/okta/api/v1/users/alice.anders@acme.example"

    def get_user_call():
        client = httpx.Client(headers=headers, timeout=10)

        def call() -> int:
            assert client.get(user).status_code == 200
            return 1

        return call

    def lifecycle_call():
        client = httpx.Client(headers=headers, timeout=10)

        def call() -> int:
            assert client.post(f"{user}/lifecycle/suspend").status_code == 200
            assert client.post(f"{user}/lifecycle/unsuspend").status_code == 200
            return 2

        return call

    return {
        "httpx get_user 1 conn": _rate(get_user_call())[0],
        "httpx get_user 4 conns": _parallel(get_user_call, 4),
        "httpx suspend+unsuspend 1 conn": _rate(lifecycle_call())[0],
        "http.client get_user 4 conns": _parallel(
            lambda: _raw_call(base, headers, "GET", "/okta/api/v1/users/alice.anders@acme.example"),
            4,
        ),
        "http.client suspend+unsuspend 4 conns": _parallel(
            lambda: _raw_lifecycle(base, headers), 4
        ),
    }


def _raw_call(base: str, headers: dict, method: str, path: str):
    """A lighter load generator (stdlib http.client, keep-alive) so the client is not the bottleneck."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)

    def call() -> int:
        conn.request(method, path, headers=headers)
        resp = conn.getresponse()
        resp.read()
        assert resp.status < 300
        return 1

    return call


def _raw_lifecycle(base: str, headers: dict):
    """Each worker cycles its own user so that suspend/unsuspend never collide."""
    email = f"{next(_WORKERS)}@acme.example"
    suspend = _raw_call(base, headers, "POST", f"/okta/api/v1/users/{email}/lifecycle/suspend")
    unsuspend = _raw_call(base, headers, "POST", f"/okta/api/v1/users/{email}/lifecycle/unsuspend")
    return lambda: suspend() + unsuspend()


def main() -> None:
    import json

    _pin(1)()  # the load generator on another core than the server
    with tempfile.TemporaryDirectory() as tmp:
        proc, base, ready = start_server(500, tmp)
        try:
            token = json.loads((Path(tmp) / "credentials.json").read_text())["okta"]["api_token"]
            figures = throughput(base, token)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        print(f"sandbox 500 users: ready in {ready:.2f}s")
        for name, value in figures.items():
            print(f"sandbox {name}: {value:,.0f} req/s (server pinned to one core)")
        proc, base, ready = start_server(100_000, tmp)
        try:
            idle = rss_mib(proc.pid)
            scan = time.perf_counter()
            resp = httpx.get(
                f"{base}/okta/api/v1/users",
                params={"search": 'profile.lastName eq "Nobody"'},
                headers={"Authorization": f"SSWS {token}"},
                timeout=60,
            )
            scan = time.perf_counter() - scan
            assert resp.status_code == 200, resp.status_code
            print(
                f"sandbox 100,000 users: ready in {ready:.2f}s (process start to listening), RSS {idle:.0f} MiB"
            )
            print(
                f"sandbox 100,000 users: full search scan {scan:.2f}s, RSS after {rss_mib(proc.pid):.0f} MiB"
            )
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
