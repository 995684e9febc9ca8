"""The API tokens page for Connection admins: create (the token shown once), revoke, last use."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from offboarding import permissions as perms
from offboarding import selectors_api, services
from offboarding.exceptions import OffboardingError
from offboarding.forms_api import ApiTokenForm
from offboarding.signals import client_ip
from offboarding.views.common import signed_in_user


def _require_admin(request: HttpRequest) -> None:
    if not perms.can_manage_api_tokens(request.user):
        raise PermissionDenied


@never_cache
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The tokens and the form for a new one; after a create, the new token, this once."""
    _require_admin(request)
    form = ApiTokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            token, raw = services.api_token_create(
                actor=signed_in_user(request),
                name=form.cleaned_data["name"],
                team=form.cleaned_data["team"],
                scopes=form.cleaned_data["scopes"],
                expires_at=form.cleaned_data["expires_at"],
                ip=client_ip(request),
            )
        except OffboardingError as exc:
            form.add_error(None, exc.message)
        else:
            created = {"token": token, "raw": raw}
            form = ApiTokenForm()
    now = timezone.now()
    rows = [{"token": t, "state": t.state_at(now)} for t in selectors_api.api_tokens_listed()]
    context = {"form": form, "created": created, "rows": rows}
    return render(request, "offboarding/api_tokens.html", context)


@require_POST
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    if selectors_api.api_token_get(pk) is None:
        raise Http404("No such token.")
    try:
        token = services.api_token_revoke(
            token_id=pk, actor=signed_in_user(request), ip=client_ip(request)
        )
    except OffboardingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Token “{token.name}” revoked: it no longer works.")
    return redirect("offboarding:api-tokens")
