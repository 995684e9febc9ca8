"""The Okta `search` expression for words an agent types or pastes: a name, "Last, First", an email
or login in any case, names with accents.

Okta's `q` parameter matches one prefix against first name, last name or email, so "Alice Anders"
found nobody, and it leaves out DEPROVISIONED people. A `search` expression matches each word
against its own attribute (values are compared case-insensitively) and includes every status:
ACTIVE, SUSPENDED, LOCKED_OUT, STAGED, PROVISIONED, RECOVERY, PASSWORD_EXPIRED and DEPROVISIONED.
"""

from __future__ import annotations

import unicodedata

STATUSES_INCLUDED = "every Okta status, deactivated people included"
_MAX_WORDS = 5
_MAX_LENGTH = 200
_ANY_FIELD = ("profile.firstName", "profile.lastName", "profile.email", "profile.login")


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _sw(field: str, value: str) -> str:
    return f"{field} sw {_quoted(value)}"


def _unaccented(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _name_clauses(words: list[str]) -> list[str]:
    """One word: any of the four attributes starts with it. More: every split into a first and a
    last name, in either order ("Mary Ann Smith", "Smith Mary Ann")."""
    if len(words) == 1:
        return [_sw(field, words[0]) for field in _ANY_FIELD]
    clauses = []
    for cut in range(1, len(words)):
        head, tail = " ".join(words[:cut]), " ".join(words[cut:])
        clauses.append(f"({_sw('profile.firstName', head)} and {_sw('profile.lastName', tail)})")
        clauses.append(f"({_sw('profile.firstName', tail)} and {_sw('profile.lastName', head)})")
    return clauses


def _clauses(text: str) -> list[str]:
    if "," in text:  # "Anders, Alice" as tickets and directories write it
        last, _, first = text.partition(",")
        if last.strip() and first.strip():
            return [
                f"({_sw('profile.firstName', first.strip())} and "
                f"{_sw('profile.lastName', last.strip())})"
            ]
        text = last.strip() or first.strip()
    if "@" in text or (" " not in text and "." in text):
        return [_sw("profile.email", text), _sw("profile.login", text)]
    words = text.split()[:_MAX_WORDS]
    return _name_clauses(words)


def words_expression(query: str) -> str:
    """The `search` expression finding the people `query` names; "" when there is nothing to find.
    Accented words are also tried without their accents (directories fed from HR systems often
    drop them)."""
    text = " ".join(query.split())[:_MAX_LENGTH]
    if not text.strip(" ,"):
        return ""
    clauses = _clauses(text)
    plain = _unaccented(text)
    if plain != text:
        clauses += [c for c in _clauses(plain) if c not in clauses]
    return " or ".join(clauses)
