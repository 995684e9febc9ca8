"""Create one demo user per role (for `make run`). Passwords are printed, never committed."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from offboarding.roles import Role

DEMO_CAST: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("helpdesk", "Hana Helpdesk", (Role.HELPDESK,)),
    ("approver", "Ari Approver", (Role.APPROVER,)),
    ("approver2", "Bea Backup-Approver", (Role.APPROVER,)),
    ("auditor", "Ada Auditor", (Role.AUDITOR,)),
    ("connadmin", "Cole Connection-Admin", (Role.CONNECTION_ADMIN,)),
    ("responder", "Rory Responder", (Role.RESPONDER,)),
    ("admin", "Sam Superuser", ()),
)


DEMO_TEAM = "Service desk"
DEMO_TEAM_MEMBERS = ("helpdesk", "approver", "approver2", "responder")
# Break-glass needs TOTP (issue 14): the demo Responder gets an authenticator app at creation; its
# secret is kept beside the passwords (var/, mode 600) and printed to add to an authenticator app.
DEMO_TOTP_USER = "responder"


def _password() -> str:
    return "-".join(secrets.token_urlsafe(6) for _ in range(3))


class Command(BaseCommand):
    help = "Create the demo users (one per role) and print their passwords once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset-passwords", action="store_true", help="Give every demo user a new password."
        )
        parser.add_argument(
            "--credentials-file",
            default=str(Path(settings.VAR_DIR) / "demo-credentials.txt"),
            help="Where to keep the passwords for later runs (outside git, mode 600).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["reset_passwords"]:
            raise CommandError("Demo users are for debug runs only (DEBUG is off).")
        path = Path(options["credentials_file"])
        lines = self._ensure_users(reset=options["reset_passwords"])
        if lines:
            path.parent.mkdir(parents=True, exist_ok=True)
            kept = {} if options["reset_passwords"] or not path.exists() else self._read(path)
            kept.update(dict(lines))
            path.write_text("".join(f"{u} {p}\n" for u, p in kept.items()), encoding="utf-8")
            path.chmod(0o600)
        if settings.PORTAL_SANDBOX:
            self._ensure_demo_policy()
        totp_path = path.with_name("demo-totp.txt")
        self._ensure_demo_totp(totp_path)
        shown = self._read(path) if path.exists() else {}
        port = os.environ.get("PORTAL_PORT", "8000")
        self.stdout.write(self.style.MIGRATE_HEADING(f"Demo sign-ins (http://127.0.0.1:{port}/):"))
        for username, full_name, roles in DEMO_CAST:
            role = ", ".join(roles) or "superuser"
            password = shown.get(username, "(unknown: run `make demo-passwords`)")
            self.stdout.write(f"  {username:<10} {password:<26} {role:<17} {full_name}")
        if totp_path.exists():
            secret = totp_path.read_text(encoding="utf-8").strip()
            self.stdout.write(
                f"  {DEMO_TOTP_USER} signs in with a TOTP code too: add the secret {secret} to an "
                "authenticator app (or run `oathtool --totp -b <secret>`)."
            )

    @staticmethod
    def _ensure_demo_totp(path: Path) -> None:
        """Enrol the demo Responder's authenticator app once; keep its secret in var/."""
        from allauth.mfa.models import Authenticator
        from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

        user = get_user_model().objects.get(username=DEMO_TOTP_USER)
        if Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            return
        secret = generate_totp_secret()
        TOTP.activate(user, secret)
        path.write_text(secret + "\n", encoding="utf-8")
        path.chmod(0o600)

    @staticmethod
    def _read(path: Path) -> dict[str, str]:
        pairs = (
            line.split(" ", 1)
            for line in path.read_text(encoding="utf-8").splitlines()
            if " " in line
        )
        return {u: p.strip() for u, p in pairs}

    @transaction.atomic
    def _ensure_users(self, *, reset: bool) -> list[tuple[str, str]]:
        user_model = get_user_model()
        changed = []
        for username, full_name, roles in DEMO_CAST:
            first, _, last = full_name.partition(" ")
            user, created = user_model.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@portal.example",
                },
            )
            if created or reset:
                password = _password()
                user.set_password(password)
                changed.append((username, password))
            if username == "admin":
                user.is_staff = user.is_superuser = True
            user.save()
            user.groups.set(Group.objects.filter(name__in=roles))
        return changed

    def _ensure_demo_policy(self) -> None:
        """The demo team may request every action for everyone, approved by one Approver;
        the sandbox's Okta "Administrators" group is protected. Made through the audited services."""
        from connections.sandbox.data import G_ADMINS
        from connections.sandbox.ids import IdSpace
        from offboarding.models import ActionRequest, Delegation, ProtectedGroup
        from offboarding.services import delegation_save, protected_group_add

        admin = get_user_model().objects.get(username="admin")
        team, _ = Group.objects.get_or_create(name=DEMO_TEAM)
        team.user_set.add(*get_user_model().objects.filter(username__in=DEMO_TEAM_MEMBERS))
        if not Delegation.objects.filter(team=team).exists():
            delegation_save(
                actor=admin,
                name="Service desk: all actions, one approver",
                team=team,
                allowed_actions=list(ActionRequest.Kind.values),
                target_group_ids=[],
                approver_group=Group.objects.get(name=Role.APPROVER),
                approvals_needed=1,
                expiry_hours=24,
                reset_sessions_without_approval=False,
            )
        admins_group_id = IdSpace(1).okta_group.make(G_ADMINS)
        if not ProtectedGroup.objects.filter(okta_group_id=admins_group_id).exists():
            protected_group_add(actor=admin, okta_group_id=admins_group_id, name="Administrators")
