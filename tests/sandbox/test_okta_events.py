"""The sandbox as Okta for event hooks: registration, verification, deliveries with Okta's header
and retry rule, and the System Log, checked against the stored spec where it has the operation."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.sandbox import specs

ALICE = "alice.anders@acme.example"
SECRET = "sandbox-hook-secret-0123456789"  # noqa: S105 (a test value)
TYPES = ["user.lifecycle.suspend", "user.account.report_suspicious_activity_by_enduser"]


class Receiver:
    """A stand-in for the portal's endpoint: records requests, answers from a script."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.script: list[int] = []  # statuses to answer POSTs with, then 204
        self.echo = True
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _record(self, body: bytes) -> None:
                receiver.requests.append(
                    {"method": self.command, "headers": dict(self.headers), "body": body}
                )

            def do_GET(self):
                self._record(b"")
                challenge = self.headers.get("X-Okta-Verification-Challenge", "")
                answer = json.dumps({"verification": challenge if receiver.echo else "no"})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(answer.encode())

            def do_POST(self):
                self._record(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                self.send_response(receiver.script.pop(0) if receiver.script else 204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/okta/x/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def posts(self, wait: float = 5.0, count: int = 1) -> list[dict]:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            found = [r for r in self.requests if r["method"] == "POST"]
            if len(found) >= count:
                return found
            time.sleep(0.02)
        return [r for r in self.requests if r["method"] == "POST"]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture
def okta(sandbox):
    client = httpx.Client(base_url=sandbox.url("okta"), headers=sandbox.headers("okta"), timeout=10)
    yield client
    client.close()


def register(okta, url: str, types=TYPES) -> dict:
    body = {
        "name": "Portal",
        "events": {"type": "EVENT_TYPE", "items": types},
        "channel": {
            "type": "HTTP",
            "version": "1.0.0",
            "config": {
                "uri": url,
                "authScheme": {"type": "HEADER", "key": "Authorization", "value": SECRET},
            },
        },
    }
    resp = okta.post("/eventHooks", json=body)
    specs.check_openapi("okta", "/eventHooks", "POST", resp.status_code, resp.json())
    return resp.json()


def test_registration_never_returns_the_secret_and_verification_echoes_a_challenge(okta, receiver):
    hook = register(okta, receiver.url)
    assert hook["verificationStatus"] == "UNVERIFIED"
    assert SECRET not in json.dumps(hook)
    resp = okta.post(f"/eventHooks/{hook['id']}/lifecycle/verify")
    specs.check_openapi(
        "okta", "/eventHooks/{eventHookId}/lifecycle/verify", "POST", resp.status_code, resp.json()
    )
    assert resp.json()["verificationStatus"] == "VERIFIED"
    listed = okta.get("/eventHooks")
    specs.check_openapi("okta", "/eventHooks", "GET", listed.status_code, listed.json())
    assert [h["id"] for h in listed.json()] == [hook["id"]]
    (get,) = receiver.requests
    assert get["method"] == "GET" and get["headers"]["Authorization"] == SECRET
    assert get["headers"]["X-Okta-Verification-Challenge"]


def test_a_wrong_echo_fails_verification(okta, receiver):
    receiver.echo = False
    hook = register(okta, receiver.url)
    resp = okta.post(f"/eventHooks/{hook['id']}/lifecycle/verify")
    assert resp.status_code == 400 and resp.json()["errorCode"] == "E0000001"


def test_an_unverified_hook_gets_nothing(okta, sandbox, receiver):
    register(okta, receiver.url)
    uid = sandbox.person(ALICE)["okta"]["id"]
    assert okta.post(f"/users/{uid}/lifecycle/suspend").status_code == 200
    assert receiver.posts(wait=0.5) == []


def _verified(okta, receiver, types=TYPES) -> dict:
    hook = register(okta, receiver.url, types)
    okta.post(f"/eventHooks/{hook['id']}/lifecycle/verify").raise_for_status()
    return hook


def test_a_suspension_is_delivered_with_the_header_and_okta_envelope(okta, sandbox, receiver):
    _verified(okta, receiver)
    uid = sandbox.person(ALICE)["okta"]["id"]
    okta.post(f"/users/{uid}/lifecycle/suspend").raise_for_status()
    (post,) = receiver.posts()
    assert post["headers"]["Authorization"] == SECRET
    assert post["headers"]["Content-Type"] == "application/json"
    body = json.loads(post["body"])
    assert body["eventType"] == "com.okta.event_hook" and body["eventId"]
    (event,) = body["data"]["events"]
    assert event["eventType"] == "user.lifecycle.suspend"
    assert {"id": uid, "type": "User"}.items() <= event["target"][0].items()


def test_a_5xx_is_retried_once_and_a_4xx_never(okta, sandbox, receiver):
    _verified(okta, receiver)
    receiver.script = [503, 503]
    sandbox_post = f"/_sandbox/okta/people/{ALICE}/report-suspicious"
    httpx.post(sandbox.base_url + sandbox_post).raise_for_status()
    assert len(receiver.posts(count=2)) == 2
    time.sleep(0.8)  # a third attempt would come after the retry pause
    assert len(receiver.posts(wait=0)) == 2
    first, second = receiver.posts(wait=0)
    assert json.loads(first["body"])["eventId"] == json.loads(second["body"])["eventId"]
    receiver.requests.clear()
    receiver.script = [400]
    httpx.post(sandbox.base_url + sandbox_post).raise_for_status()
    assert len(receiver.posts()) == 1
    time.sleep(0.8)
    assert len(receiver.posts(wait=0)) == 1


def test_only_subscribed_types_are_delivered(okta, sandbox, receiver):
    _verified(okta, receiver, types=["user.lifecycle.deactivate"])
    uid = sandbox.person(ALICE)["okta"]["id"]
    okta.post(f"/users/{uid}/lifecycle/suspend").raise_for_status()
    assert receiver.posts(wait=0.5) == []


def test_the_system_log_serves_every_event_and_always_a_next_link_when_polling(okta, sandbox):
    uid = sandbox.person(ALICE)["okta"]["id"]
    okta.post(f"/users/{uid}/lifecycle/suspend").raise_for_status()
    okta.put(f"/groups/{sandbox_group(sandbox)}/users/{uid}").raise_for_status()
    resp = okta.get("/logs", params={"filter": 'eventType eq "user.lifecycle.suspend"'})
    specs.check_openapi("okta", "/logs", "GET", resp.status_code, resp.json())
    (event,) = resp.json()
    assert event["target"][0]["id"] == uid
    assert "self" in resp.links
    caught_up = okta.get(resp.links["next"]["url"])
    assert caught_up.json() == [] and "next" in caught_up.links
    okta.post(f"/users/{uid}/lifecycle/unsuspend").raise_for_status()
    later = okta.get(caught_up.links["next"]["url"])
    assert [e["eventType"] for e in later.json()] == []  # filtered to suspend only
    everything = okta.get("/logs").json()
    assert [e["eventType"] for e in everything] == [
        "user.lifecycle.suspend",
        "group.user_membership.add",
        "user.lifecycle.unsuspend",
    ]


def test_the_system_log_refuses_since_with_after_and_an_unknown_filter(okta):
    assert (
        okta.get("/logs", params={"since": "2026-01-01T00:00:00Z", "after": "x"}).status_code == 400
    )
    assert okta.get("/logs", params={"filter": "published gt 1"}).status_code == 400


def test_paused_deliveries_still_reach_the_system_log(okta, sandbox, receiver):
    _verified(okta, receiver)
    httpx.post(
        sandbox.base_url + "/_sandbox/okta/event-hooks/paused", json={"paused": True}
    ).raise_for_status()
    uid = sandbox.person(ALICE)["okta"]["id"]
    okta.post(f"/users/{uid}/lifecycle/suspend").raise_for_status()
    assert receiver.posts(wait=0.5) == []
    assert len(okta.get("/logs").json()) == 1


def sandbox_group(sandbox) -> str:
    groups = httpx.get(sandbox.base_url + "/_sandbox/okta/groups").json()
    return next(g["id"] for g in groups if g["name"] == "Administrators")
