"""Issue 16, item 7: the systems' own names and one vocabulary for states; a protected person is
told so once, with no plan."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.urls import reverse

from offboarding.audit_display import state_words
from tests.offboarding.test_views import sign_in

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "raw, words",
    [
        ("ACTIVE", "Active"),
        ("active", "Active"),
        ("enabled", "Active"),
        ("SUSPENDED", "Suspended"),
        ("disabled", "Suspended"),
        ("DEPROVISIONED", "Deactivated"),
        ("inactive", "Deactivated"),
        ("LOCKED_OUT", "Locked out"),
    ],
)
def test_every_system_state_is_said_one_way(raw, words):
    assert state_words(raw) == words


def test_systems_are_named_as_people_know_them_in_one_order():
    out = Template("{% load portal_text %}{{ s|system_names }}").render(
        Context({"s": ["zoom", "msgraph", "okta", "google"]})
    )
    assert out == "Okta, Google Workspace, Zoom, Microsoft 365"


def test_history_and_plans_use_names_and_one_vocabulary(client, make_request, helpdesk):
    make_request("offboard", systems=("okta", "msgraph"))
    history = sign_in(client, helpdesk).get(reverse("offboarding:request-list")).content.decode()
    assert "Okta, Microsoft 365" in history and "okta, msgraph" not in history
    page = client.get(
        reverse("offboarding:request-new", kwargs={"okta_id": "00u1"}) + "?kind=offboard"
    ).content.decode()
    assert ">Active<" in page and ">ACTIVE<" not in page and ">Active</span>" in page
    assert "Active: will suspend in Okta" in page and "ACTIVE:" not in page


def test_a_protected_person_is_told_once_and_shown_no_plan(
    client, helpdesk, fake_registry, delegation, protected
):
    fake_registry.move_into_group("00u1", "00gAdmins", "Okta administrators")
    page = (
        sign_in(client, helpdesk)
        .get(reverse("offboarding:user-detail", kwargs={"okta_id": "00u1"}))
        .content.decode()
    )
    assert page.count("Okta administrators") >= 1
    assert page.count('data-testid="protected"') == 1
    assert "not available" not in page
    assert "Offboard would" not in page and 'data-testid="preflight"' not in page
    new = client.get(
        reverse("offboarding:request-new", kwargs={"okta_id": "00u1"}) + "?kind=offboard"
    ).content.decode()
    assert 'data-testid="blocked"' in new and 'data-testid="plan"' not in new
