"""First half of `make run`: keys, database, demo users and (when present) sandbox connections."""

from __future__ import annotations

import os
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def _ensure_encryption_key(var_dir: Path) -> None:
    if os.environ.get("PORTAL_ENCRYPTION_KEYS") or os.environ.get("PORTAL_ENCRYPTION_KEYS_FILE"):
        return
    path = var_dir / "encryption-keys"
    if not path.exists():
        from cryptography.fernet import Fernet

        path.write_text(Fernet.generate_key().decode() + "\n", encoding="utf-8")
        path.chmod(0o600)
        print(f"generated a local encryption key in {path} (git ignores var/)")


def main() -> int:
    var_dir = Path(os.environ.get("PORTAL_VAR_DIR", BASE_DIR / "var"))
    var_dir.mkdir(parents=True, exist_ok=True)
    _ensure_encryption_key(var_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("configure_sandbox_connections")
    call_command("seed_demo")
    # Issue 14: the Okta event hook's secret (made once); devrun registers the hook in the sandbox.
    host, port = os.environ.get("PORTAL_HOST", "127.0.0.1"), os.environ.get("PORTAL_PORT", "8000")
    base_url = os.environ.get("PORTAL_BASE_URL") or f"http://{host}:{port}"
    call_command("okta_hook_setup", base_url=base_url.rstrip("/"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
