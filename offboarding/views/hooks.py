"""The endpoint Okta calls for event hooks (issue 14): `GET|POST /hooks/okta/<connection>/`.

Authenticated by the header and secret configured on the hook (nothing else reaches the body:
401, nothing stored), sized (413 over 1 MB), validated (400 with a reason) and stored; the
handling runs in a task, so Okta's 3-second limit is never at risk. Never a 500 for bad input.
"""

from __future__ import annotations

import json
from uuid import UUID

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from offboarding.exceptions import InvalidRequest
from offboarding.selectors_hooks import event_hook_for_connection
from offboarding.services.hooks import (
    MAX_BODY_BYTES,
    HookUnauthorized,
    hook_authenticate,
    hook_delivery_receive,
    hook_verify,
)

CHALLENGE_HEADER = "X-Okta-Verification-Challenge"


def _error(status: int, words: str) -> JsonResponse:
    return JsonResponse({"error": words}, status=status)


def _too_big(request: HttpRequest) -> bool:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    return declared > MAX_BODY_BYTES


@csrf_exempt
@login_not_required
@require_http_methods(["GET", "POST"])
def okta_event_hook(request: HttpRequest, connection_id: UUID) -> HttpResponse:
    hook = event_hook_for_connection(connection_id)
    if hook is None:
        return _error(404, "No event hook is configured for this connection.")
    try:
        hook_authenticate(hook=hook, headers=request.headers)
    except HookUnauthorized:
        return _error(401, "Missing or wrong authorization header.")
    if request.method == "GET":
        try:
            return JsonResponse(
                hook_verify(hook=hook, challenge=request.headers.get(CHALLENGE_HEADER, ""))
            )
        except InvalidRequest as exc:
            return _error(400, exc.message)
    if _too_big(request) or len(request.body) > MAX_BODY_BYTES:
        return _error(413, f"The body is larger than {MAX_BODY_BYTES} bytes.")
    if request.content_type != "application/json":
        return _error(400, "The body must be JSON (Content-Type: application/json).")
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _error(400, "The body is not valid JSON.")
    try:
        hook_delivery_receive(hook=hook, body=body)
    except InvalidRequest as exc:
        return _error(400, exc.message)
    return HttpResponse(status=204)
