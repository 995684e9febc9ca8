"""Issue 16, item 4: the audit page reads as words, pages sensibly, and opens one event."""

from __future__ import annotations

import pytest
from django.urls import reverse

from offboarding.audit import audit_record
from offboarding.audit_display import detail_fields
from offboarding.models import AuditEvent
from tests.offboarding.test_views import sign_in

pytestmark = pytest.mark.django_db


def test_details_are_labelled_fields_not_python_dict_text():
    assert detail_fields({"intact": True, "broken_at": None, "systems": ["okta", "zoom"]}) == [
        ("Intact", "yes"),
        ("Broken at", "—"),
        ("Systems", "okta, zoom"),
    ]


def test_the_audit_page_shows_details_in_words_25_to_a_page(client, auditor):
    for i in range(30):
        audit_record(
            action=AuditEvent.Action.AUDIT_VERIFIED,
            actor=None,
            details={"intact": True, "broken_at": None, "count": i},
        )
    page = sign_in(client, auditor).get(reverse("offboarding:audit")).content.decode()
    assert "{'intact'" not in page and "broken_at" not in page
    assert "<dt>Intact</dt><dd>yes</dd>" in page and "<dt>Broken at</dt><dd>—</dd>" in page
    assert page.count('data-testid="event-link-') == 25
    assert 'data-testid="older"' in page


def test_an_auditor_opens_one_event_with_everything_about_it(
    client, auditor, helpdesk, make_request
):
    req = make_request("offboard")
    event = AuditEvent.objects.filter(action=AuditEvent.Action.REQUEST_SUBMITTED).get()
    url = reverse("offboarding:audit-event", kwargs={"seq": event.seq})
    page = sign_in(client, auditor).get(url).content.decode()
    assert f"Audit event #{event.seq}" in page
    assert reverse("offboarding:request-detail", kwargs={"pk": req.pk}) in page
    assert event.hash in page and event.prev_hash in page
    assert "{'" not in page
    assert sign_in(client, helpdesk).get(url).status_code == 403
    missing = reverse("offboarding:audit-event", kwargs={"seq": 999999})
    assert sign_in(client, auditor).get(missing).status_code == 404
