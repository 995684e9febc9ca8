"""Emails go to the approvers who may approve this request, and to the requester on each outcome."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from offboarding import services as svc
from offboarding.roles import Role

pytestmark = pytest.mark.django_db


def test_only_eligible_approvers_are_asked(
    make_request, approver, other_approver, django_user_model, mailoutbox
):
    elsewhere = django_user_model.objects.create_user(
        "elsewhere", "elsewhere@portal.test", "x" * 20
    )
    elsewhere.groups.add(
        Group.objects.get(name=Role.APPROVER)
    )  # an Approver, but not in "IT managers"
    make_request("offboard", requester=approver)
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["approver2@portal.test"], "not the requester, not approvers of other groups"
    assert "Approval needed: Offboard for pat@example.com" in mail.subject
    assert "Left the company" in mail.body
    assert mail.alternatives and "<a href=" in mail.alternatives[0][0]


def test_the_requester_hears_of_the_decision(make_request, approve, approver, mailoutbox):
    req = make_request("offboard")
    mailoutbox.clear()
    approve(req, approver)
    assert [m.to for m in mailoutbox] == [["helpdesk@portal.test"]]
    assert mailoutbox[0].subject.lower().endswith(": approved and started")
    assert "is now: approved and started." in mailoutbox[0].body


def test_the_requester_hears_of_a_rejection(
    make_request, approver, mailoutbox, django_capture_on_commit_callbacks
):
    req = make_request("offboard")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        svc.action_request_reject(action_request_id=req.pk, approver=approver, comment="No ticket")
    assert mailoutbox[0].to == ["helpdesk@portal.test"]
    assert "rejected" in mailoutbox[0].subject and "No ticket" in mailoutbox[0].body


def test_the_requester_hears_of_completion_with_each_step(
    approved, queue, mailoutbox, fake_registry
):
    del fake_registry.accounts[("zoom", "00u1")]
    approved("offboard")
    mailoutbox.clear()
    queue.drain()
    assert len(mailoutbox) == 1
    body = mailoutbox[0].body
    assert "succeeded" in mailoutbox[0].subject
    assert "Deactivate in Zoom: skipped (no account)" in body
