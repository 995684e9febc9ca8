"""Races that only a real database with row locks can show: run on PostgreSQL (threads)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from offboarding import playbooks, runner
from offboarding import services as svc
from offboarding.exceptions import OffboardingError
from offboarding.models import ActionRequest, Approval, StepRun

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite has no row locks; PostgreSQL only"
    ),
    pytest.mark.django_db(transaction=True),
]


def in_threads(*funcs):
    barrier = threading.Barrier(len(funcs))
    results: list = [None] * len(funcs)

    def wrap(i, func):
        try:
            barrier.wait()
            results[i] = func()
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=wrap, args=(i, f)) for i, f in enumerate(funcs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.parametrize("needed", [1, 2])
def test_two_approvers_racing_produce_exactly_one_execution(
    make_request, approver, other_approver, delegation, queue, needed
):
    delegation.approvals_needed = needed
    delegation.save()
    req = make_request("offboard")
    results = in_threads(
        lambda: svc.action_request_approve(action_request_id=req.pk, approver=approver),
        lambda: svc.action_request_approve(action_request_id=req.pk, approver=other_approver),
    )
    req.refresh_from_db()
    assert req.state == ActionRequest.State.RUNNING  # approved once, and started once
    # the offboard playbook's steps in four systems, each system's read-back included (issue 13)
    assert StepRun.objects.filter(action_request=req).count() == len(steps_for(req))
    first = StepRun.objects.filter(action_request=req, status=StepRun.Status.READY)
    assert sorted(queue.step_ids()) == sorted(s.pk for s in first) and first.count() == 4
    assert [t for t in queue.sent if not t[0].endswith("run_step")] == []
    if needed == 1:
        assert sum(isinstance(r, OffboardingError) for r in results) == 1
        assert Approval.objects.count() == 1
    else:
        assert all(isinstance(r, ActionRequest) for r in results)


def test_many_workers_claiming_one_step_get_it_once(approved, queue, steps):
    req = approved("reset_sessions", systems=["okta"])
    queue.run_starts()
    step = steps(req)["okta.clear_sessions"]
    results = in_threads(
        *[lambda n=n: runner.step_run_claim(step_id=step.pk, owner=f"w{n}") for n in range(8)]
    )
    assert sum(r is not None and not isinstance(r, Exception) for r in results) == 1


def test_the_concurrency_limit_holds_under_parallel_claims(approved, queue, fake_registry):
    fake_registry.limits["zoom"] = 3
    people = [fake_registry.add_user(f"00u{n}", f"p{n}.x@example.com") for n in range(10, 20)]
    reqs = [approved("reset_sessions", systems=["zoom"], okta_id=okta_id) for okta_id in people]
    queue.run_starts()
    ids = list(StepRun.objects.filter(action_request__in=reqs).values_list("pk", flat=True))
    results = in_threads(
        *[lambda pk=pk: runner.step_run_claim(step_id=pk, owner=f"w{pk}") for pk in ids]
    )
    assert not [r for r in results if isinstance(r, Exception)]
    assert StepRun.objects.filter(status=StepRun.Status.RUNNING).count() == 3
    assert (
        StepRun.objects.filter(status=StepRun.Status.RETRYING, waiting_for_slot=True).count() == 7
    )


def test_two_submissions_at_the_same_instant_make_one_request_and_one_clear_refusal(
    fake_registry, delegation, helpdesk, approver, queue, monkeypatch
):
    """Both pass the service's check (a barrier holds them just after it); the unique index lets
    one insert through and the other is refused naming it."""
    from offboarding.services import submit

    check = submit._refuse_duplicate
    gate = threading.Barrier(2, timeout=20)
    passed = threading.local()

    def check_together(**kwargs):
        check(**kwargs)
        if not getattr(passed, "once", False):
            passed.once = True
            gate.wait()

    monkeypatch.setattr(submit, "_refuse_duplicate", check_together)

    def submit_as(user):
        return lambda: svc.action_request_submit(
            requester=user,
            target_okta_id="00u1",
            kind="offboard",
            systems=["okta", "google"],
            reason="Left the company",
        )

    results = in_threads(submit_as(helpdesk), submit_as(approver))
    made = [r for r in results if isinstance(r, ActionRequest)]
    refused = [r for r in results if isinstance(r, OffboardingError)]
    assert len(made) == 1 and len(refused) == 1, results
    assert refused[0].message == (
        f"Request #{made[0].pk} (offboard for this person) is already pending approval: "
        "follow it there instead of asking twice."
    )
    assert list(ActionRequest.objects.values_list("pk", flat=True)) == [made[0].pk]


def steps_for(req: ActionRequest) -> list[playbooks.PlannedStep]:
    """The steps the playbook makes for this request (exactly once, however many approve)."""
    return playbooks.build_steps(req.kind, systems=req.systems, options=req.options)
