"""Who may manage connections: the same rule as the portal's role predicate."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from connections.permissions import CONNECTION_ADMIN_GROUP, can_manage_connections
from offboarding import permissions as portal_permissions
from offboarding.roles import Role

pytestmark = pytest.mark.django_db


def test_the_group_is_the_connection_admin_role():
    assert CONNECTION_ADMIN_GROUP == Role.CONNECTION_ADMIN


def test_only_active_connection_admins_may_manage(
    connection_admin, helpdesk, approver, auditor, outsider
):
    assert can_manage_connections(connection_admin)
    for user in (helpdesk, approver, auditor, outsider):
        assert not can_manage_connections(user)
    connection_admin.is_active = False
    assert not can_manage_connections(connection_admin)
    assert not can_manage_connections(AnonymousUser())


def test_agrees_with_the_portal_predicate(connection_admin, helpdesk, approver, auditor, outsider):
    for user in (connection_admin, helpdesk, approver, auditor, outsider):
        assert can_manage_connections(user) == portal_permissions.can_manage_connections(user)
