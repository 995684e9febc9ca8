"""The registry: the step runner's only door to the clients."""

from __future__ import annotations

import multiprocessing
import time
from types import SimpleNamespace

import httpx
import pytest

from connections import registry, selectors, services
from connections.models import Connection
from connections.providers import provider_for
from connections.types import ConnectorError, Outcome, System, Target

from .conftest import CANARY, Together, okta_error, okta_user, token_response

pytestmark = pytest.mark.django_db

OKTA_API = "https://acme.okta.com/api/v1"
TARGET = Target(
    okta_id="00u1",
    login="ann.login@acme.com",
    email="ann@acme.com",
    profile={"upn": "ann.upn@acme.com"},
)


def make_connection(
    system: System, settings: dict, secret: dict, enabled: bool = True
) -> Connection:
    result = services.connection_save(
        system=system, actor=None, label="", settings=settings, secret=secret
    )
    if enabled:
        services.connection_set_enabled(connection=result.connection, actor=None, enabled=True)
    return Connection.objects.get(system=system.value)


@pytest.fixture
def okta(rsa_pem):
    return make_connection(
        System.OKTA,
        {"org_url": "https://acme.okta.com", "auth_mode": "ssws"},
        {"api_token": CANARY},
    )


@pytest.fixture
def use_router(router, transport):
    registry.transport = transport
    return router


def _operation_names(system: System) -> tuple[str, ...]:
    return tuple(op.name for op in provider_for(system).operations)


def test_operations_per_system():
    assert _operation_names(System.OKTA) == (
        "suspend",
        "unsuspend",
        "clear_sessions",
        "reset_factors",
        "remove_from_groups",
        "revoke_grants",
        "unassign_apps",
        "lock_devices",
        "verify",
        "deactivate",
        "restore_groups",
        "restore_apps",
    )
    assert _operation_names(System.GOOGLE) == (
        "suspend",
        "unsuspend",
        "sign_out",
        "revoke_oauth_tokens",
        "delete_app_passwords",
        "invalidate_backup_codes",
        "mobile_devices",
        "verify",
    )
    assert _operation_names(System.MSGRAPH) == (
        "disable",
        "enable",
        "revoke_sessions",
        "disable_devices",
        "verify",
    )
    assert _operation_names(System.ZOOM) == ("deactivate", "activate", "revoke_token", "verify")


def test_missing_connection_is_not_configured():
    with pytest.raises(ConnectorError) as info:
        registry.run_operation(System.ZOOM, "deactivate", target=TARGET)
    assert info.value.code == "not_configured" and not info.value.retryable


def test_disabled_connection_is_not_configured(okta):
    services.connection_set_enabled(connection=okta, actor=None, enabled=False)
    with pytest.raises(ConnectorError) as info:
        registry.run_operation(System.OKTA, "suspend", target=TARGET)
    assert info.value.code == "not_configured"
    assert list(selectors.connection_enabled_list()) == []


def test_unknown_operation_is_refused(okta):
    with pytest.raises(ConnectorError) as info:
        registry.run_operation(System.OKTA, "delete_everything", target=TARGET)
    assert info.value.code == "unknown_operation"


def test_run_okta_operation_uses_the_okta_id(okta, use_router):
    use_router.get(f"{OKTA_API}/users/00u1").mock(
        return_value=httpx.Response(200, json=okta_user())
    )
    route = use_router.post(f"{OKTA_API}/users/00u1/lifecycle/suspend").mock(
        return_value=httpx.Response(200)
    )
    result = registry.run_operation(System.OKTA, "suspend", target=TARGET)
    assert result.outcome == Outcome.DONE and route.called
    assert [c.system for c in selectors.connection_enabled_list()] == [System.OKTA]


def test_clear_sessions_options_are_passed_through(okta, use_router):
    route = use_router.delete(f"{OKTA_API}/users/00u1/sessions").mock(
        return_value=httpx.Response(204)
    )
    registry.run_operation(
        System.OKTA,
        "clear_sessions",
        target=TARGET,
        options={"oauth_tokens": False, "forget_devices": "false"},
    )
    params = route.calls[0].request.url.params
    assert params["oauthTokens"] == "false" and params["forgetDevices"] == "false"


def test_identity_attribute_picks_the_account(use_router):
    make_connection(
        System.ZOOM,
        {"account_id": "acc", "client_id": "cid", "identity_attribute": "upn"},
        {"client_secret": CANARY},
    )
    use_router.post("https://zoom.us/oauth/token").mock(return_value=token_response())
    route = use_router.delete("https://api.zoom.us/v2/users/ann.upn@acme.com/token").mock(
        return_value=httpx.Response(204)
    )
    assert (
        registry.run_operation(System.ZOOM, "revoke_token", target=TARGET).outcome == Outcome.DONE
    )
    assert route.called


