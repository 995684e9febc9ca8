"""End to end with the sandbox as Okta: the portal registers its hook through the Event Hooks API,
the sandbox verifies it, and suspending someone through the sandbox's Okta API signs them out
everywhere with no click; a delivery the sandbox never made is found in the System Log."""

from __future__ import annotations

import time

import httpx
import pytest

from offboarding.models import ActionRequest, EventHook, EventPolicy, HookEvent
from offboarding.services.hook_admin import event_hook_configure, event_hook_register
from tests.hooks.conftest import SECRET

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sandbox]

ALICE = "alice.anders@acme.example"


@pytest.fixture
def hooked(connected, live_server, queue):
    """The portal's hook registered in the sandbox and verified, with the default suspend policy."""
    from connections.models import Connection

    EventPolicy.objects.get_or_create(
        event_type="user.lifecycle.suspend",
        defaults={"name": "User suspended", "action": "reset_sessions", "mode": "automatic"},
    )
    okta = Connection.objects.get(system="okta")
    event_hook_configure(actor=None, connection=okta, header_name="Authorization", secret=SECRET)
    hook = event_hook_register(actor=None, connection=okta, base_url=live_server.url)
    return connected, hook


def _wait_for(predicate, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.05)
    return predicate()


def _okta(sandbox) -> httpx.Client:
    return httpx.Client(base_url=sandbox.url("okta"), headers=sandbox.headers("okta"), timeout=10)


def test_registering_verifies_the_hook_through_the_sandbox(hooked):
    _, hook = hooked
    assert hook.okta_hook_id.startswith("who")
    assert EventHook.objects.get().verified_at is not None


def test_suspending_someone_in_okta_signs_them_out_everywhere_with_no_click(hooked, queue):
    sandbox, _ = hooked
    person = sandbox.person(ALICE)
    assert person["okta"]["sessions"] > 0
    with _okta(sandbox) as okta:
        okta.post(f"/users/{person['okta']['id']}/lifecycle/suspend").raise_for_status()
    event = _wait_for(lambda: HookEvent.objects.filter(okta_user_id=person["okta"]["id"]).first())
    assert event is not None and event.source == HookEvent.Source.HOOK
    _wait_for(lambda: queue.sent)
    queue.drain()
    req = ActionRequest.objects.get()
    assert (req.kind, req.state, req.origin) == ("reset_sessions", "succeeded", "event_hook")
    assert sorted({s.system for s in req.steps.all()}) == ["google", "msgraph", "okta", "zoom"]
    after = sandbox.person(ALICE)
    assert after["okta"]["sessions"] == 0
    assert after["google"]["sign_outs"] == person["google"]["sign_outs"] + 1
    assert after["zoom"]["sso_tokens"] == 0


def test_a_missed_delivery_is_found_by_the_reconciliation(hooked, queue):
    sandbox, _ = hooked
    httpx.post(
        sandbox.base_url + "/_sandbox/okta/event-hooks/paused", json={"paused": True}
    ).raise_for_status()
    uid = sandbox.person(ALICE)["okta"]["id"]
    with _okta(sandbox) as okta:
        okta.post(f"/users/{uid}/lifecycle/suspend").raise_for_status()
    time.sleep(0.3)
    assert not HookEvent.objects.exists()
    queue.run("offboarding.tasks.reconcile_okta_events")
    queue.drain()
    event = HookEvent.objects.get()
    assert (event.source, event.okta_user_id, event.status) == ("syslog", uid, "done")
    assert ActionRequest.objects.get().state == "succeeded"
