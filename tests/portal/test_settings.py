"""Settings come from the environment; every bad value is refused with a message naming it."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

import portal
from portal.env import env_bool, env_float, env_int, env_secret

BASE_DIR = Path(__file__).resolve().parents[2]
SETTINGS_FILE = BASE_DIR / "portal" / "settings.py"

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "prod-" + "k" * 60,
    "ALLOWED_HOSTS": "portal.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://portal.example.com",
    "PORTAL_AUDIT_KEY": "audit-" + "a" * 40,
    "PORTAL_ENCRYPTION_KEYS": "dGVzdC1lbmNyeXB0aW9uLWtleS0wMDAwMDAwMDAwMDA=",
    "PORTAL_AUDIT_CHECKPOINT_SINK": "syslog",
}


def load_settings(monkeypatch, tmp_path, **env):
    """Execute portal/settings.py afresh under the given environment."""
    for name in list(os.environ):
        if name.startswith(
            ("PORTAL_", "DATABASE_", "DB_", "REDIS_", "Q_", "OKTA_", "EMAIL_", "OFFBOARDING_")
        ) or name in (
            "DEBUG",
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "CSRF_TRUSTED_ORIGINS",
        ):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORTAL_VAR_DIR", str(tmp_path))
    for name, value in {**PRODUCTION_ENV, **env}.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    # settings.py imports portal.settings_ops and settings_data: read them anew too.
    for part in ("settings_ops", "settings_data"):
        monkeypatch.delitem(sys.modules, f"portal.{part}", raising=False)
        monkeypatch.delattr(portal, part, raising=False)
    spec = importlib.util.spec_from_file_location("settings_under_test", SETTINGS_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_production_defaults_are_safe(monkeypatch, tmp_path):
    s = load_settings(monkeypatch, tmp_path)
    assert s.DEBUG is False
    assert s.SECURE_SSL_REDIRECT and s.SESSION_COOKIE_SECURE and s.CSRF_COOKIE_SECURE
    assert s.SECURE_HSTS_SECONDS >= 31_536_000
    assert s.X_FRAME_OPTIONS == "DENY"
    assert "default-src 'self'" in s.CONTENT_SECURITY_POLICY
    assert s.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert s.Q_CLUSTER["orm"] == "default"


def test_redis_url_switches_the_task_broker_and_cache(monkeypatch, tmp_path):
    s = load_settings(monkeypatch, tmp_path, REDIS_URL="redis://127.0.0.1:6379/2")
    assert s.Q_CLUSTER["redis"] == "redis://127.0.0.1:6379/2"
    assert "orm" not in s.Q_CLUSTER
    assert s.CACHES["default"]["BACKEND"].endswith("RedisCache")


def test_database_url_selects_postgresql(monkeypatch, tmp_path):
    s = load_settings(monkeypatch, tmp_path, DATABASE_URL="postgres://u:p@db.internal:5432/portal")
    db = s.DATABASES["default"]
    assert (db["ENGINE"], db["HOST"], db["NAME"]) == (
        "django.db.backends.postgresql",
        "db.internal",
        "portal",
    )


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"SECRET_KEY": None}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS"),
        ({"DATABASE_URL": "mysql://root@localhost/db"}, "DATABASE_URL"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL"),
        ({"Q_WORKERS": "many"}, "Q_WORKERS"),
        ({"Q_WORKERS": "0"}, "Q_WORKERS"),
        ({"Q_TIMEOUT": "300", "Q_RETRY": "200"}, "Q_TIMEOUT"),
        ({"EMAIL_PORT": "99999"}, "EMAIL_PORT"),
        ({"CSRF_TRUSTED_ORIGINS": "portal.example.com"}, "CSRF_TRUSTED_ORIGINS"),
        ({"OKTA_OIDC_ORG_URL": "http://acme.okta.com"}, "OKTA_OIDC_ORG_URL"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"OFFBOARDING_LEASE_SECONDS": "5"}, "OFFBOARDING_LEASE_SECONDS"),
        (
            {"OFFBOARDING_LEASE_SECONDS": "15", "OFFBOARDING_HEARTBEAT_SECONDS": "6"},
            "OFFBOARDING_HEARTBEAT_SECONDS",
        ),
        ({"OFFBOARDING_SWEEP_SECONDS": "0.5"}, "OFFBOARDING_SWEEP_SECONDS"),
        ({"OFFBOARDING_SHUTDOWN_SECONDS": "120"}, "OFFBOARDING_SHUTDOWN_SECONDS"),
        ({"PORTAL_HEALTH_WORKER_SILENCE": "soon"}, "PORTAL_HEALTH_WORKER_SILENCE"),
        (
            {"OFFBOARDING_LEASE_SECONDS": "60", "PORTAL_HEALTH_WORKER_SILENCE": "30"},
            "PORTAL_HEALTH_WORKER_SILENCE",
        ),
        ({"PORTAL_HEALTH_QUEUE_WAIT": "5"}, "PORTAL_HEALTH_QUEUE_WAIT"),
        (
            {"OFFBOARDING_SWEEP_SECONDS": "30", "PORTAL_HEALTH_QUEUE_WAIT": "60"},
            "PORTAL_HEALTH_QUEUE_WAIT",
        ),
        ({"OFFBOARDING_MAX_ATTEMPTS": "0"}, "OFFBOARDING_MAX_ATTEMPTS"),
        ({"OFFBOARDING_QUARANTINE_AFTER": "often"}, "OFFBOARDING_QUARANTINE_AFTER"),
        ({"OFFBOARDING_REQUEUE_AFTER": "5"}, "OFFBOARDING_REQUEUE_AFTER"),
        ({"OFFBOARDING_BACKOFF_BASE": "fast"}, "OFFBOARDING_BACKOFF_BASE"),
        ({"OFFBOARDING_BACKOFF_BASE": "0"}, "OFFBOARDING_BACKOFF_BASE"),
        ({"OFFBOARDING_BACKOFF_CAP": "nan"}, "OFFBOARDING_BACKOFF_CAP"),
        ({"OFFBOARDING_BACKOFF_CAP": "2"}, "OFFBOARDING_BACKOFF_CAP"),
        (
            {"OFFBOARDING_BACKOFF_BASE": "50", "OFFBOARDING_BACKOFF_CAP": "10"},
            "OFFBOARDING_BACKOFF_CAP",
        ),
        ({"PORTAL_HTTP_TIMEOUT": "0"}, "PORTAL_HTTP_TIMEOUT"),
        ({"PORTAL_HTTP_TIMEOUT": "20s"}, "PORTAL_HTTP_TIMEOUT"),
        ({"PORTAL_BASE_URL": "portal.example.com"}, "PORTAL_BASE_URL"),
        (
            {"PORTAL_AUDIT_CHECKPOINT_SINK": "ftp://siem.example.com"},
            "PORTAL_AUDIT_CHECKPOINT_SINK",
        ),
        ({"PORTAL_AUDIT_CHECKPOINT_SINK": "file:relative.log"}, "PORTAL_AUDIT_CHECKPOINT_SINK"),
        ({"PORTAL_AUDIT_CHECKPOINT_EVERY": "0"}, "PORTAL_AUDIT_CHECKPOINT_EVERY"),
        ({"PORTAL_AUDIT_CHECKPOINT_MINUTES": "often"}, "PORTAL_AUDIT_CHECKPOINT_MINUTES"),
        ({"SECRET_KEY_FILE": "/nonexistent/secret", "SECRET_KEY": None}, "SECRET_KEY_FILE"),
        ({"PORTAL_REQUIRE_MFA_FOR": "Approver,Approvers"}, "PORTAL_REQUIRE_MFA_FOR"),
    ],
)
def test_bad_values_name_the_variable(monkeypatch, tmp_path, env, names):
    with pytest.raises(ImproperlyConfigured, match=names):
        load_settings(monkeypatch, tmp_path, **env)


def test_require_mfa_for_names_roles_in_any_case_and_is_off_by_default(monkeypatch, tmp_path):
    from offboarding.roles import Role

    s = load_settings(monkeypatch, tmp_path)
    assert s.PORTAL_REQUIRE_MFA_FOR == ()
    assert s.PORTAL_ROLE_NAMES == tuple(Role.values)
    s = load_settings(
        monkeypatch, tmp_path, PORTAL_REQUIRE_MFA_FOR=" approver , Connection ADMIN,Approver"
    )
    assert s.PORTAL_REQUIRE_MFA_FOR == ("Approver", "Connection admin")


def test_runner_tunables_have_one_default_each_and_follow_the_environment(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("OFFBOARDING_"):
            monkeypatch.delenv(name)
    s = load_settings(monkeypatch, tmp_path)
    assert (s.OFFBOARDING_MAX_ATTEMPTS, s.OFFBOARDING_QUARANTINE_AFTER) == (6, 3)
    assert (s.OFFBOARDING_LEASE_SECONDS, s.OFFBOARDING_HEARTBEAT_SECONDS) == (15, 5.0)
    assert (s.OFFBOARDING_SWEEP_SECONDS, s.OFFBOARDING_SHUTDOWN_SECONDS) == (5.0, 8.0)
    assert (s.PORTAL_HEALTH_WORKER_SILENCE, s.PORTAL_HEALTH_QUEUE_WAIT) == (60, 120)
    assert s.OFFBOARDING_REQUEUE_AFTER == 120
    assert (s.OFFBOARDING_BACKOFF_BASE, s.OFFBOARDING_BACKOFF_CAP) == (2.0, 300.0)
    assert s.PORTAL_HTTP_TIMEOUT == 20.0
    tuned = load_settings(
        monkeypatch,
        tmp_path,
        Q_TIMEOUT="30",
        Q_RETRY="60",
        OFFBOARDING_BACKOFF_BASE="0.5",
        OFFBOARDING_BACKOFF_CAP="30",
        PORTAL_HTTP_TIMEOUT="7.5",
        OFFBOARDING_LEASE_SECONDS="60",
    )
    assert (tuned.OFFBOARDING_LEASE_SECONDS, tuned.OFFBOARDING_HEARTBEAT_SECONDS) == (60, 20.0)
    assert (tuned.OFFBOARDING_BACKOFF_BASE, tuned.OFFBOARDING_BACKOFF_CAP) == (0.5, 30.0)
    assert tuned.PORTAL_HTTP_TIMEOUT == 7.5


def test_secret_can_come_from_a_file(monkeypatch, tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text("file-" + "s" * 60 + "\n")
    s = load_settings(monkeypatch, tmp_path, SECRET_KEY=None, SECRET_KEY_FILE=str(secret_file))
    assert s.SECRET_KEY == "file-" + "s" * 60


def test_debug_run_needs_no_secrets_and_keeps_its_generated_key(monkeypatch, tmp_path):
    first = load_settings(monkeypatch, tmp_path, DEBUG="true", SECRET_KEY=None, ALLOWED_HOSTS=None)
    second = load_settings(monkeypatch, tmp_path, DEBUG="true", SECRET_KEY=None, ALLOWED_HOSTS=None)
    assert first.SECRET_KEY == second.SECRET_KEY and len(first.SECRET_KEY) >= 50
    assert first.SECURE_SSL_REDIRECT is False
    assert "127.0.0.1" in first.ALLOWED_HOSTS


def test_okta_sign_in_appears_only_when_fully_configured(monkeypatch, tmp_path):
    partial = load_settings(monkeypatch, tmp_path, OKTA_OIDC_CLIENT_ID="abc")
    assert partial.OKTA_SSO_ENABLED is False
    assert partial.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"] == []
    full = load_settings(
        monkeypatch,
        tmp_path,
        OKTA_OIDC_CLIENT_ID="abc",
        OKTA_OIDC_CLIENT_SECRET="shh",
        OKTA_OIDC_ORG_URL="https://acme.okta.com",
    )
    assert full.OKTA_SSO_ENABLED is True
    (app,) = full.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"]
    assert app["provider_id"] == "okta" and app["client_id"] == "abc"
    assert app["settings"]["server_url"] == "https://acme.okta.com"
    # The form that starts the sign-in is redirected to Okta: form-action must allow it.
    assert "form-action 'self' https://acme.okta.com;" in full.CONTENT_SECURITY_POLICY
    assert "form-action 'self';" in partial.CONTENT_SECURITY_POLICY


def test_env_helpers(monkeypatch):
    monkeypatch.setenv("X_BOOL", "Yes")
    assert env_bool("X_BOOL") is True
    monkeypatch.setenv("X_INT", " 12 ")
    assert env_int("X_INT", 1, maximum=20) == 12
    with pytest.raises(ImproperlyConfigured, match="X_INT must be at most 10"):
        env_int("X_INT", 1, maximum=10)
    monkeypatch.setenv("X_FLOAT", "2.5")
    assert env_float("X_FLOAT", 1.0, minimum=1) == 2.5
    with pytest.raises(ImproperlyConfigured, match="X_FLOAT must be at most 2"):
        env_float("X_FLOAT", 1.0, maximum=2)
    monkeypatch.setenv("X_SECRET", "a")
    monkeypatch.setenv("X_SECRET_FILE", "secret.txt")
    with pytest.raises(ImproperlyConfigured, match="not both"):
        env_secret("X_SECRET")


def test_audit_checkpoints_have_one_default_each_and_follow_the_environment(monkeypatch, tmp_path):
    defaults = load_settings(monkeypatch, tmp_path, PORTAL_AUDIT_CHECKPOINT_SINK=None)
    assert defaults.PORTAL_AUDIT_CHECKPOINT_SINK == ""
    assert (defaults.PORTAL_AUDIT_CHECKPOINT_EVERY, defaults.PORTAL_AUDIT_CHECKPOINT_MINUTES) == (
        1000,
        5,
    )
    custom = load_settings(
        monkeypatch,
        tmp_path,
        PORTAL_AUDIT_CHECKPOINT_SINK="https://siem.example.com/ingest",
        PORTAL_AUDIT_CHECKPOINT_EVERY="50",
        PORTAL_AUDIT_CHECKPOINT_MINUTES="1",
    )
    assert custom.PORTAL_AUDIT_CHECKPOINT_SINK == "https://siem.example.com/ingest"
    assert (custom.PORTAL_AUDIT_CHECKPOINT_EVERY, custom.PORTAL_AUDIT_CHECKPOINT_MINUTES) == (50, 1)


def test_check_deploy_warns_when_no_checkpoint_sink_is_set(tmp_path):
    result = _check_deploy(tmp_path, PORTAL_AUDIT_CHECKPOINT_SINK="")
    assert result.returncode != 0 and "portal.W001" in result.stdout + result.stderr


def _check_deploy(tmp_path, **extra):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PORTAL_", "DATABASE_URL", "REDIS_URL"))
    }
    env.update(PRODUCTION_ENV, **extra)
    env["PORTAL_VAR_DIR"] = str(tmp_path)
    env.pop("DEBUG", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_variables(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PORTAL_", "DATABASE_URL", "REDIS_URL"))
    }
    env.update(PRODUCTION_ENV)
    env["PORTAL_VAR_DIR"] = str(tmp_path)
    env.pop("DEBUG", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_postgres_sessions_frozen_in_a_transaction_are_ended_by_the_server(monkeypatch, tmp_path):
    """A stopped worker must not hold row locks (the audit head, a request) for ever."""
    s = load_settings(monkeypatch, tmp_path, DATABASE_URL="postgres://u:p@db:5432/portal")
    options = s.DATABASES["default"]["OPTIONS"]["options"]
    assert options == "-c idle_in_transaction_session_timeout=10000"
    tuned = load_settings(
        monkeypatch,
        tmp_path,
        DATABASE_URL="postgres://u:p@db:5432/portal",
        DB_IDLE_TRANSACTION_TIMEOUT="30",
    )
    assert tuned.DATABASES["default"]["OPTIONS"]["options"].endswith("=30000")
    with pytest.raises(ImproperlyConfigured, match="DB_IDLE_TRANSACTION_TIMEOUT"):
        load_settings(
            monkeypatch,
            tmp_path,
            DATABASE_URL="postgres://u:p@db:5432/portal",
            DB_IDLE_TRANSACTION_TIMEOUT="never",
        )
