"""Base views: the home page, health check and error pages."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from offboarding import permissions as perms
from portal import health
from portal.dashboard import dashboard_figures, review_alerts


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The dashboard: role tiles and figures; `?part=figures` is the fragment htmx refreshes."""
    user = request.user
    figures = dashboard_figures(user)
    scoped = not perms.sees_every_request(user)
    if request.GET.get("part") == "figures":
        return render(
            request, "_partials/_dashboard_figures.html", {"figures": figures, "scoped": scoped}
        )
    context = {
        "can_search": perms.can_search_users(user),
        "can_approve": perms.can_approve(user),
        "can_audit": perms.can_view_audit(user),
        "can_manage_connections": perms.can_manage_connections(user),
        "has_role": bool(perms.role_names(user)),
        "search_url": reverse("offboarding:search"),
        "figures": figures,
        "scoped": scoped,
        "reviews": review_alerts(user),
        "can_review": perms.can_review_runs(user),
        "can_break_glass": perms.can_break_glass(user),
    }
    return render(request, "portal/home.html", context)


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": health.check_database(), "broker": health.check_broker()}
    if checks["database"] is None:
        checks["workers"] = health.check_workers()
        checks["queue"] = health.check_queue()
    failed = {name: reason for name, reason in checks.items() if reason}
    body = {
        "status": "ok" if not failed else "unavailable",
        "checks": {name: (reason or "ok") for name, reason in checks.items()},
    }
    return JsonResponse(body, status=503 if failed else 200)


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


@login_not_required
def error_500(request: HttpRequest) -> HttpResponse:
    return render(request, "500.html", status=500)


def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    """The last URL pattern (issue 16): any unknown path gets the portal's own 404 page, also
    under DEBUG (`make run`), where Django would show its technical page. Because this pattern
    matches everything, it does CommonMiddleware's APPEND_SLASH itself."""
    if settings.APPEND_SLASH and not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not not_found:
            query = request.META.get("QUERY_STRING", "")
            return redirect(request.path + "/" + (f"?{query}" if query else ""), permanent=True)
    return error_404(request)
