"""Issue 16, item 10: the reads behind the person page, against the sandbox's Okta."""

from __future__ import annotations

import pytest

from connections import registry
from offboarding import services
from offboarding.targets import target_lookup
from tests.connections.test_integration_sandbox import ALICE, connected  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]


def test_the_person_page_reads_sign_in_authenticators_apps_and_manager(connected):  # noqa: F811
    target = target_lookup(ALICE)
    overview = services.person_overview(target=target)
    assert overview.error == ""
    assert overview.last_login is not None
    assert overview.factors and all(f["type"] for f in overview.factors)
    assert overview.apps and "Google Workspace" in overview.apps
    assert target.profile["manager"] and target.profile["managerId"].startswith("00u")


def test_a_deactivated_person_has_no_last_sign_in(connected):  # noqa: F811
    frank = registry.okta_get_user("frank.fischer@acme.example")
    assert services.person_overview(target=target_lookup(frank["id"])).last_login is None
