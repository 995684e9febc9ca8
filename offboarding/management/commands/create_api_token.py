"""Make an API token for an integration and print it once (only its hash is kept)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from offboarding import services
from offboarding.exceptions import OffboardingError
from offboarding.models import ApiToken


def _expiry(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise CommandError(
            f"--expires must be an ISO 8601 time with a zone, not {raw!r}."
        ) from None


class Command(BaseCommand):
    help = (
        "Create an API token tied to a delegation's team and scopes; prints the token once. "
        f"Scopes: {', '.join(ApiToken.Scope.values)}."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--name", required=True, help="e.g. hr-system (unique).")
        parser.add_argument("--team", required=True, help="The delegation team's group name.")
        parser.add_argument(
            "--scopes", required=True, help="Comma-separated, e.g. people:read,requests:create."
        )
        parser.add_argument("--expires", help="Optional, e.g. 2027-06-30T23:59:00+00:00.")

    def handle(self, *args: Any, **options: Any) -> None:
        team = Group.objects.filter(name=options["team"]).first()
        if team is None:
            raise CommandError(f"No team (group) named {options['team']!r}.")
        try:
            token, raw = services.api_token_create(
                actor=None,
                actor_label="manage.py create_api_token",
                name=options["name"],
                team=team,
                scopes=options["scopes"],
                expires_at=_expiry(options.get("expires")),
            )
        except OffboardingError as exc:
            raise CommandError(exc.message) from None
        self.stderr.write(
            f"Token “{token.name}” for team “{team.name}” with {', '.join(token.scopes)}. "
            "It is shown once, now: keep it in your integration's secret store."
        )
        self.stdout.write(raw)
