"""Bulk pages: upload and preview, submit, the batch's decision, live progress, retry, export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from offboarding import bulk_csv, selectors_bulk
from offboarding import permissions as perms
from offboarding.exceptions import OffboardingError
from offboarding.exports import csv_safe
from offboarding.forms import BulkForm, DecisionForm
from offboarding.models import Batch, BatchRow
from offboarding.services import bulk, bulk_decide, export_record
from offboarding.signals import client_ip
from offboarding.views.common import recent_sign_in_required, signed_in_user


def _read_upload(form: BulkForm) -> tuple[bytes | None, str]:
    upload = form.cleaned_data.get("file")
    if not upload:
        return None, ""
    if upload.size and upload.size > bulk_csv.MAX_BYTES:
        raise OffboardingError(
            f"The file is {upload.size / 1_048_576:.1f} MB; the limit is "
            f"{bulk_csv.MAX_BYTES // 1_048_576} MB. Split it into several batches."
        )
    return upload.read(bulk_csv.MAX_BYTES + 1), str(upload.name or "")


@require_http_methods(["GET", "POST"])
def bulk_new(request: HttpRequest) -> HttpResponse:
    if not perms.can_request(request.user):
        raise PermissionDenied
    form = BulkForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            data, name = _read_upload(form)
            batch = bulk.batch_preview(
                requester=signed_in_user(request),
                choice=bulk.BulkChoice(
                    kind=form.cleaned_data["kind"],
                    systems=form.cleaned_data["systems"],
                    reason=form.cleaned_data["reason"],
                    ticket=form.cleaned_data["ticket"],
                ),
                data=data,
                filename=name,
                group_id=form.cleaned_data["group_id"],
                ip=client_ip(request),
            )
        except OffboardingError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("offboarding:bulk-detail", pk=batch.pk)
    context = {"form": form, "batches": selectors_bulk.batches_of(request.user)}
    status = 400 if request.method == "POST" else 200
    return render(request, "offboarding/bulk/new.html", context, status=status)


def _live_context(request: HttpRequest, batch: Batch) -> dict[str, Any]:
    progress = selectors_bulk.batch_progress(batch)
    failed = progress.requests.get("failed", 0) + progress.requests.get("partially_failed", 0)
    return {
        "batch": batch,
        "progress": progress,
        "labels": selectors_bulk.BUCKET_LABELS,
        "poll": batch.state == Batch.State.APPROVED and not progress.done,
        "can_retry": failed > 0 and progress.done and perms.can_retry_batch(request.user, batch),
    }


@require_GET
def bulk_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors_bulk.batch_for_user(request.user, pk)
    pending = batch.state == Batch.State.PENDING_APPROVAL
    context = {
        "batch": batch,
        "rows": selectors_bulk.batch_rows(batch),
        "verdicts": [(v, label, batch.counts.get(v, 0)) for v, label in BatchRow.Verdict.choices],
        "decisions": list(batch.decisions.select_related("approver")),
        "can_submit": batch.state == Batch.State.DRAFT
        and batch.requester_id == request.user.pk
        and batch.valid_count > 0,
        "can_decide": pending and perms.can_decide_batch(request.user, batch),
        "own_pending": pending and batch.requester_id == request.user.pk,
        "decision_form": DecisionForm(initial={"fingerprint": batch.fingerprint}),
        "spacing": bulk_decide.release_spacing(),
    }
    if batch.state == Batch.State.APPROVED:
        context.update(_live_context(request, batch))
    return render(request, "offboarding/bulk/detail.html", context)


@require_GET
def bulk_live(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress fragment; HTTP 286 tells htmx to stop polling once the batch is done
    (every row released, every step and request ended)."""
    batch = selectors_bulk.batch_for_user(request.user, pk)
    context = _live_context(request, batch)
    response = render(request, "offboarding/bulk/_progress.html", context)
    if not context["poll"]:
        response.status_code = 286
    return response


@require_POST
def bulk_submit(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors_bulk.batch_for_user(request.user, pk)
    try:
        bulk.batch_submit(batch_id=batch.pk, actor=signed_in_user(request), ip=client_ip(request))
    except OffboardingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Batch #{pk} sent to the approvers.")
    return redirect("offboarding:bulk-detail", pk=pk)


def _decide(request: HttpRequest, pk: int, *, approve: bool) -> HttpResponse:
    batch = selectors_bulk.batch_for_user(request.user, pk)
    if not perms.can_decide_batch(request.user, batch):
        raise PermissionDenied
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The form was incomplete; open the batch again.")
        return redirect("offboarding:bulk-detail", pk=pk)
    user, ip, comment = signed_in_user(request), client_ip(request), form.cleaned_data["comment"]
    try:
        if approve:
            batch = bulk_decide.batch_approve(
                batch_id=pk,
                approver=user,
                fingerprint=form.cleaned_data["fingerprint"],
                comment=comment,
                ip=ip,
            )
        else:
            batch = bulk_decide.batch_reject(batch_id=pk, approver=user, comment=comment, ip=ip)
    except OffboardingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Batch #{pk} is now {batch.get_state_display().lower()}.")
    return redirect("offboarding:bulk-detail", pk=pk)


@require_POST
@recent_sign_in_required
def bulk_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, approve=True)


@require_POST
def bulk_reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, approve=False)


@require_POST
def bulk_retry(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors_bulk.batch_for_user(request.user, pk)
    if not perms.can_retry_batch(request.user, batch):
        raise PermissionDenied
    try:
        retried, refusals = bulk_decide.batch_retry_failed(
            batch_id=pk, actor=signed_in_user(request), ip=client_ip(request)
        )
    except OffboardingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{retried} failed system{'s' if retried != 1 else ''} retried.")
        for refusal in refusals[:5]:
            messages.warning(request, refusal)
    return redirect("offboarding:bulk-detail", pk=pk)


EXPORT_COLUMNS = ("line", "identity", "verdict", "detail", "okta_id", "login", "request", "state")


def _export_lines(batch: Batch) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for row in selectors_bulk.batch_export_rows(batch).iterator(chunk_size=1000):
        req = row.action_request
        cells = [row.line, row.identity, row.verdict, row.detail, row.okta_id, row.login]
        cells += [req.pk if req else "", req.state if req else ""]
        writer.writerow([csv_safe(c) for c in cells])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


@require_GET
def bulk_export(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    batch = selectors_bulk.batch_for_user(request.user, pk)
    export_record(
        actor=signed_in_user(request),
        what="batch",
        fmt="csv",
        filters={"batch": str(batch.pk)},
        rows=int(batch.counts.get("total", 0)),
        ip=client_ip(request),
    )
    response = StreamingHttpResponse(_export_lines(batch), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="batch-{batch.pk}.csv"'
    return response
