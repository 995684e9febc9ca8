"""Derive google-directory.openapi.json from Google's discovery document (issue 17).

Arazzo sources must be OpenAPI or Arazzo; Google publishes a discovery document. This writes
an OpenAPI 3.0 description of the Admin SDK Directory methods the portal calls, with their
discovery ids as operationIds, paths, path parameters and the answers the portal reads.
Run: python tests/api_specs/derive_google_openapi.py (from the repository root).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
METHODS = {
    "directory.users.get": "200",
    "directory.users.update": "200",
    "directory.users.signOut": "204",
    "directory.tokens.list": "200",
    "directory.tokens.delete": "204",
    "directory.asps.list": "200",
    "directory.asps.delete": "204",
    # Issue 13's steps (issue 17 follow-up): backup codes and mobile devices.
    "directory.verificationCodes.list": "200",
    "directory.verificationCodes.invalidate": "204",
    "directory.mobiledevices.list": "200",
    "directory.mobiledevices.action": "204",
}


def _methods(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for resource in resources.values():
        for method in resource.get("methods", {}).values():
            found[method["id"]] = method
        found.update(_methods(resource.get("resources", {})))
    return found


def _operation(method: dict[str, Any], ok: str) -> dict[str, Any]:
    params = [
        {
            "name": name,
            "in": spec["location"],
            "required": bool(spec.get("required")),
            "description": spec.get("description", ""),
            "schema": {"type": spec.get("type", "string")},
        }
        for name, spec in method.get("parameters", {}).items()
    ]
    operation: dict[str, Any] = {
        "operationId": method["id"],
        "description": method.get("description", ""),
        "parameters": params,
        "responses": {
            ok: {"description": "Success"},
            "404": {"description": "No such user or item"},
            "429": {"description": "Rate limited"},
        },
        "security": [{"oauth2": method.get("scopes", [])}],
    }
    if "request" in method:
        operation["requestBody"] = {"content": {"application/json": {"schema": {"type": "object"}}}}
    return operation


def derive(discovery: dict[str, Any]) -> dict[str, Any]:
    methods = _methods(discovery["resources"])
    paths: dict[str, Any] = {}
    for method_id, ok in METHODS.items():
        method = methods[method_id]
        path = "/" + method["path"]
        paths.setdefault(path, {})[method["httpMethod"].lower()] = _operation(method, ok)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Google Admin SDK Directory API - offboarding subset (derived)",
            "version": discovery["version"],
            "x-derived-from": "google-directory.json (discovery document, revision "
            f"{discovery.get('revision', '?')}) by tests/api_specs/derive_google_openapi.py",
        },
        "servers": [{"url": discovery["rootUrl"].rstrip("/")}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "oauth2": {
                    "type": "oauth2",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": "https://oauth2.googleapis.com/token",
                            "scopes": {
                                k: v["description"]
                                for k, v in discovery["auth"]["oauth2"]["scopes"].items()
                            },
                        }
                    },
                }
            }
        },
    }


if __name__ == "__main__":
    source = json.loads((HERE / "google-directory.json").read_text())
    target = HERE / "google-directory.openapi.json"
    target.write_text(json.dumps(derive(source), indent=2) + "\n")
    print(f"wrote {target}")
