"""Issue 13: reinstate undoes this portal's offboard; offboarding again is shown and confirmed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from offboarding import offboard_history
from offboarding.models import ActionRequest, AuditEvent, StepRun
from tests.offboarding.test_views import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def offboarded(approved, queue):
    """Pat offboarded by the portal (fake systems); the groups step says what it removed."""
    req = approved("offboard")
    queue.drain()
    req.refresh_from_db()
    assert req.state == ActionRequest.State.SUCCEEDED, req.state_note
    StepRun.objects.filter(action_request=req, key="okta.remove_from_groups").update(
        result={"removed_group_ids": ["00gStaff", "00gSales"]}
    )
    return req


def test_a_reinstate_undoes_the_last_offboard_and_its_steps_get_the_ids(
    offboarded, approved, steps
):
    reinstate = approved("reinstate")
    assert reinstate.undoes_id == offboarded.pk
    created = steps(reinstate)
    assert created["okta.restore_groups"].options["group_ids"] == ["00gStaff", "00gSales"]
    assert "app_ids" not in created["okta.restore_apps"].options  # the offboard unassigned none
    submitted = AuditEvent.objects.filter(
        action=AuditEvent.Action.REQUEST_SUBMITTED, object_id=str(reinstate.pk)
    ).get()
    assert submitted.details["undoes"] == offboarded.pk


def test_what_is_undone_is_part_of_what_the_approver_approves(offboarded, make_request):
    from offboarding.services import request_fingerprint

    reinstate = make_request("reinstate")
    without = request_fingerprint(
        kind="reinstate",
        target_okta_id=reinstate.target_okta_id,
        systems=reinstate.systems,
        options=reinstate.options,
    )
    assert reinstate.fingerprint != without


def test_the_reinstate_plan_says_what_comes_back_and_what_cannot(offboarded, make_request):
    StepRun.objects.filter(action_request=offboarded, key="okta.revoke_grants").update(
        result={"device_ids": ["d1", "d2"], "action": "wiped"}
    )
    reinstate = make_request("reinstate")
    notes = {p["system"]: " ".join(p.get("notes", [])) for p in reinstate.plan}
    assert f"unsuspend the account request #{offboarded.pk} suspended" in notes["okta"]
    assert "put back 2 Okta group membership(s)" in notes["okta"]
    assert "Okta authenticators were reset" in notes["okta"]
    assert "2 device(s) were wiped" in notes["okta"]
    assert "Google app passwords were deleted" in notes["google"]
    assert "enable the account" in notes["msgraph"]
    assert "activate the account" in notes["zoom"]


def test_a_reinstate_without_an_offboard_says_so(make_request):
    reinstate = make_request("reinstate")
    assert reinstate.undoes_id is None
    assert all("No offboard by this portal to undo" in p["notes"][0] for p in reinstate.plan)


def test_after_a_reinstate_ran_the_person_is_no_longer_offboarded(offboarded, approved, queue):
    assert offboard_history.last_offboard(offboarded.target_okta_id) == offboarded
    approved("reinstate")
    queue.drain()
    assert offboard_history.last_offboard(offboarded.target_okta_id) is None


def test_the_person_page_offers_reinstate_only_after_an_offboard(client, helpdesk, offboarded):
    url = reverse("offboarding:user-detail", kwargs={"okta_id": "00u1"})
    page = sign_in(client, helpdesk).get(url).content.decode()
    assert 'data-testid="action-reinstate"' in page
    assert f"already offboarded by request #{offboarded.pk}" in page
    assert f"Already suspended by request #{offboarded.pk}" in page


def test_the_person_page_offers_no_reinstate_to_someone_never_offboarded(
    client, helpdesk, fake_registry, delegation
):
    url = reverse("offboarding:user-detail", kwargs={"okta_id": "00u1"})
    page = sign_in(client, helpdesk).get(url).content.decode()
    assert 'data-testid="action-reinstate"' not in page
    assert 'data-testid="already-offboarded"' not in page


def test_reinstate_needs_another_persons_approval(offboarded, make_request, helpdesk, approve):
    from offboarding.exceptions import NotAllowed

    reinstate = make_request("reinstate", requester=helpdesk)
    assert reinstate.state == ActionRequest.State.PENDING_APPROVAL
    with pytest.raises(NotAllowed):
        approve(reinstate, helpdesk)


# --- Offboarding someone already offboarded ----------------------------------------------------


def _offboard_form(**extra):
    return {
        "kind": "offboard",
        "systems": ["okta", "google", "msgraph", "zoom"],
        "reason": "Left again",
        **extra,
    }


def test_offboarding_again_shows_the_earlier_offboard_and_requires_the_box(
    client, helpdesk, offboarded
):
    url = reverse("offboarding:request-new", kwargs={"okta_id": "00u1"})
    sign_in(client, helpdesk)
    page = client.get(url + "?kind=offboard").content.decode()
    assert 'data-testid="already-offboarded"' in page
    assert f"already offboarded by request #{offboarded.pk}" in page
    assert f"Already suspended by request #{offboarded.pk}" in page  # in the pre-flight plan
    refused = client.post(url, _offboard_form())
    assert refused.status_code == 400
    assert "Tick the box to confirm" in refused.content.decode()
    assert ActionRequest.objects.filter(kind="offboard").count() == 1
    accepted = client.post(url, _offboard_form(confirm_repeat="on"))
    assert accepted.status_code == 302
    again = ActionRequest.objects.filter(kind="offboard").exclude(pk=offboarded.pk).get()
    submitted = AuditEvent.objects.get(
        action=AuditEvent.Action.REQUEST_SUBMITTED, object_id=str(again.pk)
    )
    assert submitted.details["repeats"] == offboarded.pk
    assert any("Already suspended" in n for p in again.plan for n in p.get("notes", []))


def test_a_first_offboard_needs_no_such_box(client, helpdesk, fake_registry, delegation):
    url = reverse("offboarding:request-new", kwargs={"okta_id": "00u1"})
    sign_in(client, helpdesk)
    assert (
        'data-testid="already-offboarded"'
        not in client.get(url + "?kind=offboard").content.decode()
    )
    assert client.post(url, _offboard_form()).status_code == 302


def test_the_new_reinstate_page_previews_what_comes_back_and_what_cannot(
    client, helpdesk, offboarded
):
    url = reverse("offboarding:request-new", kwargs={"okta_id": "00u1"})
    page = sign_in(client, helpdesk).get(url + "?kind=reinstate").content.decode()
    assert "put back 2 Okta group membership(s)" in page
    assert "Cannot restore: Okta authenticators were reset" in page
    assert "add back to the groups the offboard removed" in page  # the option, on by default
    assert 'data-testid="already-offboarded"' not in page  # that box is for offboarding again


def test_the_service_refuses_a_repeat_offboard_unless_confirmed(offboarded, make_request):
    """The rule holds for every caller (the API, bulk, hooks), not only the form."""
    from offboarding.exceptions import InvalidRequest

    with pytest.raises(InvalidRequest, match=f"already offboarded by request #{offboarded.pk}"):
        make_request("offboard")
    assert ActionRequest.objects.filter(kind="offboard").count() == 1
    again = make_request("offboard", confirm_repeat=True)
    assert again.pk != offboarded.pk
