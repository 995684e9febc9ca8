"""The sweeper loop command keeps going through database hiccups and stays quiet when idle."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from offboarding.management.commands import run_sweeper
from offboarding.runner import SweepReport

pytestmark = pytest.mark.django_db


def test_sweeper_loop_survives_a_failed_pass_and_reports_only_work(monkeypatch):
    passes = iter([RuntimeError("database went away"), SweepReport(), SweepReport(requeued=2)])

    def fake_sweep():
        outcome = next(passes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    sleeps = []

    def fake_sleep(seconds):
        sleeps.append(seconds)
        if len(sleeps) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(run_sweeper, "sweep", fake_sweep)
    monkeypatch.setattr(run_sweeper.time, "sleep", fake_sleep)
    out = io.StringIO()
    with pytest.raises(KeyboardInterrupt):
        call_command("run_sweeper", loop=5, stdout=out)
    assert sleeps == [5, 5, 5]
    assert out.getvalue().strip().splitlines() == [str(SweepReport(requeued=2))]


def test_sweeper_once_prints_its_report():
    out = io.StringIO()
    call_command("run_sweeper", stdout=out)
    assert "requeued: 0" in out.getvalue()
