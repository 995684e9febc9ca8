"""The bulk pages: roles, upload → preview → submit → the approvers' page → approve → progress,
clear refusals for bad files, the live fragment, the CSV export's formula guard."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from offboarding import bulk_csv
from offboarding.models import ActionRequest, AuditEvent, Batch
from tests.integration.test_bulk_sandbox import release
from tests.offboarding.test_views import sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]

ALICE = "alice.anders@acme.example"
BOB = "bob.brandt@acme.example"


def _upload(client, content: bytes, name: str = "people.csv", **extra):
    return client.post(
        reverse("offboarding:bulk-new"),
        {
            "kind": "reset_sessions",
            "systems": ["okta", "google"],
            "reason": "phishing wave",
            "file": SimpleUploadedFile(name, content, content_type="text/csv"),
            **extra,
        },
    )


def test_only_people_who_may_request_see_the_bulk_page(client, flow, auditor, outsider):
    url = reverse("offboarding:bulk-new")
    assert sign_in(client, flow.requester).get(url).status_code == 200
    assert sign_in(client, auditor).get(url).status_code == 403
    assert sign_in(client, outsider).get(url).status_code == 403


def test_upload_preview_submit_approve_and_follow_the_progress(client, flow, connected, settings):
    settings.OFFBOARDING_BULK_PER_MINUTE = 6000  # released 0.01 s apart
    sign_in(client, flow.requester)
    response = _upload(client, f"login;reason\n{ALICE};left\n=cmd|x;\n{BOB}\n".encode())
    batch = Batch.objects.get()
    assert response.status_code == 302 and response.url.endswith(f"/bulk/{batch.pk}/")
    page = client.get(response.url).content.decode()
    assert "1 of 3 rows go on" not in page and "2 of 3 rows go on" in page
    assert 'data-testid="batch-submit"' in page
    client.post(reverse("offboarding:bulk-submit", kwargs={"pk": batch.pk}))
    batch.refresh_from_db()
    assert batch.state == Batch.State.PENDING_APPROVAL

    sign_in(client, flow.approver)
    approvals = client.get(reverse("offboarding:approvals")).content.decode()
    assert f'data-testid="batch-approval-{batch.pk}"' in approvals
    detail = client.get(reverse("offboarding:bulk-detail", kwargs={"pk": batch.pk}))
    assert 'data-testid="batch-approve"' in detail.content.decode()
    approve = reverse("offboarding:bulk-approve", kwargs={"pk": batch.pk})
    stale = sign_in(Client(), flow.approver, recently=False).post(
        approve, {"fingerprint": batch.fingerprint}
    )
    assert stale.status_code == 302 and "reauthenticate" in stale["Location"]
    assert not ActionRequest.objects.exists()
    with flow.capture(execute=True):
        sign_in(client, flow.approver).post(approve, {"fingerprint": batch.fingerprint})
    batch.refresh_from_db()
    assert batch.state == Batch.State.APPROVED
    release(flow)
    assert ActionRequest.objects.filter(batch=batch, origin="bulk").count() == 2

    live = client.get(reverse("offboarding:bulk-live", kwargs={"pk": batch.pk}))
    assert live.status_code == 200 and 'hx-trigger="every 2s"' in live.content.decode()
    flow.queue.drain(limit=1000)
    for _ in range(5):
        flow.queue.sweep()
    live = client.get(reverse("offboarding:bulk-live", kwargs={"pk": batch.pk}))
    assert live.status_code == 286, live.content.decode()[:500]
    assert 'data-testid="batch-finished"' in live.content.decode()
    one = ActionRequest.objects.filter(batch=batch).first()
    page = client.get(reverse("offboarding:request-detail", kwargs={"pk": one.pk}))
    assert f'href="/bulk/{batch.pk}/"' in page.content.decode()


def test_the_requester_cannot_approve_their_own_batch(client, flow, connected):
    sign_in(client, flow.requester)
    _upload(client, f"{ALICE}\n".encode())
    batch = Batch.objects.get()
    client.post(reverse("offboarding:bulk-submit", kwargs={"pk": batch.pk}))
    response = client.post(
        reverse("offboarding:bulk-approve", kwargs={"pk": batch.pk}),
        {"fingerprint": batch.fingerprint},
    )
    assert response.status_code == 403
    batch.refresh_from_db()
    assert batch.state == Batch.State.PENDING_APPROVAL


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("login\nzoë@acme.example\n".encode("latin-1"), "not UTF-8"),
        (b"\n\n", "no rows"),
        (b"a@x.example\x00", "binary"),
    ],
)
def test_a_bad_file_is_refused_in_words_and_changes_nothing(client, flow, content, words):
    response = _upload(sign_in(client, flow.requester), content)
    assert response.status_code == 400 and words in response.content.decode()
    assert not Batch.objects.exists()


def test_a_file_over_the_size_limit_is_refused(client, flow, monkeypatch):
    monkeypatch.setattr(bulk_csv, "MAX_BYTES", 100)
    response = _upload(sign_in(client, flow.requester), b"a@x.example\n" * 20)
    assert response.status_code == 400 and "limit is" in response.content.decode()
    assert not Batch.objects.exists()


def test_neither_a_file_nor_a_group_is_refused(client, flow):
    response = sign_in(client, flow.requester).post(
        reverse("offboarding:bulk-new"),
        {"kind": "offboard", "systems": ["okta"], "reason": "x"},
    )
    assert response.status_code == 400 and "one of the two" in response.content.decode()


def test_the_export_guards_formula_cells_and_is_only_for_those_who_see_the_batch(
    client, flow, connected, outsider
):
    sign_in(client, flow.requester)
    _upload(client, f"{ALICE}\n@SUM(A1)\n-1+2\n".encode())
    batch = Batch.objects.get()
    url = reverse("offboarding:bulk-export", kwargs={"pk": batch.pk})
    body = b"".join(client.get(url).streaming_content).decode()
    lines = body.splitlines()
    assert lines[0].startswith("line,identity,verdict")
    assert "'@SUM(A1)" in body and "'-1+2" in body
    assert ALICE in body
    assert sign_in(client, outsider).get(url).status_code == 404
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).count() == 1
