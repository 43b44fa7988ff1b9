"""The credential mirror: the members allowed on this device, kept for offline use.

The hub sends the device (signed and encrypted) the members who may use it, with
their card ids and the bcrypt hash of their PIN/password (flagged while it is an
initial PIN, which logs nobody in). The agent keeps the last
verified set on disk so that, when the hub or the broker is unreachable, it can still
decide card swipes and local logins. The file is written atomically (temporary file,
fsync, rename, fsync of the folder) with mode 0600: a power cut leaves either the old
or the new set, never half of one.

Offline, :func:`offline_decision` decides with what the hub mirrored of its rules
(docs/ACCESS.md, "Offline decisions"): the machine type's offline policy, each
member's authorizations (expiry, lab-hours windows), maintenance due, the supervisor
requirement and the safety limits on this device's own latest readings, and it
refuses everything once the hub has not been heard from for the policy's maximum
mirror age.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
import contextlib
from dataclasses import dataclass, field
from datetime import datetime, time as dt_time
import json
import logging
from pathlib import Path
import re
import threading
import time
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from fluxilab_agent.state import write_private
from fluxilab_protocol.schemas import CREDENTIALS_SCHEMA, OfflinePolicy

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

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


def _bcrypt() -> Any:
    """bcrypt, imported on the first login check: most devices never see one."""
    import bcrypt  # noqa: PLC0415  # memory on a Pi (docs/AGENT.md, "Memory")

    return bcrypt


def hash_secret(secret: str, rounds: int = 12) -> str:
    """Hash a PIN/password with bcrypt (used by tests, tools and the hub)."""
    bcrypt = _bcrypt()
    hashed: bytes = bcrypt.hashpw(bcrypt_secret(secret), bcrypt.gensalt(rounds=rounds))
    return hashed.decode("ascii")


CLOCK_SKEW = 300.0
"""A last hub contact this many seconds in the future means the clock went back:
the mirror's age is unknown, so it counts as stale."""


@dataclass(frozen=True, slots=True)
class MirrorGrant:
    """One of a member's authorizations, as the device can check it."""

    expires: float | None
    """Unix time it stops working (expiry or lapse), None: never."""
    window: tuple[str, str] | None
    """Local lab hours ``(start, end)`` as ``HH:MM``, None: any time."""


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
    grants: tuple[MirrorGrant, ...] | None = None
    """None: needs no authorization here (the role bypasses, or the type needs none)."""
    supervisor: bool = False


@dataclass(frozen=True, slots=True)
class SafetyLimit:
    """A safety channel's allowed range."""

    channel: str
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True, slots=True)
class MaintenanceNotice:
    """The machine type's maintenance plan, sent while maintenance is due here."""

    message: str | None = None
    """The short line (a display's)."""
    description: str | None = None
    """What to do."""
    url: str | None = None
    """The instructions (http or https: the hub's schema checked it)."""


@dataclass(frozen=True, slots=True)
class MirroredBooking:
    """A booking of this device the hub mirrored (Unix times)."""

    member_id: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class OfflineRules:
    """The machine type's rules the hub mirrored for offline decisions."""

    policy: OfflinePolicy
    max_age: float
    """Seconds without hub contact after which offline grants stop."""
    tz: str | None = None
    """The hub's time zone: lab hours are the hub's local time."""
    maintenance_due: bool = False
    """Maintenance is due and the type blocks then (members who maintain pass)."""
    supervisor_required: bool = False
    supervised_hours: tuple[str, str] | None = None
    """Without ``supervisor_required``: a supervisor is needed outside these hours."""
    supervisor_minutes: float = 30.0
    safety_limits: tuple[SafetyLimit, ...] = ()
    booking_mode: str = "optional"
    """``off``, ``optional`` or ``required`` (the hub's access/bookings.py)."""
    bookings: tuple[MirroredBooking, ...] = ()
    """This device's bookings of the next day: they hold offline too."""
    booking_no_show_minutes: float = 0.0
    """A booking nobody used this long after its start no longer holds (0: never;
    a hub before offline no-shows sends none)."""
    booking_shared_by: frozenset[str] = frozenset()
    """Bookers (supervisors) whose bookings are shared while they are at the device."""
    outages: tuple[tuple[float, float], ...] = ()
    """This device's outages of the next day (start, end): nobody is granted."""
    unsafe: bool = False
    """A member reported the machine unsafe: nobody is granted until staff clear it."""
    maintenance: MaintenanceNotice | None = None
    """Maintenance is due: the plan the device UI shows (None: nothing due, or a
    hub before maintenance notices)."""
    require_pin: bool = False
    """The machine type wants card + PIN: the device asks for the PIN after the card
    and checks it against the card's member's mirrored hash."""


