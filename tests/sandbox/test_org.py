"""The organisation (seeded, personas, gaps), the control API, bad input and start-up rules."""

from __future__ import annotations

import json
import stat
import subprocess
import sys

import httpx
import pytest

from connections.sandbox import data
from connections.sandbox.config import NotLoopback
from connections.sandbox.credentials import ensure_credentials
from connections.sandbox.data import Org
from connections.sandbox.server import SandboxConfig, SandboxServer
from connections.sandbox.state import build_person

ALICE = "alice.anders@acme.example"


def _fingerprint(org: Org) -> list:
    return [
        (org.email[i], org.status[i], org.flags[i], org.ids.okta_user.make(i), build_person(org, i))
        for i in range(0, org.n, 7)
    ]


def test_same_seed_same_org_and_different_seed_different_org():
    assert _fingerprint(Org(300, 1)) == _fingerprint(Org(300, 1))
    one, two = Org(300, 1), Org(300, 2)
    assert one.email[len(data.PERSONAS) :] != two.email[len(data.PERSONAS) :]
    assert one.ids.okta_user.make(5) != two.ids.okta_user.make(5)


def test_personas_exist_whatever_the_seed():
    for seed in (1, 99):
        org = Org(50, seed)
        for persona in data.PERSONAS:
            assert org.find(persona.email) is not None
    org = Org(50, 3)
    assert not org.has(org.find("bob.brandt@acme.example"), data.F_ZOOM)
    assert not org.has(org.find("carol.chen@acme.example"), data.F_GOOGLE)
    assert org.has(org.find("dan.dalton@acme.example"), data.F_HYBRID)


def test_realistic_gaps_and_statuses():
    org = Org(5000, 1)
    share = lambda flag: sum(1 for f in org.flags if f & flag) / org.n  # noqa: E731
    assert 0.85 < share(data.F_GOOGLE) < 0.95
    assert 0.80 < share(data.F_ZOOM) < 0.90
    assert 0.015 < share(data.F_HYBRID) < 0.05
    statuses = {data.STATUSES[s] for s in org.status}
    assert statuses == {"ACTIVE", "SUSPENDED", "DEPROVISIONED", "STAGED", "LOCKED_OUT"}
    assert len(set(org.email)) == org.n


def test_ids_round_trip():
    org = Org(100, 5)
    for idx in (0, 42, 99):
        assert org.ids.okta_user.parse(org.ids.okta_user.make(idx)) == idx
        assert org.ids.graph_user.parse(org.ids.graph_user.make(idx)) == idx
        assert org.ids.zoom_user.parse(org.ids.zoom_user.make(idx)) == idx
        assert org.ids.google_device.parse(org.ids.google_device.make(idx, 1), sub=True) == (idx, 1)
    assert org.ids.okta_user.parse("00uSHORT697") is None
    assert org.ids.okta_user.parse("xyz" + org.ids.okta_user.make(1)[3:]) is None


def test_control_people_reset_and_groups(sandbox):
    control = sandbox.base_url + "/_sandbox"
    view = httpx.get(f"{control}/people/{ALICE}").json()
    assert view["okta"]["status"] == "ACTIVE" and view["google"]["suspended"] is False
    assert view["zoom"]["status"] == "active" and view["graph"]["accountEnabled"] is True
    assert httpx.get(f"{control}/people/nobody@acme.example").status_code == 404
    assert httpx.get(f"{control}/people/carol.chen@acme.example").json()["google"] is None
    added = httpx.post(f"{control}/okta/groups/Administrators/members", json={"email": ALICE})
    assert "Administrators" in added.json()["okta"]["groups"]
    httpx.post(
        sandbox.url("okta", f"/users/{ALICE}/lifecycle/suspend"), headers=sandbox.headers("okta")
    )
    assert sandbox.person(ALICE)["okta"]["status"] == "SUSPENDED"
    assert httpx.post(f"{control}/reset").status_code == 200
    after = sandbox.person(ALICE)
    assert after["okta"]["status"] == "ACTIVE" and "Administrators" not in after["okta"]["groups"]
    health = httpx.get(f"{control}/health").json()
    assert health["status"] == "ok" and health["users"] == 200
    assert len(httpx.get(f"{control}/personas").json()) == len(data.PERSONAS)


