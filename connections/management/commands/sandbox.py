"""`manage.py sandbox`: serve the simulated Okta, Google, Zoom and Graph APIs on loopback."""

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from connections.sandbox.cli import add_arguments, run
from connections.sandbox.config import NotLoopback, check_loopback


class Command(BaseCommand):
    help = "Serve the sandbox organisation (Okta, Google Directory, Zoom, Microsoft Graph) on loopback."

    def add_arguments(self, parser: ArgumentParser) -> None:
        add_arguments(parser)
        # The portal reads the credentials from its own var/ folder, wherever PORTAL_VAR_DIR points.
        parser.set_defaults(data_dir=str(Path(settings.VAR_DIR) / "sandbox"))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            check_loopback(options["host"])
        except NotLoopback as exc:
            raise CommandError(str(exc)) from exc
        code = run(options, out=self.stdout)
        if code:
            raise CommandError("the sandbox could not start")
