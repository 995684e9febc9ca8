"""Races that only a real database with row locks can show: run on PostgreSQL (threads)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from offboarding import runner
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
    assert req.state == ActionRequest.State.APPROVED
    assert StepRun.objects.filter(action_request=req).count() == 13
    assert [t for t in queue.sent if t[0].endswith("start_request")] == [
        ("offboarding.tasks.start_request", (req.pk,))
    ]
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
