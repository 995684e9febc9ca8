"""Playbooks as Arazzo documents (issue 17): the playbooks page, downloads, and the import that
shows the plan in words before it is saved."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from offboarding import permissions as perms
from offboarding import playbooks, selectors_playbooks, services
from offboarding.arazzo import export
from offboarding.arazzo.importer import import_document
from offboarding.exceptions import OffboardingError
from offboarding.forms_arazzo import PlaybookImportForm
from offboarding.signals import client_ip
from offboarding.views.common import get_request_for_user, signed_in_user


def _download(document: dict[str, Any], filename: str) -> HttpResponse:
    body = json.dumps(document, indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def playbook_list(request: HttpRequest) -> HttpResponse:
    """Every playbook with its plan in words and a download; the import form for admins."""
    if not perms.can_export_playbooks(request.user):
        raise PermissionDenied
    built_in = [
        {
            "kind": p.kind,
            "label": p.label,
            # Every step it may run: the request form's options switch the optional ones off.
            "plan": playbooks.render_plan(
                playbooks.build_steps(
                    p.kind,
                    systems=playbooks.ALL_SYSTEMS,
                    options={o.key: True for o in p.options},
                )
            ),
        }
        for p in playbooks.PLAYBOOKS.values()
    ]
    context = {
        "built_in": built_in,
        "custom": _custom_rows(),
        "can_import": perms.can_import_playbooks(request.user),
        "form": PlaybookImportForm(),
    }
    return render(request, "offboarding/playbooks.html", context)


def _custom_rows() -> list[dict[str, Any]]:
    rows = []
    for playbook in selectors_playbooks.custom_playbook_list():
        versions = sorted(playbook.versions.all(), key=lambda v: -v.number)
        latest = versions[0] if versions else None
        plan = export.preview_plan(steps=latest.steps, options=latest.options) if latest else []
        rows.append({"playbook": playbook, "versions": versions, "latest": latest, "plan": plan})
    return rows


@require_GET
def playbook_download(request: HttpRequest, kind: str) -> HttpResponse:
    """A playbook (built-in with its default options, or a custom version) as Arazzo JSON."""
    if not playbooks.is_kind(kind):
        raise Http404("No such playbook.")
    try:
        services.playbook_export_record(
            actor=signed_in_user(request), kind=kind, ip=client_ip(request)
        )
    except OffboardingError as exc:
        raise PermissionDenied(exc.message) from None
    return _download(export.playbook_document(kind), f"playbook-{kind}.arazzo.json")


@require_GET
def request_arazzo(request: HttpRequest, pk: int) -> HttpResponse:
    """One request's concrete plan (its systems and options) as Arazzo JSON."""
    req = get_request_for_user(request.user, pk)
    try:
        services.playbook_export_record(
            actor=signed_in_user(request),
            kind=req.kind,
            action_request=req,
            ip=client_ip(request),
        )
        document = export.request_document(
            kind=req.kind,
            systems=req.systems,
            options=req.options,
            request_id=req.pk,
            label=req.get_kind_display(),
        )
    except OffboardingError as exc:
        messages.error(request, exc.message)
        return redirect("offboarding:request-detail", pk=pk)
    return _download(document, f"request-{pk}.arazzo.json")


@require_http_methods(["GET", "POST"])
def playbook_import(request: HttpRequest) -> HttpResponse:
    """First the plan in words and what was dropped; saved only when the admin confirms."""
    if not perms.can_import_playbooks(request.user):
        raise PermissionDenied
    form = PlaybookImportForm(request.POST or None, request.FILES or None)
    preview: dict[str, Any] | None = None
    if request.method == "POST" and form.is_valid():
        text, name = form.cleaned_data["document"], form.cleaned_data["name"]
        try:
            if request.POST.get("confirm") == "save":
                version = services.custom_playbook_import(
                    actor=signed_in_user(request),
                    name=name,
                    text=text,
                    dropped_before=form.dropped_notices(),
                    ip=client_ip(request),
                )
                messages.success(request, f"Saved “{version.label}”: delegations may offer it.")
                return redirect("offboarding:playbooks")
            imported = import_document(text)
            preview = {
                "title": imported.title,
                "plan": export.preview_plan(steps=imported.steps_json(), options=imported.options),
                "options": imported.options,
                "notices": imported.notices,
                # What the save sends back: the document without its credentials.
                "text": json.dumps(imported.document, indent=2, ensure_ascii=False),
                "name": name,
            }
        except OffboardingError as exc:
            form.add_error(None, exc.message)
    status = 400 if request.method == "POST" and form.errors else 200
    context = {"form": form, "preview": preview}
    return render(request, "offboarding/playbook_import.html", context, status=status)
