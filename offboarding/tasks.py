"""django-q2 entry points: thin shells that take ids and call the runner. Safe to run twice.

While the cluster drains (SIGTERM), each hands its work back to the broker instead of starting it.
"""

from __future__ import annotations

from offboarding import runner
from offboarding.runner import shutdown


def run_step(step_id: int) -> str:
    """The step, then the steps its completion made ready, and theirs (runner.chain)."""
    if shutdown.draining():
        return shutdown.release_step(int(step_id))
    return runner.step_chain_execute(step_id=int(step_id))


def take_step(step_id: int) -> str:
    """A step another task offered to idle workers: run it here if no one has claimed it yet."""
    if shutdown.draining():  # the task that offered it still holds it
        return "skipped: shutting down"
    return runner.step_offer_take(step_id=int(step_id))


def start_request(action_request_id: int) -> bool | str:
    """Start the request and run its first steps here, on threads (runner.chain)."""
    if shutdown.draining():
        return shutdown.release_start(int(action_request_id))
    return runner.action_request_start(action_request_id=int(action_request_id), run_here=True)


def sweep() -> str:
    if shutdown.draining():
        return "skipped: shutting down"
    report = str(runner.sweep())
    # Bulk batches (issue 15) whose release task was lost: queued again.
    from offboarding.services.bulk_decide import batches_release_stalled

    return f"{report}, batches released again: {batches_release_stalled()}"


def release_batch(batch_id: int) -> str:
    """Make the next chunk of an approved bulk batch's requests; queue itself while rows remain."""
    from offboarding.services.bulk_decide import batch_release, enqueue_release

    if shutdown.draining():
        return "skipped: shutting down (the sweep queues it again)"
    remaining = batch_release(batch_id=int(batch_id))
    if remaining:
        enqueue_release(int(batch_id))
    return f"{remaining} rows left to release"


def handle_hook_event(hook_event_id: int) -> str:
    """Act on one stored Okta event (issue 14): its policy, or why nothing was done."""
    from offboarding.services.hook_events import hook_event_handle

    return hook_event_handle(hook_event_id=int(hook_event_id))


def reconcile_okta_events() -> str:
    """Read Okta's System Log for events a delivery missed (issue 14; scheduled every minute)."""
    if shutdown.draining():
        return "skipped: shutting down"
    from offboarding.services.reconcile import okta_events_reconcile

    return okta_events_reconcile()
