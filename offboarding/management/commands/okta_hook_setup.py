"""Set up the portal's Okta event hook (issue 14): a random secret if none is set yet, then (with
--register) the hook registered in Okta through the Event Hooks API and verified. Prints the URL."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from offboarding import selectors_hooks
from offboarding.exceptions import OffboardingError
from offboarding.services import hook_admin
from offboarding.services.system_actor import system_actor


class Command(BaseCommand):
    help = "Generate the Okta event hook's secret if missing and (--register) register the hook."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", required=True, help="The portal's URL as Okta reaches it")
        parser.add_argument("--register", action="store_true", help="Register the hook in Okta")

    def handle(self, *args: Any, **options: Any) -> None:
        connection = selectors_hooks.okta_connection()
        if connection is None:
            raise CommandError("Configure the Okta connection first.")
        system_actor()  # its delegation shows on the Policies page, ready to be narrowed
        status = selectors_hooks.event_hook_status(connection)
        if status.hook is None or not status.hook.has_secret:
            hook_admin.event_hook_configure(
                actor=None,
                connection=connection,
                header_name="Authorization",
                secret=hook_admin.new_hook_secret(),
            )
            self.stdout.write("Generated the Okta event hook's secret (stored encrypted).")
        url = selectors_hooks.hook_url(connection, options["base_url"])
        if options["register"]:
            try:
                hook = hook_admin.event_hook_register(
                    actor=None, connection=connection, base_url=options["base_url"]
                )
            except OffboardingError as exc:
                raise CommandError(exc.message) from exc
            state = "verified" if hook.verified_at else "NOT verified"
            self.stdout.write(
                f"Registered the event hook in Okta as {hook.okta_hook_id} ({state})."
            )
        self.stdout.write(f"Okta event hook URL: {url}")
