"""OktaClient operations against Okta-shaped payloads (spec: okta.yaml, CONTRACTS.md §1)."""

from __future__ import annotations

import httpx
import pytest

from connections.providers.okta.client import OktaClient
from connections.types import ConnectorError, Outcome

from .conftest import okta_error, okta_user

API = "https://acme.okta.com/api/v1"
NOT_FOUND = ("E0000007", "Not found: Resource not found: 00u1 (User)")


@pytest.fixture
def client(okta_config, transport):
    return OktaClient(okta_config(mode="ssws"), transport=transport)


def _user(router, status="ACTIVE"):
    return router.get(f"{API}/users/00u1").mock(
        return_value=httpx.Response(200, json=okta_user(status=status))
    )


def _missing(router):
    return router.get(f"{API}/users/00u1").mock(return_value=okta_error(404, *NOT_FOUND))


def test_get_user_drops_credentials(client, router):
    _user(router)
    user = client.get_user("00u1")
    assert user["id"] == "00u1" and "credentials" not in user


def test_get_user_by_login_encodes_the_segment(client, router):
    route = router.get(url__regex=r".*/users/ann%2Fx@acme\.com$").mock(
        return_value=httpx.Response(200, json=okta_user())
    )
    client.get_user("ann/x@acme.com")
    assert route.called


def test_missing_user_message_is_in_words(client, router):
    _missing(router)
    with pytest.raises(ConnectorError) as info:
        client.get_user("00u1")
    assert info.value.message == "Okta: user not found (E0000007)"
    assert info.value.status == 404 and not info.value.retryable


def test_search_by_query_returns_users_and_next_cursor(client, router):
    route = router.get(f"{API}/users").mock(
        return_value=httpx.Response(
            200,
            json=[okta_user()],
            headers={
                "Link": f'<{API}/users?limit=2>; rel="self", <{API}/users?after=00u9&limit=2>; rel="next"'
            },
        )
    )
    users, cursor = client.search_users(query="ann", limit=2)
    assert [u["id"] for u in users] == ["00u1"] and "credentials" not in users[0]
    assert cursor == "00u9"
    assert dict(route.calls[0].request.url.params) == {
        "search": 'profile.firstName sw "ann" or profile.lastName sw "ann" or '
        'profile.email sw "ann" or profile.login sw "ann"',
        "limit": "2",
    }


def test_search_by_expression_passes_after_and_has_no_cursor_on_last_page(client, router):
    route = router.get(f"{API}/users").mock(return_value=httpx.Response(200, json=[]))
    users, cursor = client.search_users(expression='profile.department eq "IT"', after="00u5")
    params = route.calls[0].request.url.params
    assert params["search"] == 'profile.department eq "IT"' and params["after"] == "00u5"
    assert "q" not in params
    assert users == [] and cursor is None


def test_malformed_search_expression_gives_okta_words(client, router):
    router.get(f"{API}/users").mock(
        return_value=okta_error(
            400, "E0000031", "Invalid search criteria.", ["Invalid search criteria."]
        )
    )
    with pytest.raises(ConnectorError) as info:
        client.search_users(expression="profile.x eq")
    assert "Invalid search criteria" in info.value.message and info.value.code == "E0000031"


def _refused(router, action="suspend", summary="Cannot suspend a user that is not active"):
    """Okta's answer to a lifecycle change the user's status does not allow (400 E0000001)."""
    return router.post(f"{API}/users/00u1/lifecycle/{action}").mock(
        return_value=okta_error(400, "E0000001", f"Api validation failed: {action}User", [summary])
    )


def _calls(router) -> list[tuple[str, str]]:
    return [(c.request.method, c.request.url.path) for c in router.calls]


def test_suspend_active_user_is_one_call(client, router):
    route = router.post(f"{API}/users/00u1/lifecycle/suspend").mock(
        return_value=httpx.Response(200)
    )
    result = client.suspend_user("00u1")
    assert result.outcome == Outcome.DONE and route.call_count == 1
    assert _calls(router) == [("POST", "/api/v1/users/00u1/lifecycle/suspend")]


@pytest.mark.parametrize("status", ["SUSPENDED", "DEPROVISIONED"])
def test_suspend_refused_then_read_as_locked_is_already_done(client, router, status):
    suspend = _refused(router)
    _user(router, status)
    result = client.suspend_user("00u1")
    assert result.outcome == Outcome.ALREADY_DONE and result.detail == f"Already {status.lower()}."
    assert suspend.call_count == 1  # never repeated
    assert _calls(router) == [
        ("POST", "/api/v1/users/00u1/lifecycle/suspend"),
        ("GET", "/api/v1/users/00u1"),
    ]