@dataclass(frozen=True, slots=True)
class OfflineContext:
    """What the device itself knows when it decides offline."""

    now: float
    """Unix time."""
    last_contact: float | None
    """Unix time of the last verified message from the hub, None: never."""
    values: Mapping[str, int | float | bool]
    """This device's latest telemetry readings by channel key."""
    supervisor_swipes: Mapping[str, float]
    """Unix time of the last swipe at this device by each mirrored supervisor."""
    member_sessions: Mapping[str, tuple[float, float | None]] = field(
        default_factory=dict
    )
    """Each member's latest session on this device: Unix start and end (None: open)."""
    with_card: bool = True
    """The member presented a card (False: a PIN login alone)."""
    pin: bool | None = None
    """The PIN given with the card: True matched the card's member's hash, False did
    not, None none given."""


def _window_holds(window: tuple[str, str], now: float, tz: ZoneInfo) -> bool:
    local = datetime.fromtimestamp(now, tz).time()
    begin, finish = dt_time.fromisoformat(window[0]), dt_time.fromisoformat(window[1])
    if begin <= finish:
        return begin <= local < finish
    return local >= begin or local < finish  # a window across midnight


def _zone(name: str | None) -> ZoneInfo | None:
    if name is None:
        return None
    # Imported here: only offline rules with a time window need time zones, and a
    # Raspberry Pi agent counts its memory (docs/AGENT.md).
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # noqa: PLC0415

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _supervised(
    member: MirrorMember, rules: OfflineRules, ctx: OfflineContext, tz: ZoneInfo | None
) -> bool:
    required = rules.supervisor_required or (
        rules.supervised_hours is not None
        and (tz is None or not _window_holds(rules.supervised_hours, ctx.now, tz))
    )
    if not required or member.supervisor:
        return True
    horizon = ctx.now - rules.supervisor_minutes * 60
    return any(
        who != member.id and ctx.now >= when >= horizon
        for who, when in ctx.supervisor_swipes.items()
    )


def _safe(rules: OfflineRules, values: Mapping[str, int | float | bool]) -> bool:
    for limit in rules.safety_limits:
        value = values.get(limit.channel)
        if value is None:
            return False  # no reading: the device cannot vouch for it
        number = float(value)
        if limit.min is not None and number < limit.min:
            return False
        if limit.max is not None and number > limit.max:
            return False
    return True


