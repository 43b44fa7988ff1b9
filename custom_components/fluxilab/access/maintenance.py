"""Maintenance plans: usage hours against an interval, due state, repair issue."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.dispatcher import async_dispatcher_send

from custom_components.fluxilab.device.port import SIGNAL_USAGE, UsageState
from custom_components.fluxilab.repairs import (
    async_create_maintenance_issue,
    async_delete_maintenance_issue,
)

from .const import CONF_MAINTENANCE_INTERVAL
from .history import DeviceUsage

if TYPE_CHECKING:
    from custom_components.fluxilab.device.port import AccessDevice


def interval(device: AccessDevice, machine_type: dict[str, Any] | None) -> float | None:
    """Usage hours between two maintenances: the device's option, else its type's."""
    value: float | None = device.entry.options.get(CONF_MAINTENANCE_INTERVAL)
    if value is None and machine_type is not None:
        value = machine_type.get("maintenance_interval")
    return value


def due_state(
    usage: DeviceUsage, plan_interval: float | None
) -> tuple[float | None, bool]:
    """Return (hours to maintenance, due) for a device's counters."""
    if plan_interval is None:
        return None, False
    remaining = round(plan_interval - usage["since_maintenance"], 3)
    return remaining, remaining <= 0


def description(machine_type: dict[str, Any] | None) -> str:
    """Return what the admin wrote about the maintenance (for the repair issue)."""
    if machine_type is None:
        return ""
    parts = [
        machine_type.get("maintenance_description"),
        machine_type.get("maintenance_url"),
    ]
    return " ".join(part for part in parts if part)


def publish(
    hass: HomeAssistant,
    device: AccessDevice,
    machine_type: dict[str, Any] | None,
    usage: DeviceUsage,
    *,
    in_use: bool,
    member_name: str | None,
    conditions_due: list[str] | None = None,
) -> None:
    """Push usage and due state to the device's entities and the repair issue.

    A device is due when its usage-hours plan is, or when any of its machine
    type's maintenance conditions is (``conditions_due``: their texts).
    """
    remaining, plan_due = due_state(usage, interval(device, machine_type))
    due = plan_due or bool(conditions_due)
    was_due = device.maintenance_due
    async_dispatcher_send(
        hass,
        SIGNAL_USAGE.format(device.device_id),
        UsageState(
            in_use=in_use,
            member_name=member_name,
            usage_hours=round(usage["hours"], 3),
            hours_to_maintenance=remaining,
            maintenance_due=due,
        ),
    )
    if due:
        # Created again (same issue) when the set of due conditions changes.
        async_create_maintenance_issue(
            hass, device.entry, description(machine_type), conditions_due or []
        )
        return
    if was_due:
        async_delete_maintenance_issue(hass, device.entry)
