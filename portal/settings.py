"""Settings for the offboarding portal: one module, every deploy-varying value from the environment."""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from portal import settings_data as _data
from portal import settings_ops as _ops
from portal.env import (
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_roles,
    env_secret,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PORTAL_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
# HTTPS-only behaviour (redirect, secure cookies, HSTS) is on unless this is a debug run.
PORTAL_HTTPS = env_bool("PORTAL_HTTPS", not DEBUG)
PORTAL_SANDBOX = env_bool("PORTAL_SANDBOX", False)
PORTAL_SANDBOX_URL = env_str("PORTAL_SANDBOX_URL", "http://127.0.0.1:8100").rstrip("/")


def _dev_file_secret(name: str) -> str:
    """A random value kept in var/ for debug runs, so a restart keeps sessions."""
    path = VAR_DIR / name
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(50)
    path.write_text(value, encoding="utf-8")
    path.chmod(0o600)
    return value


SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set (or SECRET_KEY_FILE) when DEBUG is off.")
    SECRET_KEY = _dev_file_secret("dev-secret-key")
elif len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must name the portal's host(s) when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
for _origin in CSRF_TRUSTED_ORIGINS:
    if urlsplit(_origin).scheme not in ("http", "https") or not urlsplit(_origin).netloc:
        raise ImproperlyConfigured(
            f"CSRF_TRUSTED_ORIGINS entries must look like https://portal.example.com, not {_origin!r}."
        )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "django_htmx",
    "portal",
    "connections",
    # Before django_q: offboarding's `qcluster` command (a fast drain on SIGTERM, the sweeper in
    # the main process) takes the place of django-q2's own.
    "offboarding",
    "django_q",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal.middleware.MfaEnrolmentMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.navigation",
            ],
        },
    },
]

# --- Database, cache and task broker (read and checked in portal/settings_data.py) ---------------
DATABASE_URL = _data.DATABASE_URL
DATABASES = _data.DATABASES
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
REDIS_URL = _data.REDIS_URL
CACHES = _data.CACHES
Q_CLUSTER: dict = _data.Q_CLUSTER

# --- Authentication (django-allauth) --------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_ADAPTER = "portal.adapters.PortalAccountAdapter"
SOCIALACCOUNT_ADAPTER = "portal.adapters.PortalSocialAccountAdapter"
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": env_str("PORTAL_LOGIN_FAILED_RATE", "10/m/ip,5/5m/key"),
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
}
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env_str("PORTAL_NAME", "Offboarding portal")
# Roles whose members must enrol an authenticator app (TOTP) before they can act, e.g.
# "Approver,Connection admin" (role names, any case). Until then they may look but not act.
# The names are offboarding.roles.Role's; settings cannot import the app, a test keeps them equal.
PORTAL_ROLE_NAMES = ("Helpdesk", "Approver", "Auditor", "Connection admin", "Responder")
PORTAL_REQUIRE_MFA_FOR = env_roles("PORTAL_REQUIRE_MFA_FOR", PORTAL_ROLE_NAMES)
SOCIALACCOUNT_ONLY = False
SOCIALACCOUNT_AUTO_SIGNUP = False

OKTA_OIDC_CLIENT_ID = env_str("OKTA_OIDC_CLIENT_ID")
OKTA_OIDC_CLIENT_SECRET = env_secret("OKTA_OIDC_CLIENT_SECRET")
OKTA_OIDC_ORG_URL = env_str("OKTA_OIDC_ORG_URL").rstrip("/")
OKTA_SSO_ENABLED = bool(OKTA_OIDC_CLIENT_ID and OKTA_OIDC_CLIENT_SECRET and OKTA_OIDC_ORG_URL)
if OKTA_OIDC_ORG_URL and urlsplit(OKTA_OIDC_ORG_URL).scheme != "https":
    raise ImproperlyConfigured(
        "OKTA_OIDC_ORG_URL must be an https:// URL such as https://acme.okta.com."
    )
# "Sign in with Okta" is plain OpenID Connect against the org authorization server: discovery,
# PKCE, an id_token checked for issuer and audience. No URL prefix keeps /accounts/okta/login/
# (the redirect URI registered in Okta); without an app that URL and its callback answer 404.
SOCIALACCOUNT_OPENID_CONNECT_URL_PREFIX = ""
SOCIALACCOUNT_PROVIDERS: dict = {"openid_connect": {"OAUTH_PKCE_ENABLED": True, "APPS": []}}
if OKTA_SSO_ENABLED:
    SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"] = [
        {
            "provider_id": "okta",
            "name": "Okta",
            "client_id": OKTA_OIDC_CLIENT_ID,
            "secret": OKTA_OIDC_CLIENT_SECRET,
            "settings": {"server_url": OKTA_OIDC_ORG_URL},
        }
    ]
