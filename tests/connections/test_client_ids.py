"""Every id put into a provider's URL path is checked against its syntax, then percent-encoded.

`/users/.` is the user list and `/users/..` the API root: such ids must never reach the wire.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from connections.providers.google.client import GoogleWorkspaceClient
from connections.providers.msgraph.client import MicrosoftGraphClient
from connections.providers.okta.client import OktaClient
from connections.providers.zoom.client import ZoomClient
from connections.types import ConnectorError

from .conftest import token_response

ODD_IDS = [".", "..", "%2F", "/", "?", "#", "", "x" * 1000]
TOKEN_PATHS = ("/oauth2/v1/token", "/token", "/oauth/token", "/oauth2/v2.0/token")

# Ids each provider sends (percent-encoded, as one segment); all the others are refused.
SENT = {
    "okta": {"/", "?", "#"},  # a login may hold them (Okta: URL-encode the login)
    "google": set(),  # an email address or a numeric id
    "zoom": set(),  # an id, an email address or "me"
    "graph": {"#"},  # a guest's user principal name holds "#EXT#"
}


class Recorder:
    """A transport that answers every call and keeps the API requests (not token requests)."""

    def __init__(self, api_body: object) -> None:
        self.api_body = api_body
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(TOKEN_PATHS):
            return token_response()
        self.requests.append(request)
        return httpx.Response(200, json=self.api_body)


def _clients(configs, recorder):
    okta = OktaClient(configs["okta"]("ssws"), transport=httpx.MockTransport(recorder))
    return {
        "okta": (okta, [okta.get_user, okta.clear_sessions, okta.revoke_grants]),
        "google": (
            client := GoogleWorkspaceClient(
                configs["google"], transport=httpx.MockTransport(recorder)
            ),
            [client.get_user, client.sign_out],
        ),
        "zoom": (
            zoom := ZoomClient(configs["zoom"], transport=httpx.MockTransport(recorder)),
            [zoom.get_user, zoom.revoke_token],
        ),
        "graph": (
            graph := MicrosoftGraphClient(
                configs["graph"], transport=httpx.MockTransport(recorder)
            ),
            [graph.get_user, graph.revoke_sessions],
        ),
    }


@pytest.fixture
def configs(okta_config, google_config, zoom_config, graph_config):
    return {
        "okta": okta_config,
        "google": google_config,
        "zoom": zoom_config,
        "graph": graph_config,
    }


@pytest.mark.parametrize("system", ["okta", "google", "zoom", "graph"])
@pytest.mark.parametrize("odd", ODD_IDS, ids=lambda v: repr(v[:12]))
def test_an_odd_id_is_refused_in_words_or_sent_as_one_encoded_segment(configs, system, odd):
    recorder = Recorder({"id": "u1", "status": "ACTIVE", "items": []})
    client, calls = _clients(configs, recorder)[system]
    for call in calls:
        recorder.requests.clear()
        if odd in SENT[system]:
            call(odd)
            paths = [r.url.raw_path.decode().split("?")[0] for r in recorder.requests]
            assert paths, f"{call.__name__} sent nothing"
            for path in paths:
                assert f"/users/{quote(odd, safe='')}" in path, path
                assert "/." not in path and "//" not in path and "#" not in path
        else:
            with pytest.raises(ConnectorError) as info:
                call(odd)
            assert info.value.code == "bad_id" and not info.value.retryable
            assert "is not" in info.value.message and "nothing was sent" in info.value.message
            assert recorder.requests == [], f"{call.__name__} sent {recorder.requests}"


@pytest.mark.parametrize(
    ("system", "good", "encoded"),
    [
        ("okta", "00u1abcdEFGH2345ijk6", "00u1abcdEFGH2345ijk6"),
        ("okta", "ann.o'neil+ops@acme.com", "ann.o%27neil%2Bops@acme.com"),
        ("google", "ann.lee@acme.com", "ann.lee@acme.com"),
        ("google", "104857600012345678901", "104857600012345678901"),
        ("zoom", "me", "me"),
        ("zoom", "KDcuGIm1QgePTO8WbOqwIQ", "KDcuGIm1QgePTO8WbOqwIQ"),
        ("graph", "0a1b2c3d-0000-4000-8000-00000000abcd", "0a1b2c3d-0000-4000-8000-00000000abcd"),
        ("graph", "ann_acme.com#EXT#@t.onmicrosoft.com", "ann_acme.com%23EXT%23@t.onmicrosoft.com"),
    ],
)
def test_real_ids_pass_and_are_encoded(configs, system, good, encoded):
    recorder = Recorder({"id": "u1", "status": "ACTIVE"})
    client, calls = _clients(configs, recorder)[system]
    calls[0](good)
    (request,) = recorder.requests
    assert request.url.raw_path.decode().split("?")[0].endswith(f"/users/{encoded}")


def test_ids_from_a_provider_answer_are_checked_too(configs):
    recorder = Recorder([{"id": "..", "type": "OKTA_GROUP"}])
    okta, _ = _clients(configs, recorder)["okta"]
    with pytest.raises(ConnectorError) as info:
        okta.remove_from_groups("00u1")
    assert info.value.code == "bad_id" and "Okta group id" in info.value.message
    assert [r.method for r in recorder.requests] == ["GET"]  # the list, never the DELETE

    recorder = Recorder({"items": [{"codeId": "../../users"}]})
    google, _ = _clients(configs, recorder)["google"]
    with pytest.raises(ConnectorError, match="app password id"):
        google.delete_app_passwords("ann@acme.com")
    assert [r.method for r in recorder.requests] == ["GET"]


@pytest.mark.parametrize("path", ["/users/./x", "/users/..", "/users/%2e%2E/groups"])
def test_a_path_with_a_dot_segment_never_leaves(configs, path):
    recorder = Recorder({})
    okta, _ = _clients(configs, recorder)["okta"]
    with pytest.raises(ConnectorError) as info:
        okta.request("GET", path)
    assert info.value.code == "bad_id" and recorder.requests == []
