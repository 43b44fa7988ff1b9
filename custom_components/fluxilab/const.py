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
EVENT_LAB: Final = "fluxilab_lab"
"""About the lab, not one device: type checked_in, checked_out (without a device),
lab_empty; member_id, member_name, user_id, card like fluxilab_access."""
EVENT_DEVICE: Final = "fluxilab_device"
"""A device changed condition: type online, offline, maintenance_due, key_changed."""

ATTR_TYPE: Final = "type"
ATTR_FLUXILAB_DEVICE: Final = "fluxilab_device"
"""Our device id (the MQTT subtree), beside HA's own ``device_id``."""
ATTR_MEMBER_ID: Final = "member_id"
ATTR_MEMBER_NAME: Final = "member_name"
ATTR_USER_ID: Final = "user_id"
"""The Home Assistant user linked to the member (also the event's context user)."""
ATTR_CARD: Final = "card"
ATTR_REASON: Final = "reason"
ATTR_BUFFERED: Final = "buffered"
ATTR_SESSION_ID: Final = "session_id"
ATTR_DURATION: Final = "duration"

CONF_MACHINE_TYPE: Final = "machine_type"

# Options of one device (entry.options); the options flow edits them.
CONF_LATEST_SW_VERSION: Final = "latest_sw_version"
"""Agent/firmware version the admin wants the device to run (the update entity)."""
CONF_BLOCKED: Final = "blocked"
CONF_FABOMATIC_MACHINE: Final = "fabomatic_machine"
"""Entry data of an adopted Fab-O-Matic board: its machine id (its topic's number)."""
CONF_STALE_CHANNEL_HOURS: Final = "stale_channel_hours"
DEFAULT_STALE_CHANNEL_HOURS: Final = 24.0
"""Hours a channel the device stopped announcing stays (unavailable) before removal."""
LIVE_ACK_INTERVAL: Final = 2.0
"""Seconds over which acks of live telemetry are batched.

A device at 1 Hz would otherwise get one signed ack per record, a sizeable share of
the hub's work per value. Well under the agent's ``resend_after`` (5 s), so a live
record is acked before the device would resend it. A stored backlog batch is acked
as soon as its journal commit is written, never on a timer: the device's replay
window waits on it."""

EVENT_TYPES: Final = (
    "granted",
    "denied",
    "offline_granted",
    "session_started",
    "session_ended",
    "checked_in",
    "checked_out",
    "authorization_granted",
    "busy_started",
    "busy_ended",
    "interest_notified",
    "booking_released",
)
"""Access event types the event entity fires (what happens at one device)."""
CONF_UI_URL: Final = "ui_url"
"""The device UI's address as reachable from the lab network (options flow).

Pinned at adoption from the announcement; a later announced change takes effect
only once an admin accepts it (repairs.py), or sets another address here."""
CONF_ANNOUNCED_UI_URL: Final = "announced_ui_url"
"""The announced UI address the admin accepted last (adoption or repair, options)."""
CONF_CHANNELS: Final = "channels"
"""Telemetry channel keys to enable (options flow); absent means all announced."""
CONF_PENDING_KEY: Final = "pending_key"
"""A key the device announced that the admin has not confirmed yet (entry data)."""

FIXED_ENTITY_KEYS: Final = frozenset(
    {
        "connectivity",
        "in_use",
        "maintenance_due",
        "current_user",
        "usage_hours",
        "hours_to_maintenance",
        "access",
        "blocked",
        "record_maintenance",
        "force_sync",
        "reboot",
        "firmware",
        "occupancy",
    }
)
"""Keys of the entities every device has; a telemetry channel cannot take them."""
