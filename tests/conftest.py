"""The fixed cast of test users, and a guard that forbids the real network."""

from __future__ import annotations

import ipaddress
import socket
import uuid

import pytest
from django.contrib.auth.models import Group

from offboarding.roles import Role

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_local(address) -> bool:
    if isinstance(address, (str, bytes)):  # unix socket path
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self, address):
    if not _is_local(address):
        raise RuntimeError(f"Tests may not reach the real network (tried {address!r}).")
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    if not _is_local(address):
        raise RuntimeError(f"Tests may not reach the real network (tried {address!r}).")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def _no_real_network():
    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex
    yield
    socket.socket.connect = _real_connect
    socket.socket.connect_ex = _real_connect_ex


PASSWORD = "correct-horse-battery-staple-42"


@pytest.fixture(autouse=True)
def _own_cache_namespace(settings):
    """Each test gets fresh cache keys. With Redis the cache is not rolled back like the database,
    so one test's failed logins would rate-limit a later test's sign-in (and flushing would also
    empty the task broker's queue)."""
    settings.CACHES = {
        alias: {**config, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
        for alias, config in settings.CACHES.items()
    }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2's deliberate slowness only slows the suite; production keeps Django's default."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _make_user(django_user_model, username: str, *roles: str, **extra):
    user = django_user_model.objects.create_user(
        username=username, email=f"{username}@portal.test", password=PASSWORD, **extra
    )
    # get_or_create: transactional tests flush the groups that the data migration made.
    user.groups.set([Group.objects.get_or_create(name=role)[0] for role in roles])
    return user


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def helpdesk(django_user_model):
    return _make_user(django_user_model, "helpdesk", Role.HELPDESK, first_name="Hana")


@pytest.fixture
def approver(django_user_model):
    return _make_user(django_user_model, "approver", Role.APPROVER, first_name="Ari")


@pytest.fixture
def other_approver(django_user_model):
    return _make_user(django_user_model, "approver2", Role.APPROVER, first_name="Bea")


@pytest.fixture
def auditor(django_user_model):
    return _make_user(django_user_model, "auditor", Role.AUDITOR, first_name="Ada")


@pytest.fixture
def connection_admin(django_user_model):
    return _make_user(django_user_model, "connadmin", Role.CONNECTION_ADMIN, first_name="Cole")


@pytest.fixture
def outsider(django_user_model):
    return _make_user(django_user_model, "outsider")


pytest_plugins = ["tests.fixtures_sandbox"]
