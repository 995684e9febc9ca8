"""Connection pages for Connection admins: overview, edit, test, enable/disable."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from connections import selectors, services
from connections.exceptions import InvalidSettings
from connections.forms import EnableForm
from connections.models import Connection
from connections.permissions import can_manage_connections
from connections.providers import provider_for
from connections.types import System


def _require_admin(request: HttpRequest) -> None:
    if not can_manage_connections(request.user):
        raise PermissionDenied


def _system_for_user(request: HttpRequest, system: str) -> System:
    _require_admin(request)
    try:
        return System(system)
    except ValueError:
        raise Http404("No such system.") from None


def get_connection_for_user(request: HttpRequest, system: str) -> Connection:
    """The system's connection if the user may manage it (403) and it exists (404)."""
    connection = selectors.connection_get(_system_for_user(request, system))
    if connection is None:
        raise Http404("This system is not configured yet.")
    return connection


@require_http_methods(["GET"])
def connection_list(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    return render(request, "connections/list.html", {"rows": selectors.connection_overview()})


@require_http_methods(["GET", "POST"])
def connection_edit(request: HttpRequest, system: str) -> HttpResponse:
    chosen = _system_for_user(request, system)
    connection = selectors.connection_get(chosen)
    form = provider_for(chosen).form_class(request.POST or None, connection=connection)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.connection_save(
                system=chosen,
                actor=request.user,
                label=form.cleaned_data.get("label") or "",
                settings=form.settings_data(),
                secret=form.secret_data(),
                max_concurrency=form.cleaned_data.get("max_concurrency"),
            )
        except InvalidSettings as exc:
            form.add_service_errors(exc.args[0])
        else:
            if result.changed_fields:
                messages.success(request, f"{chosen.label} connection saved.")
            else:
                messages.info(request, "Nothing changed.")
            return redirect("connections:list")
    context = {"form": form, "system": chosen, "connection": connection}
    return render(request, "connections/edit.html", context)


@require_POST
def connection_test(request: HttpRequest, system: str) -> HttpResponse:
    connection = get_connection_for_user(request, system)
    result = services.connection_test(connection=connection, actor=request.user)
    level = messages.SUCCESS if result.ok else messages.ERROR
    prefix = "Test passed" if result.ok else "Test failed"
    messages.add_message(
        request, level, f"{connection.system_enum.label}: {prefix}. {result.message}"
    )
    return redirect("connections:list")


@require_POST
def connection_enable(request: HttpRequest, system: str) -> HttpResponse:
    connection = get_connection_for_user(request, system)
    form = EnableForm(request.POST)
    enabled = form.is_valid() and form.cleaned_data["enabled"]
    try:
        services.connection_set_enabled(connection=connection, actor=request.user, enabled=enabled)
    except InvalidSettings as exc:
        messages.error(request, "; ".join(exc.args[0].values()))
    else:
        word = "enabled" if enabled else "disabled"
        messages.success(request, f"{connection.system_enum.label} connection {word}.")
    return redirect("connections:list")
