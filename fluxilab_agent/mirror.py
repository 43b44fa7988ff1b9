"""The credential mirror: the members allowed on this device, kept for offline use.

The hub sends the device (signed and encrypted) the members who may use it, with
their card ids and the bcrypt hash of their PIN/password (flagged while it is an
initial PIN, which logs nobody in). The agent keeps the last
verified set on disk so that, when the hub or the broker is unreachable, it can still
decide card swipes and local logins. The file is written atomically (temporary file,
fsync, rename, fsync of the folder) with mode 0600: a power cut leaves either the old
or the new set, never half of one.
"""

from __future__ import annotations

from collections import Counter
import contextlib
from dataclasses import dataclass
import json
import logging
from pathlib import Path
import re
import threading
from typing import Any

import bcrypt
import voluptuous as vol

from fluxilab_agent.state import write_private
from fluxilab_protocol.schemas import CREDENTIALS_SCHEMA

_LOGGER = logging.getLogger(__name__)

BCRYPT_MAX_BYTES = 72
"""bcrypt only ever looks at the first 72 bytes of a secret; newer bcrypt releases
refuse longer input, so every caller truncates the same way (hub included)."""

DEFAULT_BCRYPT_COST = 12
"""The cost of the dummy hash while the mirror holds no real hash to copy it from
(the hub's cost, ``BCRYPT_COST`` in the integration's ``access/const.py``)."""
_COST = re.compile(r"^\$2[abxy]?\$(\d{2})\$")
_DUMMY_SECRET = b"fluxilab-no-such-member"


def bcrypt_cost(pin_hash: str | bytes | None) -> int | None:
    """Return the cost field of a bcrypt hash (``$2b$12$...`` is 12), if it is one."""
    if isinstance(pin_hash, bytes):
        pin_hash = pin_hash.decode("ascii", "replace")
    if not pin_hash or (match := _COST.match(pin_hash)) is None:
        return None
    cost = int(match.group(1))
    return cost if 4 <= cost <= 31 else None


def _usual_cost(members: tuple[MirrorMember, ...]) -> int:
    """Return the cost most real hashes in the set have (ties: the higher one)."""
    costs = Counter(
        cost for m in members if (cost := bcrypt_cost(m.pin_hash)) is not None
    )
    if not costs:
        return DEFAULT_BCRYPT_COST
    return max(costs, key=lambda cost: (costs[cost], cost))


def bcrypt_secret(secret: str) -> bytes:
    """Encode a PIN/password the way every FluxiLab component hashes it."""
    return secret.encode("utf-8")[:BCRYPT_MAX_BYTES]


def hash_secret(secret: str, rounds: int = 12) -> str:
    """Hash a PIN/password with bcrypt (used by tests, tools and the hub)."""
    return bcrypt.hashpw(bcrypt_secret(secret), bcrypt.gensalt(rounds=rounds)).decode(
        "ascii"
    )


@dataclass(frozen=True, slots=True)
class MirrorMember:
    """One member allowed on this device, as the hub last told us."""

    id: str
    name: str
    level: str
    cards: tuple[str, ...]
    pin_hash: str | None
    maintenance: bool
    pin_must_change: bool = False
    """The PIN is an initial one (an admin's reset): a login with it only learns
    that it must be replaced at the hub first (reason ``pin_change_required``)."""


