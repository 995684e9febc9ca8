"""Connections to Okta, Google Workspace, Zoom and Microsoft Graph, their clients and the sandbox."""

from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    name = "connections"
    verbose_name = "Connections"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from connections import checks  # noqa: F401 (registers the system checks)
