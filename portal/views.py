"""Base views: the home page, health check and error pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from offboarding import permissions as perms
from portal import health


def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    context = {
        "can_search": perms.can_search_users(user),
        "can_approve": perms.can_approve(user),
        "can_audit": perms.can_view_audit(user),
        "can_manage_connections": perms.can_manage_connections(user),
        "has_role": bool(perms.role_names(user)),
    }
    return render(request, "portal/home.html", context)


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": health.check_database(), "broker": health.check_broker()}
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
