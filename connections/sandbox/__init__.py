"""A simulated organisation serving Okta, Google Directory, Zoom and Microsoft Graph on loopback."""

from connections.sandbox.server import SandboxConfig, SandboxServer, start_in_thread

__all__ = ["SandboxConfig", "SandboxServer", "start_in_thread"]