def offline_decision(
    member: MirrorMember | None, rules: OfflineRules | None, ctx: OfflineContext
) -> str:
    """Return the reason of an offline decision: ``granted`` or why not.

    Pure: everything comes in as arguments. Checks run in the hub's order
    (docs/ACCESS.md), after the offline ones: ``unknown_card``, ``offline_denied``
    (the type's policy is ``deny``, or the hub mirrored no policy), ``mirror_stale``,
    then for a type that wants card + PIN ``card_required`` (a PIN login alone),
    ``pin_required`` (the card alone: the device asks for the PIN) or ``pin_wrong``,
    and then ``expired``, ``outside_hours``, ``unsafe``, ``outage``, ``booked_by_other``,
    ``booking_required``, ``maintenance_due``, ``no_supervisor``, ``safety_limit``.
    Offline a booking nobody used for the machine type's
    ``booking_no_show_minutes`` holds no more, as at the hub (which releases it
    when it hears from the device again). Lab hours are the hub's local time; a
    device that cannot load the hub's time zone refuses members whose
    authorizations have hours.
    """
    if member is None:
        return "unknown_card"
    if rules is None or rules.policy is OfflinePolicy.DENY:
        return "offline_denied"
    if (
        ctx.last_contact is None
        or ctx.now - ctx.last_contact > rules.max_age
        or ctx.last_contact - ctx.now > CLOCK_SKEW
    ):
        return "mirror_stale"
    if rules.require_pin:
        if not ctx.with_card:
            return "card_required"
        if ctx.pin is None:
            return "pin_required"
        if not ctx.pin:
            return "pin_wrong"
    tz = _zone(rules.tz)
    if member.grants is not None:
        current = [g for g in member.grants if g.expires is None or ctx.now < g.expires]
        if not current:
            return "expired"
        if not any(
            g.window is None
            or (tz is not None and _window_holds(g.window, ctx.now, tz))
            for g in current
        ):
            return "outside_hours"
    if rules.unsafe:
        return "unsafe"
    if any(start <= ctx.now < end for start, end in rules.outages):
        return "outage"
    if rules.booking_mode != "off":
        running = [
            b
            for b in rules.bookings
            if b.start <= ctx.now < b.end
            and not _no_show(b, rules, ctx)
            and not _shared(b, rules, ctx)
        ]
        own = any(b.member_id == member.id for b in running)
        if running and not own:
            return "booked_by_other"
        if rules.booking_mode == "required" and not own:
            return "booking_required"
    if rules.maintenance_due and not member.maintenance:
        return "maintenance_due"
    if not _supervised(member, rules, ctx, tz):
        return "no_supervisor"
    if not _safe(rules, ctx.values):
        return "safety_limit"
    return "granted"


def _no_show(
    booking: MirroredBooking, rules: OfflineRules, ctx: OfflineContext
) -> bool:
    """Return True if nobody came to a running booking: offline it holds no more.

    As the hub's rule (access/bookings.py ``is_no_show``): ``no_show_minutes`` after
    its start, and its member had no session on this device running at any time
    since it started. The device knows only its latest session per member, since
    the agent started.
    """
    minutes = rules.booking_no_show_minutes
    if minutes <= 0 or ctx.now < booking.start + minutes * 60:
        return False
    seen = ctx.member_sessions.get(booking.member_id)
    if seen is None:
        return True
    start, end = seen
    return not (start < booking.end and (end is None or end > booking.start))


SHARE_PRESENCE_SECONDS = 30 * 60
"""As the hub's ``SHARE_PRESENCE_MINUTES`` (access/bookings.py)."""


def _shared(booking: MirroredBooking, rules: OfflineRules, ctx: OfflineContext) -> bool:
    """Return True if a supervisor's booking lets others in: they swiped here lately."""
    if booking.member_id not in rules.booking_shared_by:
        return False
    seen = ctx.supervisor_swipes.get(booking.member_id)
    return seen is not None and ctx.now - seen <= SHARE_PRESENCE_SECONDS


def _rules(body: Mapping[str, Any] | None) -> OfflineRules | None:
    if body is None:
        return None
    hours = body.get("supervised_hours")
    return OfflineRules(
        policy=OfflinePolicy(body["policy"]),
        max_age=float(body["max_age"]),
        tz=body.get("tz"),
        maintenance_due=bool(body.get("maintenance_due", False)),
        supervisor_required=bool(body.get("supervisor_required", False)),
        supervised_hours=(hours[0], hours[1]) if hours else None,
        supervisor_minutes=float(body.get("supervisor_minutes", 30)),
        safety_limits=tuple(
            SafetyLimit(
                channel=limit["channel"],
                min=limit.get("min"),
                max=limit.get("max"),
            )
            for limit in body.get("safety_limits", ())
        ),
        booking_mode=str(body.get("booking_mode", "optional")),
        bookings=tuple(
            MirroredBooking(
                member_id=b["member_id"], start=float(b["start"]), end=float(b["end"])
            )
            for b in body.get("bookings", ())
        ),
        outages=tuple(
            (float(o["start"]), float(o["end"])) for o in body.get("outages", ())
        ),
        unsafe=bool(body.get("unsafe", False)),
        booking_no_show_minutes=float(body.get("booking_no_show_minutes", 0)),
        booking_shared_by=frozenset(body.get("booking_shared_by", ())),
        maintenance=_notice(body.get("maintenance")),
        require_pin=bool(body.get("require_pin", False)),
    )