# Linking by email is done by portal.adapters (verified Okta email, existing account only), not by
# SOCIALACCOUNT_EMAIL_AUTHENTICATION: that one also wipes the password of an account whose address
# the portal never verified, and administrators create accounts without verifying addresses.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Email ----------------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "offboarding-portal@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Portal-specific ------------------------------------------------------------------------------
# MultiFernet keys for connector secrets: comma- or newline-separated, the first encrypts, all
# decrypt. PORTAL_ENCRYPTION_KEYS_FILE works too. `make run` writes var/encryption-keys for debug runs.
PORTAL_ENCRYPTION_KEYS = [
    k.strip()
    for k in env_secret("PORTAL_ENCRYPTION_KEYS").replace("\n", ",").split(",")
    if k.strip()
]
if not PORTAL_ENCRYPTION_KEYS and DEBUG and (VAR_DIR / "encryption-keys").exists():
    PORTAL_ENCRYPTION_KEYS = [
        k.strip()
        for k in (VAR_DIR / "encryption-keys").read_text(encoding="utf-8").split()
        if k.strip()
    ]
# The step runner's, /healthz's and the audit checkpoints' settings, read and cross-checked in
# portal/settings_ops.py.
OFFBOARDING_BACKOFF_BASE = _ops.OFFBOARDING_BACKOFF_BASE
OFFBOARDING_BACKOFF_CAP = _ops.OFFBOARDING_BACKOFF_CAP
OFFBOARDING_CHECK_REUSE_SECONDS = _ops.OFFBOARDING_CHECK_REUSE_SECONDS
OFFBOARDING_HEARTBEAT_SECONDS = _ops.OFFBOARDING_HEARTBEAT_SECONDS
OFFBOARDING_LEASE_SECONDS = _ops.OFFBOARDING_LEASE_SECONDS
OFFBOARDING_MAX_ATTEMPTS = _ops.OFFBOARDING_MAX_ATTEMPTS
OFFBOARDING_QUARANTINE_AFTER = _ops.OFFBOARDING_QUARANTINE_AFTER
OFFBOARDING_REQUEUE_AFTER = _ops.OFFBOARDING_REQUEUE_AFTER
OFFBOARDING_FOLLOW_REQUEUE_AFTER = _ops.OFFBOARDING_FOLLOW_REQUEUE_AFTER
OFFBOARDING_SPREAD_STEPS = _ops.OFFBOARDING_SPREAD_STEPS
OFFBOARDING_SHUTDOWN_SECONDS = _ops.OFFBOARDING_SHUTDOWN_SECONDS
OFFBOARDING_STEP_THREADS = _ops.OFFBOARDING_STEP_THREADS
OFFBOARDING_SWEEP_SECONDS = _ops.OFFBOARDING_SWEEP_SECONDS
PORTAL_HEALTH_QUEUE_WAIT = _ops.PORTAL_HEALTH_QUEUE_WAIT
PORTAL_HEALTH_WORKER_SILENCE = _ops.PORTAL_HEALTH_WORKER_SILENCE
PORTAL_AUDIT_CHECKPOINT_SINK = _ops.PORTAL_AUDIT_CHECKPOINT_SINK
PORTAL_AUDIT_CHECKPOINT_EVERY = _ops.PORTAL_AUDIT_CHECKPOINT_EVERY
PORTAL_AUDIT_CHECKPOINT_MINUTES = _ops.PORTAL_AUDIT_CHECKPOINT_MINUTES
# The clients' read timeout for one HTTP exchange with a connected system, in seconds
# (connections/providers/http.py); offboarding.W001 warns unless three fit in Q_TIMEOUT.
PORTAL_HTTP_TIMEOUT = env_float("PORTAL_HTTP_TIMEOUT", 20.0, minimum=1, maximum=300)
# HMAC key for the audit chain, kept apart from SECRET_KEY.
PORTAL_AUDIT_KEY = env_secret("PORTAL_AUDIT_KEY")
if not PORTAL_AUDIT_KEY and DEBUG:
    PORTAL_AUDIT_KEY = _dev_file_secret("audit-key")
