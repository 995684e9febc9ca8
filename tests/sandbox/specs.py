"""Validate sandbox responses against the stored API specs (OpenAPI 3.0 and Google discovery)."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path

import jsonschema
import yaml
from openapi_schema_validator import OAS30Validator, oas30_format_checker

SPECS = Path(__file__).resolve().parent.parent / "api_specs"
FILES = {
    "okta": "okta.yaml",
    "okta_token": "okta-oauth-token.yaml",
    "graph": "microsoft-graph.yaml",
    "zoom": "zoom.json",
}
PREFIX = {"okta": "/api/v1"}

GOOGLE_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "errors"],
            "properties": {
                "code": {"type": "integer"},
                "message": {"type": "string"},
                "status": {"type": "string"},
                "errors": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"type": "object", "required": ["message", "domain", "reason"]},
                },
            },
        }
    },
}
OAUTH_ERROR_REQUIRED = {
    "type": "object",
    "required": ["error", "error_description"],
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
}


@functools.cache
def _load(name: str) -> dict:
    path = SPECS / FILES[name]
    return (
        yaml.safe_load(path.read_text()) if path.suffix == ".yaml" else json.loads(path.read_text())
    )


def _resolve(spec: dict, node: dict) -> dict:
    while "$ref" in node:
        parts = node["$ref"].lstrip("#/").split("/")
        node = functools.reduce(lambda acc, key: acc[key], parts, spec)
    return node


def _strip_discriminators(node):
    if isinstance(node, dict):
        return {k: _strip_discriminators(v) for k, v in node.items() if k != "discriminator"}
    if isinstance(node, list):
        return [_strip_discriminators(v) for v in node]
    return node


def check_openapi(api: str, path: str, method: str, status: int, body) -> None:
    """Assert that the status is documented for the operation and the body matches its schema."""
    spec = _load(api)
    op = spec["paths"][PREFIX.get(api, "") + path][method.lower()]
    responses = op["responses"]
    assert str(status) in responses or "default" in responses, (
        f"{method} {path}: status {status} not in the spec ({sorted(responses)})"
    )
    response = _resolve(spec, responses.get(str(status), responses.get("default")))
    content = (response.get("content") or {}).get("application/json")
    if content is None:
        assert body in (None, b"", {}, ""), (
            f"{method} {path} {status}: the spec has no body, got {body!r}"
        )
        return
    schema = _strip_discriminators({**content["schema"], "components": spec["components"]})
    OAS30Validator(schema, format_checker=oas30_format_checker).validate(body)


def _discovery_to_jsonschema(node, strict: bool):
    if isinstance(node, list):
        return [_discovery_to_jsonschema(v, strict) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "$ref":
            out["$ref"] = f"#/definitions/{value}"
        elif key == "type" and value == "any":
            continue
        elif key == "format" and value != "date-time":
            continue
        elif key in ("id", "description", "annotations", "readOnly", "enumDescriptions"):
            continue
        elif key == "properties":
            out["properties"] = {k: _discovery_to_jsonschema(v, strict) for k, v in value.items()}
        else:
            out[key] = _discovery_to_jsonschema(value, strict)
    if strict and "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False  # the sandbox must not invent fields
    return out


@functools.cache
def _google() -> tuple[dict, dict]:
    doc = json.loads((SPECS / "google-directory.json").read_text())
    definitions = {
        name: _discovery_to_jsonschema(copy.deepcopy(s), strict=True)
        for name, s in doc["schemas"].items()
    }
    methods = {}

    def walk(resources):
        for resource in resources.values():
            for method in resource.get("methods", {}).values():
                methods[method["id"]] = method
            walk(resource.get("resources", {}))

    walk(doc["resources"])
    return definitions, methods


def check_google(method_id: str, status: int, body) -> None:
    """Validate a Directory response: the method's response schema, or an empty body when it has none."""
    definitions, methods = _google()
    method = methods[method_id]
    if status >= 400:
        jsonschema.validate(body, GOOGLE_ERROR)
        return
    if "response" not in method:
        assert status == 204 and body in (None, b"", ""), f"{method_id}: expected 204 and no body"
        return
    schema = {"$ref": f"#/definitions/{method['response']['$ref']}", "definitions": definitions}
    jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    ).validate(body)


def check_oauth_error(body) -> None:
    jsonschema.validate(body, OAUTH_ERROR_REQUIRED)
    check_openapi("okta_token", "/oauth2/v1/token", "post", 400, body)


def check_token_response(body) -> None:
    check_openapi("okta_token", "/oauth2/v1/token", "post", 200, body)
    assert body["access_token"] and body["expires_in"] > 0


def check_headers(api: str, path: str, method: str, status: int, headers) -> None:
    """Assert that every header the spec declares for this response is present."""
    spec = _load(api)
    responses = spec["paths"][PREFIX.get(api, "") + path][method.lower()]["responses"]
    response = _resolve(spec, responses[str(status)])
    missing = [name for name in response.get("headers", {}) if name not in headers]
    assert not missing, f"{method} {path} {status}: headers missing: {missing}"


def check_google_list(method_id: str, params: dict) -> None:
    """Assert that every query parameter sent is one the discovery document declares."""
    _, methods = _google()
    declared = set(methods[method_id].get("parameters", {}))
    assert set(params) <= declared, f"{method_id}: undeclared parameters {set(params) - declared}"


def check_openapi_request_form(api: str, path: str, form: dict) -> None:
    """Validate an urlencoded request body against the operation's request schema."""
    spec = _load(api)
    op = spec["paths"][PREFIX.get(api, "") + path]["post"]
    content = op["requestBody"]["content"]["application/x-www-form-urlencoded"]
    schema = _strip_discriminators({**content["schema"], "components": spec["components"]})
    OAS30Validator(schema, format_checker=oas30_format_checker).validate(form)
