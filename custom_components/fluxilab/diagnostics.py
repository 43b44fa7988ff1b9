"""Diagnostics of a FluxiLab device, with secrets and personal data redacted.

Redacted: pairing keys, anything that looks like a PIN, hash or card id, member
names and ids (personal data), serial numbers and addresses (the routed UI URL
carries the lab router's public address). The pairing fingerprint keeps its first
group, enough to tell two pairings apart in a support thread, not to impersonate.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import REDACTED, async_redact_data
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, issue_registry as ir

from .access.engine import ACCESS_ENGINE
from .const import CONF_FINGERPRINT, CONF_UI_URL, DOMAIN
from .device.runtime import FluxiLabConfigEntry, FluxiLabDevice

TO_REDACT = {
    "device_key",
    "pending_key",
    "pin",
    "pin_hash",
    "password",
    "password_hash",
    "hash",
    "card",
    "cards",
    "card_id",
    "credentials",
    "member_id",
    "member_name",
    "serial",
    "serial_number",
    CONF_UI_URL,
    "configuration_url",
}
"""Redacted wherever they appear. Not ``key``: channels use it for their name."""


def redact_fingerprint(value: str | None) -> str | None:
    """Keep the first group of a fingerprint (``3F9A-****-****``)."""
    if not value:
        return value
    first, *rest = value.split("-")
    return "-".join([first, *("*" * len(part) for part in rest)])


def _runtime(device: FluxiLabDevice) -> dict[str, Any]:
    """Return what the device runtime knows, redacted."""
    announce: dict[str, Any] | None = None
    if device.announce is not None:
        announce = {**device.announce.as_wire(), "key": REDACTED}
    data: dict[str, Any] = {
        "device_id": device.device_id,
        "online": device.online,
        "paired": device.keys is not None,
        "announce": announce,
        # As announced (the taken announcement's, extra fields and all).
        "channels": device.announce.as_wire()["capabilities"]["channels"]
        if device.announce is not None
        else [],
        "enabled_channels": [c.key for c in device.enabled_channels],
        "values": device.values,
        "counters": device.counters,
        "link": {
            "state": device.link.state.value,
            "rejected_messages": device.link.rejected,
            "last_rejection": device.link.last_reason,
        },
        "machine_type_id": device.machine_type_id,
        "blocked": device.blocked,
        "in_use": device.in_use,
        "member_name": device.member_name,
        "usage_hours": device.usage_hours,
        "hours_to_maintenance": device.hours_to_maintenance,
        "maintenance_due": device.maintenance_due,
        "last_command_result": device.last_command_result.as_wire()
        if device.last_command_result is not None
        else None,
    }
    result: dict[str, Any] = async_redact_data(data, TO_REDACT)
    return result


def _issues(hass: HomeAssistant, entry: FluxiLabConfigEntry) -> list[str]:
    """Open repair issues of this device (their kinds, not their data)."""
    suffix = f"_{entry.entry_id}"
    return sorted(
        issue_id.removesuffix(suffix)
        for (domain, issue_id) in ir.async_get(hass).issues
        if domain == DOMAIN and issue_id.endswith(suffix)
    )


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: FluxiLabConfigEntry
) -> dict[str, Any]:
    """Return diagnostics of one adopted device."""
    data = dict(entry.data)
    data[CONF_FINGERPRINT] = redact_fingerprint(data.get(CONF_FINGERPRINT))
    device = entry.runtime_data
    machine_type: dict[str, Any] | None = None
    telemetry_rules: dict[str, Any] | None = None
    if (engine := hass.data.get(ACCESS_ENGINE)) is not None:
        machine_type = engine.machine_types.data.get(device.machine_type_id or "")
        if (state := engine.telemetry_rules.diagnostics(device)) is not None:
            telemetry_rules = state.as_wire()
    result = {
        "entry": {
            "title": entry.title,
            "data": async_redact_data(data, TO_REDACT),
            "options": async_redact_data(dict(entry.options), TO_REDACT),
        },
        "device": _runtime(device),
        "machine_type": machine_type,
        "issues": _issues(hass, entry),
    }
    if telemetry_rules is not None:
        # Busy state and maintenance-condition progress, when the type has rules.
        result["telemetry_rules"] = telemetry_rules
    return result


async def async_get_device_diagnostics(
    hass: HomeAssistant, entry: FluxiLabConfigEntry, device: dr.DeviceEntry
) -> dict[str, Any]:
    """Return diagnostics of the device in the registry and at runtime."""
    registry: dict[str, Any] = {
        "name": device.name,
        "name_by_user": device.name_by_user,
        "manufacturer": device.manufacturer,
        "model": device.model,
        "sw_version": device.sw_version,
        "hw_version": device.hw_version,
        "serial_number": device.serial_number,
        "configuration_url": device.configuration_url,
        "disabled": device.disabled,
    }
    return {
        "registry": async_redact_data(registry, TO_REDACT),
        "device": _runtime(entry.runtime_data),
        "issues": _issues(hass, entry),
    }
