"""`{% okta_hook_panel connection %}`: the event hook's status on the Connections page (issue 14).

A template tag, so that the connections app's code never imports offboarding (the layering rule).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from connections.models import Connection
from offboarding import selectors_hooks

register = template.Library()


@register.inclusion_tag("_partials/_okta_hook.html", takes_context=True)
def okta_hook_panel(context: template.Context, connection: Connection) -> dict[str, Any]:
    request = context.get("request")
    base = settings.PORTAL_BASE_URL or (
        request.build_absolute_uri("/").rstrip("/") if request is not None else ""
    )
    return {
        "status": selectors_hooks.event_hook_status(connection),
        "hook_url": selectors_hooks.hook_url(connection, base),
        "csrf_token": context.get("csrf_token"),
    }
