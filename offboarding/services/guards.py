"""The check every service that acts makes first, whatever page or command called it."""

from __future__ import annotations

from django.contrib.auth.models import User

from offboarding import permissions
from offboarding.exceptions import MfaRequired


def ensure_mfa(actor: User) -> None:
    """Raises MfaRequired when PORTAL_REQUIRE_MFA_FOR names one of the actor's roles and the actor
    has not enrolled an authenticator app."""
    if not permissions.mfa_satisfied(actor):
        raise MfaRequired(permissions.mfa_roles_of(actor))
