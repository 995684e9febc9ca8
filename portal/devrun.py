"""`make run`: the web server, a django-q2 cluster and the sandbox, stopped together by Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
SANDBOX_URL = os.environ.get("PORTAL_SANDBOX_URL", "http://127.0.0.1:8100").rstrip("/")


def _manage(*args: str) -> list[str]:
    return [sys.executable, str(BASE_DIR / "manage.py"), *args]


def _wait_for_sandbox() -> None:
    """Until the sandbox answers (30 s at most): the worker cluster fetches the connections'
    access tokens from it as it starts (`registry.warm_tokens`)."""
    import httpx

    url = SANDBOX_URL + "/_sandbox/health"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)


def _register_okta_hook(base_url: str) -> None:
    """Issue 14: once the portal answers, register its event hook with the sandbox's Okta (which
    verifies it by calling the portal), so suspending someone there signs them out everywhere."""
    import httpx

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(base_url + "/healthz", timeout=1).status_code < 500:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    command = _manage("okta_hook_setup", "--base-url", base_url, "--register")
    subprocess.run(command, cwd=BASE_DIR, check=False)  # noqa: S603


def main() -> int:
    host = os.environ.get("PORTAL_HOST", "127.0.0.1")
    port = os.environ.get("PORTAL_PORT", "8000")
    sandbox_port = str(urlsplit(SANDBOX_URL).port or 8100)
    users = os.environ.get("PORTAL_SANDBOX_USERS", "500")
    # The sandbox first: the worker cluster asks it for access tokens as it starts.
    commands = {
        "sandbox": _manage("sandbox", "--port", sandbox_port, "--users", users, "--seed", "1"),
        "web": _manage("runserver", f"{host}:{port}", "--noreload"),
        # The portal's qcluster also sweeps every OFFBOARDING_SWEEP_SECONDS (due retries, leases).
        "worker": _manage("qcluster"),
    }
    processes: dict[str, subprocess.Popen] = {}
    for name, command in commands.items():
        processes[name] = subprocess.Popen(command, cwd=BASE_DIR)  # noqa: S603 (our own manage.py)
        print(f"started {name} (pid {processes[name].pid})", flush=True)
        if name == "sandbox":
            _wait_for_sandbox()
    subprocess.run(_manage("test_connections"), cwd=BASE_DIR, check=False)  # noqa: S603
    _register_okta_hook(f"http://{host}:{port}")
    print(f"\nPortal: http://{host}:{port}/  (Ctrl-C stops everything)\n", flush=True)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, process in processes.items():
            if process.poll() is not None:
                print(f"{name} stopped (exit {process.returncode}); stopping the rest.", flush=True)
                exit_code = process.returncode or 1
                stopping = True
        time.sleep(0.3)
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
