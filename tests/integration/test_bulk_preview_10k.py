"""A 10,000-row preview against a sandbox org of 10,100 people: every row judged, in a few dozen
Okta calls (a paged read of everyone) instead of 10,000."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from connections import registry, services
from connections.management.commands.configure_sandbox_connections import sandbox_connections
from connections.providers.tokens import TOKEN_CACHE
from connections.sandbox.server import SandboxConfig, start_in_thread
from offboarding.models import Delegation
from offboarding.services import bulk

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]


@pytest.fixture(scope="module")
def big_sandbox(tmp_path_factory):
    server = start_in_thread(
        SandboxConfig(
            host="127.0.0.1",
            port=0,
            users=10_100,
            seed=3,
            data_dir=tmp_path_factory.mktemp("big-sandbox"),
            hang_max_seconds=30,
        )
    )
    yield server
    server.stop()


@pytest.fixture
def big_connected(big_sandbox, settings, helpdesk, approver):
    settings.PORTAL_SANDBOX = True
    registry.reset_clients()
    TOKEN_CACHE.clear()
    app = big_sandbox.app
    for system, spec in sandbox_connections(big_sandbox.base_url, app.credentials).items():
        result = services.connection_save(
            system=system, actor=None, label="", settings=spec["settings"], secret=spec["secret"]
        )
        services.connection_set_enabled(connection=result.connection, actor=None, enabled=True)
    team, managers = Group.objects.create(name="Desk"), Group.objects.create(name="Managers")
    helpdesk.groups.add(team)
    approver.groups.add(managers)
    Delegation.objects.create(
        name="Desk → everyone",
        team=team,
        allowed_actions=["offboard"],
        target_group_ids=[],
        approver_group=managers,
        approvals_needed=1,
        expiry_hours=24,
    )
    yield app
    registry.reset_clients()
    TOKEN_CACHE.clear()


def test_a_10000_row_preview_reads_okta_in_pages_not_per_person(big_connected, helpdesk):
    org = big_connected.org
    lines = ["email;reason"] + [f"{org.email[i].upper()};left" for i in range(10_000)]
    batch = bulk.batch_preview(
        requester=helpdesk,
        choice=bulk.BulkChoice(kind="offboard", systems=["okta"], reason="closing the office"),
        data="\n".join(lines).encode(),
    )
    assert batch.counts["total"] == 10_000
    gone = sum(1 for i in range(10_000) if org.status[i] == 2)  # DEPROVISIONED in the seed
    assert batch.counts["offboarded"] == gone
    assert batch.counts["valid"] == 10_000 - gone
    assert batch.counts["unknown"] == 0
    assert batch.lookup["method"] == "full read"
    assert batch.lookup["okta_calls"] <= 10_100 // 200 + 2
    assert batch.rows.count() == 10_000