def test_default_identity_attribute_for_google_is_email(use_router, rsa_pem):
    make_connection(
        System.GOOGLE,
        {"admin_email": "admin@acme.com"},
        {
            "service_account": {
                "type": "service_account",
                "client_email": "sa@x.iam.gserviceaccount.com",
                "private_key": rsa_pem,
            }
        },
    )
    use_router.post("https://oauth2.googleapis.com/token").mock(return_value=token_response())
    route = use_router.post(
        "https://admin.googleapis.com/admin/directory/v1/users/ann@acme.com/signOut"
    ).mock(return_value=httpx.Response(204))
    assert registry.run_operation(System.GOOGLE, "sign_out", target=TARGET).outcome == Outcome.DONE
    assert route.called


def test_empty_identity_attribute_is_an_error_not_a_skip(use_router):
    make_connection(
        System.ZOOM,
        {"account_id": "acc", "client_id": "cid", "identity_attribute": "employeeNumber"},
        {"client_secret": CANARY},
    )
    with pytest.raises(ConnectorError) as info:
        registry.run_operation(System.ZOOM, "deactivate", target=TARGET)
    assert info.value.code == "no_identity"


def test_graph_token_url_gets_the_tenant(use_router):
    make_connection(
        System.MSGRAPH,
        {"tenant_id": "t-123", "client_id": "app", "auth_mode": "secret"},
        {"client_secret": CANARY},
    )
    token = use_router.post("https://login.microsoftonline.com/t-123/oauth2/v2.0/token").mock(
        return_value=token_response()
    )
    use_router.get("https://graph.microsoft.com/v1.0/users/ann.login@acme.com").mock(
        return_value=httpx.Response(200, json={"id": "m1", "accountEnabled": False})
    )
    use_router.get(
        "https://graph.microsoft.com/v1.0/users/ann.login@acme.com/memberOf/microsoft.graph.directoryRole"
    ).mock(return_value=httpx.Response(200, json={"value": []}))
    state = registry.read_account(System.MSGRAPH, target=TARGET)
    assert token.called and state.exists and state.locked_out and state.state == "disabled"


def test_read_account_for_missing_person(okta, use_router):
    use_router.get(f"{OKTA_API}/users/00u1").mock(
        return_value=okta_error(404, "E0000007", "Not found")
    )
    assert registry.read_account(System.OKTA, target=TARGET).exists is False


def test_concurrency_limit_defaults_and_override(okta):
    assert registry.concurrency_limit(System.OKTA) == 10
    assert registry.concurrency_limit(System.ZOOM) == 5
    services.connection_save(
        system=System.OKTA, actor=None, label="", settings=okta.settings, max_concurrency=3
    )
    assert registry.concurrency_limit(System.OKTA) == 3


def test_okta_reads(okta, use_router):
    use_router.get(f"{OKTA_API}/users/ann@acme.com").mock(
        return_value=httpx.Response(200, json=okta_user())
    )
    use_router.get(f"{OKTA_API}/users/00u1/groups").mock(
        return_value=httpx.Response(
            200,
            json=[
                {
                    "id": "00g1",
                    "type": "OKTA_GROUP",
                    "profile": {"name": "Sales", "description": "x"},
                }
            ],
        )
    )
    use_router.get(f"{OKTA_API}/users").mock(return_value=httpx.Response(200, json=[okta_user()]))
    user = registry.okta_get_user("ann@acme.com")
    assert user["id"] == "00u1" and "credentials" not in user
    assert registry.okta_user_groups("00u1") == [
        {"id": "00g1", "name": "Sales", "type": "OKTA_GROUP"}
    ]
    users, cursor = registry.okta_search_users(query="ann")
    assert len(users) == 1 and cursor is None


def test_unreadable_secret_becomes_a_connector_error(okta):
    Connection.objects.filter(pk=okta.pk).update(secret_ciphertext="gAAAAAbroken")
    with pytest.raises(ConnectorError) as info:
        registry.run_operation(System.OKTA, "suspend", target=TARGET)
    assert info.value.code == "secret_unavailable" and CANARY not in info.value.message


def test_clients_are_reused_until_the_connection_changes(okta):
    first = registry.client_for(okta)
    assert registry.client_for(Connection.objects.get(pk=okta.pk)) is first
    services.connection_save(
        system=System.OKTA,
        actor=None,
        label="",
        settings=okta.settings,
        secret={"api_token": "new"},
    )
    assert registry.client_for(Connection.objects.get(pk=okta.pk)) is not first


