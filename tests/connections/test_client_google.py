"""GoogleWorkspaceClient against Directory-shaped payloads (spec: google-directory.json)."""

from __future__ import annotations

import httpx
import jwt
import pytest

from connections.providers.google.client import SCOPES, GoogleWorkspaceClient
from connections.types import ConnectorError, Outcome

from .conftest import form_of, json_of, token_response

TOKEN = "https://oauth2.googleapis.com/token"
USERS = "https://admin.googleapis.com/admin/directory/v1/users"


def google_error(status: int, reason: str, message: str) -> httpx.Response:
    return httpx.Response(
        status,
        json={
            "error": {
                "code": status,
                "message": message,
                "errors": [{"message": message, "domain": "global", "reason": reason}],
            }
        },
    )


NOT_FOUND = (404, "notFound", "Resource Not Found: userKey")


@pytest.fixture
def client(google_config, router, transport):
    router.post(TOKEN).mock(return_value=token_response("g-token"))
    return GoogleWorkspaceClient(google_config, transport=transport)


def _user(router, suspended=False):
    return router.get(f"{USERS}/ann@acme.com").mock(
        return_value=httpx.Response(
            200, json={"id": "1001", "primaryEmail": "ann@acme.com", "suspended": suspended}
        )
    )


def test_jwt_bearer_grant_impersonates_the_admin(client, router):
    _user(router)
    client.get_user("ann@acme.com")
    form = form_of(router.routes[0].calls[0].request)
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = jwt.decode(form["assertion"], options={"verify_signature": False})
    assert claims["iss"] == "sa@proj.iam.gserviceaccount.com"
    assert claims["sub"] == "admin@acme.com"
    assert claims["aud"] == TOKEN
    assert claims["scope"].split() == list(SCOPES)
    assert claims["exp"] - claims["iat"] <= 3600
    assert jwt.get_unverified_header(form["assertion"])["kid"] == "pk1"


def test_unauthorized_client_explains_domain_wide_delegation(google_config, router, transport):
    router.post(TOKEN).mock(
        return_value=httpx.Response(
            401,
            json={"error": "unauthorized_client", "error_description": "Client is unauthorized"},
        )
    )
    with pytest.raises(ConnectorError, match="domain-wide delegation"):
        GoogleWorkspaceClient(google_config, transport=transport).get_user("ann@acme.com")


def _api_calls(router) -> list[tuple[str, str]]:
    return [
        (c.request.method, c.request.url.path)
        for c in router.calls
        if not str(c.request.url).startswith(TOKEN)
    ]


def test_suspend_is_one_put_of_suspended_true(client, router):
    read = _user(router)
    route = router.put(f"{USERS}/ann@acme.com").mock(
        return_value=httpx.Response(200, json={"suspended": True})
    )
    assert client.suspend_user("ann@acme.com").outcome == Outcome.DONE
    assert json_of(route.calls[0].request) == {"suspended": True}
    assert not read.called  # addressed by email: no lookup, no read first
    assert _api_calls(router) == [("PUT", "/admin/directory/v1/users/ann@acme.com")]


def test_suspend_of_suspended_user_is_done_as_google_cannot_tell(client, router):
    # Google answers a repeat as it answers the first time (200 and the user): done, one call.
    route = router.put(f"{USERS}/ann@acme.com").mock(
        return_value=httpx.Response(200, json={"suspended": True, "suspensionReason": "ADMIN"})
    )
    assert client.suspend_user("ann@acme.com").outcome == Outcome.DONE
    assert route.call_count == 1


def test_unsuspend(client, router):
    route = router.put(f"{USERS}/ann@acme.com").mock(return_value=httpx.Response(200, json={}))
    assert client.unsuspend_user("ann@acme.com").outcome == Outcome.DONE
    assert json_of(route.calls[0].request) == {"suspended": False}
    assert len(_api_calls(router)) == 1


def test_missing_user_is_no_account(client, router):
    router.put(f"{USERS}/ann@acme.com").mock(return_value=google_error(*NOT_FOUND))
    router.get(f"{USERS}/ann@acme.com").mock(return_value=google_error(*NOT_FOUND))
    assert client.suspend_user("ann@acme.com").outcome == Outcome.NO_ACCOUNT
    assert client.unsuspend_user("ann@acme.com").outcome == Outcome.NO_ACCOUNT
    assert [m for m, _ in _api_calls(router)] == ["PUT", "PUT"]  # the 404 says it: no read
    with pytest.raises(ConnectorError) as info:
        client.get_user("ann@acme.com")
    assert info.value.message == "Google Workspace: user not found (notFound)"


