"""Verify the audit chain: prints "chain intact: N events" or the first broken sequence number.

`--checkpoints FILE` also holds the chain against the signed checkpoints in FILE (the file sink, or
a syslog/SIEM export): truncation and a full wipe show there. `--incremental` checks only the events
after the signed verified-up-to watermark (what the audit page does on every load).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from offboarding.audit import (
    audit_chain_verify,
    audit_checkpoints_verify,
    audit_verify_current,
    audit_watermark_save,
)


class Command(BaseCommand):
    help = "Verify the tamper-evident audit chain; exits non-zero when it is broken."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--checkpoints", metavar="FILE", help="signed checkpoints to check against"
        )
        parser.add_argument(
            "--incremental", action="store_true", help="only the events after the last verified one"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["incremental"]:
            report = audit_verify_current()
        else:
            report = audit_chain_verify()
            audit_watermark_save(report)
        if not report.intact:
            raise CommandError(str(report), returncode=1)
        self.stdout.write(str(report))
        if options["checkpoints"]:
            try:
                with open(options["checkpoints"], encoding="utf-8") as lines:
                    outcome = audit_checkpoints_verify(lines)
            except OSError as exc:
                raise CommandError(
                    f"cannot read {options['checkpoints']}: {exc}", returncode=2
                ) from exc
            if not outcome.intact:
                raise CommandError(str(outcome), returncode=1)
            self.stdout.write(str(outcome))
