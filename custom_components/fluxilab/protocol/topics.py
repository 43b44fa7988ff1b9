"""MQTT topic layout: one subtree per device under a configurable base topic."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
import re

DEVICE_ID_PATTERN = r"[a-z0-9][a-z0-9_-]{0,63}"
DEVICE_ID_RE = re.compile(rf"^{DEVICE_ID_PATTERN}$")
BASE_TOPIC_RE = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")
HUB_SEGMENT = "_hub"
"""Reserved subtree for the hub's own retained announcement (its public key)."""


class Channel(StrEnum):
    """The last topic level(s) below ``<base>/<device_id>/``."""

    # device -> hub
    ANNOUNCE = "announce"
    STATUS = "status"
    TELEMETRY = "telemetry"
    BACKLOG = "backlog"
    ACCESS_REQUEST = "access/request"
    COMMAND_RESULT = "command/result"
    # hub -> device
    ACK = "ack"
    ACCESS_REPLY = "access/reply"
    COMMAND = "command"
    CREDENTIALS = "credentials"


DEVICE_TO_HUB = frozenset(
    {
        Channel.ANNOUNCE,
        Channel.STATUS,
        Channel.TELEMETRY,
        Channel.BACKLOG,
        Channel.ACCESS_REQUEST,
        Channel.COMMAND_RESULT,
    }
)
HUB_TO_DEVICE = frozenset(
    {Channel.ACK, Channel.ACCESS_REPLY, Channel.COMMAND, Channel.CREDENTIALS}
)
STATUS_ONLINE = "online"
STATUS_OFFLINE = "offline"


def valid_device_id(device_id: str) -> bool:
    """Return True if the id can name a topic subtree."""
    return bool(DEVICE_ID_RE.match(device_id)) and device_id != HUB_SEGMENT


def valid_base_topic(base: str) -> bool:
    """Return True for a base topic without wildcards or empty levels."""
    return bool(BASE_TOPIC_RE.match(base))


@dataclass(frozen=True, slots=True)
class DeviceTopics:
    """All topics of one device."""

    base: str
    device_id: str

    def topic(self, channel: Channel) -> str:
        """Return the full topic of ``channel`` for this device."""
        return f"{self.base}/{self.device_id}/{channel.value}"

    @property
    def subtree(self) -> str:
        """Wildcard subscription covering every topic of this device."""
        return f"{self.base}/{self.device_id}/#"


def hub_topic(base: str) -> str:
    """Topic of the hub's retained announcement (its public pairing key)."""
    return f"{base}/{HUB_SEGMENT}/announce"


def announce_wildcard(base: str) -> str:
    """Subscription that sees every device's announcement."""
    return f"{base}/+/{Channel.ANNOUNCE.value}"


def parse_topic(base: str, topic: str) -> tuple[str, Channel] | None:
    """Split ``<base>/<device_id>/<channel>`` into its parts; None if not ours."""
    prefix = f"{base}/"
    if not topic.startswith(prefix):
        return None
    device_id, _, rest = topic[len(prefix) :].partition("/")
    if not valid_device_id(device_id):
        return None
    try:
        return device_id, Channel(rest)
    except ValueError:
        return None
