"""Re-encrypt every connection secret under the first key of PORTAL_ENCRYPTION_KEYS."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from connections import services
from connections.exceptions import SecretUnavailable


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored connection secret under the first key in PORTAL_ENCRYPTION_KEYS. "
        "Put the new key first, keep the old ones after it, run this, then drop the old keys."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            count = services.connection_rotate_keys()
        except SecretUnavailable as exc:
            raise CommandError(f"Nothing was changed. {exc}") from None
        self.stdout.write(
            self.style.SUCCESS(f"Re-encrypted {count} secret(s) under the first key.")
        )