def test_suspend_quota_error_is_retryable(client, router):
    router.put(f"{USERS}/ann@acme.com").mock(
        return_value=google_error(403, "userRateLimitExceeded", "User Rate Limit Exceeded")
    )
    with pytest.raises(ConnectorError) as info:
        client.suspend_user("ann@acme.com")
    assert info.value.retryable


def test_sign_out(client, router):
    route = router.post(f"{USERS}/ann@acme.com/signOut").mock(return_value=httpx.Response(204))
    assert client.sign_out("ann@acme.com").outcome == Outcome.DONE and route.called


def test_sign_out_missing_user_is_no_account(client, router):
    router.post(f"{USERS}/ann@acme.com/signOut").mock(return_value=google_error(*NOT_FOUND))
    assert client.sign_out("ann@acme.com").outcome == Outcome.NO_ACCOUNT


def test_revoke_oauth_tokens_lists_then_deletes_each(client, router):
    router.get(f"{USERS}/ann@acme.com/tokens").mock(
        return_value=httpx.Response(
            200,
            json={
                "kind": "admin#directory#tokenList",
                "items": [
                    {
                        "clientId": "app1.apps.googleusercontent.com",
                        "displayText": "App 1",
                        "scopes": [],
                    },
                    {"clientId": "app2", "displayText": "App 2", "scopes": []},
                ],
            },
        )
    )
    deleted = router.delete(url__startswith=f"{USERS}/ann@acme.com/tokens/").mock(
        return_value=httpx.Response(204)
    )
    result = client.revoke_oauth_tokens("ann@acme.com")
    assert result.outcome == Outcome.DONE
    # The deletes run side by side (connections/providers/fanout.py): in any order.
    assert sorted(c.request.url.path.rsplit("/", 1)[-1] for c in deleted.calls) == [
        "app1.apps.googleusercontent.com",
        "app2",
    ]


def test_revoke_oauth_tokens_with_none_is_already_done(client, router):
    router.get(f"{USERS}/ann@acme.com/tokens").mock(
        return_value=httpx.Response(200, json={"kind": "admin#directory#tokenList"})
    )
    assert client.revoke_oauth_tokens("ann@acme.com").outcome == Outcome.ALREADY_DONE


def test_delete_app_passwords(client, router):
    router.get(f"{USERS}/ann@acme.com/asps").mock(
        return_value=httpx.Response(
            200, json={"items": [{"codeId": 12, "name": "Mail"}, {"codeId": 13, "name": "Cal"}]}
        )
    )
    deleted = router.delete(url__regex=rf"{USERS}/ann@acme.com/asps/1[23]$").mock(
        return_value=httpx.Response(204)
    )
    result = client.delete_app_passwords("ann@acme.com")
    assert result.outcome == Outcome.DONE and deleted.call_count == 2


@pytest.mark.parametrize("reason", ["userRateLimitExceeded", "quotaExceeded"])
def test_quota_403s_are_retryable(client, router, reason):
    router.get(f"{USERS}/ann@acme.com").mock(
        return_value=google_error(403, reason, "Quota exceeded")
    )
    with pytest.raises(ConnectorError) as info:
        client.get_user("ann@acme.com")
    assert info.value.retryable and info.value.code == reason and info.value.status == 403


def test_forbidden_403_is_not_retryable(client, router):
    router.get(f"{USERS}/ann@acme.com").mock(
        return_value=google_error(403, "forbidden", "Not Authorized to access this resource/api")
    )
    with pytest.raises(ConnectorError) as info:
        client.get_user("ann@acme.com")
    assert not info.value.retryable
    assert (
        info.value.message
        == "Google Workspace: Not Authorized to access this resource/api (forbidden)"
    )


def test_test_connection_reads_the_admin(client, router):
    router.get(f"{USERS}/admin@acme.com").mock(
        return_value=httpx.Response(200, json={"primaryEmail": "admin@acme.com"})
    )
    assert "admin@acme.com" in client.test_connection()
