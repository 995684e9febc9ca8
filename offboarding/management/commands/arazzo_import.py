"""Import an Arazzo document as a custom playbook (the next version of --name). Audited."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from offboarding import services
from offboarding.arazzo import export
from offboarding.arazzo.importer import import_document
from offboarding.exceptions import OffboardingError


class Command(BaseCommand):
    help = (
        "Read an Arazzo document (YAML or JSON) and save it as a custom playbook; prints the "
        "plan in words and what was dropped (credentials). --dry-run saves nothing."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path", help="The document's file ('-' for standard input).")
        parser.add_argument("--name", required=True, help="The custom playbook's name.")
        parser.add_argument("--dry-run", action="store_true", help="Show the plan; save nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        text = self._read(options["path"])
        try:
            imported = import_document(text)
            version = None
            if not options["dry_run"]:
                version = services.custom_playbook_import(
                    actor=None,
                    name=options["name"],
                    text=text,
                    actor_label="manage.py arazzo_import",
                )
        except OffboardingError as exc:
            raise CommandError(exc.message) from None
        plan = export.preview_plan(steps=imported.steps_json(), options=imported.options)
        for system in plan:
            self.stdout.write(f"{system['label']}:")
            for step in system["steps"]:
                self.stdout.write(f"  - {step['label']} ({step['after']})")
        for option in imported.options:
            self.stdout.write(f"Option: {option['label']} (default {option['default']})")
        for notice in imported.notices:
            self.stderr.write(f"Dropped: {notice}")
        if version is not None:
            self.stdout.write(f"Saved “{version.label}” as kind {version.kind}.")
        else:
            self.stdout.write("Dry run: nothing saved.")

    def _read(self, path: str) -> str:
        if path == "-":
            return sys.stdin.read()
        try:
            return Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc.__class__.__name__}.") from None
