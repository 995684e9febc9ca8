"""History and audit pages: who sees what, filters, keyset paging, streamed exports, bad input."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from offboarding.audit import audit_record
from offboarding.exports import csv_safe
from offboarding.models import ActionRequest, AuditEvent
from offboarding.roles import Role
from tests.offboarding.pages_data import history_request

pytestmark = pytest.mark.django_db

HISTORY = reverse("offboarding:request-list")
AUDIT = reverse("offboarding:audit")
T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _user(django_user_model, username, *roles):
    user = django_user_model.objects.create_user(username=username, password="x")
    user.groups.set([Group.objects.get_or_create(name=r)[0] for r in roles])
    return user


def _ids(response) -> list[int]:
    return [r.pk for r in response.context["rows"]]


def _body(response) -> str:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content).decode()


@pytest.fixture
def helpdesk2(django_user_model):
    return _user(django_user_model, "helpdesk2", Role.HELPDESK)


@pytest.fixture
def managers(approver):
    group = Group.objects.create(name="IT managers")
    approver.groups.add(group)
    return group


@pytest.fixture
def cast_requests(helpdesk, helpdesk2, approver, managers):
    """Own, a colleague's, one for the approver's group, one for another group."""
    others = Group.objects.create(name="Finance approvers")
    return {
        "mine": history_request(helpdesk, at=T0, login="ann@example.com"),
        "colleague": history_request(helpdesk2, at=T0 + timedelta(hours=1), login="bo@example.com"),
        "managers": history_request(
            helpdesk2, at=T0 + timedelta(hours=2), login="cy@example.com", approver_group=managers
        ),
        "finance": history_request(
            helpdesk2, at=T0 + timedelta(hours=3), login="di@example.com", approver_group=others
        ),
        "approvers_own": history_request(approver, at=T0 + timedelta(hours=4), login="ed@x.com"),
    }


# --- who sees what -----------------------------------------------------------------------------


def test_outsider_is_refused_history_and_exports(client, outsider, cast_requests):
    client.force_login(outsider)
    assert client.get(HISTORY).status_code == 403
    assert client.get(reverse("offboarding:request-export", args=["csv"])).status_code == 403
    assert client.get(AUDIT).status_code == 403


def test_helpdesk_sees_only_their_own_requests(client, helpdesk, cast_requests):
    client.force_login(helpdesk)
    response = client.get(HISTORY)
    assert response.status_code == 200
    assert _ids(response) == [cast_requests["mine"].pk]
    assert "bo@example.com" not in response.content.decode()


def test_approver_sees_their_own_and_their_approver_groups_requests(
    client, approver, cast_requests
):
    client.force_login(approver)
    assert _ids(client.get(HISTORY)) == [
        cast_requests["approvers_own"].pk,
        cast_requests["managers"].pk,
    ]


def test_auditor_sees_every_request_newest_first(client, auditor, cast_requests):
    client.force_login(auditor)
    expected = sorted((r.pk for r in cast_requests.values()), reverse=True)
    assert _ids(client.get(HISTORY)) == expected


def test_helpdesk_may_not_export(client, helpdesk, cast_requests):
    client.force_login(helpdesk)
    assert client.get(reverse("offboarding:request-export", args=["csv"])).status_code == 403
    assert b'data-testid="export-csv"' not in client.get(HISTORY).content


# --- filters -------------------------------------------------------------------------------------


@pytest.fixture
def varied(auditor, helpdesk, helpdesk2):
    rs = ActionRequest.State
    return {
        "a": history_request(helpdesk, at=T0, state=rs.FAILED, systems=("okta",), login="al@x.com"),
        "b": history_request(
            helpdesk2,
            at=T0 + timedelta(days=2),
            kind=ActionRequest.Kind.RESET_SESSIONS,
            systems=("google", "zoom"),
            login="bea.bright@x.com",
            name="Bea Bright",
        ),
        "c": history_request(
            helpdesk, at=T0 + timedelta(days=5), state=rs.PENDING_APPROVAL, login="cal@x.com"
        ),
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"state": "failed"}, ["a"]),
        ({"kind": "reset_sessions"}, ["b"]),
        ({"system": "zoom"}, ["c", "b"]),
        ({"system": "okta"}, ["c", "a"]),
        ({"requester": "helpdesk2"}, ["b"]),
        ({"target": "bright"}, ["b"]),
        ({"target": "cal@x"}, ["c"]),
        ({"since": "2026-03-12"}, ["c", "b"]),
        ({"until": "2026-03-12"}, ["b", "a"]),
        ({"since": "2026-03-11", "until": "2026-03-14"}, ["b"]),
        ({"state": "failed", "system": "google"}, []),
    ],
)
def test_each_filter_narrows_the_history(client, auditor, varied, params, expected):
    client.force_login(auditor)
    response = client.get(HISTORY, params)
    assert response.status_code == 200
    assert _ids(response) == [varied[k].pk for k in expected]


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"state": "exploded"}, "Select a valid choice"),
        ({"since": "last tuesday"}, "Enter a valid date"),
        ({"since": "2026-03-12", "until": "2026-03-01"}, "must not be after"),
        ({"older": "not-a-cursor"}, "page link is damaged"),
        ({"system": "<script>"}, "Select a valid choice"),
    ],
)
def test_bad_filter_input_is_explained_not_a_crash(client, auditor, varied, params, words):
    client.force_login(auditor)
    response = client.get(HISTORY, params)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="filter-problem"' in html and words in html
    assert _ids(response) == []


# --- keyset paging -------------------------------------------------------------------------------


def test_keyset_paging_walks_every_request_once_in_both_directions(client, auditor, helpdesk):
    # 123 requests; groups of three share a timestamp, so the id breaks ties.
    made = [history_request(helpdesk, at=T0 + timedelta(minutes=i // 3)) for i in range(123)]
    expected = [r.pk for r in sorted(made, key=lambda r: (r.requested_at, r.pk), reverse=True)]
    client.force_login(auditor)
    seen, pages, url = [], [], HISTORY
    with CaptureQueriesContext(connection) as queries:
        while url:
            response = client.get(url)
            page = response.context["page"]
            pages.append(_ids(response))
            seen += _ids(response)
            url = f"{HISTORY}?older={response.context['older_cursor']}" if page.has_older else ""
    assert seen == expected  # no duplicates, no gaps, in order
    assert [len(p) for p in pages] == [50, 50, 23]
    assert not any("OFFSET" in q["sql"].upper() for q in queries.captured_queries)
    # Back again with "Newer" from the last page (the loop's last response).
    assert response.context["page"].has_newer
    newer = client.get(f"{HISTORY}?newer={response.context['newer_cursor']}")
    assert _ids(newer) == pages[1]
    first = client.get(f"{HISTORY}?newer={newer.context['newer_cursor']}")
    assert _ids(first) == pages[0] and not first.context["page"].has_newer


def test_paging_links_keep_the_filters(client, auditor, helpdesk):
    for i in range(120):
        state = "failed" if i % 2 else "succeeded"
        history_request(helpdesk, at=T0 + timedelta(minutes=i), state=state, with_steps=False)
    client.force_login(auditor)
    html = client.get(HISTORY, {"state": "failed"}).content.decode()
    assert "state=failed&amp;older=" in html
    response = client.get(HISTORY, {"state": "failed"})
    older = client.get(HISTORY, {"state": "failed", "older": response.context["older_cursor"]})
    assert len(_ids(response)) == 50 and len(_ids(older)) == 10
    assert {r.state for r in older.context["rows"]} == {"failed"}


# --- exports ---------------------------------------------------------------------------------------


@pytest.fixture
def nasty(helpdesk):
    return history_request(
        helpdesk,
        at=T0 - timedelta(days=1),
        login="mal@x.com",
        name='=HYPERLINK("http://evil.example","click")',
        reason="+1 then -1 then @SUM(A1)",
    )


def test_csv_export_streams_the_filtered_set_with_formulas_defused(client, auditor, varied, nasty):
    client.force_login(auditor)
    response = client.get(reverse("offboarding:request-export", args=["csv"]), {"system": "okta"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(_body(response))))
    assert [int(r["id"]) for r in rows] == [varied["c"].pk, varied["a"].pk, nasty.pk]
    evil = rows[-1]
    assert evil["target_name"] == '\'=HYPERLINK("http://evil.example","click")'
    assert evil["reason"] == "'+1 then -1 then @SUM(A1)"
    assert rows[0]["state"] == "pending_approval" and rows[0]["requester"] == "helpdesk"


def test_csv_guard_quotes_every_formula_start():
    assert [csv_safe(v) for v in ("=1", "+1", "-1", "@x", "\tx", "ok", None, 5)] == [
        "'=1",
        "'+1",
        "'-1",
        "'@x",
        "'\tx",
        "ok",
        "",
        "5",
    ]


def test_jsonl_export_is_one_json_object_per_request(client, auditor, varied):
    client.force_login(auditor)
    response = client.get(
        reverse("offboarding:request-export", args=["jsonl"]), {"kind": "offboard"}
    )
    assert response["Content-Type"].startswith("application/x-ndjson")
    lines = _body(response).splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["id"] for r in records] == [varied["c"].pk, varied["a"].pk]
    assert records[1]["systems"] == ["okta"] and records[1]["state"] == "failed"


def test_every_export_is_an_audit_event(client, auditor, varied):
    client.force_login(auditor)
    _body(client.get(reverse("offboarding:request-export", args=["csv"]), {"state": "failed"}))
    event = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).get()
    assert event.actor == auditor
    assert event.details["what"] == "action_requests" and event.details["format"] == "csv"
    assert event.details["filters"] == {"state": "failed"} and event.details["rows"] == 1


def test_an_export_with_bad_filters_exports_nothing_and_says_why(client, auditor, varied):
    client.force_login(auditor)
    response = client.get(
        reverse("offboarding:request-export", args=["csv"]), {"since": "yesterday"}, follow=True
    )
    assert "Nothing was exported" in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_unknown_export_format_is_a_404(client, auditor):
    client.force_login(auditor)
    assert client.get(reverse("offboarding:request-export", args=["xlsx"])).status_code == 404


# --- audit page ------------------------------------------------------------------------------------


@pytest.fixture
def events(auditor, helpdesk):
    for i in range(130):
        audit_record(
            action=AuditEvent.Action.USER_VIEW if i % 2 else AuditEvent.Action.USER_SEARCH,
            actor=helpdesk if i % 3 else auditor,
            target=f"person{i}@x.com",
        )


def test_audit_page_filters_by_action_actor_and_target(client, auditor, events):
    client.force_login(auditor)
    rows = client.get(AUDIT, {"action": "user_view", "actor": "helpdesk"}).context["rows"]
    assert rows and all(e.action == "user_view" and e.actor_label == "helpdesk" for e in rows)
    rows = client.get(AUDIT, {"target": "person17@"}).context["rows"]
    assert [e.target for e in rows] == ["person17@x.com"]
    assert client.get(AUDIT, {"since": "2999-01-01"}).context["rows"] == []
    assert client.get(AUDIT, {"action": "nope"}).status_code == 400


def test_audit_page_pages_by_sequence_without_gaps(client, auditor, events):
    client.force_login(auditor)
    seen, url = [], AUDIT
    while url:
        response = client.get(url)
        seen += [e.seq for e in response.context["rows"]]
        more = response.context["page"].has_older
        url = f"{AUDIT}?older={response.context['older_cursor']}" if more else ""
    total = AuditEvent.objects.count()  # the 130 and the sign-in
    assert total > 100 and seen == list(range(total, 0, -1))


def test_chain_state_says_not_verified_then_intact_then_broken(client, auditor, events):
    client.force_login(auditor)
    assert "Chain not verified yet" in client.get(AUDIT).content.decode()
    total = AuditEvent.objects.count()
    client.post(reverse("offboarding:audit-verify"))
    html = client.get(AUDIT).content.decode()
    assert f"Chain intact: {total} events" in html and "checked at" in html
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:  # tamper behind the model's back (trigger off on PG)
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        cursor.execute(
            f"UPDATE {table} SET target = %s WHERE seq = 42",  # noqa: S608
            ["someone-else@x.com"],
        )
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    client.post(reverse("offboarding:audit-verify"))
    html = client.get(AUDIT).content.decode()
    assert "Chain broken at event #42" in html and "callout-danger" in html
    assert "do not match their signature" in html


def test_audit_export_streams_events_and_records_itself(client, auditor, events):
    client.force_login(auditor)
    response = client.get(
        reverse("offboarding:audit-export", args=["jsonl"]), {"target": "person1"}
    )
    records = [json.loads(line) for line in _body(response).splitlines()]
    # person1, person10..19, person100..129
    assert len(records) == 1 + 10 + 30 and all("person1" in r["target"] for r in records)
    assert {"seq", "hash", "prev_hash", "details"} <= set(records[0])
    csv_response = client.get(reverse("offboarding:audit-export", args=["csv"]))
    rows = list(csv.DictReader(io.StringIO(_body(csv_response))))
    first, second = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).order_by("seq")
    assert int(rows[0]["seq"]) == first.seq  # the first export's event, not the second's own
    assert len(rows) == second.seq - 1
