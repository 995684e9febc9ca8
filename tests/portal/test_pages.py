"""The base layout: role navigation, health check, error pages and headers."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.urls import NoReverseMatch, reverse

from offboarding import permissions as perms
from offboarding.runner import heartbeat
from portal import health
from portal.navigation import NAV_ITEMS

pytestmark = pytest.mark.django_db


def _nav_labels(html: str) -> set[str]:
    nav = html.split('<nav class="site-nav"', 1)[1].split("</nav>", 1)[0]
    return {label for item in NAV_ITEMS if (label := item.label) and f">{label}</a>" in nav}


def _expected(user) -> set[str]:
    labels = set()
    for item in NAV_ITEMS:
        try:
            reverse(item.url_name)
        except NoReverseMatch:
            continue
        if item.allowed(user):
            labels.add(item.label)
    return labels


@pytest.mark.parametrize("who", ["helpdesk", "approver", "auditor", "connection_admin", "outsider"])
def test_navigation_shows_only_what_the_role_may_use(client, request, who):
    user = request.getfixturevalue(who)
    client.force_login(user)
    html = client.get("/").content.decode()
    assert _nav_labels(html) == _expected(user)
    assert "Dashboard" in _nav_labels(html)
    if not perms.can_manage_connections(user):
        assert ">Connections</a>" not in html
    if not perms.can_view_audit(user):
        assert ">Audit</a>" not in html
    if not perms.can_approve(user):
        assert ">Approvals</a>" not in html


def test_header_names_the_user_and_role(client, approver):
    client.force_login(approver)
    html = client.get("/").content.decode()
    assert 'data-testid="role">Approver<' in html
    assert "Sign out" in html


def test_user_without_a_role_is_told_so(client, outsider):
    client.force_login(outsider)
    assert b"You have no role yet" in client.get("/").content


def test_superuser_sees_django_admin(client, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@portal.test", "x" * 20)
    client.force_login(root)
    assert b">Django admin</a>" in client.get("/").content


def test_healthz_is_public_and_reports_each_part(client):
    heartbeat.worker_beat()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok", "workers": "ok", "queue": "ok"},
    }


def test_healthz_names_the_database_when_it_is_down(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        from django.db import OperationalError

        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"].startswith("database unreachable")


def test_healthz_names_the_broker_when_it_is_down(client, monkeypatch):
    monkeypatch.setattr(health, "check_broker", lambda: "task broker unreachable (ConnectionError)")
    heartbeat.worker_beat()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "ok",
        "broker": "task broker unreachable (ConnectionError)",
        "workers": "ok",
        "queue": "ok",
    }


def test_unknown_page_uses_the_portal_404(client, helpdesk):
    client.force_login(helpdesk)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"Not found" in response.content and b"site-header" in response.content


def test_security_headers_are_set(client):
    response = client.get("/accounts/login/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_pages_load_nothing_from_other_origins(client, helpdesk):
    client.force_login(helpdesk)
    html = client.get("/").content.decode()
    links = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert links and all(link.startswith(("/", "#")) for link in links), links
    assert "/static/django_htmx/htmx" in html and "/static/portal/portal.css" in html


def test_a_forged_forwarded_for_header_does_not_change_the_recorded_address(rf, settings):
    from offboarding.signals import client_ip

    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6", REMOTE_ADDR="10.0.0.5")
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.5"
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9", REMOTE_ADDR="10.0.0.5")
    assert client_ip(request) == "203.0.113.9"
