"""Verify the audit chain: prints "chain intact: N events" or the first broken sequence number."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from offboarding.audit import audit_chain_verify


class Command(BaseCommand):
    help = "Verify the tamper-evident audit chain; exits non-zero when it is broken."

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_chain_verify()
        if not report.intact:
            raise CommandError(str(report), returncode=1)
        self.stdout.write(str(report))
