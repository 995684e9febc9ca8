"""Break-glass and review pages (issue 14): each checks its role, asks for a fresh sign-in before a
break-glass run, and shows unreviewed and flagged runs on the dashboard, in history and on the
request's page."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from offboarding import services as svc
from offboarding.exceptions import NotAllowed
from offboarding.models import ActionRequest, AfterTheFactReview
from tests.offboarding.test_views import sign_in

pytestmark = pytest.mark.django_db
BG = reverse("offboarding:break-glass", kwargs={"okta_id": "00u1"})
REVIEWS = reverse("offboarding:reviews")
FORM = {"kind": "offboard", "systems": ["okta", "google", "msgraph", "zoom"], "reason": "INC-7"}


def decide_url(req: ActionRequest) -> str:
    return reverse("offboarding:review-decide", kwargs={"pk": req.pk})


@pytest.mark.parametrize("who", ["helpdesk", "approver", "auditor", "outsider"])
def test_only_responders_open_break_glass(client, request, who, fake_registry, delegation):
    sign_in(client, request.getfixturevalue(who))
    assert client.get(BG).status_code == 403
    assert client.post(BG, FORM).status_code == 403
    assert not ActionRequest.objects.exists()


def test_the_page_explains_the_lock_only_offboard(client, responder, fake_registry, delegation):
    sign_in(client, responder)
    page = client.get(BG + "?kind=offboard")
    assert page.status_code == 200
    text = page.content.decode()
    assert "never the irreversible Okta deactivate" in text
    assert 'data-testid="plan-okta"' in text and 'data-testid="run-break-glass"' in text


def test_without_totp_the_page_says_so_and_offers_no_form(
    client, responder, fake_registry, delegation
):
    responder.authenticator_set.all().delete()
    sign_in(client, responder)
    text = client.get(BG).content.decode()
    assert 'data-testid="break-glass-totp"' in text and "run-break-glass" not in text


def test_an_old_sign_in_is_sent_to_reauthenticate(client, responder, fake_registry, delegation):
    sign_in(client, responder, recently=False)
    response = client.post(BG, FORM)
    assert response.status_code == 302 and "reauthenticate" in response["Location"]
    assert not ActionRequest.objects.exists()


def test_a_fresh_sign_in_runs_it_and_shows_the_review_banner(
    client, responder, fake_registry, delegation, queue
):
    sign_in(client, responder)
    response = client.post(BG, FORM)
    req = ActionRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "offboarding:request-detail", kwargs={"pk": req.pk}
    )
    assert req.origin == "break_glass" and req.state == ActionRequest.State.RUNNING
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="review-banner"' in page and "Awaiting review" in page
    assert "Break-glass: ran without approval; IT managers review it afterwards" in page
    assert "Approvals: 0 of" not in page


def test_a_missing_reason_is_a_clear_message_not_a_run(
    client, responder, fake_registry, delegation
):
    sign_in(client, responder)
    response = client.post(BG, {**FORM, "reason": ""})
    assert response.status_code == 400
    assert "break-glass needs a reason" in response.content.decode()
    assert not ActionRequest.objects.exists()


@pytest.mark.parametrize("who", ["helpdesk", "auditor", "outsider", "responder"])
def test_the_review_queue_is_for_approvers(client, request, who):
    sign_in(client, request.getfixturevalue(who))
    assert client.get(REVIEWS).status_code == 403


def test_an_approver_flags_a_run_and_it_stands_out_everywhere(client, run, approver, auditor):
    req = run()
    sign_in(client, approver)
    queue_page = client.get(REVIEWS).content.decode()
    assert f'data-testid="review-{req.pk}"' in queue_page
    assert 'data-testid="reviews-count">1 waiting for you' in queue_page
    home = client.get("/").content.decode()
    assert 'data-testid="reviews-waiting">1 awaiting review' in home
    client.post(decide_url(req), {"decision": "flagged", "comment": ""})
    assert AfterTheFactReview.objects.get().is_pending  # a flag needs a comment
    client.post(decide_url(req), {"decision": "flagged", "comment": "Not an incident"})
    assert AfterTheFactReview.objects.get().decision == "flagged"
    sign_in(client, auditor)
    assert 'data-testid="reviews-flagged">1 flagged' in client.get("/").content.decode()
    history = client.get(reverse("offboarding:request-list")).content.decode()
    assert 'data-review="flagged"' in history


def test_the_responder_cannot_review_their_own_run_through_the_page(
    client, run, responder, approver, managers
):
    responder.groups.add(Group.objects.get(name="Approver"), managers)
    req = run()
    sign_in(client, responder)
    page = client.get(REVIEWS).content.decode()
    assert f'data-testid="why-{req.pk}"' in page and f"accept-{req.pk}" not in page
    assert client.post(decide_url(req), {"decision": "accepted"}).status_code == 403
    assert AfterTheFactReview.objects.get().is_pending
    with pytest.raises(NotAllowed, match="four-eyes"):
        svc.review_record(action_request_id=req.pk, reviewer=responder, decision="accepted")


def _queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_queue_and_history_run_as_many_queries_for_50_runs_as_for_5(
    client, approver, other_approver, helpdesk, managers
):
    from django.utils import timezone

    from tests.offboarding.pages_data import history_request

    made = iter(range(1000))

    def add(n: int) -> None:
        for _ in range(n):
            i = next(made)
            req = history_request(helpdesk, login=f"p{i}@x.com", approver_group=managers)
            done = {"decision": "flagged", "reviewer": other_approver} if i % 2 else {}
            AfterTheFactReview.objects.create(
                action_request=req,
                why="Break-glass by helpdesk",
                due_at=timezone.now(),
                reviewed_at=timezone.now() if done else None,
                **done,
            )

    sign_in(client, approver)
    pages = (REVIEWS, reverse("offboarding:request-list"), "/")
    add(5)
    small = [_queries(client, url) for url in pages]
    add(45)
    assert [_queries(client, url) for url in pages] == small
