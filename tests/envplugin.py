"""Loaded with `-p tests.envplugin` before Django reads its settings: a test environment."""

import os
import tempfile

_TEST_ENV = {
    "SECRET_KEY": "test-secret-key-" + "x" * 48,
    "PORTAL_HTTPS": "false",
    "PORTAL_STATIC_MANIFEST": "false",
    "PORTAL_AUDIT_KEY": "test-audit-key-" + "y" * 32,
    # A fixed test key (Fernet format); never used outside tests.
    "PORTAL_ENCRYPTION_KEYS": "dGVzdC1lbmNyeXB0aW9uLWtleS0wMDAwMDAwMDAwMDA=",
    "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    # A test's own transaction stays open, idle, while it waits on a worker or a slow sandbox call;
    # PostgreSQL would end it after the production default (10 s). The chaos runs use that default.
    "DB_IDLE_TRANSACTION_TIMEOUT": "600",
}
for _name, _value in _TEST_ENV.items():
    os.environ.setdefault(_name, _value)
if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
    # A file, not memory: browser and chaos tests start real qcluster processes that share it.
    os.environ.setdefault(
        "PORTAL_TEST_DB_NAME",
        os.path.join(tempfile.gettempdir(), f"portal-test-{os.getpid()}.sqlite3"),
    )
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
