"""Shared by the Arazzo tests: the seed, the official schema and the API descriptions."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "api_specs"
SEED = ROOT / "fixtures" / "arazzo" / "okta-offboard-user-clear-sessions.arazzo.yaml"


def seed_text() -> str:
    return SEED.read_text()


@cache
def _schema_validator() -> Any:
    schema = json.loads((SPECS / "arazzo-1.0.schema.json").read_text())
    return jsonschema.validators.validator_for(schema)(schema)


def schema_problems(document: dict[str, Any]) -> list[str]:
    """Against the official Arazzo 1.0 JSON Schema (the tests' own copy, not the product's)."""
    return [e.message for e in _schema_validator().iter_errors(document)]


@cache
def operation_ids(url: str) -> frozenset[str]:
    """Every operationId in one of the API descriptions kept in tests/api_specs/."""
    path = SPECS / url
    description = (
        json.loads(path.read_text()) if path.suffix == ".json" else yaml.safe_load(path.read_text())
    )
    return frozenset(
        op["operationId"]
        for item in description["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    )


def unresolved_operations(document: dict[str, Any]) -> list[str]:
    """Step operationIds that name no operation of the source description they point at."""
    sources = {s["name"]: s for s in document["sourceDescriptions"]}
    missing = []
    for workflow in document["workflows"]:
        for step in workflow["steps"]:
            if "operationId" not in step:
                continue
            _, name, operation = step["operationId"].split(".", 2)
            source = sources[name]
            assert source["type"] == "openapi"
            if operation not in operation_ids(source["url"]):
                missing.append(step["operationId"])
    return missing
