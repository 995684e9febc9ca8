"""An Arazzo document → the steps of a custom playbook, or a refusal naming the step.

Which workflows: the first one no other workflow calls (a `workflowId` step), with every
workflow it calls or depends on. Order, as the portal runs it: within a workflow a step waits for
the last state-changing step before it (lock, unlock, deactivate), or, before any, for the step
just before it, so the revokes behind a lock run side by side; a workflow's first steps wait for
every step of the workflows it `dependsOn`; a one-step workflow that depends on all the others
runs after every other step succeeded (Okta deactivate). A read of the person (the export's
read-back) becomes that system's read-back, after its other steps; a second one is folded into it.
Exporting a playbook and importing it again gives the same plan.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from connections.providers import provider_for
from offboarding import playbooks
from offboarding.arazzo import reading
from offboarding.arazzo.operations import ApiOperation, candidates, for_step
from offboarding.exceptions import InvalidPlaybook

STATE_CHANGING = (
    playbooks.LOCKING_OPERATIONS
    | playbooks.UNLOCKING_OPERATIONS
    | playbooks.DEACTIVATING_OPERATIONS
)

# Names a document may give the path parameter that carries the person's id (the seed calls
# Okta's `id` `userId`, as Okta's own sessions call does).
PERSON_PARAMS = ("id", "userId", "userKey", "user-id", "user_id", "userPrincipalName")


@dataclass
class ImportedStep:
    step_id: str
    workflow_id: str
    system: str
    operation: str
    depends_on: list[str] = field(default_factory=list)
    option_map: list[list[str]] = field(default_factory=list)  # [connector option, option]
    fixed_options: list[list[Any]] = field(default_factory=list)  # [connector option, value]
    after_all: bool = False
    after_system: bool = False  # the system's read-back: after its other steps

    @property
    def key(self) -> str:
        return f"{self.system}.{self.operation}"


@dataclass
class ImportedPlaybook:
    title: str
    steps: list[ImportedStep]
    options: list[dict[str, Any]]  # key, label, default, system
    notices: list[str]
    document: dict[str, Any]  # as imported, credential inputs and parameters removed

    def steps_json(self) -> list[dict[str, Any]]:
        return [asdict(s) for s in self.steps]


def _workflow_order(document: dict[str, Any]) -> list[str]:
    """The root workflow and those it calls or depends on, refusing unknown ids and cycles."""
    workflows = {w["workflowId"]: w for w in document["workflows"]}
    called = {s["workflowId"] for w in workflows.values() for s in w["steps"] if "workflowId" in s}
    roots = [w for w in workflows if w not in called]
    if not roots:
        raise InvalidPlaybook("The workflows call each other in a cycle: there is no first one.")
    order: list[str] = []

    def visit(wid: str, path: tuple[str, ...], by: str) -> None:
        if wid in path:
            raise InvalidPlaybook(f"The workflows have a cycle: {' → '.join((*path, wid))}.")
        if wid not in workflows:
            raise InvalidPlaybook(f"{by} names workflow “{wid}”, which the document lacks.")
        workflow = workflows[wid]
        for dep in workflow.get("dependsOn") or []:
            visit(str(dep), (*path, wid), f"Workflow “{wid}”")
        for step in workflow["steps"]:
            if "workflowId" in step:
                visit(str(step["workflowId"]), (*path, wid), f"Step “{step['stepId']}”")
        if wid not in order:
            order.append(wid)

    visit(roots[0], (), "The document")
    return order


def _api_operation(step_id: str, step: dict[str, Any], systems: dict[str, str]) -> ApiOperation:
    if "operationId" not in step:
        raise InvalidPlaybook(
            f"Step “{step_id}”: name the operation by operationId (operationPath is not supported)."
        )
    raw = str(step["operationId"])
    source_name, _, name = raw.removeprefix("$sourceDescriptions.").partition(".")
    if not raw.startswith("$sourceDescriptions.") or source_name not in systems:
        source_name, name = "", raw  # plain, or dotted itself (directory.users.update)
    allowed = {systems[source_name]} if source_name else set(systems.values())
    found = [o for o in candidates(name) if o.system in allowed]
    payload = (step.get("requestBody") or {}).get("payload")
    if len(found) > 1:
        found = [o for o in found if _same_payload(o.payload, payload)]
    if len(found) != 1:
        raise InvalidPlaybook(
            f"Step “{step_id}”: the portal's connectors cannot perform “{name}”"
            + (" with this request body." if candidates(name) else ".")
        )
    return found[0]


def _same_payload(expected: dict[str, Any] | None, given: Any) -> bool:
    if expected is None or not isinstance(given, dict):
        return expected is None
    return all(given.get(k) == v for k, v in expected.items() if not str(v).startswith("$"))


def _option_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()).strip("_")


class _Reader:
    """Walks the chosen workflows, collecting steps, request options and notices."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.systems = reading.source_systems(document)
        self.workflows = {w["workflowId"]: w for w in document["workflows"]}
        self.notices: list[str] = []
        self.options: dict[str, dict[str, Any]] = {}
        self.steps: list[ImportedStep] = []

    def drop(self, words: str) -> None:
        if words not in self.notices:
            self.notices.append(words)

    def read(self) -> ImportedPlaybook:
        order = _workflow_order(self.document)
        by_workflow = {wid: self._workflow(wid) for wid in order}
        self._link_workflows(order, by_workflow)
        self._follow_options()
        if not self.steps:
            raise InvalidPlaybook("The workflow has no step the portal can perform.")
        playbooks.check_acyclic(
            [
                playbooks.PlannedStep(s.key, s.system, s.operation, s.key, {}, tuple(s.depends_on))
                for s in self.steps
            ]
        )
        title = str(self.document["info"].get("title") or order[0])
        return ImportedPlaybook(
            title,
            self.steps,
            list(self.options.values()),
            self.notices,
            reading.without_credentials(self.document),
        )

    def _workflow(self, wid: str) -> list[ImportedStep]:
        workflow = self.workflows[wid]
        secrets = reading.credential_inputs(workflow)
        for name in sorted(secrets):
            self.drop(
                f"Input “{name}” dropped: credentials always come from the portal's connections."
            )
        steps: list[ImportedStep] = []
        barrier: ImportedStep | None = None
        for raw in workflow["steps"]:
            step_id = str(raw["stepId"])
            reading.check_criteria(step_id, raw)
            if "workflowId" in raw:
                self._parameters(step_id, raw, None, secrets, workflow)
                continue
            api = _api_operation(step_id, raw, self.systems)
            step = ImportedStep(step_id, wid, api.system, api.operation)
            step.fixed_options = [[k, v] for k, v in api.when]
            self._parameters(step_id, raw, api, secrets, workflow, step)
            if api.read_back:
                self._read_back(step, api)
                continue
            self._check_unique(step)
            chain = [s for s in steps if not s.after_system]
            previous = barrier or (chain[-1] if chain else None)
            step.depends_on = [previous.key] if previous else []
            if (step.system, step.operation) in STATE_CHANGING:
                barrier = step
            steps.append(step)
            self.steps.append(step)
        return steps

    def _read_back(self, step: ImportedStep, api: ApiOperation) -> None:
        """A read of the person becomes the system's read-back (one per system)."""
        short = provider_for(step.system).short_label
        what = f"“{api.operation_id}”"
        if any(s.key == step.key for s in self.steps):
            self.drop(
                f"Step “{step.step_id}”: {what} folded into {short}'s read-back, "
                "which the portal makes once per system."
            )
            return
        self.drop(
            f"Step “{step.step_id}”: the read {what} becomes {short}'s read-back: it runs after "
            f"{short}'s other steps and compares the answer to what they should have changed."
        )
        step.after_system = True
        self.steps.append(step)

    def _follow_options(self) -> None:
        """A read-back looks for what its system's steps were asked to do (their options).

        One for a system with no other step would compare nothing: it is dropped, with a notice.
        """
        acting = {s.system for s in self.steps if not s.after_system}
        for step in [s for s in self.steps if s.after_system and s.system not in acting]:
            self.drop(
                f"Step “{step.step_id}”: read dropped: no other "
                f"{provider_for(step.system).short_label} step to read back."
            )
            self.steps.remove(step)
        for step in (s for s in self.steps if s.after_system):
            api = for_step(step.system, step.operation)
            for own, operation, option in api.follows:
                other = next(
                    (s for s in self.steps if s.system == step.system and s.operation == operation),
                    None,
                )
                if other is None:
                    continue
                step.option_map += [[own, o] for c, o in other.option_map if c == option]
                step.fixed_options += [[own, v] for c, v in other.fixed_options if c == option]

    def _check_unique(self, step: ImportedStep) -> None:
        for other in self.steps:
            if other.key == step.key:
                raise InvalidPlaybook(
                    f"Step “{step.step_id}” repeats step “{other.step_id}” ({step.key}): "
                    "a playbook runs each operation once."
                )

    def _parameters(
        self,
        step_id: str,
        raw: dict[str, Any],
        api: ApiOperation | None,
        secrets: set[str],
        workflow: dict[str, Any],
        step: ImportedStep | None = None,
    ) -> None:
        given: dict[str, Any] = {}
        for param in raw.get("parameters") or []:
            if "reference" in param:
                raise InvalidPlaybook(f"Step “{step_id}”: reusable parameters are not supported.")
            name = str(param["name"])
            if reading.is_credential_parameter(param, secrets):
                self.drop(
                    f"Step “{step_id}”: parameter “{name}” dropped: it carries a credential, "
                    "and credentials always come from the portal's connections."
                )
                continue
            bad = reading.unsupported_expression(param.get("value"))
            if bad:
                raise InvalidPlaybook(
                    f"Step “{step_id}”: unsupported expression {bad} in parameter “{name}”: "
                    "values come from the workflow's inputs or are fixed."
                )
            given[name] = param.get("value")
        body = (raw.get("requestBody") or {}).get("payload")
        bad = reading.unsupported_expression(body)
        if bad:
            raise InvalidPlaybook(f"Step “{step_id}”: unsupported expression {bad} in its body.")
        if api is not None and step is not None:
            self._apply(step_id, api, given, workflow, step)

    def _apply(
        self,
        step_id: str,
        api: ApiOperation,
        given: dict[str, Any],
        workflow: dict[str, Any],
        step: ImportedStep,
    ) -> None:
        if api.person_param:
            names = [api.person_param, *(n for n in PERSON_PARAMS if n != api.person_param)]
            value = next((given.pop(n) for n in names if n in given), None)
            if reading.single_input(value) is None:
                raise InvalidPlaybook(
                    f"Step “{step_id}”: parameter “{api.person_param}” must be the person's id "
                    "from a workflow input ($inputs.…): the portal fills it in for each request."
                )
        for name, option, default in api.option_params:
            value = given.pop(name, default)
            source = reading.single_input(value)
            if source is None:
                step.fixed_options.append([option, _boolean(step_id, name, value)])
            else:
                step.option_map.append([option, self._option(source, step.system, workflow)])
        for name, _where, _value in api.fixed_params:
            if name in given and given.pop(name) != _value:
                self.drop(f"Step “{step_id}”: parameter “{name}” is always {_value} here.")
        for name in given:
            self.drop(f"Step “{step_id}”: parameter “{name}” ignored: the connector sets it.")

    def _option(self, name: str, system: str, workflow: dict[str, Any]) -> str:
        schema = ((workflow.get("inputs") or {}).get("properties") or {}).get(name) or {}
        key = _option_key(name)
        words = str(schema.get("description") or name).rstrip(".")
        words = re.sub(r"^whether to\s+", "", words, flags=re.IGNORECASE)
        short = provider_for(system).short_label
        self.options.setdefault(
            key,
            {
                "key": key,
                "label": f"{short}: {words[:1].lower()}{words[1:]}",
                "default": bool(schema.get("default", False)),
                "system": system,
            },
        )
        return key

    def _link_workflows(self, order: list[str], by_workflow: dict[str, list[ImportedStep]]) -> None:
        with_steps = [w for w in order if by_workflow[w]]
        for wid in with_steps:
            deps = [str(d) for d in self.workflows[wid].get("dependsOn") or []]
            before = [s.key for d in deps for s in by_workflow.get(d, [])]
            own = by_workflow[wid]
            others = set(with_steps) - {wid}
            if len(own) == 1 and others and others <= set(deps):
                own[0].after_all, own[0].depends_on = True, []
                continue
            for step in own:
                if not step.depends_on:
                    step.depends_on = list(dict.fromkeys(before))


def _boolean(step_id: str, name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise InvalidPlaybook(f"Step “{step_id}”: parameter “{name}” must be true or false.")


def import_document(text: str) -> ImportedPlaybook:
    """Parse and check the document; the playbook it describes, or InvalidPlaybook in words."""
    return _Reader(reading.parse(text)).read()
