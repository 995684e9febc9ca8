"""The organisation behind one server: dispatch to a system, auth, rate limits, faults, the effect log."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs

from connections.sandbox import apps, control
from connections.sandbox.auth import Keys
from connections.sandbox.config import SandboxConfig
from connections.sandbox.credentials import FILENAME, ensure_credentials
from connections.sandbox.data import Org
from connections.sandbox.faults import Decision, Faults, RateBuckets
from connections.sandbox.provider import Provider
from connections.sandbox.providers import PROVIDERS
from connections.sandbox.routing import Route, Router
from connections.sandbox.state import State
from connections.sandbox.web import (
    BadBody,
    Request,
    Resp,
    no_such_system,
    oauth_error,
    server_error,
)

log = logging.getLogger("connections.sandbox")


@dataclass
class Outcome:
    """The dispatcher's answer: a response, or drop the connection (after a hang, or after applying)."""

    resp: Resp | None
    drop: bool = False
    hang: bool = False


class App:
    """The whole simulated organisation behind one server."""

    def __init__(self, config: SandboxConfig, providers: tuple[Provider, ...] = PROVIDERS):
        self.config = config
        self.providers = {p.system: p for p in providers}
        self.org = Org(config.users, config.seed)
        self.state = State(self.org)
        self.credentials_path = Path(config.data_dir) / FILENAME
        self.credentials = ensure_credentials(Path(config.data_dir))
        self.keys = Keys(
            self.credentials, {p.system: p.load_keys for p in providers if p.load_keys}
        )
        self.state.set_app_defaults(apps.defaults(self.credentials, config.okta_dpop))
        self.faults = Faults(config.seed, {p.system: p.rate_limits for p in providers})
        self.buckets = RateBuckets()
        self.control_routes = Router.joined(
            control.router, apps.router, *(p.control for p in providers if p.control)
        )
        self._apply_configured_faults()

    def _apply_configured_faults(self) -> None:
        for system, spec in self.config.faults.items():
            self.faults.set(system, spec)

    def reset(self) -> None:
        """Back to the seed: people, effect log, faults (to the configured ones), rate counters."""
        self.state.reset()
        self.__dict__.pop("okta_events", None)  # Okta's System Log and event hooks (issue 14)
        self.faults.clear()
        self.buckets.clear()
        self._apply_configured_faults()

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes, base: str
    ) -> Outcome:
        """Answer one request; never raises."""
        path, _, qs = target.partition("?")
        parts = path.split("/", 2)
        system = parts[1] if len(parts) > 1 else ""
        rest = "/" + (parts[2] if len(parts) > 2 else "")
        req = Request(
            method, rest, target, parse_qs(qs, keep_blank_values=True), headers, body, base, system
        )
        try:
            return self._route(req)
        except Exception:
            log.exception("sandbox: unexpected error on %s %s", method, path)
            provider = self.providers.get(system)
            return Outcome(provider.errors.server_error(500) if provider else server_error(500))

    def _route(self, req: Request) -> Outcome:
        if req.system == "_sandbox":
            return Outcome(self._control(req))
        provider = self.providers.get(req.system)
        if provider is None:
            return Outcome(no_such_system(req.raw_path.split("?")[0]))
        token = self._token_endpoint(provider, req)
        if token is not None:
            return Outcome(self._finish(provider, req, token, "token"))
        page = self._page(provider, req)
        if page is not None:
            return Outcome(self._finish(provider, req, page, "other"))
        prefix, errors = provider.api_prefix, provider.errors
        if not req.path.startswith(prefix + "/"):
            return Outcome(self._finish(provider, req, errors.not_found_path(req.path), "other"))
        route, params, known = provider.router.match(req.method, req.path[len(prefix) :])
        if route is None:
            resp = (
                errors.method_not_allowed(req.method) if known else errors.not_found_path(req.path)
            )
            return Outcome(self._finish(provider, req, resp, "other"))
        req.params = params
        return self._api(req, route)

    def _token_endpoint(self, provider: Provider, req: Request) -> Resp | None:
        params = provider.token_params(req.path)
        if params is None:
            return None
        req.params = params
        if req.method != "POST":
            return Resp(
                405,
                {
                    "error": "invalid_request",
                    "error_description": "The token endpoint only accepts POST.",
                },
            )
        return provider.token(self, req)

    def _page(self, provider: Provider, req: Request) -> Resp | None:
        """A route outside the API (e.g. OpenID Connect), or None when the path is not one."""
        if provider.pages is None:
            return None
        route, params, _ = provider.pages.match(req.method, req.path)
        if route is None:
            return None
        req.params = params
        try:
            return route.handler(self, req)
        except BadBody:
            return oauth_error(400, "invalid_request", "Expected a form body.")

    def _api(self, req: Request, route: Route) -> Outcome:
        provider = self.providers[req.system]
        mutating = req.method != "GET"
        decision = self.faults.decide(req.system, mutating)
        if decision.delay:
            time.sleep(decision.delay)
        if decision.hang:
            self._log(req, None, False, "hang")
            return Outcome(None, hang=True)
        resp, fault = self._guarded(provider, req, route, decision)
        resp = self._finish(provider, req, resp, route.family)
        drop = decision.drop and fault is None
        if mutating:
            self._log(
                req,
                resp.status,
                resp.applied and fault is None,
                "apply_then_drop" if drop else fault,
            )
        return Outcome(None if drop else resp, drop=drop)

    def _guarded(
        self, provider: Provider, req: Request, route: Route, decision: Decision
    ) -> tuple[Resp, str | None]:
        denied = provider.authenticate(self, req, route.scopes)
        if denied:
            return denied, "auth"
        limit, enforced = self.faults.limit_for(req.system, route.family)
        remaining, reset_at, over = self.buckets.hit(req.system, route.family, limit)
        req.rate = (limit, remaining, reset_at)
        if enforced and over:
            retry_after = max(1, reset_at - int(time.time()))
            return provider.errors.rate_limited(retry_after, True), "rate_limit"
        if decision.burst_retry_after is not None:
            req.rate = (limit, 0, int(time.time()) + decision.burst_retry_after)
            return provider.errors.rate_limited(decision.burst_retry_after, False), "burst_429"
        if decision.error_status:
            return provider.errors.server_error(decision.error_status), "error_rate"
        try:
            with self.state.lock:
                return route.handler(self, req), None
        except BadBody as exc:
            return provider.errors.bad_body(exc.kind), "bad_body"

    def _finish(self, provider: Provider, req: Request, resp: Resp, family: str) -> Resp:
        """Add the rate-limit headers the API sends on every answer (Okta, Zoom)."""
        if provider.rate_headers is None:
            return resp
        rate = req.rate
        if rate is None:
            limit, _ = self.faults.limit_for(req.system, family)
            remaining, reset_at, _ = self.buckets.hit(req.system, family, limit)
            rate = (limit, remaining, reset_at)
        provider.rate_headers(resp, rate)
        return resp

    def _log(self, req: Request, status: int | None, applied: bool, fault: str | None) -> None:
        self.state.log_effect(
            system=req.system,
            method=req.method,
            path=req.raw_path,
            status=status,
            applied=applied,
            fault=fault,
        )

    def _control(self, req: Request) -> Resp:
        route, params, known = self.control_routes.match(req.method, req.path)
        if route is None:
            return Resp(
                405 if known else 404,
                {"error": "method not allowed" if known else "unknown control path"},
            )
        req.params = params
        try:
            return route.handler(self, req)
        except BadBody:
            return Resp(
                400, {"error": "expected a JSON object body with Content-Type: application/json"}
            )
