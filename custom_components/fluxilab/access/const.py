"""Names and defaults of the access-control engine."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from custom_components.fluxilab.const import DOMAIN
from custom_components.fluxilab.protocol.access import Reason
from custom_components.fluxilab.protocol.pins import (
    PIN_BACKOFF,
    PIN_FREE_FAILURES,
    PIN_MAX_BACKOFF,
)

__all__ = ["Reason"]
"""The decisions' reason codes are the wire's (a reply's ``reason``): they live with
the request and the decision in protocol/access.py, and are named here too for the
engine and its features."""

MEMBERS_STORAGE_KEY: Final = f"{DOMAIN}.members"
MEMBERS_STORAGE_VERSION: Final = 1
MEMBERS_STORAGE_MINOR_VERSION: Final = 4
MACHINE_TYPES_STORAGE_KEY: Final = f"{DOMAIN}.machine_types"
MACHINE_TYPES_STORAGE_MINOR_VERSION: Final = 2
"""1.2: every machine type has an explicit ``offline_policy``."""
LOGIN_CREATED: Final = "login_created_by_fluxilab"
"""A member's linked Home Assistant user is a login FluxiLab created (logins.py)."""
DEACTIVATE_LOGIN: Final = "deactivate_login"
"""Deactivating or deleting the member deactivates their Home Assistant login."""
MEMBER_LOGINS_STORAGE_KEY: Final = f"{DOMAIN}.member_logins"
"""The Home Assistant users FluxiLab deactivated with their members."""
GENERATION_STORAGE_KEY: Final = f"{DOMAIN}.credential_generation"
DEFAULT_OFFLINE_MAX_AGE_HOURS: Final = 24.0
"""Hours a device may decide from its credential mirror without hearing the hub."""
AUTHORIZATIONS_STORAGE_KEY: Final = f"{DOMAIN}.authorizations"
ROLES_STORAGE_KEY: Final = f"{DOMAIN}.roles"
"""The lab's own roles (the built-in ones are not stored)."""
COLLECTION_STORAGE_VERSION: Final = 1
HISTORY_STORAGE_KEY: Final = f"{DOMAIN}.history"
HISTORY_STORAGE_VERSION: Final = 1
HISTORY_SAVE_DELAY: Final = 10.0
"""Seconds over which history writes are batched into one database checkpoint."""

BCRYPT_COST: Final = 12
PIN_MIN_LENGTH: Final = 6
PIN_MAX_BYTES: Final = 72
"""bcrypt ignores everything past 72 bytes: longer secrets are refused, not cut."""
INITIAL_PIN_LENGTH: Final = 8
"""Digits of the random one-time PIN an admin's reset issues (keypad friendly)."""
PIN_CHANGE_FREE_FAILURES: Final = PIN_FREE_FAILURES
"""Wrong current PINs a member may give before PIN changes back off (protocol/pins.py)."""
PIN_CHANGE_BACKOFF: Final = PIN_BACKOFF
"""Seconds of the first back-off; each further wrong current PIN doubles it."""
PIN_CHANGE_MAX_BACKOFF: Final = PIN_MAX_BACKOFF
"""The longest wait between two checked attempts of a PIN change."""

MAX_SESSIONS: Final = 2_000
"""Newest closed sessions kept in memory (and every open one); the database keeps all.

Memory is for the live lookups only (a replayed session, a repeated stop, the day of
sessions a booking verdict looks at); the panel and the queries read the database.
Every entry made since the start is walked by each of Python's full cycle
collections, which hold every thread (docs/PERFORMANCE.md, issue 15, seventh pass):
with 20,000 closed sessions and 5,000 audit entries a quiet full pass in the lab
bench took 46-56 ms, with these bounds 6-7 ms."""
MAX_AUDIT: Final = 1_000
"""Newest audit entries kept in memory (a replayed request's live answer, the last
grant at a busy device); the database keeps all (the audit pages read it)."""

DEFAULT_SESSION_TIMEOUT: Final = 900.0
"""Seconds without a heartbeat after which an open session is closed."""
DEFAULT_GRACE_PERIOD: Final = 60.0
"""Seconds a device keeps the machine running after a session ends."""
MAX_GRACE_PERIOD: Final = 24 * 3600
"""Longest grace a machine type may give: a day (Fab-O-Matic's backend has no cap;
boards take whole minutes up to 65535, agents any number)."""
DEFAULT_USAGE_RETENTION_DAYS: Final = 365
DEFAULT_UNKNOWN_CARD_RETENTION_DAYS: Final = 30
DEFAULT_SESSION_CHECK_INTERVAL: Final = 60
"""Default seconds between two looks for sessions a silent device left open (the
``session_check_interval`` setting)."""
MIN_SESSION_CHECK_INTERVAL: Final = 1
MAX_SESSION_CHECK_INTERVAL: Final = 3600


SIGNAL_DEVICE_FREE: Final = f"{DOMAIN}_device_free"
"""Dispatcher signal, argument our device id: a device in use became free (its last
open session ended, or telemetry says it stopped working)."""


CONF_ENTRANCE: Final = "entrance"
CONF_PROJECT_SENSORS: Final = "project_sensors"
"""Device option: the device carries a sensor of this month's charges per project."""
"""Device option: the device is a lab entrance; granted swipes check in and out."""
DEFAULT_CHECKIN_EXPIRY_HOURS: Final = 12
"""Hours after which a check-in nobody closed expires (``checkin_expiry_hours``)."""
DEFAULT_SUPERVISOR_MINUTES: Final = 30
"""Minutes a supervisor's swipe or check-out still counts as present."""


DEFAULT_LAPSE_NOTICE_DAYS: Final = 14
"""Days ahead of a lapse that members and admins are told (``lapse_notice_days``)."""
DEFAULT_INTEREST_EXPIRY_HOURS: Final = 8
"""Hours a "tell me when it's free" waits (``interest_expiry_hours``)."""


CONF_MAINTENANCE_INTERVAL: Final = "maintenance_interval"
"""Per-device maintenance interval in usage hours (device options); overrides the
machine type's."""


class AccessEventType(StrEnum):
    """``type`` of the fluxilab_access bus event."""

    GRANTED = "granted"
    DENIED = "denied"
    OFFLINE_GRANTED = "offline_granted"
    SESSION_STARTED = "session_started"
    SESSION_ENDED = "session_ended"
    MAINTENANCE_RECORDED = "maintenance_recorded"
    CHECKED_IN = "checked_in"
    CHECKED_OUT = "checked_out"
    AUTHORIZATION_GRANTED = "authorization_granted"
    """A trainer's window authorized the member (instructor grant)."""
    LAB_EMPTY = "lab_empty"
    """The last member checked out (fluxilab_lab only)."""
    BUSY_STARTED = "busy_started"
    """Telemetry says the machine started working (telemetry_rules.py)."""
    BUSY_ENDED = "busy_ended"
    """Telemetry says the machine is idle again."""
    INTEREST_NOTIFIED = "interest_notified"
    """A member who asked to be told the device is free was told (interest.py)."""
    BOOKING_RELEASED = "booking_released"
    """Nobody used a booking: it was released, its member told (booking_store.py)."""
    AUTHORIZATION_LAPSING = "authorization_lapsing"
    """An authorization lapses soon (fluxilab_lab only, lapsing.py)."""


class SessionEnd(StrEnum):
    """Who closed a session."""

    DEVICE = "device"
    TIMEOUT = "timeout"
    RECONNECT = "reconnect"
    SERVICE = "service"
    LAB_EMPTY = "lab_empty"
    IDLE = "idle"
    """Busy time from telemetry, booked as a session of its own."""


SETTING_SHOW_MEMBER_NAMES: Final = "show_member_names"
DEFAULT_SHOW_MEMBER_NAMES: Final = False
"""Members' names stay off entities, events and tags unless the lab shows them."""
