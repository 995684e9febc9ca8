"""The sandbox stands alone (none of the portal's code, no Django) and lists its systems in one place."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import connections.sandbox
from connections.sandbox.providers import PROVIDERS, SYSTEMS

SANDBOX = Path(connections.sandbox.__file__).parent
REPO = SANDBOX.parent.parent
# The sandbox must not share an understanding of the APIs with the clients it is there to test.
FORBIDDEN = ("django", "portal", "offboarding", "connections.clients", "connections.providers")


def _forbidden(module: str) -> bool:
    return any(module == f or module.startswith(f + ".") for f in FORBIDDEN)


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_no_sandbox_module_imports_the_portal_or_its_clients():
    offenders = sorted(
        (str(path.relative_to(REPO)), name)
        for path in SANDBOX.rglob("*.py")
        for name in _imported(path)
        if _forbidden(name)
    )
    assert offenders == []


def test_starting_the_sandbox_loads_no_django_and_no_portal_module():
    code = "import sys, connections.sandbox.cli; print('\\n'.join(sorted(sys.modules)))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    assert "connections.sandbox.server" in loaded
    assert [m for m in loaded if _forbidden(m)] == []


def test_every_system_package_is_registered_once():
    packages = sorted(p.name for p in SANDBOX.iterdir() if (p / "__init__.py").is_file())
    assert packages == ["google", "msgraph", "okta", "zoom"]
    for name in packages:
        assert importlib.import_module(f"connections.sandbox.{name}").PROVIDER in PROVIDERS
    assert len(set(SYSTEMS)) == len(PROVIDERS) == len(packages)
    assert SYSTEMS == ("okta", "google", "zoom", "graph")  # URL segments and fault names