PORTAL_TIME_ZONE_DEFAULT = env_str("PORTAL_TIME_ZONE", "UTC")
# Absolute links in emails, e.g. https://portal.example.com (relative links when empty).
PORTAL_BASE_URL = env_str("PORTAL_BASE_URL").rstrip("/")
if PORTAL_BASE_URL and urlsplit(PORTAL_BASE_URL).scheme not in ("http", "https"):
    raise ImproperlyConfigured("PORTAL_BASE_URL must look like https://portal.example.com.")
LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))

# --- Internationalisation --------------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = PORTAL_TIME_ZONE_DEFAULT
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
PORTAL_STATIC_MANIFEST = env_bool("PORTAL_STATIC_MANIFEST", not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed files after `collectstatic` in production; plain files otherwise.
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PORTAL_STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PORTAL_STATIC_MANIFEST

# --- Security headers -------------------------------------------------------------------------------
SECURE_SSL_REDIRECT = PORTAL_HTTPS
SESSION_COOKIE_SECURE = PORTAL_HTTPS
CSRF_COOKIE_SECURE = PORTAL_HTTPS
SECURE_HSTS_SECONDS = 31_536_000 if PORTAL_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = PORTAL_HTTPS
SECURE_HSTS_PRELOAD = PORTAL_HTTPS
PORTAL_BEHIND_PROXY = env_bool("PORTAL_BEHIND_PROXY", False)
if PORTAL_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies append to X-Forwarded-For; the client is the entry that many places from the
# right. 0 ignores the header (it is trivially forged). Rate limits and the audit trail use it.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int(
    "PORTAL_TRUSTED_PROXY_COUNT", 1 if PORTAL_BEHIND_PROXY else 0, minimum=0, maximum=5
)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=300)
CSRF_COOKIE_HTTPONLY = True
# Browsers also hold a form's redirects to form-action: "Sign in with Okta" posts to the portal,
# which redirects to Okta's authorize page, so Okta's origin must be allowed there.
_FORM_TARGETS = " ".join(["'self'"] + ([OKTA_OIDC_ORG_URL] if OKTA_SSO_ENABLED else []))
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    f"font-src 'self'; connect-src 'self'; form-action {_FORM_TARGETS}; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

# Issue 14 (break-glass): how long approvers have to review a run made without prior approval
# (break-glass, an Okta event) before it shows as overdue.
PORTAL_REVIEW_WINDOW_HOURS = env_int("PORTAL_REVIEW_WINDOW_HOURS", 24, minimum=1, maximum=24 * 30)
# --- Issue 15: the REST API (/api/v1/) -------------------------------------------------------------
# Calls per token per minute (answered 429 with Retry-After beyond), and how long an
# Idempotency-Key's first answer is replayed (at least a day).
PORTAL_API_RATE_LIMIT_PER_MINUTE = env_int("PORTAL_API_RATE_LIMIT_PER_MINUTE", 120, minimum=1)
PORTAL_API_IDEMPOTENCY_HOURS = env_int("PORTAL_API_IDEMPOTENCY_HOURS", 24, minimum=24)
# Issue 10 (speed): how many independent removals of one operation (a list-then-remove such as
# Okta's remove from groups) a client sends at once; 1 sends them one after another.
PORTAL_FANOUT_LIMIT = env_int("PORTAL_FANOUT_LIMIT", 8, minimum=1, maximum=10)
# Issue 15 (bulk): a batch's requests start at most this many a minute (an offboard makes about 8
# Okta calls; 60 a minute stays under the 600/min write bucket with room for single requests), and
# files up to this many rows are looked up with Okta search expressions, larger ones by reading
# everyone (offboarding/bulk_lookup.py).
OFFBOARDING_BULK_PER_MINUTE = env_int("OFFBOARDING_BULK_PER_MINUTE", 60, minimum=1, maximum=6000)
OFFBOARDING_BULK_SEARCH_MAX_ROWS = env_int(
    "OFFBOARDING_BULK_SEARCH_MAX_ROWS", 1000, minimum=1, maximum=10_000
)

# Issue 16 (newcomer): a POST held back for re-authentication resumes even when its URL has a query
# string (runs before allauth's own handler: exception middleware runs in reverse order).
MIDDLEWARE.insert(
    MIDDLEWARE.index("allauth.account.middleware.AccountMiddleware") + 1,
    "portal.middleware.ResumeAfterReauthenticationMiddleware",
)
