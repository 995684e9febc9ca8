"""Every route the sandbox serves is an operation of the API specs, and answers as the spec says.

The list comes from the providers' routers, so a route added later without a spec operation, or
answering outside its schema, fails here. Each route is called once on its happy path for the
persona Alice (ids read through the API first), and the answer is validated against
tests/api_specs (OpenAPI for Okta, Graph and Zoom, the discovery document for Google).
"""

from __future__ import annotations

import re

import httpx
import pytest

from connections.sandbox.providers import PROVIDERS
from tests.sandbox import specs

ALICE = "alice.anders@acme.example"
SPEC_API = {"okta": "okta", "graph": "graph", "zoom": "zoom"}
SPEC_PREFIX = {"okta": "/api/v1", "google": "admin/directory/v1"}
# Graph's alternate key syntax /devices(deviceId='…') is the same operation as /devices/{id}
# (CONTRACTS.md §4.1); the derived spec file lists only the latter.
ALIASES = {("graph", "/devices{deviceKey}"): "/devices/{deviceKey}"}
BODIES = {
    ("google", "PUT", "/users/{userKey}"): {"suspended": True},
    ("google", "PATCH", "/users/{userKey}"): {"suspended": True},
    ("google", "POST", "/customer/{customerId}/devices/mobile/{resourceId}/action"): {
        "action": "admin_account_wipe"
    },
    ("zoom", "PUT", "/users/{userId}/status"): {"action": "deactivate"},
    ("graph", "PATCH", "/users/{userId}"): {"accountEnabled": False},
    ("graph", "PATCH", "/devices/{deviceKey}"): {"accountEnabled": False},
    ("graph", "PATCH", "/devices{deviceKey}"): {"accountEnabled": False},
}
QUERY = {
    ("google", "GET", "/users"): {"customer": "my_customer", "maxResults": 2},
    ("okta", "GET", "/users"): {"limit": 2},
    ("graph", "GET", "/users"): {"$top": 2},
    # The sandbox lists devices per person only (docs/SANDBOX.md).
    ("google", "GET", "/customer/{customerId}/devices/mobile"): {"query": f"email:{ALICE}"},
}
ERIN = "erin.easton@acme.example"  # SUSPENDED: the one person unsuspend is for


def _template(pattern: str) -> str:
    return re.sub(r"\(\?P<(\w+)>\[\^/\]\+\)", r"{\1}", pattern)[1:].removesuffix("/?$")


ROUTES = [
    (p.system, r.method, _template(r.regex.pattern)) for p in PROVIDERS for r in p.router.routes
]


def _shape(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", template)


def _spec_path(system: str, method: str, template: str) -> str | None:
    """The spec's path for this route (parameter names may differ), or None."""
    wanted = _shape(ALIASES.get((system, template), template))
    if system == "google":
        _, methods = specs._google()
        for m in methods.values():
            path = "/" + m["path"].removeprefix(SPEC_PREFIX["google"] + "/")
            if m["httpMethod"] == method and _shape(path) == wanted:
                return m["id"]
        return None
    spec = specs._load(SPEC_API[system])
    prefix = SPEC_PREFIX.get(system, "")
    for path, item in spec["paths"].items():
        if _shape(path.removeprefix(prefix)) == wanted and method.lower() in item:
            return path.removeprefix(prefix)
    return None


@pytest.mark.parametrize("system, method, template", ROUTES, ids=[" ".join(r) for r in ROUTES])
def test_the_route_is_an_operation_of_the_spec(system, method, template):
    assert _spec_path(system, method, template), f"{system} {method} {template} is not in the spec"


class Ids:
    """Alice's ids in each system, read through the API as a client would."""

    def __init__(self, sandbox, person: str = ALICE):
        self.sandbox = sandbox
        self._headers: dict[str, dict[str, str]] = {}
        self.okta_id = sandbox.person(person)["okta"]["id"]

    def headers(self, system: str) -> dict[str, str]:
        if system not in self._headers:
            self._headers[system] = self.sandbox.headers(system)
        return self._headers[system]

    def get(self, system: str, path: str, **params):
        resp = httpx.get(
            self.sandbox.url(system, path), headers=self.headers(system), params=params
        )
        resp.raise_for_status()
        return resp.json()

    def value(self, system: str, name: str) -> str:
        okta = f"/users/{self.okta_id}"
        found = {
            ("okta", "id"): lambda: self.okta_id,
            ("okta", "userId"): lambda: self.okta_id,
            ("okta", "groupId"): lambda: next(
                g["id"] for g in self.get("okta", f"{okta}/groups") if g["type"] == "OKTA_GROUP"
            ),
            ("okta", "appId"): lambda: self.get("okta", f"{okta}/appLinks")[0]["appInstanceId"],
            ("okta", "factorId"): lambda: self.get("okta", f"{okta}/factors")[0]["id"],
            ("okta", "clientId"): lambda: self.get("okta", f"{okta}/clients")[0]["client_id"],
            ("okta", "deviceId"): lambda: self.get("okta", f"{okta}/devices")[0]["device"]["id"],
            ("google", "userKey"): lambda: ALICE,
            ("google", "customerId"): lambda: "my_customer",
            ("google", "clientId"): lambda: self.get("google", f"/users/{ALICE}/tokens")["items"][
                0
            ]["clientId"],
            ("google", "codeId"): lambda: str(
                self.get("google", f"/users/{ALICE}/asps")["items"][0]["codeId"]
            ),
            ("google", "resourceId"): lambda: self.get(
                "google", "/customer/my_customer/devices/mobile", query=f"email:{ALICE}"
            )["mobiledevices"][0]["resourceId"],
            ("zoom", "userId"): lambda: ALICE,
            ("graph", "userId"): lambda: ALICE,
            ("graph", "deviceKey"): lambda: self.get("graph", f"/users/{ALICE}/registeredDevices")[
                "value"
            ][0]["id"],
        }[(system, name)]
        return found()

    def alternate_device_key(self) -> str:
        device = self.get("graph", f"/users/{ALICE}/registeredDevices")["value"][0]
        return f"(deviceId='{device['deviceId']}')"


@pytest.mark.parametrize("system, method, template", ROUTES, ids=[" ".join(r) for r in ROUTES])
def test_the_route_answers_as_its_spec_says(sandbox, system, method, template):
    if template.startswith("/eventHooks"):
        pytest.skip(
            "needs a registered hook and a listening portal: its answers are checked against the "
            "spec in tests/sandbox/test_okta_events.py"
        )
    unsuspend = template.endswith("/lifecycle/unsuspend")
    ids = Ids(sandbox, ERIN if unsuspend else ALICE)
    if (system, template) == ("graph", "/devices{deviceKey}"):
        path = "/devices" + ids.alternate_device_key()
    else:
        path = re.sub(r"\{(\w+)\}", lambda m: ids.value(system, m.group(1)), template)
    body = BODIES.get((system, method, template))
    if (system, method, template) == ("okta", "POST", "/apps/{appId}/users"):
        body = {"id": ids.okta_id, "scope": "USER"}  # assign the app to the person (again)
    resp = httpx.request(
        method,
        sandbox.url(system, path),
        headers=ids.headers(system),
        params=QUERY.get((system, method, template)),
        json=body,
    )
    assert resp.is_success, (resp.status_code, resp.text[:300])
    answer = resp.json() if resp.content else None
    spec_path = _spec_path(system, method, template)
    if system == "google":
        specs.check_google(spec_path, resp.status_code, answer)
    else:
        specs.check_openapi(SPEC_API[system], spec_path, method, resp.status_code, answer)
