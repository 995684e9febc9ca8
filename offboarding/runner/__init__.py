"""The crash-safe step runner: start a request, claim a step, call the connector, fence the result.

Rules (DESIGN.md "Execution"):
- a claim is a conditional UPDATE ready/retrying(due) → running with a lease (owner, expiry);
- the outside call happens with no transaction open, inside `capture_calls()`, while a thread
  renews the lease (`lease.keep_lease`), so leases are short and a dead worker's step comes back soon;
- completion is fenced on (id, lease owner, running): a late result from a lost lease is recorded
  as a stale attempt and never applied;
- the sweeper, not the broker, is the source of truth: it brings back lost leases, due retries,
  ready steps the broker lost, due scheduled requests, and expires stale pending requests.

`cluster` (the `qcluster` command: sweeping, resuming, restarting a wedged queue, draining on
SIGTERM), `sentinel`, `heartbeat` (read by /healthz) and `shutdown` are imported by name, not here.

The runner sits below the services and never imports them; moving a request along (advance,
finish, enqueue) is `offboarding.progress`, shared with the services.
"""

from offboarding.runner.backoff import backoff_delay
from offboarding.runner.chain import step_chain_execute, step_offer_take, steps_run_here
from offboarding.runner.claim import step_run_claim
from offboarding.runner.execute import step_run_call, step_run_complete, step_run_execute
from offboarding.runner.start import action_request_start
from offboarding.runner.sweep import SweepReport, action_request_expire, sweep

__all__ = [
    "SweepReport",
    "action_request_expire",
    "action_request_start",
    "backoff_delay",
    "step_chain_execute",
    "step_offer_take",
    "step_run_call",
    "step_run_claim",
    "step_run_complete",
    "step_run_execute",
    "steps_run_here",
    "sweep",
]
