"""Loaded with `-p tests.envplugin` before Django reads its settings: a test environment."""

import os

_TEST_ENV = {
    "SECRET_KEY": "test-secret-key-" + "x" * 48,
    "PORTAL_HTTPS": "false",
    "PORTAL_STATIC_MANIFEST": "false",
    "PORTAL_AUDIT_KEY": "test-audit-key-" + "y" * 32,
    # A fixed test key (Fernet format); never used outside tests.
    "PORTAL_ENCRYPTION_KEYS": "dGVzdC1lbmNyeXB0aW9uLWtleS0wMDAwMDAwMDAwMDA=",
    "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
}
for _name, _value in _TEST_ENV.items():
    os.environ.setdefault(_name, _value)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
