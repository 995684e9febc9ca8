"""Check an evidence pack file offline: its signature and its audit events' HMACs and links.

Needs only the audit key (PORTAL_AUDIT_KEY), never the database. Exits 0 and says "evidence pack
intact" when everything checks out; exits 1 listing what is wrong when the file was changed; exits 2
when the file cannot be read as JSON.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from offboarding.evidence import evidence_problems


class Command(BaseCommand):
    help = "Verify an evidence pack (JSON) against the audit key; exits non-zero when tampered."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE", help="the evidence pack's JSON file")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"]
        try:
            with open(path, encoding="utf-8") as handle:
                document = json.load(handle)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(f"cannot read {path} as JSON: {exc}", returncode=2) from exc
        problems = evidence_problems(document)
        if problems:
            lines = "\n".join(f"- {p}" for p in problems)
            raise CommandError(f"evidence pack NOT intact:\n{lines}", returncode=1)
        pack = document["pack"]
        self.stdout.write(
            f"evidence pack intact: request #{pack['request']['id']}, "
            f"{len(pack['audit_events'])} audit events, {len(pack['calls'])} calls, "
            "signature and event HMACs match."
        )