class CredentialMirror:
    """The last verified credential set, on disk and in memory.

    Thread safe: the MQTT thread replaces the set while the gateway's executor
    threads check logins.
    """

    def __init__(self, path: Path) -> None:
        """Load the last verified set from ``path`` if there is one."""
        self.path = path
        self._lock = threading.Lock()
        self.generation = -1
        self.timeout: float | None = None
        self.grace: float | None = None
        self._members: tuple[MirrorMember, ...] = ()
        self._by_card: dict[str, MirrorMember] = {}
        self._by_id: dict[str, MirrorMember] = {}
        self._by_name: dict[str, MirrorMember] = {}
        self._dummy_cost = DEFAULT_BCRYPT_COST
        self._dummies: dict[int, bytes] = {}
        self._load()

    def _load(self) -> None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        except OSError as err:
            _LOGGER.error("Cannot read the credential mirror %s: %s", self.path, err)
            return
        try:
            body = CREDENTIALS_SCHEMA(json.loads(text))
        except (ValueError, vol.Invalid) as err:
            # Never start from a damaged set; the hub sends a fresh one on sync.
            _LOGGER.error(
                "Ignoring the damaged credential mirror %s: %s", self.path, err
            )
            return
        self._install(body)

    def _install(self, body: dict[str, Any]) -> None:
        members = tuple(
            MirrorMember(
                id=item["id"],
                name=item["name"],
                level=item["level"],
                cards=tuple(item.get("cards", ())),
                pin_hash=item.get("pin_hash"),
                maintenance=bool(item.get("maintenance", False)),
                pin_must_change=item.get("pin_must_change") is True,
            )
            for item in body["members"]
        )
        by_card: dict[str, MirrorMember] = {}
        for member in members:
            for card in member.cards:
                by_card[card.casefold()] = member
        with self._lock:
            self.generation = int(body["generation"])
            self.timeout = body.get("timeout")
            self.grace = body.get("grace")
            self._members = members
            self._by_card = by_card
            self._by_id = {member.id: member for member in members}
            self._by_name = {member.name.casefold(): member for member in members}
            self._dummy_cost = _usual_cost(members)

    def replace(self, body: dict[str, Any]) -> None:
        """Install a verified, decrypted set and persist it atomically.

        A set whose generation is not newer than the current one is ignored (a
        replayed or reordered older set must never resurrect a removed member).
        """
        body = CREDENTIALS_SCHEMA(body)
        if int(body["generation"]) <= self.generation:
            _LOGGER.debug(
                "Ignoring credential generation %s (have %s)",
                body["generation"],
                self.generation,
            )
            return
        self._write(body)
        self._install(body)
        _LOGGER.info(
            "Credential mirror now at generation %s with %d members",
            self.generation,
            len(self._members),
        )

    def clear(self) -> None:
        """Forget every credential (device revoked or re-paired)."""
        with self._lock:
            self.generation = -1
            self.timeout = self.grace = None
            self._members = ()
            self._by_card, self._by_id, self._by_name = {}, {}, {}
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def _write(self, body: dict[str, Any]) -> None:
        write_private(
            self.path, json.dumps(body, separators=(",", ":")).encode("utf-8")
        )

    def by_card(self, card: str) -> MirrorMember | None:
        """Return the member holding ``card`` (case-insensitive), if any."""
        with self._lock:
            return self._by_card.get(card.casefold())

    def by_id(self, member_id: str) -> MirrorMember | None:
        """Return the member with this id, if any."""
        with self._lock:
            return self._by_id.get(member_id)

    def find(self, login: str) -> MirrorMember | None:
        """Return the member a login names: id, or name or id case-insensitively."""
        with self._lock:
            member = self._by_id.get(login) or self._by_name.get(login.casefold())
            if member is None:
                member = next(
                    (m for m in self._members if m.id.casefold() == login.casefold()),
                    None,
                )
            return member

    def dummy_hash(self) -> bytes:
        """Return a hash of nothing anyone knows, at the cost the real ones have.

        Checking an unknown login (or a member without PIN) against it takes as long
        as a wrong PIN of a real member, so the time does not tell which names
        exist. Blocking the first time per cost (one bcrypt round trip).
        """
        with self._lock:
            cost = self._dummy_cost
            dummy = self._dummies.get(cost)
        if dummy is None:
            dummy = bcrypt.hashpw(_DUMMY_SECRET, bcrypt.gensalt(rounds=cost))
            with self._lock:
                self._dummies[cost] = dummy
        return dummy

    def verify_login(self, login: str, secret: str) -> MirrorMember | None:
        """Check a member id or name (case-insensitive) and PIN/password.

        Blocking (bcrypt): callers in asyncio run it in an executor. A member whose
        PIN ``pin_must_change`` is returned too: callers refuse the login with that
        reason (it is told only to whoever knows the PIN).
        """
        member = self.find(login)
        stored = member.pin_hash if member is not None else None
        hashed = stored.encode("ascii", "replace") if stored else self.dummy_hash()
        try:
            ok = bcrypt.checkpw(bcrypt_secret(secret), hashed)
        except ValueError:
            _LOGGER.warning("A member's PIN hash in the credential mirror is invalid")
            return None
        return member if ok and stored else None

    @property
    def members(self) -> tuple[MirrorMember, ...]:
        """Every member in the current set."""
        with self._lock:
            return self._members
