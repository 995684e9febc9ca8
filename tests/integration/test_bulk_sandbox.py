"""Bulk requests against the sandbox: the preview's verdicts and its cost in Okta calls, one
approval for the batch (four-eyes), the paced release, a batch of 200 run to the end, and a single
urgent request that a batch does not starve."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from connections.sandbox import data
from offboarding.exceptions import NotAllowed, StaleApproval, TargetLookupFailed
from offboarding.models import (
    ActionRequest,
    AuditEvent,
    Batch,
    BatchRow,
    Delegation,
    ProtectedGroup,
    StepRun,
)
from offboarding.selectors_bulk import batch_progress
from offboarding.services import bulk, bulk_decide

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]

V = BatchRow.Verdict
ALICE = "alice.anders@acme.example"
BOB = "bob.brandt@acme.example"
CAROL = "carol.chen@acme.example"
FRANK = "frank.fischer@acme.example"  # DEPROVISIONED
GRACE = "grace.garcia@acme.example"  # in Administrators
CHOICE = bulk.BulkChoice(
    kind="reset_sessions", systems=["okta", "google", "msgraph", "zoom"], reason="incident 42"
)


def release(flow) -> None:
    """Run the queued release tasks (they queue themselves again while rows remain)."""
    while releases := [t for t in flow.queue.sent if t[0].endswith("release_batch")]:
        flow.queue.sent = [t for t in flow.queue.sent if t not in releases]
        for func, args in releases:
            flow.queue.run(func, *args)


def _group_id(sandbox, g: int) -> str:
    return sandbox.org.ids.okta_group.make(g)


def _preview(flow, lines: list[str], choice=CHOICE) -> Batch:
    return bulk.batch_preview(
        requester=flow.requester, choice=choice, data="\n".join(lines).encode(), filename="f.csv"
    )


def _verdicts(batch: Batch) -> dict[str, str]:
    return dict(batch.rows.values_list("identity", "verdict"))


def test_the_preview_gives_each_row_its_verdict_in_a_few_okta_calls(flow, connected, request_log):
    ProtectedGroup.objects.create(okta_group_id=_group_id(connected, data.G_ADMINS), name="Admins")
    open_one = flow.approved("reset_sessions", CAROL)
    request_log.entries.clear()
    batch = _preview(
        flow,
        [
            "login,reason",
            ALICE,
            ALICE.upper(),
            "nobody@acme.example",
            FRANK,
            GRACE,
            CAROL,
            "=cmd()",
        ],
    )
    assert _verdicts(batch) == {
        ALICE: V.FOUND,
        ALICE.upper(): V.DUPLICATE,
        "nobody@acme.example": V.UNKNOWN,
        FRANK: V.OFFBOARDED,
        GRACE: V.PROTECTED,
        CAROL: V.OPEN_REQUEST,
        "=cmd()": V.INVALID,
    }
    assert batch.rows.get(identity=CAROL).detail == f"request #{open_one.pk} is already open"
    assert batch.counts["valid"] == 1 and batch.counts["total"] == 7
    assert batch.state == Batch.State.DRAFT
    # One search call for the file and one for the protected group's members, none per person.
    paths = [e[3] for e in request_log.of("okta")]
    assert len(paths) == 2, paths
    assert batch.lookup["method"] == "search"


def test_rows_outside_the_requesters_delegation_are_outside_scope(flow, connected):
    engineering = _group_id(connected, data.G_DEPT0)  # Alice is in Engineering, Bob in Sales
    Delegation.objects.update(target_group_ids=[engineering])
    batch = _preview(flow, [ALICE, BOB])
    assert _verdicts(batch) == {ALICE: V.FOUND, BOB: V.OUT_OF_SCOPE}


def test_everyone_in_an_okta_group_becomes_the_rows(flow, connected):
    sales = _group_id(connected, data.G_DEPT0 + 1)
    batch = bulk.batch_preview(requester=flow.requester, choice=CHOICE, group_id=sales)
    members = [
        i
        for i in range(connected.org.n)
        if connected.org.dept[i] == 1 and connected.org.status[i] != data.DEPROVISIONED
    ]
    assert batch.counts["total"] == len(members) > 10
    assert _verdicts(batch)[BOB] == V.FOUND
    with pytest.raises(TargetLookupFailed, match="no group"):
        bulk.batch_preview(requester=flow.requester, choice=CHOICE, group_id="00gNoSuchGroup")


def test_a_batch_is_approved_once_by_another_person_and_each_request_records_it(
    flow, connected, other_approver, mailoutbox
):
    batch = _preview(flow, [ALICE, BOB, "nobody@acme.example"])
    with flow.capture(execute=True):
        bulk.batch_submit(batch_id=batch.pk, actor=flow.requester)
    (mail,) = mailoutbox
    assert mail.to == [flow.approver.email] and f"batch #{batch.pk}" in mail.subject
    assert f"/bulk/{batch.pk}/" in mail.body
    with pytest.raises(NotAllowed, match="four-eyes"):
        bulk_decide.batch_approve(
            batch_id=batch.pk, approver=flow.requester, fingerprint=batch.fingerprint
        )
    with pytest.raises(NotAllowed, match="not an approver"):
        bulk_decide.batch_approve(
            batch_id=batch.pk, approver=other_approver, fingerprint=batch.fingerprint
        )
    with pytest.raises(StaleApproval):
        bulk_decide.batch_approve(batch_id=batch.pk, approver=flow.approver, fingerprint="0" * 64)
    assert not ActionRequest.objects.exists()
    with flow.capture(execute=True):
        bulk_decide.batch_approve(
            batch_id=batch.pk, approver=flow.approver, fingerprint=batch.fingerprint
        )
    batch.refresh_from_db()
    assert batch.state == Batch.State.APPROVED
    assert not ActionRequest.objects.exists()  # made by the release task, not the approval
    release(flow)
    made = list(ActionRequest.objects.order_by("scheduled_for"))
    assert [r.target_login for r in made] == [ALICE, BOB]
    assert {(r.origin, r.batch_id, r.state) for r in made} == {
        ("bulk", batch.pk, ActionRequest.State.SCHEDULED)
    }
    gap = (made[1].scheduled_for - made[0].scheduled_for).total_seconds()
    assert gap == pytest.approx(bulk_decide.release_spacing())
    # per person: each system's reset step and its read-back (issue 13), 4 systems
    assert StepRun.objects.filter(action_request__batch=batch).count() == 2 * 4 * 2
    assert {(a.approver_id, a.fingerprint) for r in made for a in r.approvals.all()} == {
        (flow.approver.pk, r.fingerprint) for r in made
    }
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {AuditEvent.Action.BATCH_SUBMITTED, AuditEvent.Action.BATCH_APPROVED} <= actions
    with pytest.raises(Exception, match="not pending"):
        bulk_decide.batch_approve(
            batch_id=batch.pk, approver=flow.approver, fingerprint=batch.fingerprint
        )


def test_a_rejected_batch_makes_no_request(flow, connected):
    batch = _preview(flow, [ALICE])
    bulk.batch_submit(batch_id=batch.pk, actor=flow.requester)
    bulk_decide.batch_reject(batch_id=batch.pk, approver=flow.approver, comment="wrong list")
    batch.refresh_from_db()
    assert batch.state == Batch.State.REJECTED and "wrong list" in batch.state_note
    assert not ActionRequest.objects.exists()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.BATCH_REJECTED).count() == 1


def _approved_batch(flow, lines: list[str]) -> Batch:
    batch = _preview(flow, lines)
    bulk.batch_submit(batch_id=batch.pk, actor=flow.requester)
    with flow.capture(execute=True):
        bulk_decide.batch_approve(
            batch_id=batch.pk, approver=flow.approver, fingerprint=batch.fingerprint
        )
    release(flow)
    batch.refresh_from_db()
    return batch


def test_the_release_goes_in_chunks_resumes_and_skips_a_person_opened_meanwhile(flow, connected):
    batch = _preview(flow, [ALICE, BOB, CAROL])
    bulk.batch_submit(batch_id=batch.pk, actor=flow.requester)
    bulk_decide.batch_approve(
        batch_id=batch.pk, approver=flow.approver, fingerprint=batch.fingerprint
    )
    assert bulk_decide.batch_release(batch_id=batch.pk, limit=1) == 2
    assert batch_progress(batch).unreleased == 2 and not batch_progress(batch).done
    twin = flow.approved("reset_sessions", BOB)  # opened after the preview
    flow.queue.sent.clear()
    assert bulk_decide.batches_release_stalled(older_than=0) == 1
    release(flow)
    rows = dict(batch.rows.values_list("identity", "verdict"))
    assert rows == {ALICE: V.FOUND, BOB: V.OPEN_REQUEST, CAROL: V.FOUND}
    assert f"#{twin.pk}" in batch.rows.get(identity=BOB).detail
    made = ActionRequest.objects.filter(batch=batch).order_by("scheduled_for")
    assert [r.target_login for r in made] == [ALICE, CAROL]
    assert batch_progress(batch).unreleased == 0
    assert bulk_decide.batch_release(batch_id=batch.pk) == 0  # run twice: nothing more
    assert ActionRequest.objects.filter(batch=batch).count() == 2


def test_a_batch_of_200_runs_to_the_end_within_the_rate_limits(
    flow, connected, settings, mailoutbox
):
    settings.OFFBOARDING_BULK_PER_MINUTE = 6000  # released 0.01 s apart: the sweeper starts them
    batch = _approved_batch(flow, list(connected.org.email[:200]))
    valid = batch.counts["valid"]
    assert batch.counts["total"] == 200 and valid > 150
    for _ in range(30):
        flow.queue.drain(limit=5000)
        progress = batch_progress(batch)
        if progress.done:
            break
        flow.queue.sweep()
    assert progress.done, progress.overall
    assert (
        progress.percent == 100 and progress.total == valid * 4 * 2
    )  # each system's step and its read-back
    states = dict(progress.requests)
    assert sum(states.values()) == valid
    failed = StepRun.objects.filter(action_request__batch=batch, status=StepRun.Status.FAILED)
    assert not failed.filter(last_error__icontains="rate limit").exists()
    assert states.get("succeeded", 0) == valid - states.get("failed", 0) - states.get(
        "partially_failed", 0
    )
    assert states.get("succeeded", 0) >= valid - 5, states
    # The requester follows the batch's page, not 200 mails.
    assert not [m for m in mailoutbox if flow.requester.email in m.to]


def test_a_batch_does_not_starve_a_single_urgent_request(flow, connected):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        batch = _approved_batch(flow, list(connected.org.email[20:120]))
        urgent = flow.approved("reset_sessions", ALICE)  # Alice is not in the batch
        urgent_steps = set(
            StepRun.objects.filter(action_request=urgent).values_list("pk", flat=True)
        )
        sent = flow.queue.sent
        first = next(
            i for i, (f, a) in enumerate(sent) if f.endswith("run_step") and a[0] in urgent_steps
        )
        # Only the batch's first request is due now: the urgent one's steps (its approval started
        # it) come right behind that one start in the queue.
        assert [f for f, _ in sent[:first]] in ([], ["offboarding.tasks.start_request"])
        flow.queue.drain(limit=5000)
        urgent.refresh_from_db()
        assert urgent.state == ActionRequest.State.SUCCEEDED
        started = ActionRequest.objects.filter(batch=batch, started_at__isnull=False).count()
        assert started <= 2
        clock.move_to(timezone.now() + timedelta(seconds=10))
        flow.queue.sweep()
        started = ActionRequest.objects.filter(batch=batch, started_at__isnull=False).count()
        assert 2 < started <= 12  # one a second at the default 60 a minute
        progress = batch_progress(batch)
        assert not progress.done and progress.seconds_left and progress.seconds_left > 60


def test_retry_runs_the_failed_rows_again(flow, connected, settings):
    settings.OFFBOARDING_MAX_ATTEMPTS = 1  # a server error fails the step at once
    connected.set_fault("zoom", error_rate=1.0)
    batch = _approved_batch(flow, [ALICE, CAROL])
    for _ in range(10):
        flow.queue.drain(limit=5000)
        if batch_progress(batch).done:
            break
        flow.queue.sweep()
    assert batch_progress(batch).overall["failed"] >= 1
    connected.clear_faults()
    retried, refusals = bulk_decide.batch_retry_failed(batch_id=batch.pk, actor=flow.requester)
    assert retried >= 1 and refusals == []
    flow.queue.drain(limit=5000)
    assert batch_progress(batch).overall["failed"] == 0


def test_progress_counts_steps_held_by_a_rate_limit_as_waiting_rate_limited(flow, connected):
    import time

    from connections.types import CallRecord
    from offboarding.runner.pacing import rate_note

    batch = _approved_batch(flow, [ALICE, BOB])
    flow.queue.sent.clear()
    for req in ActionRequest.objects.filter(batch=batch):
        StepRun.objects.filter(action_request=req).update(status=StepRun.Status.READY)
    until = time.time() + 30
    rate_note("okta", [CallRecord("okta", "GET", "/x", 429, 1.0, rate_reset=until)], reserve=0)
    progress = batch_progress(batch)
    okta = next(s for s in progress.systems if s["system"] == "okta")
    # two people, each with a step and its read-back in every system (issue 13)
    assert okta["counts"]["rate_limited"] == 4 and okta["paused_until"] is not None
    google = next(s for s in progress.systems if s["system"] == "google")
    assert google["counts"]["rate_limited"] == 0 and google["counts"]["waiting"] == 4
    assert progress.seconds_left is not None and progress.seconds_left >= 25


def test_two_approvals_needed_means_two_different_approvers(flow, connected, other_approver):
    Delegation.objects.update(approvals_needed=2)
    Group.objects.get(name="IT managers").user_set.add(other_approver)
    ProtectedGroup.objects.create(okta_group_id="00gGoneLongAgo", name="A deleted group")
    batch = _preview(flow, [ALICE])
    assert batch.approvals_needed == 2 and batch.counts["valid"] == 1
    bulk.batch_submit(batch_id=batch.pk, actor=flow.requester)
    bulk_decide.batch_approve(
        batch_id=batch.pk, approver=flow.approver, fingerprint=batch.fingerprint
    )
    batch.refresh_from_db()
    assert batch.state == Batch.State.PENDING_APPROVAL
    with pytest.raises(NotAllowed, match="counts once"):
        bulk_decide.batch_approve(
            batch_id=batch.pk, approver=flow.approver, fingerprint=batch.fingerprint
        )
    with flow.capture(execute=True):
        bulk_decide.batch_approve(
            batch_id=batch.pk, approver=other_approver, fingerprint=batch.fingerprint
        )
    release(flow)
    (req,) = ActionRequest.objects.filter(batch=batch)
    assert {a.approver_id for a in req.approvals.all()} == {flow.approver.pk, other_approver.pk}


def test_progress_never_reads_finished_while_a_release_commits_between_its_reads(flow, connected):
    """The batch page stops updating once it reads "finished": a release that commits between
    any two of its reads must not make an untouched batch read 100 % finished (it did when the
    steps were counted before the rows still to release)."""
    batch = _preview(flow, [ALICE, BOB, CAROL])
    bulk.batch_submit(batch_id=batch.pk, actor=flow.requester)
    bulk_decide.batch_approve(
        batch_id=batch.pk, approver=flow.approver, fingerprint=batch.fingerprint
    )
    with CaptureQueriesContext(connection) as reads:
        assert not batch_progress(batch).done
    for at in range(len(reads) + 1):
        seen: list[str] = []

        def release_at(execute, sql, params, many, context, at=at, seen=seen):
            if len(seen) == at and "released" not in seen:
                seen.append("released")
                bulk_decide.batch_release(batch_id=batch.pk)  # its own queries pass here too
            seen.append(sql)
            return execute(sql, params, many, context)

        undo = transaction.savepoint()
        with connection.execute_wrapper(release_at):
            progress = batch_progress(batch)
        assert "released" in seen or at == len(reads)
        assert not progress.done, f"read as finished with the release before read {at}"
        transaction.savepoint_rollback(undo)


def test_progress_is_finished_only_once_every_request_has_ended(flow, connected):
    batch = _approved_batch(flow, [ALICE, BOB])
    StepRun.objects.filter(action_request__batch=batch).update(status=StepRun.Status.SUCCEEDED)
    first, second = ActionRequest.objects.filter(batch=batch).order_by("pk")
    ActionRequest.objects.filter(pk=first.pk).update(state=ActionRequest.State.SUCCEEDED)
    ActionRequest.objects.filter(pk=second.pk).update(state=ActionRequest.State.RUNNING)
    progress = batch_progress(batch)
    assert progress.percent == 100 and not progress.done
    ActionRequest.objects.filter(pk=second.pk).update(state=ActionRequest.State.SUCCEEDED)
    assert batch_progress(batch).done