def test_token_ttl_control(sandbox):
    assert (
        httpx.put(sandbox.base_url + "/_sandbox/token-ttl", json={"seconds": 5}).status_code == 200
    )
    assert sandbox.state.token_ttl == 5
    assert (
        httpx.put(sandbox.base_url + "/_sandbox/token-ttl", json={"seconds": -1}).status_code == 400
    )


@pytest.mark.parametrize(
    ("system", "check"),
    [
        ("okta", lambda b: b["errorCode"] == "E0000007"),
        ("google", lambda b: b["error"]["code"] == 404),
        ("zoom", lambda b: b["code"] == 404),
        ("graph", lambda b: "error" in b and "code" in b["error"]),
    ],
)
def test_unknown_paths_use_each_api_shape(sandbox, system, check):
    resp = httpx.get(sandbox.url(system, "/no/such/thing"), headers=sandbox.headers(system))
    assert resp.status_code == 404 and check(resp.json())


@pytest.mark.parametrize(
    ("system", "method", "path", "check"),
    [
        (
            "google",
            "PUT",
            f"/users/{ALICE}",
            lambda b: b["error"]["errors"][0]["reason"] in ("parseError", "badContent"),
        ),
        ("zoom", "PUT", f"/users/{ALICE}/status", lambda b: b["code"] == 300),
        ("graph", "PATCH", f"/users/{ALICE}", lambda b: b["error"]["code"] == "BadRequest"),
    ],
)
@pytest.mark.parametrize(
    ("content", "ctype"), [(b"{not json", "application/json"), (b'{"a": 1}', "text/plain")]
)
def test_bad_bodies_get_400_in_each_shape(sandbox, system, method, path, check, content, ctype):
    headers = {**sandbox.headers(system), "Content-Type": ctype}
    resp = httpx.request(method, sandbox.url(system, path), content=content, headers=headers)
    assert resp.status_code == 400 and check(resp.json())
    assert sandbox.effects(system)[-1]["applied"] is False


def test_unexpected_errors_are_500_in_the_api_shape(sandbox, monkeypatch):
    from connections.sandbox.zoom import users as zoom

    def explode(*args):
        raise RuntimeError("boom")

    monkeypatch.setattr(zoom, "user_json", explode)
    resp = httpx.get(sandbox.url("zoom", f"/users/{ALICE}"), headers=sandbox.headers("zoom"))
    assert resp.status_code == 500 and resp.json()["code"] == 500 and "Traceback" not in resp.text


def test_wrong_method_is_405(sandbox):
    resp = httpx.put(
        sandbox.url("okta", f"/users/{ALICE}/lifecycle/suspend"), headers=sandbox.headers("okta")
    )
    assert resp.status_code == 405 and resp.json()["errorCode"] == "E0000022"


def test_refuses_non_loopback_bind(tmp_path):
    with pytest.raises(NotLoopback):
        SandboxServer(SandboxConfig(host="0.0.0.0", port=0, users=20, data_dir=tmp_path))  # noqa: S104


def test_management_command_refuses_non_loopback(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "sandbox",
            "--host",
            "10.1.2.3",
            "--port",
            "0",
            "--data-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=_test_env(),
    )
    assert proc.returncode != 0 and "loopback" in proc.stderr


def test_python_m_prints_urls_and_credentials_path(tmp_path):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "connections.sandbox",
            "--port",
            "0",
            "--users",
            "30",
            "--data-dir",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [proc.stdout.readline() for _ in range(7)]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    text = "".join(lines)
    assert (
        "/okta/api/v1" in text
        and "/graph/login/" in text
        and str(tmp_path / "credentials.json") in text
    )
    assert ensure_credentials(tmp_path)["okta"]["api_token"] not in text


def test_credentials_are_generated_once_with_mode_600(tmp_path):
    first = ensure_credentials(tmp_path)
    second = ensure_credentials(tmp_path)
    assert first == second
    path = tmp_path / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = json.loads(path.read_text())
    assert set(saved) == {"okta", "google", "zoom", "graph"}
    assert set(saved["google"]["service_account"]) == {
        "type",
        "project_id",
        "private_key_id",
        "private_key",
        "client_email",
        "client_id",
        "token_uri",
    }
    assert saved["okta"]["public_jwk"]["kid"] == saved["okta"]["key_id"]


def _test_env() -> dict:
    import os

    from tests.envplugin import _TEST_ENV

    return {**os.environ, **_TEST_ENV}
