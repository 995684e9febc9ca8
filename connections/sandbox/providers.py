"""The simulated systems the server serves. Adding one: a package beside these, and a line here."""

from __future__ import annotations

from connections.sandbox import google, msgraph, okta, zoom
from connections.sandbox.provider import Provider

PROVIDERS: tuple[Provider, ...] = (
    okta.PROVIDER,
    google.PROVIDER,
    zoom.PROVIDER,
    msgraph.PROVIDER,
)
SYSTEMS = tuple(p.system for p in PROVIDERS)
