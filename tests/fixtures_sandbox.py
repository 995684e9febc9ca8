"""Pytest fixtures that run the sandbox in-process on a free loopback port (filled in by the Sandbox work)."""
