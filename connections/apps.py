"""Connections to the outside systems: credentials, one provider package per system, the sandbox."""

from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    name = "connections"
    verbose_name = "Connections"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from connections import checks  # noqa: F401 (registers the system checks)
