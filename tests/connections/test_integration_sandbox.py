"""Each client end-to-end against the in-process sandbox: auth, operations, 429, 5xx, timeouts."""

from __future__ import annotations

import pytest

from connections import registry, services
from connections.management.commands.configure_sandbox_connections import sandbox_connections
from connections.models import Connection
from connections.types import ConnectorError, Outcome, System, Target, capture_calls
from tests.spec_transport import check_every_real_call

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]

ALICE = "alice.anders@acme.example"
FAULT_SYSTEM = {
    System.OKTA: "okta",
    System.GOOGLE: "google",
    System.ZOOM: "zoom",
    System.MSGRAPH: "graph",
}
LOCK = {
    System.OKTA: "suspend",
    System.GOOGLE: "suspend",
    System.ZOOM: "deactivate",
    System.MSGRAPH: "disable",
}


@pytest.fixture
def connected(sandbox, settings, monkeypatch):
    check_every_real_call(monkeypatch)  # every request checked against the API specs
    settings.PORTAL_SANDBOX = True
    for system, spec in sandbox_connections(sandbox.base_url, sandbox.credentials).items():
        result = services.connection_save(
            system=system, actor=None, label="", settings=spec["settings"], secret=spec["secret"]
        )
        services.connection_set_enabled(connection=result.connection, actor=None, enabled=True)
    return sandbox


def alice(sandbox) -> Target:
    user = registry.okta_get_user(ALICE)
    profile = user["profile"]
    return Target(
        okta_id=user["id"], login=profile["login"], email=profile["email"], profile=profile
    )


@pytest.mark.parametrize("system", list(System))
def test_test_connection_is_green(connected, system):
    connection = Connection.objects.get(system=system.value)
    result = services.connection_test(connection=connection, actor=None)
    assert result.ok, result.message


# What a repeated lock reports: Okta refuses a second suspend (400 E0000001), so the client can
# tell it is already done; Google, Zoom and Graph answer a repeat as they answer the first time,
# so it is reported done (and changes nothing). The runner's probe reads the state instead.
REPEAT = {
    System.OKTA: Outcome.ALREADY_DONE,
    System.GOOGLE: Outcome.DONE,
    System.ZOOM: Outcome.DONE,
    System.MSGRAPH: Outcome.DONE,
}


def _api_calls(calls) -> list:
    return [c for c in calls if not (c.method == "POST" and c.path.endswith("/token"))]


@pytest.mark.parametrize("system", list(System))
def test_lock_operation_is_one_call_and_a_repeat_changes_nothing(connected, system):
    target = alice(connected)
    assert not registry.read_account(system, target=target).locked_out
    with capture_calls() as calls:
        first = registry.run_operation(system, LOCK[system], target=target)
    assert first.outcome == Outcome.DONE, first.detail
    assert len(_api_calls(calls)) == 1, calls  # the common case: one call, no read first
    assert registry.read_account(system, target=target).locked_out
    again = registry.run_operation(system, LOCK[system], target=target)
    assert again.outcome == REPEAT[system]
    writes = [e for e in connected.effects(FAULT_SYSTEM[system]) if e["method"] != "GET"]
    assert [e["applied"] for e in writes] == [True, False]  # the repeat changed nothing


@pytest.mark.parametrize(
    ("system", "operation"),
    [
        (System.OKTA, "clear_sessions"),
        (System.OKTA, "remove_from_groups"),
        (System.OKTA, "reset_factors"),
        (System.OKTA, "revoke_grants"),
        (System.GOOGLE, "sign_out"),
        (System.GOOGLE, "revoke_oauth_tokens"),
        (System.GOOGLE, "delete_app_passwords"),
        (System.ZOOM, "revoke_token"),
        (System.MSGRAPH, "revoke_sessions"),
    ],
)
def test_revoke_operations_succeed(connected, system, operation):
    result = registry.run_operation(system, operation, target=alice(connected))
    assert result.outcome in (Outcome.DONE, Outcome.ALREADY_DONE), result.detail


