"""A playbook, or one request's concrete plan, as an Arazzo 1.0 document.

One workflow per system (its steps in the playbook's order: the lock step, then the revoke
steps), a workflow for the steps that wait for every other one (Okta deactivate) that
`dependsOn` the system workflows, and a parent workflow that runs them all. Each step names the
official `operationId`, takes the person's id from a workflow input and accepts, in its
`successCriteria`, the "already done" answers the portal treats as success.

Nothing here reads a connection: authentication is left to whoever runs the document, so no
secret can appear in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connections.types import System
from offboarding import playbooks
from offboarding.arazzo.operations import PERSON, SOURCES, ApiOperation, for_step
from offboarding.playbooks import PlannedStep

ARAZZO_VERSION = "1.0.1"
LAST = "last"  # suffix of the workflow of the steps that wait for every other one


def _step_id(step: PlannedStep) -> str:
    return f"{step.system}-{step.operation}".replace("_", "-")


def _value(value: Any, person: str) -> Any:
    if value == PERSON:
        return f"$inputs.{person}"
    if isinstance(value, dict):
        return {k: _value(v, person) for k, v in value.items()}
    return value


def _parameters(api: ApiOperation, step: PlannedStep, person: str) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    if api.person_param:
        params.append({"name": api.person_param, "in": "path", "value": f"$inputs.{person}"})
    for name, where, value in api.fixed_params:
        params.append({"name": name, "in": where, "value": value})
    for name, option, _default in api.option_params:
        if option in step.options:
            params.append({"name": name, "in": "query", "value": bool(step.options[option])})
    return params


def _arazzo_step(step: PlannedStep) -> dict[str, Any]:
    api = for_step(step.system, step.operation, step.options)
    person = SOURCES[step.system].person_input
    description = step.label + "." + (f" {api.note}" if api.note else "")
    item: dict[str, Any] = {
        "stepId": _step_id(step),
        "description": description,
        "operationId": f"$sourceDescriptions.{SOURCES[step.system].name}.{api.operation_id}",
        "parameters": _parameters(api, step, person),
        "successCriteria": [{"condition": api.success}],
    }
    if api.payload is not None:
        item["requestBody"] = {
            "contentType": "application/json",
            "payload": _value(api.payload, person),
        }
    return item


def _inputs(systems: Sequence[str]) -> dict[str, Any]:
    names = [SOURCES[s].person_input for s in systems]
    return {
        "type": "object",
        "required": names,
        "properties": {
            SOURCES[s].person_input: {"type": "string", "description": SOURCES[s].person_words}
            for s in systems
        },
    }


def _workflow(workflow_id: str, steps: Sequence[PlannedStep], summary: str) -> dict[str, Any]:
    return {
        "workflowId": workflow_id,
        "summary": summary,
        "inputs": _inputs(list(dict.fromkeys(s.system for s in steps))),
        "steps": [_arazzo_step(s) for s in steps],
    }


def plan_document(
    steps: Sequence[PlannedStep], *, kind: str, title: str, description: str = ""
) -> dict[str, Any]:
    """The Arazzo document for these planned steps (a playbook's, or one request's)."""
    systems = list(dict.fromkeys(s.system for s in steps))
    workflows: list[dict[str, Any]] = []
    for system in systems:
        own = [s for s in steps if s.system == system and not s.after_all]
        if own:
            words = f"{System(system).label}: " + ", then ".join(s.label for s in own[:1])
            if len(own) > 1:
                words += ", then " + "; ".join(s.label for s in own[1:])
            workflows.append(_workflow(f"{kind}-{system}", own, words))
    first_ids = [w["workflowId"] for w in workflows]
    for system in systems:
        last = [s for s in steps if s.system == system and s.after_all]
        if last:
            workflow = _workflow(
                f"{kind}-{system}-{LAST}",
                last,
                "After every other step succeeded: " + "; ".join(s.label for s in last),
            )
            workflow["dependsOn"] = list(first_ids)
            workflows.append(workflow)
    parent = {
        "workflowId": kind,
        "summary": title,
        "description": "Runs the system workflows; the order between them is their dependsOn.",
        "inputs": _inputs(systems),
        "steps": [_parent_step(w) for w in workflows],
    }
    return {
        "arazzo": ARAZZO_VERSION,
        "info": {
            "title": title,
            "summary": f"The portal's {title.lower()} as the calls it makes.",
            "description": description
            or "Exported by the identity-security portal. Authentication is left to the "
            "runner that executes it: no credential appears here.",
            "version": "1.0.0",
        },
        "sourceDescriptions": [
            {"name": SOURCES[s].name, "url": SOURCES[s].url, "type": "openapi"} for s in systems
        ],
        "workflows": [parent, *workflows],
    }


def _parent_step(workflow: dict[str, Any]) -> dict[str, Any]:
    names = list(workflow["inputs"]["properties"])
    return {
        "stepId": f"run-{workflow['workflowId']}",
        "workflowId": workflow["workflowId"],
        "parameters": [{"name": n, "value": f"$inputs.{n}"} for n in names],
    }


def playbook_document(kind: str, *, systems: Sequence[str] | None = None) -> dict[str, Any]:
    """A playbook with its default options, for every system (or the ones given)."""
    playbook = playbooks.get_playbook(kind)
    steps = playbooks.build_steps(
        kind, systems=systems or playbooks.ALL_SYSTEMS, options=playbook.option_defaults()
    )
    chosen = [o.label for o in playbook.options if o.default]
    words = (
        f"The portal's {playbook.label.lower()} playbook with its default options"
        + (f" ({'; '.join(chosen)})" if chosen else "")
        + ". Authentication is left to the runner that executes it: no credential appears here."
    )
    return plan_document(steps, kind=kind, title=playbook.label, description=words)


def request_document(
    *, kind: str, systems: Sequence[str], options: dict[str, Any], request_id: int, label: str
) -> dict[str, Any]:
    """One request's concrete plan: its systems and the options it was asked with."""
    steps = playbooks.build_steps(kind, systems=systems, options=options)
    chosen = ", ".join(f"{k}={'yes' if v else 'no'}" for k, v in sorted(options.items()))
    words = (
        f"The plan of request #{request_id} ({label.lower()}), with its options"
        + (f" ({chosen})" if chosen else "")
        + ". Authentication is left to the runner that executes it: no credential appears here."
    )
    return plan_document(
        steps, kind=kind, title=f"{label} (request #{request_id})", description=words
    )


def preview_plan(
    *, steps: list[dict[str, Any]], options: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """An import's plan in words, before it is saved (every system, default options)."""
    from offboarding.arazzo.registry import playbook_from

    playbook = playbook_from(kind="preview", label="Preview", steps=steps, options=options)
    systems = list(dict.fromkeys(s["system"] for s in steps))
    planned = playbooks.plan_steps(playbook, systems=systems, options=None)
    return playbooks.render_plan(planned)