def test_suspend_refused_yet_read_as_active_raises_okta_words(client, router):
    _refused(router)
    _user(router, "ACTIVE")
    with pytest.raises(ConnectorError) as info:
        client.suspend_user("00u1")
    assert info.value.code == "E0000001" and not info.value.retryable
    assert "Cannot suspend a user that is not active" in info.value.message


def test_suspend_refused_for_a_locked_out_user_is_a_permanent_error_in_words(client, router):
    _refused(router)
    _user(router, "LOCKED_OUT")
    with pytest.raises(ConnectorError) as info:
        client.suspend_user("00u1")
    assert not info.value.retryable and info.value.code == "status_locked_out"
    assert "Okta refuses to suspend a locked-out user" in info.value.message


@pytest.mark.parametrize(
    "status", ["STAGED", "PROVISIONED", "LOCKED_OUT", "RECOVERY", "PASSWORD_EXPIRED"]
)
def test_suspend_reads_the_status_only_after_okta_refuses(client, router, status):
    suspend = _refused(router)
    read = _user(router, status)
    if status == "STAGED":
        result = client.suspend_user("00u1")
        assert (
            result.outcome == Outcome.ALREADY_DONE and "STAGED (never activated)" in result.detail
        )
    else:
        with pytest.raises(ConnectorError) as info:
            client.suspend_user("00u1")
        assert not info.value.retryable and "Deactivate the account" in info.value.message
        assert info.value.code == f"status_{status.lower()}"
    assert suspend.call_count == 1 and read.call_count == 1
    assert _calls(router)[0] == ("POST", "/api/v1/users/00u1/lifecycle/suspend")


def test_suspend_missing_user_is_no_account(client, router):
    router.post(f"{API}/users/00u1/lifecycle/suspend").mock(
        return_value=okta_error(404, *NOT_FOUND)
    )
    _missing(router)
    assert client.suspend_user("00u1").outcome == Outcome.NO_ACCOUNT


def test_suspend_404_for_a_deactivated_user_is_already_done(client, router):
    router.post(f"{API}/users/00u1/lifecycle/suspend").mock(
        return_value=okta_error(404, *NOT_FOUND)
    )
    _user(router, "DEPROVISIONED")
    assert client.suspend_user("00u1").outcome == Outcome.ALREADY_DONE


def test_suspend_other_errors_are_not_followed_by_a_read(client, router):
    router.post(f"{API}/users/00u1/lifecycle/suspend").mock(
        return_value=okta_error(
            403, "E0000006", "You do not have permission to perform the requested action"
        )
    )
    read = _user(router)
    with pytest.raises(ConnectorError, match="permission denied"):
        client.suspend_user("00u1")
    assert not read.called


def test_unsuspend_is_one_call(client, router):
    route = router.post(f"{API}/users/00u1/lifecycle/unsuspend").mock(
        return_value=httpx.Response(200)
    )
    assert client.unsuspend_user("00u1").outcome == Outcome.DONE and route.called
    assert len(router.calls) == 1


def test_unsuspend_refused_then_read_as_active_is_already_done(client, router):
    _refused(router, "unsuspend", "Cannot unsuspend a user that is not suspended")
    _user(router, "ACTIVE")
    result = client.unsuspend_user("00u1")
    assert result.outcome == Outcome.ALREADY_DONE and "status ACTIVE" in result.detail


def test_unsuspend_deactivated_user_is_refused(client, router):
    _refused(router, "unsuspend", "Cannot unsuspend a user that is not suspended")
    _user(router, "DEPROVISIONED")
    with pytest.raises(ConnectorError, match="deactivated") as info:
        client.unsuspend_user("00u1")
    assert info.value.code == "deprovisioned"


def test_unsuspend_missing_user_is_no_account(client, router):
    router.post(f"{API}/users/00u1/lifecycle/unsuspend").mock(
        return_value=okta_error(404, *NOT_FOUND)
    )
    _missing(router)
    assert client.unsuspend_user("00u1").outcome == Outcome.NO_ACCOUNT


@pytest.mark.parametrize(("oauth", "forget"), [(True, False), (False, True)])
def test_clear_sessions_passes_oauth_tokens_and_forget_devices(client, router, oauth, forget):
    route = router.delete(f"{API}/users/00u1/sessions").mock(return_value=httpx.Response(204))
    result = client.clear_sessions("00u1", oauth_tokens=oauth, forget_devices=forget)
    assert result.outcome == Outcome.DONE
    params = route.calls[0].request.url.params
    assert params["oauthTokens"] == str(oauth).lower()
    assert params["forgetDevices"] == str(forget).lower()


