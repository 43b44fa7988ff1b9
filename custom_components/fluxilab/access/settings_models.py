"""The lab's settings as the core reads them: one typed, immutable value.

The history keeps them as one stored document (``settings``, history.py): read
here once when it is loaded (or a journal row replayed), written back as its
:meth:`LabSettings.as_dict`. A door that changes them (the services, the panel,
the websocket commands) builds the new value with :func:`dataclasses.replace`
once its schema has checked what came in, and stores it in the history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Final

from homeassistant.util.json import JsonObjectType

from .const import (
    DEFAULT_CHECKIN_EXPIRY_HOURS,
    DEFAULT_INTEREST_EXPIRY_HOURS,
    DEFAULT_LAPSE_NOTICE_DAYS,
    DEFAULT_SESSION_CHECK_INTERVAL,
    DEFAULT_SHOW_MEMBER_NAMES,
    DEFAULT_UNKNOWN_CARD_RETENTION_DAYS,
    DEFAULT_USAGE_RETENTION_DAYS,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class LabSettings:
    """The lab's settings (retention, session checks, notifications, names).

    Each field is the stored key of the same name; a stored document lacking one
    reads as its default. Keys this version does not know (a newer one wrote
    them) are kept in :attr:`extra` and stored again as they were.
    """

    usage_retention_days: int = DEFAULT_USAGE_RETENTION_DAYS
    """Days sessions and audit entries keep their personal fields (gdpr.py)."""
    unknown_card_retention_days: int = DEFAULT_UNKNOWN_CARD_RETENTION_DAYS
    """Days an unknown card's sighting is kept (gdpr.py)."""
    session_check_interval: int = DEFAULT_SESSION_CHECK_INTERVAL
    """Seconds between looks for stale sessions (engine.py)."""
    admin_notify_services: tuple[str, ...] = field(default=(), repr=False)
    """Notify services of the lab's admins (notify.py): they name people's phones,
    never in the repr."""
    lapse_notice_days: int = DEFAULT_LAPSE_NOTICE_DAYS
    """Days ahead of a lapse that members and admins are told (lapsing.py)."""
    interest_expiry_hours: int = DEFAULT_INTEREST_EXPIRY_HOURS
    """Hours a member's wait for a busy device lasts (interest.py)."""
    checkin_expiry_hours: int = DEFAULT_CHECKIN_EXPIRY_HOURS
    """Hours after which a check-in expires (presence.py)."""
    show_member_names: bool = DEFAULT_SHOW_MEMBER_NAMES
    """Members' names on entities, events and tags (privacy.py)."""
    extra: JsonObjectType = field(default_factory=dict, repr=False)
    """Stored keys this version does not know, as stored (kept, never read)."""

    @classmethod
    def from_storage(cls, item: Mapping[str, Any]) -> LabSettings:
        """Read the stored settings document (a missing key reads as its default)."""
        services = item.get("admin_notify_services", ())
        return cls(
            usage_retention_days=item.get(
                "usage_retention_days", DEFAULT_USAGE_RETENTION_DAYS
            ),
            unknown_card_retention_days=item.get(
                "unknown_card_retention_days", DEFAULT_UNKNOWN_CARD_RETENTION_DAYS
            ),
            session_check_interval=item.get(
                "session_check_interval", DEFAULT_SESSION_CHECK_INTERVAL
            ),
            admin_notify_services=(
                tuple(services) if isinstance(services, list | tuple) else ()
            ),
            lapse_notice_days=item.get("lapse_notice_days", DEFAULT_LAPSE_NOTICE_DAYS),
            interest_expiry_hours=item.get(
                "interest_expiry_hours", DEFAULT_INTEREST_EXPIRY_HOURS
            ),
            checkin_expiry_hours=item.get(
                "checkin_expiry_hours", DEFAULT_CHECKIN_EXPIRY_HOURS
            ),
            show_member_names=item.get("show_member_names", DEFAULT_SHOW_MEMBER_NAMES),
            extra={key: value for key, value in item.items() if key not in KNOWN_KEYS},
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the settings as the history stores them (and the doors reply).

        The known keys in their stored order, then the unknown ones as read.
        """
        return {
            "usage_retention_days": self.usage_retention_days,
            "unknown_card_retention_days": self.unknown_card_retention_days,
            "session_check_interval": self.session_check_interval,
            "admin_notify_services": list(self.admin_notify_services),
            "lapse_notice_days": self.lapse_notice_days,
            "interest_expiry_hours": self.interest_expiry_hours,
            "checkin_expiry_hours": self.checkin_expiry_hours,
            "show_member_names": self.show_member_names,
            **self.extra,
        }


KNOWN_KEYS: Final = frozenset(
    item.name for item in fields(LabSettings) if item.name != "extra"
)
"""The stored keys :class:`LabSettings` reads into its fields."""
