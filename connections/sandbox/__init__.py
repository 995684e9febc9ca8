"""A simulated organisation serving Okta, Google Directory, Zoom and Microsoft Graph on loopback.

One package per simulated system (okta/, google/, zoom/, msgraph/), listed in providers.py; the shared
server, control API, faults, state and data beside them. See docs/SANDBOX.md.
"""

from connections.sandbox.server import SandboxConfig, SandboxServer, start_in_thread

__all__ = ["SandboxConfig", "SandboxServer", "start_in_thread"]