def test_clear_sessions_for_missing_user_is_no_account(client, router):
    router.delete(f"{API}/users/00u1/sessions").mock(return_value=okta_error(404, *NOT_FOUND))
    assert client.clear_sessions("00u1").outcome == Outcome.NO_ACCOUNT


def test_reset_factors_is_one_call(client, router):
    route = router.post(f"{API}/users/00u1/lifecycle/reset_factors").mock(
        return_value=httpx.Response(200)
    )
    assert client.reset_factors("00u1").outcome == Outcome.DONE and route.called
    assert len(router.calls) == 1  # no read of the user or of the factors first


def test_reset_factors_for_missing_user_is_no_account(client, router):
    router.post(f"{API}/users/00u1/lifecycle/reset_factors").mock(
        return_value=okta_error(404, *NOT_FOUND)
    )
    assert client.reset_factors("00u1").outcome == Outcome.NO_ACCOUNT
    assert len(router.calls) == 1


def test_remove_from_groups_skips_built_in_and_app_groups(client, router):
    router.get(f"{API}/users/00u1/groups").mock(
        return_value=httpx.Response(
            200,
            json=[
                {"id": "00gE", "type": "BUILT_IN", "profile": {"name": "Everyone"}},
                {"id": "00gA", "type": "APP_GROUP", "profile": {"name": "AD Staff"}},
                {"id": "00g1", "type": "OKTA_GROUP", "profile": {"name": "Sales"}},
                {"id": "00g2", "type": "OKTA_GROUP", "profile": {"name": "VPN"}},
            ],
        )
    )
    removed = router.delete(url__regex=rf"{API}/groups/00g[12]/users/00u1").mock(
        side_effect=[httpx.Response(204), okta_error(404, *NOT_FOUND)]
    )
    others = router.delete(url__regex=rf"{API}/groups/00g[EA]/users/00u1")
    result = client.remove_from_groups("00u1")
    assert result.outcome == Outcome.DONE and "2 group(s)" in result.detail
    assert removed.call_count == 2 and not others.called


def test_remove_from_groups_with_nothing_removable_is_already_done(client, router):
    router.get(f"{API}/users/00u1/groups").mock(
        return_value=httpx.Response(200, json=[{"id": "00gE", "type": "BUILT_IN"}])
    )
    assert client.remove_from_groups("00u1").outcome == Outcome.ALREADY_DONE


def test_revoke_grants_is_one_call(client, router):
    route = router.delete(f"{API}/users/00u1/grants").mock(return_value=httpx.Response(204))
    assert client.revoke_grants("00u1").outcome == Outcome.DONE and route.called
    assert len(router.calls) == 1  # no listing first


def test_revoke_grants_for_missing_user_is_no_account(client, router):
    router.delete(f"{API}/users/00u1/grants").mock(return_value=okta_error(404, *NOT_FOUND))
    assert client.revoke_grants("00u1").outcome == Outcome.NO_ACCOUNT


def test_deactivate_is_one_call_and_sends_no_email(client, router):
    route = router.post(f"{API}/users/00u1/lifecycle/deactivate").mock(
        return_value=httpx.Response(200)
    )
    assert client.deactivate_user("00u1").outcome == Outcome.DONE
    assert route.calls[0].request.url.params["sendEmail"] == "false"
    assert len(router.calls) == 1


def test_deactivate_404_then_read_as_deprovisioned_is_already_done(client, router):
    # Okta answers a deactivate of a deactivated user with 404 E0000007 (CONTRACTS.md).
    route = router.post(f"{API}/users/00u1/lifecycle/deactivate").mock(
        return_value=okta_error(404, *NOT_FOUND)
    )
    _user(router, "DEPROVISIONED")
    assert client.deactivate_user("00u1").outcome == Outcome.ALREADY_DONE
    assert route.call_count == 1


def test_deactivate_404_then_missing_is_no_account(client, router):
    router.post(f"{API}/users/00u1/lifecycle/deactivate").mock(
        return_value=okta_error(404, *NOT_FOUND)
    )
    _missing(router)
    assert client.deactivate_user("00u1").outcome == Outcome.NO_ACCOUNT


def test_permission_denied_is_explained(client, router):
    router.get(f"{API}/users/00u1").mock(
        return_value=okta_error(
            403, "E0000006", "You do not have permission to perform the requested action"
        )
    )
    with pytest.raises(ConnectorError) as info:
        client.get_user("00u1")
    assert "permission denied" in info.value.message and not info.value.retryable


def test_account_state(client, router):
    _user(router, "SUSPENDED")
    state = client.account_state("00u1")
    assert state.exists and state.locked_out and state.state == "SUSPENDED"
