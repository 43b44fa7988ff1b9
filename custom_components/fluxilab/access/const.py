"""Names and defaults of the access-control engine."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from custom_components.fluxilab.const import DOMAIN

MEMBERS_STORAGE_KEY: Final = f"{DOMAIN}.members"
MEMBERS_STORAGE_VERSION: Final = 1
MEMBERS_STORAGE_MINOR_VERSION: Final = 2
MACHINE_TYPES_STORAGE_KEY: Final = f"{DOMAIN}.machine_types"
AUTHORIZATIONS_STORAGE_KEY: Final = f"{DOMAIN}.authorizations"
COLLECTION_STORAGE_VERSION: Final = 1
HISTORY_STORAGE_KEY: Final = f"{DOMAIN}.history"
HISTORY_STORAGE_VERSION: Final = 1
HISTORY_SAVE_DELAY: Final = 10.0
"""Seconds over which history writes are batched into one save."""

BCRYPT_COST: Final = 12
PIN_MIN_LENGTH: Final = 6
PIN_MAX_BYTES: Final = 72
"""bcrypt ignores everything past 72 bytes: longer secrets are refused, not cut."""

MAX_SESSIONS: Final = 20_000
MAX_AUDIT: Final = 5_000
MAX_UNKNOWN_CARDS: Final = 200

DEFAULT_SESSION_TIMEOUT: Final = 900.0
"""Seconds without a heartbeat after which an open session is closed."""
DEFAULT_GRACE_PERIOD: Final = 60.0
"""Seconds a device keeps the machine running after a session ends."""
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


CONF_MAINTENANCE_INTERVAL: Final = "maintenance_interval"
"""Per-device maintenance interval in usage hours (device options); overrides the
machine type's."""


class Reason(StrEnum):
    """Stable reason codes of decisions (docs/ACCESS.md)."""

    GRANTED = "granted"
    UNKNOWN_CARD = "unknown_card"
    UNKNOWN_MEMBER = "unknown_member"
    NO_CREDENTIAL = "no_credential"
    INACTIVE = "inactive"
    NOT_AUTHORIZED = "not_authorized"
    EXPIRED = "expired"
    OUTSIDE_HOURS = "outside_hours"
    BLOCKED = "blocked"
    MAINTENANCE_DUE = "maintenance_due"
    SAFETY_LIMIT = "safety_limit"
    NOT_ALLOWED = "not_allowed"
    """The member may not register maintenance."""
    SESSION_UPDATED = "session_updated"
    SESSION_ENDED = "session_ended"
    SESSION_UNKNOWN = "session_unknown"
    MAINTENANCE_RECORDED = "maintenance_recorded"


class AccessEventType(StrEnum):
    """``type`` of the fluxilab_access bus event."""

    GRANTED = "granted"
    DENIED = "denied"
    OFFLINE_GRANTED = "offline_granted"
    SESSION_STARTED = "session_started"
    SESSION_ENDED = "session_ended"
    MAINTENANCE_RECORDED = "maintenance_recorded"


class SessionEnd(StrEnum):
    """Who closed a session."""

    DEVICE = "device"
    TIMEOUT = "timeout"
    RECONNECT = "reconnect"
    SERVICE = "service"
