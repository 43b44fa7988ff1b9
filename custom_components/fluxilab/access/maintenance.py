"""Maintenance plans: usage hours against an interval, due state, what devices show.

A machine type's plan is its ``maintenance_interval`` (usage hours; a device's option
overrides it), ``maintenance_description`` (what to do), ``maintenance_url`` (the
instructions, http/https only) and ``maintenance_message`` (a short line for an LCD).
While it is due, a device shows the message or else the description, as Fab-O-Matic
boards show their backend's on the LCD (``lcd_text``, ``notice``).

An *intervention* is maintenance registered on a device (``intervention``): an audit
entry of kind ``maintenance`` with who (member id), when, the hours then and a note.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
import csv
from dataclasses import dataclass
from datetime import UTC, datetime
import io
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers.dispatcher import async_dispatcher_send

from custom_components.fluxilab.device.port import SIGNAL_USAGE, UsageState
from custom_components.fluxilab.history_db import AuditEntry
from custom_components.fluxilab.repairs import (
    async_create_maintenance_issue,
    async_delete_maintenance_issue,
)

from .const import CONF_MAINTENANCE_INTERVAL
from .history import DeviceUsage
from .lab_models import MachineType
from .member_import import neutralize

if TYPE_CHECKING:
    from custom_components.fluxilab.device.port import AccessDevice


KIND: Final = "maintenance"
"""Audit kind of an intervention (engine.async_record_maintenance)."""
MAX_NOTE: Final = 500
"""Longest note an intervention keeps."""
ELLIPSIS: Final = "…"
INTERVENTION_CSV_FIELDS: Final = (
    "time",
    "device_id",
    "device",
    "member_id",
    "member",
    "hours",
    "hours_since_previous",
    "interval",
    "note",
    "buffered",
)


def interval(device: AccessDevice, machine_type: MachineType | None) -> float | None:
    """Usage hours between two maintenances: the device's option, else its type's."""
    value: float | None = device.entry.options.get(CONF_MAINTENANCE_INTERVAL)
    if value is None and machine_type is not None:
        value = machine_type.maintenance_interval
    return value


def due_state(
    usage: DeviceUsage, plan_interval: float | None
) -> tuple[float | None, bool]:
    """Return (hours to maintenance, due) for a device's counters."""
    if plan_interval is None:
        return None, False
    remaining = round(plan_interval - usage["since_maintenance"], 3)
    return remaining, remaining <= 0


def description(machine_type: MachineType | None) -> str:
    """Return what the admin wrote about the maintenance (for the repair issue)."""
    if machine_type is None:
        return ""
    parts = [machine_type.maintenance_description, machine_type.maintenance_url]
    return " ".join(part for part in parts if part)


def cut(text: str, most: int) -> str:
    """Return ``text`` on one line, at most ``most`` characters (an ellipsis if cut)."""
    line = " ".join(text.split())
    if len(line) <= most:
        return line
    return line[: max(0, most - len(ELLIPSIS))].rstrip() + ELLIPSIS


def lcd_text(machine_type: MachineType | None, most: int) -> str:
    """Return what a small display shows while maintenance is due.

    The short message if the admin wrote one, else the description cut to fit
    (Fab-O-Matic's backend sends its plan's description to the board's LCD).
    """
    if machine_type is None:
        return ""
    text = machine_type.maintenance_message or machine_type.maintenance_description
    return cut(text, most) if text else ""


def notice(machine_type: MachineType | None) -> dict[str, str | None] | None:
    """Return the plan a device shows while maintenance is due; None if no text."""
    if machine_type is None:
        return None
    shown = {
        "message": machine_type.maintenance_message or None,
        "description": machine_type.maintenance_description or None,
        "url": machine_type.maintenance_url or None,
    }
    return shown if any(shown.values()) else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Intervention:
    """What an intervention records beside who and when: the counters before reset."""

    hours: float
    """The device's usage hours in all."""
    since_maintenance: float
    """The hours since the previous intervention."""
    interval: float | None
    """The maintenance plan's interval then (None: no plan)."""
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the fields as the intervention's audit entry stores them."""
        return {
            "hours": self.hours,
            "since_maintenance": self.since_maintenance,
            "interval": self.interval,
            "note": self.note,
        }


def intervention(
    usage: DeviceUsage, plan_interval: float | None, note: str | None
) -> Intervention:
    """Return what an intervention records beside who and when (before the reset)."""
    text = " ".join(note.split()) if note else ""
    return Intervention(
        hours=round(usage["hours"], 3),
        since_maintenance=round(usage["since_maintenance"], 3),
        interval=plan_interval,
        note=text[:MAX_NOTE] or None,
    )


def intervention_row(
    entry: AuditEntry,
    member_names: Mapping[str, str],
    device_names: Mapping[str, str],
) -> dict[str, Any]:
    """Return one intervention as the panel lists it (an audit entry of ``KIND``).

    ``member`` is the member's current name (None once they are gone or the entry
    was anonymized); entries recorded before interventions kept hours have None.
    """
    member_id = entry.member_id
    device_id = entry.device_id
    return {
        "entry_id": entry.entry_id,
        "ts": entry.ts,
        "device_id": device_id,
        "device": None if device_id is None else device_names.get(device_id, device_id),
        "member_id": member_id,
        "member": member_names.get(member_id) if member_id else None,
        "hours": entry.detail("hours"),
        "since_maintenance": entry.detail("since_maintenance"),
        "interval": entry.detail("interval"),
        "note": entry.detail("note"),
        "buffered": bool(entry.buffered),
    }


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def intervention_csv_header() -> str:
    """Return the first line of the interventions CSV."""
    return ",".join(INTERVENTION_CSV_FIELDS) + "\n"


def intervention_csv_rows(rows: Iterable[Mapping[str, Any]]) -> str:
    """Return interventions (``intervention_row``) as CSV lines, formulas neutralized.

    Notes, device and member names are typed by people: a cell a spreadsheet
    would run as a formula gets the member export's guard (member_import.py).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        cells = (
            datetime.fromtimestamp(row["ts"], UTC).isoformat(),
            row["device_id"],
            row["device"],
            row["member_id"] or "",
            row["member"] or "",
            _number(row["hours"]),
            _number(row["since_maintenance"]),
            _number(row["interval"]),
            row["note"] or "",
            bool(row["buffered"]),
        )
        writer.writerow([neutralize(str(cell)) for cell in cells])
    return buffer.getvalue()


def publish(
    hass: HomeAssistant,
    device: AccessDevice,
    machine_type: MachineType | None,
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
