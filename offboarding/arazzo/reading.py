"""Reading an Arazzo document someone brings: parse, schema, sources, credentials, expressions.

Credentials always come from the portal's connections: inputs that carry one (a name such as
`oktaApiToken`, a `password` format) and parameters that use one (an `Authorization` header, a
value built from a credential input) are dropped with a notice saying so. Expressions the portal
cannot honour (another step's outputs, a goto) are refused with a message naming the step.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import yaml

from offboarding.arazzo.operations import SOURCE_BY_NAME, SOURCES
from offboarding.arazzo.validation import schema_errors
from offboarding.exceptions import InvalidPlaybook

MAX_DOCUMENT_BYTES = 256 * 1024

# Words in an input's name that say it carries a credential (`oktaApiToken`, `clientSecret`);
# `oauthTokens` (a yes/no about tokens) is not one, nor is any boolean or number.
_CREDENTIAL_WORDS = frozenset(
    {
        "token",
        "secret",
        "password",
        "passwd",
        "passphrase",
        "credential",
        "credentials",
        "authorization",
        "authorisation",
        "cookie",
        "bearer",
        "ssws",
        "apikey",
        "jwt",
        "pat",
    }
)
_CREDENTIAL_PAIRS = frozenset({("api", "key"), ("private", "key"), ("access", "key")})
CREDENTIAL_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "x-api-key", "x-auth-token"}
)
_INPUT_ONLY = re.compile(r"^\$inputs\.([A-Za-z0-9_.\-]+)$")
_EXPRESSION = re.compile(r"\$[A-Za-z]+[A-Za-z0-9_.#/\-]*")
# What a success criterion may read: the answer, never another step.
_CRITERIA_ROOTS = ("$statusCode", "$response.", "$inputs.")

# Words in a source's name or address that tell which system it describes.
_SYSTEM_HINTS = (
    ("okta", "okta"),
    ("google", "google"),
    ("directory", "google"),
    ("graph", "msgraph"),
    ("microsoft", "msgraph"),
    ("zoom", "zoom"),
)


def parse(text: str) -> dict[str, Any]:
    """YAML or JSON text → the document, checked against the Arazzo 1.0 schema."""
    if len(text.encode()) > MAX_DOCUMENT_BYTES:
        raise InvalidPlaybook("The document is too large (at most 256 KB).")
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise InvalidPlaybook(f"This is not YAML or JSON{line}.") from None
    if not isinstance(document, dict):
        raise InvalidPlaybook("This is not an Arazzo document (no top-level mapping).")
    errors = schema_errors(document)
    if errors:
        shown = "; ".join(errors[:3]) + ("; …" if len(errors) > 3 else "")
        raise InvalidPlaybook(f"Not a valid Arazzo 1.0 document: {shown}")
    return document


def source_systems(document: dict[str, Any]) -> dict[str, str]:
    """sourceDescription name → the portal's system, from its name or address."""
    systems: dict[str, str] = {}
    for source in document.get("sourceDescriptions", []):
        name = str(source["name"])
        if source.get("type", "openapi") != "openapi":
            raise InvalidPlaybook(
                f"Source “{name}” is an Arazzo document: import the workflow it holds instead."
            )
        if name in SOURCE_BY_NAME:
            systems[name] = SOURCE_BY_NAME[name].system
            continue
        words = f"{name} {source.get('url', '')}".lower()
        system = next((s for hint, s in _SYSTEM_HINTS if hint in words), None)
        if system is None:
            known = ", ".join(sorted(s.name for s in SOURCES.values()))
            raise InvalidPlaybook(
                f"Source “{name}” is not an API the portal connects to (Okta, Google "
                f"Workspace, Microsoft 365, Zoom; e.g. {known})."
            )
        systems[name] = system
    return systems


def _words(name: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", name)]


def is_credential_input(name: str, schema: Any) -> bool:
    schema = schema if isinstance(schema, dict) else {}
    if schema.get("format") == "password":
        return True
    if schema.get("type") in ("boolean", "integer", "number"):
        return False
    words = _words(name)
    pairs = set(zip(words, words[1:], strict=False))
    return bool(set(words) & _CREDENTIAL_WORDS or pairs & _CREDENTIAL_PAIRS)


def credential_inputs(workflow: dict[str, Any]) -> set[str]:
    properties = (workflow.get("inputs") or {}).get("properties") or {}
    return {name for name, schema in properties.items() if is_credential_input(name, schema)}


def inputs_used(value: Any) -> set[str]:
    """The `$inputs.<name>` a value refers to, anywhere in it (also inside `{$inputs.x}`)."""
    if isinstance(value, dict):
        return set().union(*(inputs_used(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(inputs_used(v) for v in value)) if value else set()
    if not isinstance(value, str):
        return set()
    return {m[len("$inputs.") :] for m in _EXPRESSION.findall(value) if m.startswith("$inputs.")}


def unsupported_expression(value: Any, allowed: tuple[str, ...] = ("$inputs.",)) -> str | None:
    """The first expression in `value` the portal cannot honour, or None."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return next((e for v in value if (e := unsupported_expression(v, allowed))), None)
    if not isinstance(value, str):
        return None
    for expression in _EXPRESSION.findall(value):
        if not any(expression == a or expression.startswith(a) for a in allowed):
            return expression
    return None


def single_input(value: Any) -> str | None:
    """`$inputs.x` (the whole value) → "x"; anything else → None."""
    match = _INPUT_ONLY.match(value) if isinstance(value, str) else None
    return match.group(1) if match else None


def is_credential_parameter(param: dict[str, Any], secrets: set[str]) -> bool:
    name = str(param.get("name", ""))
    if param.get("in") == "header" and name.lower() in CREDENTIAL_HEADERS:
        return True
    if param.get("in") == "cookie":
        return True
    return bool(inputs_used(param.get("value")) & secrets)


def check_criteria(step_id: str, step: dict[str, Any]) -> None:
    """Success criteria may read the answer only; flow changes (goto) are refused."""
    for criterion in step.get("successCriteria") or []:
        bad = unsupported_expression(
            [criterion.get("condition", ""), criterion.get("context", "")], _CRITERIA_ROOTS
        )
        if bad:
            raise InvalidPlaybook(
                f"Step “{step_id}”: unsupported expression {bad} in its success criteria."
            )
    for key in ("onSuccess", "onFailure"):
        for action in step.get(key) or []:
            if "reference" in action:
                raise InvalidPlaybook(f"Step “{step_id}”: reusable actions are not supported.")
            if action.get("type") == "goto":
                raise InvalidPlaybook(
                    f"Step “{step_id}”: “goto” is not supported: the portal orders steps by "
                    "the document's order and dependsOn."
                )


def without_credentials(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of the document with credential inputs and the parameters that use them removed:
    what the portal keeps of an import."""
    cleaned = copy.deepcopy(document)
    for workflow in cleaned.get("workflows", []):
        secrets = credential_inputs(workflow)
        inputs = workflow.get("inputs") or {}
        for name in secrets:
            (inputs.get("properties") or {}).pop(name, None)
        if isinstance(inputs.get("required"), list):
            inputs["required"] = [n for n in inputs["required"] if n not in secrets]
            if not inputs["required"]:
                inputs.pop("required")
        for step in workflow.get("steps", []):
            if "parameters" in step:
                step["parameters"] = [
                    p
                    for p in step["parameters"]
                    if "reference" in p or not is_credential_parameter(p, secrets)
                ]
    return cleaned
