"""Start a worker cluster: django-q2's, with the sweeper in its main process and a fast drain on
SIGTERM (`offboarding.runner.cluster`). Takes the place of django-q2's own `qcluster`."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand

from offboarding.runner.cluster import PortalCluster


class Command(BaseCommand):
    help = "Start a worker cluster; SIGTERM drains it within OFFBOARDING_SHUTDOWN_SECONDS."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "-n", "--name", dest="cluster_name", default=None, help="Alternative cluster name."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options.get("cluster_name"):
            os.environ["Q_CLUSTER_NAME"] = options["cluster_name"]
        elapsed = PortalCluster().run()
        self.stdout.write(f"cluster stopped in {elapsed:.1f} s")
