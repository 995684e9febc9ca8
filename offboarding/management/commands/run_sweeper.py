"""Run the runner's sweeper once, or every few seconds on its own (`--loop 5`).

Every `qcluster` already sweeps in its main process every `OFFBOARDING_SWEEP_SECONDS`
(`offboarding.runner.cluster`), and django-q2's schedule sweeps every 30 s as a backstop; this
command is for a one-off pass or a sweeper on a host without workers. Running several at once is
safe: every change the sweeper makes is a conditional update.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from offboarding.runner import sweep

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Re-enqueue lost leases, due retries, lost ready steps and due requests; expire stale ones."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--loop", type=float, default=0, help="Repeat every N seconds.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["loop"]:
            self.stdout.write(str(sweep()))
            return
        while True:
            close_old_connections()
            try:
                report = sweep()
            except Exception:
                # A database hiccup must not stop the loop; the next pass tries again.
                logger.exception("sweep failed; trying again in %s s", options["loop"])
            else:
                if any(vars(report).values()):
                    self.stdout.write(str(report))
            time.sleep(options["loop"])
