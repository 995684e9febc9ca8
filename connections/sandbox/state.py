"""Mutable sandbox state: per-person overlays built lazily from the seed, the effect log, locks."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from connections.sandbox import data
from connections.sandbox.data import Org, person_rng

EFFECT_LOG_MAX = 200_000


@dataclass
class PersonState:
    """Everything about one person that an API call can change."""

    okta_status: str
    okta_deleted: bool
    status_changed: datetime
    last_updated: datetime
    groups: set[int]
    factors: dict[int, str]  # k -> factorType
    apps: list[int]
    sessions: int
    grants: dict[int, int]  # k -> client number
    client_tokens: dict[int, int]  # client number -> refresh tokens
    okta_devices: dict[int, str]  # k -> status
    devices_forgotten: bool = False
    # Apps assigned through a group (app -> group): listed while the person is in that group.
    # None in the seed; tests add them to see how the portal treats group-based assignments.
    group_apps: dict[int, int] = field(default_factory=dict)
    google_suspended: bool = False
    google_signed_out_at: str | None = None
    google_signouts: int = 0
    google_tokens: dict[int, bool] = field(default_factory=dict)  # client number -> present
    google_asps: dict[int, str] = field(default_factory=dict)  # codeId -> name
    backup_codes_generation: int = 0
    mobile: dict[int, str] = field(default_factory=dict)  # k -> status
    okta_email_verified: bool = True  # the email_verified claim of Okta sign-in
    zoom_status: str = "active"
    zoom_sso_tokens: int = 0
    graph_enabled: bool = True
    graph_sessions_from: datetime = data.EPOCH
    graph_devices: dict[int, bool] = field(default_factory=dict)  # k -> accountEnabled


def initial_groups(org: Org, idx: int) -> set[int]:
    """The Okta groups a person starts in (before any change), derived from the seed."""
    groups = {data.G_EVERYONE, data.G_DEPT0 + org.dept[idx]}
    if org.has(idx, data.F_APPGROUP):
        groups.add(data.G_APPGROUP)
    if org.has(idx, data.F_ADMINS):
        groups.add(data.G_ADMINS)
    return groups


def build_person(org: Org, idx: int) -> PersonState:
    """Derive a person's initial state from the seed (personas always get at least one of each)."""
    rng = person_rng(org, idx)
    floor = 1 if idx < len(data.PERSONAS) else 0
    status = org.status[idx]
    gone = status == data.DEPROVISIONED
    created = org.created(idx)
    groups = initial_groups(org, idx)
    apps = [data.A_O365]
    apps += [data.A_GOOGLE] if org.has(idx, data.F_GOOGLE) else []
    apps += [data.A_ZOOM] if org.has(idx, data.F_ZOOM) else []
    apps += sorted(rng.sample(range(3, len(data.APPS)), rng.randint(floor, 3)))
    factor_types = ("push", "token:software:totp", "sms", "webauthn")
    grants = {k: rng.randrange(len(data.OAUTH_CLIENTS)) for k in range(rng.randint(floor, 3))}
    state = PersonState(
        okta_status=data.STATUSES[status],
        okta_deleted=False,
        status_changed=created + timedelta(days=1),
        last_updated=created + timedelta(days=2),
        groups=set() if gone else groups,
        factors={} if gone else {k: factor_types[k] for k in range(rng.randint(max(floor, 1), 3))},
        apps=[] if gone else apps,
        sessions=0 if gone else rng.randint(max(floor, 0), 4),
        grants={} if gone else grants,
        client_tokens={} if gone else {c: rng.randint(1, 3) for c in set(grants.values())},
        okta_devices={k: "ACTIVE" for k in range(rng.randint(floor, 2))},
    )
    _google_zoom_graph(org, idx, rng, state, floor)
    return state


def _google_zoom_graph(org: Org, idx: int, rng, state: PersonState, floor: int) -> None:
    gone = org.status[idx] == data.DEPROVISIONED
    state.google_suspended = gone
    state.google_tokens = {
        c: True for c in rng.sample(range(len(data.GOOGLE_CLIENTS)), rng.randint(floor, 3))
    }
    state.google_asps = {1000 + k: f"App password {k + 1}" for k in range(rng.randint(floor, 2))}
    state.mobile = {k: "APPROVED" for k in range(rng.randint(floor, 2))}
    state.zoom_status = "inactive" if gone else "active"
    state.zoom_sso_tokens = 0 if gone else rng.randint(floor, 2)
    state.graph_enabled = not gone
    state.graph_sessions_from = org.created(idx) + timedelta(days=3)
    state.graph_devices = {k: True for k in range(rng.randint(floor, 2))}


class State:
    """Holds the overlay of changed/inspected people, issued tokens and the effect log."""

    def __init__(self, org: Org):
        self.org = org
        self.lock = threading.RLock()
        self.people: dict[int, PersonState] = {}
        self.effects: deque[dict] = deque(maxlen=EFFECT_LOG_MAX)
        self.seq = 0
        self.tokens: dict[str, dict] = {}
        self.used_jti: dict[str, float] = {}
        self.token_ttl: int | None = None
        self.codes: dict[str, dict] = {}  # OpenID Connect authorization codes (single use)
        self.signing_keys: dict[str, object] = {}  # issuer keys made on first use, per system
        self.apps: dict[str, dict] = {}  # what each app was granted (connections/sandbox/apps.py)
        self.app_defaults: dict[str, dict] = {}
        self.dpop_nonce = ""  # Okta's current DPoP nonce, made on first use
        self.dpop_jtis: set[str] = set()  # DPoP proof ids seen (okta/dpop.py), oldest first:
        self.dpop_jti_order: deque[tuple[float, str]] = deque()

    @property
    def okta_app(self) -> dict:
        return self.apps["okta"]

    def set_app_defaults(self, defaults: dict[str, dict]) -> None:
        with self.lock:
            self.app_defaults = defaults
            self.apps = {k: dict(v) for k, v in defaults.items()}

    def person(self, idx: int) -> PersonState:
        """The person's mutable state, built on first use."""
        found = self.people.get(idx)
        if found is None:
            found = self.people[idx] = build_person(self.org, idx)
        return found

    def okta_status(self, idx: int) -> str:
        found = self.people.get(idx)
        return found.okta_status if found else data.STATUSES[self.org.status[idx]]

    def okta_groups(self, idx: int) -> set[int]:
        """The person's Okta groups now, without building their whole state."""
        found = self.people.get(idx)
        if found is not None:
            return found.groups
        return (
            set() if self.org.status[idx] == data.DEPROVISIONED else initial_groups(self.org, idx)
        )

    def okta_exists(self, idx: int) -> bool:
        found = self.people.get(idx)
        return not (found and found.okta_deleted)

    def reset(self) -> None:
        """Back to the seed: people, effect log and token TTL (issued tokens stay valid)."""
        with self.lock:
            self.people.clear()
            self.effects.clear()
            self.token_ttl = None
            self.apps = {k: dict(v) for k, v in self.app_defaults.items()}

    def log_effect(self, **entry) -> None:
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            entry["time"] = datetime.now(UTC).isoformat()
            self.effects.append(entry)

    def effects_since(self, since: int = 0, system: str | None = None) -> list[dict]:
        with self.lock:
            return [
                dict(e)
                for e in self.effects
                if e["seq"] > since and (system is None or e["system"] == system)
            ]

    def clear_effects(self) -> None:
        with self.lock:
            self.effects.clear()
