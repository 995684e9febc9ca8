"""The deterministic organisation: people, groups, apps and per-person details, derived from a seed."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from connections.sandbox.ids import IdSpace

DOMAIN = "acme.example"
GOOGLE_ADMIN = f"admin@{DOMAIN}"
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)

FIRST = (
    "Aaron Abigail Adam Adele Ahmed Aisha Alan Alba Alex Amara Amir Ana Andre Anika Arjun Astrid "
    "Ben Bianca Boris Brigid Caleb Camila Carlos Chloe Chen Clara Colin Dana Daniel Daria Diego "
    "Dmitri Elena Eli Emil Emma Eric Esther Ewan Farah Felix Fiona Freya Gabriel Greta Hana Hugo "
    "Ian Ines Ingrid Isaac Ivan Jade James Jana Javier Jonas Julia Kai Karin Kenji Kira Lara Leo "
    "Lena Liam Lina Luca Lucia Maja Malik Marco Maria Mateo Maya Mei Milan Mira Nadia Nikolai Nina "
    "Noah Nora Olga Omar Oscar Paula Pedro Priya Quinn Rafael Rania Ravi Rosa Ruben Sara Sean Sofia "
    "Stefan Tara Theo Tomas Uma Valentina Victor Vera Wei Wen Xavier Yara Yusuf Zane Zoe"
).split()
LAST = (
    "Abbott Adler Alvarez Andersen Baker Banerjee Becker Berg Bianchi Blake Brooks Castro Chan "
    "Clarke Costa Cruz Dahl Diaz Dubois Edwards Ekström Evans Fernandes Fischer Fontaine Garcia "
    "Gomez Graham Gupta Hansen Hartmann Hayes Hoffmann Huang Ibrahim Ito Jansen Jensen Kaur Keller "
    "Khan Kim Klein Kowalski Kumar Larsen Laurent Lee Lindqvist Lopez Meyer Moreau Morris Müller "
    "Nakamura Nguyen Novak Olsen Ortiz Park Patel Perez Petrov Quinn Reyes Ricci Rossi Russo Sato "
    "Schmidt Schneider Silva Singh Sokolov Suzuki Tanaka Torres Vasquez Vogel Wagner Walsh Wang "
    "Weber Wilson Wong Yamamoto Young Zhang Zimmermann"
).split()
DEPARTMENTS = ("Engineering", "Sales", "Marketing", "Finance", "People", "Support", "Legal", "Ops")
STATUSES = ("ACTIVE", "SUSPENDED", "DEPROVISIONED", "STAGED", "LOCKED_OUT")
ACTIVE, SUSPENDED, DEPROVISIONED, STAGED, LOCKED_OUT = range(5)

F_GOOGLE, F_ZOOM, F_HYBRID, F_ADMINS, F_APPGROUP, F_GADMIN, F_NOGRAPH = 1, 2, 4, 8, 16, 32, 64
F_PRIVROLE = 128  # holds a privileged Entra directory role (Global Administrator)
ALL_SYSTEMS = F_GOOGLE | F_ZOOM


@dataclass(frozen=True)
class Persona:
    """A fixed person who exists whatever the seed."""

    first: str
    last: str
    local: str
    dept: int
    status: int
    flags: int
    note: str

    @property
    def email(self) -> str:
        return f"{self.local}@{DOMAIN}"


PERSONAS = (
    Persona(
        "Acme",
        "Admin",
        "admin",
        7,
        ACTIVE,
        ALL_SYSTEMS | F_ADMINS | F_GADMIN,
        "Google super admin; in Administrators",
    ),
    Persona(
        "Alice",
        "Anders",
        "alice.anders",
        0,
        ACTIVE,
        ALL_SYSTEMS | F_APPGROUP,
        "ordinary ACTIVE user in all four systems",
    ),
    Persona("Bob", "Brandt", "bob.brandt", 1, ACTIVE, F_GOOGLE, "no Zoom account"),
    Persona("Carol", "Chen", "carol.chen", 2, ACTIVE, F_ZOOM, "no Google account"),
    Persona(
        "Dan",
        "Dalton",
        "dan.dalton",
        0,
        ACTIVE,
        ALL_SYSTEMS | F_HYBRID,
        "hybrid Graph user (accountEnabled mastered on-premises)",
    ),
    Persona(
        "Erin", "Easton", "erin.easton", 5, SUSPENDED, ALL_SYSTEMS, "already SUSPENDED in Okta"
    ),
    Persona(
        "Frank", "Fischer", "frank.fischer", 3, DEPROVISIONED, ALL_SYSTEMS, "DEPROVISIONED in Okta"
    ),
    Persona(
        "Grace",
        "Garcia",
        "grace.garcia",
        0,
        ACTIVE,
        ALL_SYSTEMS | F_ADMINS,
        "administrator, member of Okta group Administrators",
    ),
    Persona("Henry", "Hughes", "henry.hughes", 1, STAGED, ALL_SYSTEMS, "STAGED in Okta"),
    Persona("Ivy", "Irwin", "ivy.irwin", 4, LOCKED_OUT, ALL_SYSTEMS, "LOCKED_OUT in Okta"),
    Persona(
        "Jack",
        "Jones",
        "jack.jones",
        6,
        ACTIVE,
        F_ZOOM | F_NOGRAPH,
        "no Google and no Microsoft account",
    ),
    Persona(
        "Kim",
        "Kowalski",
        "kim.kowalski",
        7,
        ACTIVE,
        ALL_SYSTEMS | F_PRIVROLE,
        "Entra Global Administrator: disabling her needs a privileged role on the app (403)",
    ),
)

# Groups: index -> (name, type); membership is derived from dept and flags.
GROUPS = (
    (("Everyone", "BUILT_IN"),)
    + tuple((d, "OKTA_GROUP") for d in DEPARTMENTS)
    + (
        ("AD Domain Users", "APP_GROUP"),
        ("Administrators", "OKTA_GROUP"),
    )
)
G_EVERYONE, G_DEPT0, G_APPGROUP, G_ADMINS = 0, 1, 1 + len(DEPARTMENTS), 2 + len(DEPARTMENTS)

# Apps: (appName, label); index is the app number.
APPS = (
    ("google", "Google Workspace"),
    ("zoomus", "Zoom"),
    ("office365", "Microsoft Office 365"),
    ("slack", "Slack"),
    ("salesforce", "Salesforce"),
    ("github_enterprise", "GitHub Enterprise"),
    ("workday", "Workday"),
    ("jira_onprem", "Jira"),
    ("box", "Box"),
)
A_GOOGLE, A_ZOOM, A_O365 = 0, 1, 2
OAUTH_CLIENTS = (("Acme Mobile", 3), ("Expenses", 4), ("Travel Desk", 5), ("Wiki", 6))
GOOGLE_CLIENTS = (
    ("Slack", "1234567890-slack.apps.googleusercontent.com"),
    ("Zoom for Google Calendar", "2233445566-zoomcal.apps.googleusercontent.com"),
    ("Google Drive for desktop", "947318989803-drivefs.apps.googleusercontent.com"),
    ("Calendly", "5566778899-calendly.apps.googleusercontent.com"),
)


class Org:
    """Compact base records for every person (parallel arrays) plus an email index."""

    def __init__(self, users: int, seed: int):
        self.seed = seed
        self.ids = IdSpace(seed)
        self.first: list[str] = []
        self.last: list[str] = []
        self.email: list[str] = []
        self.dept = bytearray()
        self.status = bytearray()
        self.flags = bytearray()
        self.by_email: dict[str, int] = {}
        for p in PERSONAS:
            self._add(p.first, p.last, p.email, p.dept, p.status, p.flags)
        rng = random.Random(seed)  # noqa: S311 - deterministic test data, not secrets
        for _ in range(max(0, users - len(PERSONAS))):
            self._add_random(rng)
        self.n = len(self.email)

    def _add(self, first, last, email, dept, status, flags) -> None:
        self.by_email[email] = len(self.email)
        self.first.append(first)
        self.last.append(last)
        self.email.append(email)
        self.dept.append(dept)
        self.status.append(status)
        self.flags.append(flags)

    def _add_random(self, rng: random.Random) -> None:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        base = f"{_ascii(first)}.{_ascii(last)}"
        email, n = f"{base}@{DOMAIN}", 1
        while email in self.by_email:
            n += 1
            email = f"{base}{n}@{DOMAIN}"
        r = rng.random()
        status = (
            ACTIVE
            if r < 0.85
            else SUSPENDED
            if r < 0.90
            else DEPROVISIONED
            if r < 0.94
            else STAGED
            if r < 0.97
            else LOCKED_OUT
        )
        flags = (F_GOOGLE if rng.random() >= 0.10 else 0) | (F_ZOOM if rng.random() >= 0.15 else 0)
        flags |= F_HYBRID if rng.random() < 0.03 else 0
        flags |= F_APPGROUP if rng.random() < 0.5 else 0
        flags |= F_ADMINS if rng.random() < 0.005 else 0
        self._add(first, last, email, rng.randrange(len(DEPARTMENTS)), status, flags)

    def find(self, email: str) -> int | None:
        return self.by_email.get(email.strip().lower())

    def has(self, idx: int, flag: int) -> bool:
        return bool(self.flags[idx] & flag)

    def created(self, idx: int) -> datetime:
        return EPOCH - timedelta(days=30 + (idx * 7919 + self.seed) % 1500, seconds=idx % 86400)


def _ascii(name: str) -> str:
    table = str.maketrans({"ö": "o", "ü": "u", "ä": "a", "é": "e"})
    return name.lower().translate(table)


def person_rng(org: Org, idx: int) -> random.Random:
    """The per-person generator used for lazily built details."""
    return random.Random(f"{org.seed}:{idx}")  # noqa: S311


def iso(moment: datetime) -> str:
    """Okta/Graph style UTC timestamp with milliseconds."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def iso_seconds(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