def test_person_without_zoom_account_is_no_account(connected):
    user = registry.okta_get_user("bob.brandt@acme.example")
    target = Target(
        okta_id=user["id"], login=user["profile"]["login"], email=user["profile"]["email"]
    )
    assert (
        registry.run_operation(System.ZOOM, "deactivate", target=target).outcome
        == Outcome.NO_ACCOUNT
    )


def test_okta_search_and_groups(connected):
    users, _ = registry.okta_search_users(query="alice", limit=5)
    assert any(u["profile"]["email"] == ALICE for u in users)
    groups = registry.okta_user_groups(users[0]["id"])
    assert all({"id", "name", "type"} <= set(g) for g in groups)


def test_malformed_okta_search_expression_is_explained(connected):
    with pytest.raises(ConnectorError) as info:
        registry.okta_search_users(expression='profile.login eq "unterminated')
    assert info.value.status == 400 and not info.value.retryable
    assert info.value.message.startswith("Okta: ") and info.value.code.startswith("E0000")


@pytest.mark.parametrize("system", list(System))
def test_429_burst_carries_retry_after(connected, system):
    target = alice(connected)
    connected.set_fault(FAULT_SYSTEM[system], burst_429={"count": 5, "retry_after": 7})
    with pytest.raises(ConnectorError) as info:
        registry.read_account(system, target=target)
    assert info.value.retryable and info.value.status == 429
    assert info.value.retry_after is not None and 0 <= info.value.retry_after <= 61


@pytest.mark.parametrize("system", list(System))
def test_server_errors_are_retryable(connected, system):
    target = alice(connected)
    connected.set_fault(FAULT_SYSTEM[system], error_rate=1.0)
    with pytest.raises(ConnectorError) as info:
        registry.read_account(system, target=target)
    assert info.value.retryable and info.value.status in (500, 503)


@pytest.mark.parametrize("system", list(System))
def test_a_hung_mutation_times_out_with_unknown_outcome(connected, system, monkeypatch):
    import httpx

    from connections.providers import http

    target = alice(connected)
    monkeypatch.setattr(
        http, "DEFAULT_TIMEOUT", httpx.Timeout(connect=2.0, read=0.5, write=2.0, pool=2.0)
    )
    registry.reset_clients()
    registry.read_account(system, target=target)  # warm the token before the fault
    registry.reset_clients()
    connected.set_fault(FAULT_SYSTEM[system], hang=True)
    try:
        with pytest.raises(ConnectorError) as info:
            registry.run_operation(system, LOCK[system], target=target)
    finally:
        connected.clear_faults()
    assert info.value.retryable and info.value.code == "timeout"


@pytest.mark.parametrize("system", list(System))
def test_a_dropped_answer_after_the_change_is_outcome_unknown_then_probed(connected, system):
    target = alice(connected)
    connected.set_fault(FAULT_SYSTEM[system], apply_then_drop=1)
    with pytest.raises(ConnectorError) as info:
        registry.run_operation(system, LOCK[system], target=target)
    assert info.value.retryable and info.value.outcome_unknown
    connected.clear_faults()
    # The runner probes with a read of the account: the change was applied, so it is already done.
    assert registry.read_account(system, target=target).locked_out
    # Even run again without a probe, nothing is applied twice.
    assert registry.run_operation(system, LOCK[system], target=target).outcome == REPEAT[system]
    writes = [e for e in connected.effects(FAULT_SYSTEM[system]) if e["method"] != "GET"]
    assert [e["applied"] for e in writes] == [True, False]


def test_every_call_against_the_sandbox_went_through_the_spec_check(connected):
    from tests.spec_transport import SpecTransport

    for system in System:
        client = registry.client_for(Connection.objects.get(system=system.value))
        client.test_connection()
        transport = client._http._transport
        assert isinstance(transport, SpecTransport) and transport.checked >= 2, system
