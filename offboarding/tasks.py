"""django-q2 entry points: thin shells that take ids and call the runner. Safe to run twice."""

from __future__ import annotations

from offboarding import runner


def run_step(step_id: int) -> str:
    """The step, then the steps of its system that wait only for it (runner.chain)."""
    return runner.step_chain_execute(step_id=int(step_id))


def start_request(action_request_id: int) -> bool:
    """Start the request and run its first steps here, on threads (runner.chain)."""
    return runner.action_request_start(action_request_id=int(action_request_id), run_here=True)


def sweep() -> str:
    return str(runner.sweep())
