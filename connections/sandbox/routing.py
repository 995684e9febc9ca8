"""A small method + path-template router."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import unquote

from connections.sandbox.web import Request, Resp

if TYPE_CHECKING:
    from connections.sandbox.app import App

Handler = Callable[["App", Request], Resp]
H = TypeVar("H", bound=Handler)


@dataclass(frozen=True)
class Route:
    """One endpoint: handler, the scopes that allow it and its rate-limit family."""

    method: str
    regex: re.Pattern[str]
    handler: Handler
    scopes: tuple[str, ...]
    family: str


class Router:
    """Collects routes declared with @router.add(...) and matches requests against them."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    @classmethod
    def joined(cls, *routers: Router) -> Router:
        """One router holding the routes of several, in order."""
        joined = cls()
        for router in routers:
            joined.routes.extend(router.routes)
        return joined

    def add(
        self, method: str, template: str, scopes: tuple[str, ...] = (), family: str = "default"
    ) -> Callable[[H], H]:
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
        regex = re.compile(f"^{pattern}/?$")

        def register(fn: H) -> H:
            self.routes.append(Route(method, regex, fn, scopes, family))
            return fn

        return register

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """(route, params, path_known): path_known is True when only the method is wrong."""
        known = False
        for route in self.routes:
            found = route.regex.match(path)
            if not found:
                continue
            if route.method == method:
                return route, {k: unquote(v) for k, v in found.groupdict().items()}, True
            known = True
        return None, {}, known
