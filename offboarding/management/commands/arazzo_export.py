"""Print a playbook, or one request's plan, as an Arazzo 1.0 document (JSON, or YAML)."""

from __future__ import annotations

import json
from typing import Any

import yaml
from django.core.management.base import BaseCommand, CommandError

from offboarding import playbooks, services
from offboarding.arazzo import export
from offboarding.arazzo.validation import schema_errors
from offboarding.exceptions import OffboardingError
from offboarding.models import ActionRequest

LABEL = "manage.py arazzo_export"


class Command(BaseCommand):
    help = (
        "Print a playbook as an Arazzo 1.0 document: a built-in kind (reset_sessions, offboard, "
        "reinstate) with its default options, or a custom playbook version's kind (pb_…); "
        "--request ID prints that request's concrete plan instead. Audited."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("kind", nargs="?", help="e.g. offboard")
        parser.add_argument("--request", type=int, help="A request's id: its plan and options.")
        parser.add_argument("--systems", help="Comma-separated, e.g. okta,google (default: all).")
        parser.add_argument("--yaml", action="store_true", help="YAML instead of JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            document = self._document(options)
        except OffboardingError as exc:
            raise CommandError(exc.message) from None
        errors = schema_errors(document)
        if errors:  # a defect, never expected: refuse to print an invalid document
            raise CommandError("The export is not valid Arazzo 1.0: " + "; ".join(errors[:3]))
        if options["yaml"]:
            self.stdout.write(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
        else:
            self.stdout.write(json.dumps(document, indent=2, ensure_ascii=False))

    def _document(self, options: dict[str, Any]) -> dict[str, Any]:
        if options.get("request"):
            req = ActionRequest.objects.filter(pk=options["request"]).first()
            if req is None:
                raise CommandError(f"No request #{options['request']}.")
            services.playbook_export_record(
                actor=None, kind=req.kind, action_request=req, actor_label=LABEL
            )
            return export.request_document(
                kind=req.kind,
                systems=req.systems,
                options=req.options,
                request_id=req.pk,
                label=req.get_kind_display(),
            )
        kind = options.get("kind") or ""
        if not playbooks.is_kind(kind):
            known = ", ".join(playbooks.PLAYBOOKS)
            raise CommandError(f"No playbook “{kind}”: give one of {known}, or a custom pb_… kind.")
        systems = [s for s in (options.get("systems") or "").split(",") if s.strip()] or None
        services.playbook_export_record(actor=None, kind=kind, actor_label=LABEL)
        return export.playbook_document(kind, systems=systems)
