"""The Okta group picker on the policy pages (issue 16): find a group by name, not by raw id."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from offboarding import permissions as perms
from offboarding import services

MIN_LETTERS = 2


@require_GET
def okta_groups(request: HttpRequest) -> HttpResponse:
    """Type-ahead results: Okta groups whose name starts with `q`; `mode` says what a pick does
    (`protect`: a Protect button; `add`: add the id to the delegation's list)."""
    if not perms.can_manage_delegations(request.user):
        raise PermissionDenied
    query = " ".join(request.GET.get("q", "").split())[:100]
    mode = "add" if request.GET.get("mode") == "add" else "protect"
    found = services.okta_group_search(name=query) if len(query) >= MIN_LETTERS else None
    groups, error = (found.groups, found.error) if found else ([], "")
    context = {"groups": groups, "error": error, "query": query, "mode": mode, "min": MIN_LETTERS}
    return render(request, "_partials/_group_picker_results.html", context)
