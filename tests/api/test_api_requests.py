"""The REST API's behaviours: auth and scopes, the same checks as the portal, problem+json errors,
reading, listing and cancelling. Every answer is checked against the OpenAPI document."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from offboarding import services
from offboarding.exceptions import NotAllowed
from offboarding.models import ActionRequest, AuditEvent, Delegation, StepRun
from tests.api.conftest import request_body

pytestmark = pytest.mark.django_db
RS = ActionRequest.State


def _problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == f"/api/v1/problems/{slug}"
    assert body["status"] == status and body["title"] and body["detail"]
    return body


# --- authentication and scopes -------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer ", "Bearer nonsense", "Bearer opk_00000000_forged", "Basic dXNlcjpwYXNz"],
)
def test_calls_without_a_valid_token_get_401(api_as, make_token, authorization):
    make_token()
    client = api_as(None)
    headers = {"Authorization": authorization} if authorization else {}
    _problem(client.get("/api/v1/requests", **headers), 401, "unauthenticated")
    _problem(client.post("/api/v1/requests", request_body(), **headers), 401, "unauthenticated")
    assert not ActionRequest.objects.exists()


def test_a_401_says_how_to_authenticate(api_as):
    answer = api_as(None).get("/api/v1/requests")
    assert answer["WWW-Authenticate"].startswith("Bearer")


def test_a_token_with_a_wrong_secret_but_a_real_prefix_gets_401(api_as, make_token):
    _, raw = make_token()
    forged = raw[:-4] + ("AAAA" if not raw.endswith("AAAA") else "BBBB")
    _problem(api_as(forged).get("/api/v1/requests"), 401, "unauthenticated")


def test_revoked_and_expired_tokens_stop_working(api_as, make_token, connection_admin):
    token, raw = make_token(name="revoked-one")
    assert api_as(raw).get("/api/v1/requests").status_code == 200
    services.api_token_revoke(token_id=token.pk, actor=connection_admin)
    _problem(api_as(raw).get("/api/v1/requests"), 401, "unauthenticated")

    soon = timezone.now() + timedelta(seconds=30)
    _, raw2 = make_token(name="short-lived", expires_at=soon)
    assert api_as(raw2).get("/api/v1/requests").status_code == 200
    import time_machine

    with time_machine.travel(soon + timedelta(seconds=1)):
        _problem(api_as(raw2).get("/api/v1/requests"), 401, "unauthenticated")


SCOPED_CALLS = [
    ("people:read", "GET", "/api/v1/people/pat@example.com", None),
    ("requests:create", "POST", "/api/v1/requests", request_body()),
    ("requests:read", "GET", "/api/v1/requests", None),
    ("requests:read", "GET", "/api/v1/requests/{rid}", None),
    ("requests:cancel", "POST", "/api/v1/requests/{rid}/cancel", {}),
]


@pytest.mark.parametrize(("scope", "method", "path", "body"), SCOPED_CALLS)
def test_each_endpoint_needs_its_scope(api_as, make_token, make_request, scope, method, path, body):
    other = make_request("reset_sessions")  # a request of the team, made in the portal
    all_but = [s for s in ("people:read", "requests:create", "requests:read", "requests:cancel")]
    all_but.remove(scope)
    _, lacking = make_token(all_but, name="lacking")
    _, holding = make_token([scope], name="holding")
    path = path.format(rid=other.pk)
    body403 = _problem(api_as(lacking).call(method, path, body), 403, "scope-missing")
    assert scope in body403["detail"]
    answer = api_as(holding).call(method, path, body)
    assert (
        answer.status_code != 401 and answer.json().get("type") != "/api/v1/problems/scope-missing"
    )


# --- creating: the portal's checks, the API's origin -----------------------------------------------


def test_a_created_request_waits_for_a_person_and_says_it_came_from_the_api(
    api, approver, approve, queue, client
):
    answer = api.post("/api/v1/requests", request_body())
    assert answer.status_code == 201
    body = answer.json()
    assert answer["Location"] == body["url"] == f"/api/v1/requests/{body['id']}"
    assert body["state"] == "pending_approval" and body["steps"] == []
    assert {p["system"] for p in body["plan"]} == {"okta", "google", "msgraph", "zoom"}
    req = ActionRequest.objects.get(pk=body["id"])
    assert (req.origin, req.origin_detail) == ("api", "hr-system")
    assert req.requester.username == "api:hr-system"
    submitted = AuditEvent.objects.get(action=AuditEvent.Action.REQUEST_SUBMITTED)
    assert submitted.actor_label == "api:hr-system" and submitted.details["origin"] == "api"

    # Four-eyes holds: the token's own user can never approve; a person does.
    with pytest.raises(NotAllowed):
        services.action_request_approve(action_request_id=req.pk, approver=req.requester)
    client.force_login(approver)
    page = client.get(f"/requests/{req.pk}/")
    assert page.status_code == 200 and b"api:hr-system" in page.content
    approve(req, approver)
    seen = api.get(f"/api/v1/requests/{req.pk}").json()
    assert seen["state"] == "running" and seen["approvals_given"] == 1  # approved and started
    assert {s["key"] for s in seen["steps"]} == set(
        StepRun.objects.filter(action_request=req).values_list("key", flat=True)
    )


def test_a_person_can_be_named_by_okta_id_login_or_email(api, fake_registry):
    fake_registry.add_user("00u2", "sam.lee@example.com")
    fake_registry.users["00u2"]["profile"]["login"] = "slee"  # login is not the email
    for person in ("00u2", "slee", "sam.lee@example.com"):
        found = api.get(f"/api/v1/people/{person}")
        assert found.status_code == 200, (person, found.content)
        assert found.json()["okta_id"] == "00u2"
    created = api.post("/api/v1/requests", request_body(person="sam.lee@example.com"))
    assert created.status_code == 201 and created.json()["person"]["okta_id"] == "00u2"


def test_an_unknown_person_is_404_and_an_odd_one_422(api):
    _problem(api.get("/api/v1/people/nobody@example.com"), 404, "person-not-found")
    _problem(api.post("/api/v1/requests", request_body(person="no one")), 422, "validation")
    _problem(api.get("/api/v1/people/a%22b"), 422, "validation")


def test_a_protected_person_is_refused_with_403(api, fake_registry, protected):
    fake_registry.add_user("00uA", "root@example.com", groups=(("00gAdmins", "Admins"),))
    _problem(api.get("/api/v1/people/root@example.com"), 403, "protected-person")
    _problem(api.post("/api/v1/requests", request_body(person="00uA")), 403, "protected-person")
    assert not ActionRequest.objects.exists()


def test_a_person_outside_the_team_scope_is_refused_with_403(api, fake_registry, delegation):
    delegation.target_group_ids = ["00gEngineering"]
    delegation.save()
    _problem(api.get("/api/v1/people/00u1"), 403, "out-of-scope")
    _problem(api.post("/api/v1/requests", request_body()), 403, "out-of-scope")


def test_a_token_may_do_only_what_its_team_may(api_as, make_token, fake_registry, approver):
    # Another team, whose delegation allows only reset sessions.
    others = Group.objects.create(name="HR team")
    Delegation.objects.create(
        name="HR → staff",
        team=others,
        allowed_actions=["reset_sessions"],
        approver_group=Group.objects.create(name="HR approvers"),
    )
    _, raw = make_token(name="hr-only", team=others)
    client = api_as(raw)
    assert client.get("/api/v1/people/00u1").json()["allowed_actions"] == ["reset_sessions"]
    _problem(client.post("/api/v1/requests", request_body()), 403, "out-of-scope")
    assert client.post("/api/v1/requests", request_body(kind="reset_sessions")).status_code == 201


def test_a_second_open_request_is_409_pointing_to_the_first(api, make_request):
    first = make_request("offboard")  # made in the portal
    body = _problem(api.post("/api/v1/requests", request_body()), 409, "duplicate-request")
    assert body["existing_request_id"] == first.pk
    assert body["existing_request_url"] == f"/api/v1/requests/{first.pk}"


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "format_disk"},
        {"systems": ["okta", "slack"]},
        {"systems": []},
        {"reason": ""},
        {"reason": "   "},
        {"options": {"format_disk": True}},
        {"scheduled_for": "2030-01-01T17:00:00"},
        {"scheduled_for": "not a time"},
        {"person": ""},
    ],
)
def test_bad_input_is_422_and_changes_nothing(api, change):
    _problem(api.post("/api/v1/requests", request_body(**change)), 422, "validation")
    assert not ActionRequest.objects.exists()


def test_a_body_that_is_not_json_is_422(api):
    _problem(api.post("/api/v1/requests", "{not json"), 422, "validation")


def test_a_scheduled_request_keeps_its_time(api):
    when = (timezone.now() + timedelta(days=3)).replace(microsecond=0)
    body = api.post("/api/v1/requests", request_body(scheduled_for=when.isoformat())).json()
    assert ActionRequest.objects.get(pk=body["id"]).scheduled_for == when


# --- reading, listing, cancelling ------------------------------------------------------------------


def test_another_teams_request_is_404(api_as, make_token, make_request, fake_registry):
    mine = make_request("offboard")
    others = Group.objects.create(name="HR team")
    Delegation.objects.create(
        name="HR", team=others, allowed_actions=["offboard"], approver_group=others
    )
    _, raw = make_token(name="hr", team=others)
    client = api_as(raw)
    _problem(client.get(f"/api/v1/requests/{mine.pk}"), 404, "not-found")
    _problem(client.post(f"/api/v1/requests/{mine.pk}/cancel", {}), 404, "not-found")
    assert client.get("/api/v1/requests").json()["items"] == []
    _problem(client.get("/api/v1/requests/999999"), 404, "not-found")


def test_a_read_shows_each_systems_verification(api, make_request):
    req = make_request("offboard")
    req.verifications.create(system="okta", verdict="verified", summary="Okta shows SUSPENDED")
    seen = api.get(f"/api/v1/requests/{req.pk}").json()
    assert seen["verification"][0]["system"] == "okta"
    assert seen["verification"][0]["verdict"] == "verified"


def test_the_list_pages_with_a_cursor_and_filters(api, fake_registry):
    for n in range(5):
        fake_registry.add_user(f"00uP{n}", f"p{n}@example.com")
        kind = "offboard" if n % 2 else "reset_sessions"
        assert (
            api.post("/api/v1/requests", request_body(person=f"00uP{n}", kind=kind)).status_code
            == 201
        )
    seen, cursor = [], None
    while True:
        page = api.get("/api/v1/requests?limit=2" + (f"&cursor={cursor}" if cursor else "")).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ActionRequest.objects.values_list("id", flat=True), reverse=True)
    offboards = api.get("/api/v1/requests?kind=offboard").json()["items"]
    assert len(offboards) == 2 and {i["kind"] for i in offboards} == {"offboard"}
    one = api.get("/api/v1/requests?person=p3@example.com").json()["items"]
    assert [i["person_okta_id"] for i in one] == ["00uP3"]
    _problem(api.get("/api/v1/requests?cursor=%%%"), 422, "validation")
    _problem(api.get("/api/v1/requests?limit=0"), 422, "validation")
    _problem(api.get("/api/v1/requests?state=nonsense"), 422, "validation")


@pytest.mark.parametrize(
    "since, found",
    [
        ("2000-01-01T00:00:00Z", 1),
        # ISO 8601 allows offsets PostgreSQL refuses (beyond ±15:59): read in UTC, not a 500.
        ("0963-03-16T22:01:17+17:50", 1),
        ("2999-01-01T23:59:00-23:59", 0),
    ],
)
def test_since_is_read_in_utc_whatever_its_offset(api, fake_registry, since, found):
    fake_registry.add_user("00uS1", "s1@example.com")
    assert api.post("/api/v1/requests", request_body(person="00uS1")).status_code == 201
    page = api.get("/api/v1/requests?" + urlencode({"since": since}))
    assert page.status_code == 200 and len(page.json()["items"]) == found


def test_a_since_before_the_first_representable_time_is_422(api):
    for since in ("0001-01-01T00:00:00+05:00", "2026-12-01T00:00:00"):
        _problem(api.get("/api/v1/requests?" + urlencode({"since": since})), 422, "validation")


def test_a_token_cancels_its_own_request_but_not_a_persons(api, make_request, fake_registry):
    fake_registry.add_user("00u9", "kim@example.com")
    mine = api.post("/api/v1/requests", request_body(person="00u9")).json()
    done = api.post(f"/api/v1/requests/{mine['id']}/cancel", {"comment": "HR reverted"})
    assert done.status_code == 200 and done.json()["state"] == "cancelled"
    _problem(api.post(f"/api/v1/requests/{mine['id']}/cancel", {}), 409, "invalid-state")
    persons = make_request("offboard")
    _problem(api.post(f"/api/v1/requests/{persons.pk}/cancel", {}), 403, "not-allowed")
    assert ActionRequest.objects.get(pk=persons.pk).state == RS.PENDING_APPROVAL


# --- audit and last use ----------------------------------------------------------------------------


def test_every_call_is_audited_under_the_tokens_name_and_marks_its_last_use(api, make_token):
    from offboarding.models import ApiToken

    api.get("/api/v1/requests")
    _problem(api.get("/api/v1/requests?limit=500"), 422, "validation")
    calls = AuditEvent.objects.filter(action=AuditEvent.Action.API_CALL).order_by("seq")
    assert [(c.details["method"], c.details["status"]) for c in calls] == [
        ("GET", 200),
        ("GET", 422),
    ]
    assert {c.actor_label for c in calls} == {"api:hr-system"}
    assert all(c.details["api_client"] == "hr-system" for c in calls)
    assert ApiToken.objects.get(name="hr-system").last_used_at is not None


def test_the_token_itself_is_never_written_to_the_audit_trail(api_as, make_token):
    _, raw = make_token()
    api_as(raw).get("/api/v1/requests")
    for event in AuditEvent.objects.all():
        assert raw not in str(event.details) and raw[20:] not in str(event.details)


def test_a_delegation_that_runs_reset_sessions_at_once_does_so_for_the_api_too(
    api, delegation, queue
):
    delegation.reset_sessions_without_approval = True
    delegation.save()
    body = api.post("/api/v1/requests", request_body(kind="reset_sessions")).json()
    assert body["state"] == "running" and body["steps"]  # approved and started at once
    offboard = api.post("/api/v1/requests", request_body(kind="offboard")).json()
    assert offboard["state"] == "pending_approval"  # an offboard never runs without a person


def test_offboarding_again_needs_confirm_repeat(api, approved, queue):
    earlier = approved("offboard")
    queue.drain()
    earlier.refresh_from_db()
    assert earlier.state == RS.SUCCEEDED, earlier.state_note
    body = _problem(api.post("/api/v1/requests", request_body()), 422, "validation")
    assert f"already offboarded by request #{earlier.pk}" in body["detail"]
    assert ActionRequest.objects.filter(kind="offboard").count() == 1
    again = api.post("/api/v1/requests", request_body(confirm_repeat=True))
    assert again.status_code == 201, again.content
    assert again.json()["id"] != earlier.pk


@pytest.mark.parametrize(
    "change",
    [
        {"reason": "stop\u0000here"},
        {"options": {"okta_deactivate\u0000": False}},
        {"ticket": "\u0000"},
    ],
)
def test_a_nul_character_anywhere_in_the_body_is_422_and_changes_nothing(api, change):
    """PostgreSQL stores no NUL: found by schemathesis as a 500 on the idempotency row."""
    body = _problem(
        api.post("/api/v1/requests", request_body(**change), idempotency_key="nul-1"),
        422,
        "validation",
    )
    assert "NUL" in json.dumps(body)  # the field errors say why
    assert not ActionRequest.objects.exists()
