"""Reads for custom playbooks (issue 17): the versions, and the actions forms offer."""

from __future__ import annotations

from django.db.models import Max, QuerySet

from offboarding.models import ActionRequest, CustomPlaybook, CustomPlaybookVersion


def custom_playbook_list() -> QuerySet[CustomPlaybook]:
    return CustomPlaybook.objects.prefetch_related("versions").order_by("name")


def custom_playbook_latest_versions() -> list[CustomPlaybookVersion]:
    """The newest version of each custom playbook: what a new request or delegation may pick."""
    newest = CustomPlaybook.objects.annotate(top=Max("versions__number")).values_list("pk", "top")
    wanted = {pk: top for pk, top in newest if top is not None}
    versions = CustomPlaybookVersion.objects.select_related("playbook").filter(
        playbook_id__in=wanted
    )
    return sorted((v for v in versions if wanted[v.playbook_id] == v.number), key=lambda v: v.label)


def custom_playbook_version_by_kind(kind: str) -> CustomPlaybookVersion | None:
    return CustomPlaybookVersion.objects.select_related("playbook").filter(kind=kind).first()


def request_kind_choices() -> list[tuple[str, str]]:
    """The built-in actions, then the newest version of each custom playbook."""
    custom = [(v.kind, v.label) for v in custom_playbook_latest_versions()]
    return [*((str(k), str(label)) for k, label in ActionRequest.Kind.choices), *custom]


def delegation_kind_choices(also: list[str] | None = None) -> list[tuple[str, str]]:
    """What a delegation may offer: the request choices, plus any older versions it has."""
    choices = request_kind_choices()
    known = {k for k, _ in choices}
    older = [k for k in also or [] if k not in known]
    for version in CustomPlaybookVersion.objects.select_related("playbook").filter(kind__in=older):
        choices.append((version.kind, version.label))
    return choices
