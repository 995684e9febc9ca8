"""Domain errors of the offboarding app, all under one base class, each with a message in words."""

from __future__ import annotations


class OffboardingError(Exception):
    """Base class: `message` is safe to show to the person who tried the action."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAllowed(OffboardingError):
    """The actor may not do this (role, delegation scope, four-eyes)."""


class InvalidTransition(OffboardingError):
    """The request or step is not in a state where this action applies."""


class IllegalTransition(InvalidTransition):
    """The lifecycle table forbids this move at all (a defect in the caller, not a race)."""


class OutOfScope(NotAllowed):
    """The target is outside every delegation scope the actor has."""


class ProtectedTarget(NotAllowed):
    """The target is a member of a protected Okta group."""


class StaleApproval(OffboardingError):
    """What the approver saw is no longer what the request says."""


class TargetLookupFailed(OffboardingError):
    """Okta could not be read to check the target; try again later."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class InvalidPlaybook(OffboardingError):
    """The systems or options chosen do not make a valid plan."""


class InvalidRequest(OffboardingError):
    """The request as filled in cannot be accepted (missing reason, bad schedule, ...)."""


class DuplicateRequest(InvalidRequest):
    """An open request for the same action and person exists already (`existing_id`)."""

    def __init__(self, message: str, *, existing_id: int) -> None:
        super().__init__(message)
        self.existing_id = existing_id


class MfaRequired(NotAllowed):
    """The actor holds a role that must use two-factor authentication and has not enrolled yet."""

    def __init__(self, roles: list[str]) -> None:
        super().__init__(
            f"Your role ({', '.join(roles)}) must use two-factor authentication: set up an "
            "authenticator app under Security before you request, approve or change anything."
        )
        self.roles = roles
