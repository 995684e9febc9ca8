"""A finished request's evidence pack: the printable page and the signed JSON file."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from offboarding import permissions as perms
from offboarding import selectors, services, timeline
from offboarding.exceptions import OffboardingError
from offboarding.signals import client_ip
from offboarding.views.common import get_request_for_user, signed_in_user


def _document(request: HttpRequest, pk: int, form: str) -> dict | None:
    req = get_request_for_user(request.user, pk)
    if not perms.can_download_evidence(request.user, req):
        raise PermissionDenied
    try:
        return services.evidence_pack_download(
            actor=signed_in_user(request), action_request=req, form=form, ip=client_ip(request)
        )
    except OffboardingError as exc:
        messages.error(request, exc.message)
        return None


@require_GET
def request_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    """The pack as a page to read or print (the browser's print makes the PDF)."""
    document = _document(request, pk, "page")
    if document is None:
        return redirect("offboarding:request-detail", pk=pk)
    req = get_request_for_user(request.user, pk)
    context = {
        "pack": document["pack"],
        "signature": document["signature"],
        "pk": pk,
        # Issue 16: the run on one time axis, as on the request page.
        "timeline": timeline.run_timeline(req, selectors.steps_by_system(req)),
    }
    return render(request, "offboarding/evidence.html", context)


@require_GET
def request_evidence_json(request: HttpRequest, pk: int) -> HttpResponse:
    """The pack as a signed JSON file that `manage.py verify_evidence FILE` checks offline."""
    document = _document(request, pk, "json")
    if document is None:
        return redirect("offboarding:request-detail", pk=pk)
    body = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="evidence-request-{pk}.json"'
    response["Cache-Control"] = "no-store"
    return response