def _notice(body: Mapping[str, Any] | None) -> MaintenanceNotice | None:
    if not body:
        return None
    return MaintenanceNotice(
        message=body.get("message"),
        description=body.get("description"),
        url=body.get("url"),
    )


def _member(item: Mapping[str, Any]) -> MirrorMember:
    grants = item.get("grants")
    return MirrorMember(
        id=item["id"],
        name=item["name"],
        level=item["level"],
        cards=tuple(item.get("cards", ())),
        pin_hash=item.get("pin_hash"),
        maintenance=bool(item.get("maintenance", False)),
        grants=None
        if grants is None
        else tuple(
            MirrorGrant(
                expires=grant.get("expires"),
                window=(grant["window"][0], grant["window"][1])
                if grant.get("window")
                else None,
            )
            for grant in grants
        ),
        supervisor=bool(item.get("supervisor", False)),
        pin_must_change=item.get("pin_must_change") is True,
    )


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
        self.rules: OfflineRules | None = None
        self.received: float | None = None
        """Unix time the current set arrived (stored with it): the last hub contact
        an agent that restarted offline can be sure of."""
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
            stored = json.loads(text)
            received = (
                stored.pop("received", None) if isinstance(stored, dict) else None
            )
            body = CREDENTIALS_SCHEMA(stored)
        except (ValueError, vol.Invalid) as err:
            # Never start from a damaged set; the hub sends a fresh one on sync.
            _LOGGER.error(
                "Ignoring the damaged credential mirror %s: %s", self.path, err
            )
            return
        self._install(
            body,
            float(received)
            if isinstance(received, (int, float)) and not isinstance(received, bool)
            else None,
        )

    def _install(self, body: dict[str, Any], received: float | None) -> None:
        members = tuple(_member(item) for item in body["members"])
        rules = _rules(body.get("offline"))
        by_card: dict[str, MirrorMember] = {}
        for member in members:
            for card in member.cards:
                by_card[card.casefold()] = member
        with self._lock:
            self.generation = int(body["generation"])
            self.timeout = body.get("timeout")
            self.grace = body.get("grace")
            self.rules = rules
            self.received = received
            self._members = members
            self._by_card = by_card
            self._by_id = {member.id: member for member in members}
            self._by_name = {member.name.casefold(): member for member in members}
            self._dummy_cost = _usual_cost(members)

    def replace(self, body: dict[str, Any]) -> bool:
        """Install a verified, decrypted set and persist it atomically.

        A set whose generation is not newer than the current one is ignored (a
        replayed or reordered older set must never resurrect a removed member);
        returns False then.
        """
        body = CREDENTIALS_SCHEMA(body)
        if int(body["generation"]) <= self.generation:
            _LOGGER.warning(
                "Ignoring credential generation %s (have %s)",
                body["generation"],
                self.generation,
            )
            return False
        received = time.time()
        self._write(body | {"received": received})
        self._install(body, received)
        _LOGGER.info(
            "Credential mirror now at generation %s with %d members",
            self.generation,
            len(self._members),
        )
        return True

    def clear(self) -> None:
        """Forget every credential (device revoked or re-paired)."""
        with self._lock:
            self.generation = -1
            self.timeout = self.grace = None
            self.rules = None
            self.received = None
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
            bcrypt = _bcrypt()
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
            ok = _bcrypt().checkpw(bcrypt_secret(secret), hashed)
        except ValueError:
            _LOGGER.warning("A member's PIN hash in the credential mirror is invalid")
            return None
        return member if ok and stored else None

    def verify_pin(self, member: MirrorMember | None, secret: str) -> bool:
        """Check the PIN given with a card against the card's member's hash.

        Blocking (bcrypt), as ``verify_login``; a member without a PIN (or no member)
        is checked against the dummy hash, so the time tells nothing.
        """
        stored = member.pin_hash if member is not None else None
        hashed = stored.encode("ascii", "replace") if stored else self.dummy_hash()
        try:
            ok = bool(_bcrypt().checkpw(bcrypt_secret(secret), hashed))
        except ValueError:
            _LOGGER.warning("A member's PIN hash in the credential mirror is invalid")
            return False
        return ok and stored is not None

    @property
    def members(self) -> tuple[MirrorMember, ...]:
        """Every member in the current set."""
        with self._lock:
            return self._members
