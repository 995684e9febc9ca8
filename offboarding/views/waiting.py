"""While a request waits for approval (issue 16): the requester reminds the approvers."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from offboarding import permissions as perms
from offboarding import services
from offboarding.exceptions import OffboardingError
from offboarding.signals import client_ip
from offboarding.views.common import get_request_for_user, signed_in_user


@require_POST
def request_remind(request: HttpRequest, pk: int) -> HttpResponse:
    req = get_request_for_user(request.user, pk)
    if not perms.can_remind_approvers(request.user, req):
        raise PermissionDenied
    try:
        count = services.approvers_remind(
            action_request_id=pk, actor=signed_in_user(request), ip=client_ip(request)
        )
    except OffboardingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{count} approver{'s' if count != 1 else ''} reminded by email.")
    return redirect("offboarding:request-detail", pk=pk)
