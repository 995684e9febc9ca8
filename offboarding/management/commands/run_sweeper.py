"""Run the runner's sweeper once (or in a loop) outside django-q2, e.g. from cron or for a test."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from offboarding.runner import sweep


class Command(BaseCommand):
    help = (
        "Re-enqueue lost leases, due retries, lost ready steps and due requests; expire stale ones."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--loop", type=float, default=0, help="Repeat every N seconds.")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            self.stdout.write(str(sweep()))
            if not options["loop"]:
                return
            time.sleep(options["loop"])
