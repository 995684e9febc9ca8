"""Test every enabled connection with a harmless read and print what each proved."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from connections import selectors, services


class Command(BaseCommand):
    help = "Test every enabled connection (a harmless read each) and print the results."

    def handle(self, *args: Any, **options: Any) -> None:
        connections = selectors.connection_enabled_list()
        if not connections:
            self.stdout.write("No enabled connections.")
            return
        failed = 0
        for connection in connections:
            result = services.connection_test(connection=connection, actor=None)
            style = self.style.SUCCESS if result.ok else self.style.ERROR
            word = "ok" if result.ok else "FAILED"
            self.stdout.write(style(f"{connection.system_enum.label}: {word}: {result.message}"))
            failed += 0 if result.ok else 1
        if failed:
            raise CommandError(f"{failed} connection(s) failed their test.")