def test_a_limit_changed_in_another_process_applies_within_its_ttl(okta, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(registry, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    assert registry.concurrency_limit(System.OKTA) == 10
    # Another process's change: no signal reaches this one.
    Connection.objects.filter(system="okta").update(max_concurrency=2)
    assert registry.concurrency_limit(System.OKTA) == 10  # kept
    clock[0] += registry.LIMIT_TTL + 0.1
    assert registry.concurrency_limit(System.OKTA) == 2


def test_the_live_check_reads_the_user_and_their_groups_side_by_side(okta, use_router):
    """Given an Okta id (what a request carries), the check before a start costs one call's time:
    each answer waits until both requests have arrived (sent in turn, the barrier breaks)."""
    user_id = "00u1a2b3c4d5e6f7g8h9"
    together = Together(2)
    use_router.get(f"{OKTA_API}/users/{user_id}").mock(
        side_effect=together.answer(httpx.Response(200, json=okta_user(user_id)))
    )
    use_router.get(f"{OKTA_API}/users/{user_id}/groups").mock(
        side_effect=together.answer(
            httpx.Response(
                200, json=[{"id": "00g1", "type": "OKTA_GROUP", "profile": {"name": "S"}}]
            )
        )
    )
    user, groups = registry.okta_user_and_groups(user_id)
    assert together.met
    assert user["id"] == user_id and groups == [{"id": "00g1", "name": "S", "type": "OKTA_GROUP"}]


def test_the_live_check_resolves_a_login_before_reading_groups(okta, use_router):
    use_router.get(f"{OKTA_API}/users/ann@acme.com").mock(
        return_value=httpx.Response(200, json=okta_user())
    )
    groups = use_router.get(f"{OKTA_API}/users/00u1/groups").mock(
        return_value=httpx.Response(200, json=[])
    )
    user, found = registry.okta_user_and_groups("ann@acme.com")
    assert user["id"] == "00u1" and found == [] and groups.called


def test_the_live_check_of_a_missing_user_raises_the_users_404(okta, use_router):
    user_id = "00u1a2b3c4d5e6f7g8h9"
    for path in (f"/users/{user_id}", f"/users/{user_id}/groups"):
        use_router.get(f"{OKTA_API}{path}").mock(
            return_value=httpx.Response(
                404, json={"errorCode": "E0000007", "errorSummary": "Not found"}
            )
        )
    with pytest.raises(ConnectorError) as info:
        registry.okta_user_and_groups(user_id)
    assert info.value.status == 404


def test_warm_tokens_hands_this_process_each_token_without_a_thread_or_client_here(
    use_router, okta, monkeypatch
):
    """The cluster calls this before forking its workers: a token-based connection's token is
    in this process's cache (the first call asks for none, and sends that token), an SSWS one
    needs none. The requests are made in a child process: no thread starts here and no client
    (with its open sockets) is kept here, so the workers forked next inherit no lock or socket
    a warm-up thread held (a worker's first signature hung on such a lock)."""
    make_connection(
        System.ZOOM, {"account_id": "acc", "client_id": "cid"}, {"client_secret": CANARY}
    )
    use_router.post("https://zoom.us/oauth/token").mock(
        return_value=token_response("fetched-ahead")
    )
    started_here: list[str] = []
    real_start = registry.threading.Thread.start

    def start(thread):
        started_here.append(thread.name)  # in the child, recorded in the child's memory only
        real_start(thread)

    monkeypatch.setattr(registry.threading.Thread, "start", start)
    assert registry.warm_tokens() == []
    assert started_here == [] and registry.cached_clients() == 0
    token = use_router.post("https://zoom.us/oauth/token").mock(return_value=token_response())
    revoke = use_router.delete("https://api.zoom.us/v2/users/ann@acme.com/token").mock(
        return_value=httpx.Response(204)
    )
    registry.run_operation(System.ZOOM, "revoke_token", target=TARGET)
    assert token.call_count == 0, "the call used the token fetched ahead"
    assert revoke.calls.last.request.headers["Authorization"] == "Bearer fetched-ahead"


def test_warm_tokens_gives_up_on_a_hanging_token_request_at_its_deadline(use_router):
    """A token endpoint that never answers (or a child stuck on an inherited lock) holds the
    cluster's start up to the deadline, not longer; the child is killed and nothing is kept."""
    make_connection(
        System.ZOOM, {"account_id": "acc", "client_id": "cid"}, {"client_secret": CANARY}
    )

    def hang(request):
        time.sleep(60)

    use_router.post("https://zoom.us/oauth/token").mock(side_effect=hang)
    began = time.monotonic()
    assert registry.warm_tokens(deadline=0.5) == ["zoom"]
    assert time.monotonic() - began < 10
    assert not [c for c in multiprocessing.active_children() if c.name == "access-token-warm"]
    revoke = use_router.delete("https://api.zoom.us/v2/users/ann@acme.com/token").mock(
        return_value=httpx.Response(204)
    )
    use_router.post("https://zoom.us/oauth/token").mock(return_value=token_response())
    registry.run_operation(System.ZOOM, "revoke_token", target=TARGET)
    assert revoke.called, "the first call asked for its own token"


def test_warm_tokens_names_a_refusing_system_and_goes_on(use_router, caplog):
    make_connection(
        System.ZOOM, {"account_id": "acc", "client_id": "cid"}, {"client_secret": CANARY}
    )
    use_router.post("https://zoom.us/oauth/token").mock(
        return_value=httpx.Response(401, json={"reason": "Invalid client_id or client_secret"})
    )
    assert registry.warm_tokens() == ["zoom"]
    assert "zoom: access token not fetched ahead" in caplog.text
    assert CANARY not in caplog.text
