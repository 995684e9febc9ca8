"""Issue 16, item 2: the words agents paste from tickets find the person in (the sandbox's) Okta.

Okta's `q` matched one prefix and left deactivated people out, so "Alice Anders" found nobody.
"""

from __future__ import annotations

import pytest

from connections import registry
from connections.providers.okta.search import words_expression
from tests.connections.test_integration_sandbox import connected  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]


def logins(query: str) -> list[str]:
    users, _ = registry.okta_search_users(query=query, limit=50)
    return [u["profile"]["login"] for u in users]


@pytest.mark.parametrize(
    "query",
    [
        "Alice Anders",
        "  alice   anders ",
        "Anders, Alice",
        "Anders Alice",
        "ALICE.ANDERS@ACME.EXAMPLE",
        "Alice.Anders@acme",
        "Ali",
        "Anders",
        "Älice Anders",  # an accent the directory does not have
    ],
)
def test_names_emails_and_last_first_find_alice(connected, query):  # noqa: F811
    assert "alice.anders@acme.example" in logins(query)


def test_a_full_name_finds_only_people_with_both_names(connected):  # noqa: F811
    found = logins("Alice Anders")
    assert found == ["alice.anders@acme.example"]


def test_a_person_deactivated_in_okta_is_found_by_name(connected):  # noqa: F811
    users, _ = registry.okta_search_users(query="Frank Fischer", limit=20)
    assert [(u["profile"]["login"], u["status"]) for u in users] == [
        ("frank.fischer@acme.example", "DEPROVISIONED")
    ]


def test_accented_names_are_found_as_written(connected):  # noqa: F811
    users, _ = registry.okta_search_users(expression='profile.lastName eq "Müller"', limit=1)
    assert users, "the sandbox has people named Müller"
    first = users[0]["profile"]["firstName"]
    assert users[0]["profile"]["login"] in logins(f"{first} Müller")
    assert users[0]["profile"]["login"] in logins(f"Müller, {first}")


def test_quotes_in_the_words_cannot_widen_the_search(connected):  # noqa: F811
    assert logins('x" or profile.login pr or "') == []
    assert logins('Anders" or profile.login sw "') == []
    assert words_expression("  , ") == ""
