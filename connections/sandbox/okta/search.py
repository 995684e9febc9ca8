"""Okta `search` and `filter` expressions: eq/sw/co/gt/ge/lt/le/pr, and/or, parentheses."""

from __future__ import annotations

import re
from collections.abc import Callable

_TOKEN = re.compile(r'\s*(?:(\()|(\))|"((?:[^"\\]|\\.)*)"|([A-Za-z_][\w.]*)|(-?\d+(?:\.\d+)?))')
SEARCH_OPS = {"eq", "sw", "co", "gt", "ge", "lt", "le", "pr"}
FILTER_OPS = {"eq", "gt", "ge", "lt", "le"}
CO_FIELDS = {"profile.firstName", "profile.lastName", "profile.email", "profile.login"}
FILTER_FIELDS = {
    "status",
    "lastUpdated",
    "id",
    "profile.login",
    "profile.email",
    "profile.firstName",
    "profile.lastName",
}
TOP_FIELDS = {"status", "lastUpdated", "created", "id", "activated", "statusChanged", "type.id"}

Getter = Callable[[str], object]
Predicate = Callable[[Getter], bool]


class SearchError(ValueError):
    """The expression is malformed or uses something the mode does not allow."""


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise SearchError(f"Unexpected character at position {pos}")
        lparen, rparen, string, word, number = match.groups()
        if lparen:
            out.append(("(", "("))
        elif rparen:
            out.append((")", ")"))
        elif string is not None:
            out.append(("str", re.sub(r"\\(.)", r"\1", string)))
        elif number is not None:
            out.append(("num", number))
        else:
            out.append(("word", word))
        pos = match.end()
    return out


class _Parser:
    def __init__(self, text: str, mode: str):
        self.toks = _tokens(text)
        self.pos = 0
        self.mode = mode

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise SearchError("Unexpected end of expression")
        self.pos += 1
        return tok

    def keyword(self, word: str) -> bool:
        tok = self.peek()
        if tok and tok[0] == "word" and tok[1].lower() == word:
            self.pos += 1
            return True
        return False

    def parse(self) -> Predicate:
        if not self.toks:
            raise SearchError("Empty expression")
        pred = self.expr()
        extra = self.peek()
        if extra is not None:
            raise SearchError(f"Unexpected token '{extra[1]}'")
        return pred

    def expr(self) -> Predicate:
        parts = [self.term()]
        while self.keyword("or"):
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else _any_of(tuple(parts))

    def term(self) -> Predicate:
        parts = [self.factor()]
        while self.keyword("and"):
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else _all_of(tuple(parts))

    def factor(self) -> Predicate:
        tok = self.take()
        if tok[0] == "(":
            inner = self.expr()
            if self.take()[0] != ")":
                raise SearchError("Missing closing parenthesis")
            return inner
        if tok[0] != "word" or tok[1].lower() in ("and", "or", "not"):
            raise SearchError(f"Expected an attribute name, got '{tok[1]}'")
        return self.comparison(tok[1])

    def comparison(self, field: str) -> Predicate:
        op_tok = self.take()
        op = op_tok[1].lower()
        self._check(field, op, op_tok)
        if op == "pr":
            return lambda g: g(field) not in (None, "")
        kind, raw = self.take()
        if kind not in ("str", "num", "word") or (
            kind == "word" and raw.lower() not in ("true", "false", "null")
        ):
            raise SearchError(f"Invalid value for '{field}'")
        return _compare(field, op, raw.lower())

    def _check(self, field: str, op: str, op_tok: tuple[str, str]) -> None:
        ops = SEARCH_OPS if self.mode == "search" else FILTER_OPS
        if op_tok[0] != "word" or op not in ops:
            raise SearchError(f"Invalid operator '{op_tok[1]}'")
        if self.mode == "filter":
            if field not in FILTER_FIELDS:
                raise SearchError(f"Invalid filter attribute '{field}'")
            if op != "eq" and field != "lastUpdated":
                raise SearchError(f"Operator '{op}' is only allowed on lastUpdated")
        elif field not in TOP_FIELDS and not field.startswith("profile."):
            raise SearchError(f"Invalid search attribute '{field}'")
        if op == "co" and field not in CO_FIELDS:
            raise SearchError(f"Operator 'co' is not supported for '{field}'")


def _any_of(parts: tuple[Predicate, ...]) -> Predicate:
    return lambda get: any(p(get) for p in parts)


def _all_of(parts: tuple[Predicate, ...]) -> Predicate:
    return lambda get: all(p(get) for p in parts)


def _compare(field: str, op: str, value: str) -> Predicate:
    def pred(get: Getter) -> bool:
        actual = get(field)
        if actual is None:
            return value == "null" and op == "eq"
        actual = str(actual).lower()
        if op == "eq":
            return actual == value
        if op == "sw":
            return actual.startswith(value)
        if op == "co":
            return value in actual
        return {
            "gt": actual > value,
            "ge": actual >= value,
            "lt": actual < value,
            "le": actual <= value,
        }[op]

    return pred


def compile_expression(text: str, mode: str) -> Predicate:
    """Compile a search or filter expression into a predicate over an attribute getter."""
    return _Parser(text, mode).parse()
