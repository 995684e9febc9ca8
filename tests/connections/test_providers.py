"""Providers: one package per System, and everything else derived from them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from connections import url_policy
from connections.providers import Effect, all_providers, provider_for
from connections.types import SYSTEM_LABELS, System
from offboarding import playbooks, selectors
from offboarding.models import SystemChoices

CONNECTIONS = Path(__file__).resolve().parents[2] / "connections"


def test_every_system_has_its_provider():
    assert [p.system for p in all_providers()] == list(System)
    for system in System:
        provider = provider_for(system.value)
        assert provider is provider_for(system)
        assert provider.label == system.label == SYSTEM_LABELS[system]
        assert provider.client_class.system is system
        assert provider.form_class.system is system


def test_an_unknown_system_has_no_provider():
    with pytest.raises(ValueError):
        provider_for("no-such-system")


def test_model_choices_are_the_systems():
    assert SystemChoices.choices == [(s.value, s.label) for s in System]
    assert SystemChoices("zoom").label == "Zoom"


@pytest.mark.parametrize("provider", all_providers(), ids=lambda p: p.system.value)
def test_a_provider_is_consistent(provider):
    form = provider.form_class
    for name in (*form.SETTING_FIELDS, *form.SECRET_FIELDS):
        assert name in form.base_fields
    assert set(provider.required_settings) <= set(provider.setting_keys)
    for needed in provider.required_secrets.values():
        assert set(needed) <= set(form.SECRET_FIELDS)
    names = [op.name for op in provider.operations]
    assert len(names) == len(set(names)) and all(op.label for op in provider.operations)


@pytest.mark.parametrize("provider", all_providers(), ids=lambda p: p.system.value)
def test_default_urls_pass_the_url_policy(provider):
    urls = provider.endpoints({"org_url": "https://acme.okta.com", "tenant_id": "contoso"})
    for url in (urls.api_base_url, urls.token_url):
        url_policy.check_url(url, system=provider.system, sandbox=False, resolve=False)


def test_every_playbook_step_is_an_operation_of_its_provider():
    for playbook in playbooks.PLAYBOOKS.values():
        for step in playbook.steps:
            assert provider_for(step.system).operation(step.operation) is not None, step.key
            assert step.label
        for option in playbook.options:
            assert option.label.startswith(f"{provider_for(option.system).short_label}: ")


def test_lockout_steps_are_the_lock_steps_of_an_offboard():
    assert set(selectors.LOCKOUT_STEPS["offboard"]) == playbooks.LOCKING_OPERATIONS
    reset = {(s.system, s.operation) for s in playbooks.RESET_SESSIONS.steps if not s.after_system}
    assert set(selectors.LOCKOUT_STEPS["reset_sessions"]) == reset
    assert {s for s, _ in playbooks.LOCKING_OPERATIONS} == set(playbooks.ALL_SYSTEMS)
    assert playbooks.DEACTIVATING_OPERATIONS == {
        (p.system.value, op.name)
        for p in all_providers()
        for op in p.operations
        if op.effect is Effect.DEACTIVATE
    }


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_connections_never_imports_offboarding_or_portal():
    offenders = [
        f"{path.relative_to(CONNECTIONS.parent)}: {name}"
        for path in sorted(CONNECTIONS.rglob("*.py"))
        for name in _imported_modules(path)
        if name.split(".")[0] in ("offboarding", "portal")
    ]
    assert offenders == []
