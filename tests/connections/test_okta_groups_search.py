"""Issue 16: the Okta client finds groups by the first letters of their name (the sandbox's
listGroups `q`), for the policy pages' group picker."""

from __future__ import annotations

import pytest

from connections import registry
from tests.connections.test_integration_sandbox import connected  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]


def test_groups_are_found_by_the_start_of_their_name_in_any_case(connected):  # noqa: F811
    found = registry.okta_search_groups(name="admin")
    assert [g["name"] for g in found] == ["Administrators"]
    assert found[0]["id"].startswith("00g") and found[0]["type"] == "OKTA_GROUP"
    assert registry.okta_search_groups(name="zzz") == []
