"""Constants of the FluxiLab integration."""

from __future__ import annotations

import logging
from typing import Final

from .protocol import DEFAULT_BASE_TOPIC

DOMAIN: Final = "fluxilab"
LOGGER = logging.getLogger(__package__)
MANUFACTURER: Final = "FluxiLab"

CONF_BASE_TOPIC: Final = "base_topic"
CONF_DEVICE_ID: Final = "device_id"
CONF_DEVICE_KEY: Final = "device_key"
CONF_FINGERPRINT: Final = "fingerprint"

DEFAULT_BASE: Final = DEFAULT_BASE_TOPIC

# Home Assistant bus events (documented in docs/EVENTS.md). Automations, the logbook
# and device triggers listen to these.
EVENT_ACCESS: Final = "fluxilab_access"
"""A decision or session change: type granted, denied, offline_granted,
session_started, session_ended or maintenance_recorded."""
EVENT_DEVICE: Final = "fluxilab_device"
"""A device changed condition: type online, offline, maintenance_due, key_changed."""

ATTR_TYPE: Final = "type"
ATTR_FLUXILAB_DEVICE: Final = "fluxilab_device"
"""Our device id (the MQTT subtree), beside HA's own ``device_id``."""
ATTR_MEMBER_ID: Final = "member_id"
ATTR_MEMBER_NAME: Final = "member_name"
ATTR_CARD: Final = "card"
ATTR_REASON: Final = "reason"
ATTR_BUFFERED: Final = "buffered"
ATTR_SESSION_ID: Final = "session_id"
ATTR_DURATION: Final = "duration"

CONF_MACHINE_TYPE: Final = "machine_type"
