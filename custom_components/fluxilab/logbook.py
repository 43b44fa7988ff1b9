"""Logbook lines for FluxiLab's bus events: who did what at which device.

The logbook shows English text (Home Assistant does not translate described
events). Every Home Assistant user reads it: members are named only if the lab shows
names (privacy.py), and then by their current name (a removed member is not);
cards by their pseudonym, which the card services accept, so an admin can
register an unknown card from its denial.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.components.logbook import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.const import ATTR_DEVICE_ID, Platform
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er

from .access.engine import ACCESS_ENGINE
from .access.privacy import CARD_PSEUDONYM, NAME_FIELDS
from .const import (
    ATTR_BUFFERED,
    ATTR_CARD,
    ATTR_DURATION,
    ATTR_FLUXILAB_DEVICE,
    ATTR_MEMBER_ID,
    ATTR_MEMBER_NAME,
    ATTR_REASON,
    ATTR_TYPE,
    DOMAIN,
    EVENT_ACCESS,
    EVENT_DEVICE,
    EVENT_LAB,
)

REASONS = {
    "unknown_card": "unknown card",
    "credential_inactive": "card or PIN deactivated",
    "pin_change_required": "initial PIN not replaced yet",
    "pin_required": "this machine needs the card and the PIN",
    "pin_wrong": "wrong PIN with the card",
    "pin_locked": "too many wrong PINs: try again later",
    "card_required": "this machine needs the card as well as the PIN",
    "unknown_member": "unknown member",
    "no_credential": "no card or login given",
    "inactive": "member not active",
    "not_authorized": "not authorized for this machine type",
    "expired": "authorization expired",
    "lapsed": "authorization lapsed for lack of use",
    "outside_hours": "outside the authorized hours",
    "blocked": "device blocked",
    "maintenance_due": "maintenance overdue",
    "safety_limit": "safety limit exceeded",
    "no_supervisor": "no supervisor present",
    "booked_by_other": "booked by another member",
    "booking_required": "no booking running",
    "outage": "out of service (an outage runs)",
    "unsafe": "reported unsafe, not cleared yet",
    "not_allowed": "not allowed to record maintenance",
    "problem_reported": "problem reported from the device",
}
"""Readable reasons of the decision codes (docs/ACCESS.md); others shown as is."""

DEVICE_MESSAGES = {
    "online": ("came online", Platform.BINARY_SENSOR, "connectivity"),
    "offline": ("went offline", Platform.BINARY_SENSOR, "connectivity"),
    "maintenance_due": (
        "is due for maintenance",
        Platform.BINARY_SENSOR,
        "maintenance_due",
    ),
    "key_changed": ("announced a new pairing key: confirm it in Repairs", None, None),
}


def _reason(code: str | None) -> str:
    if not code:
        return "no reason given"
    return REASONS.get(code, code.replace("_", " "))


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def _who(data: Mapping[str, Any]) -> str:
    """Name the event's member: by name if given, else whether one is known."""
    if name := data.get(ATTR_MEMBER_NAME):
        return str(name)
    return "a member" if data.get(ATTR_MEMBER_ID) else "an unknown member"


def describe_access(data: Mapping[str, Any]) -> str:
    """Return the logbook message of a fluxilab_access event."""
    kind = data.get(ATTR_TYPE)
    member = data.get(ATTR_MEMBER_NAME)
    who = _who(data)
    known = bool(member or data.get(ATTR_MEMBER_ID))
    if kind == "granted":
        message = f"granted access to {who}"
    elif kind == "offline_granted":
        message = f"granted access to {who} while offline, from its credential mirror"
    elif kind == "denied":
        subject = who
        if not known and (card := data.get(ATTR_CARD)):
            subject = f"card {card}"
        message = f"denied access to {subject}: {_reason(data.get(ATTR_REASON))}"
    elif kind == "session_started":
        message = f"session started by {who}"
    elif kind == "session_ended":
        message = f"session of {who} ended"
        if (duration := data.get(ATTR_DURATION)) is not None:
            message += f" after {_duration(float(duration))}"
    elif kind == "maintenance_recorded":
        message = "maintenance recorded" + (f" by {who}" if known else "")
    elif kind in PRESENCE_MESSAGES:
        message = describe_presence(data)
    elif kind == "busy_started":
        message = "started working (telemetry)" + (f", used by {who}" if known else "")
    elif kind == "busy_ended":
        message = "is idle again (telemetry)"
        if (duration := data.get(ATTR_DURATION)) is not None:
            message += f" after {_duration(float(duration))}"
        if known:
            message += f", used by {who}"
    elif kind == "interest_notified":
        message = f"told {who} it is free"
    elif kind == "booking_released":
        message = f"released the booking of {who}: nobody came"
    else:
        message = f"access event {kind}"
    if data.get(ATTR_BUFFERED):
        message += " (recorded offline at the device, sent later)"
    return message


# Lab operations: presence (check-in/out, training, lab empty)
PRESENCE_MESSAGES = {
    "checked_in": "{who} checked in to the lab",
    "checked_out": "{who} checked out of the lab",
    "authorization_granted": "{who} was trained and authorized by {trainer}",
    "lab_empty": "the lab is empty ({who} left last): {closed} open sessions closed",
}
CHECK_OUT_REASONS = {
    "expired": " (check-in expired)",
    "service": " (without a card)",
}


def describe_presence(data: Mapping[str, Any]) -> str:
    """Return the logbook message of a presence event (fluxilab_access or _lab)."""
    kind = str(data.get(ATTR_TYPE))
    message = PRESENCE_MESSAGES[kind].format(
        who=_who(data),
        trainer=data.get("trainer_name")
        or ("a trainer" if data.get("trainer_id") else "a former trainer"),
        closed=len(data.get("closed_sessions") or []),
    )
    if kind == "checked_out":
        message += CHECK_OUT_REASONS.get(str(data.get(ATTR_REASON)), "")
    return message


# Lab operations: lapsing qualifications
def describe_lab(data: Mapping[str, Any]) -> str:
    """Return the logbook message of a fluxilab_lab event other than presence."""
    kind = data.get(ATTR_TYPE)
    if kind == "authorization_lapsing":
        target = data.get("machine_type_id") or data.get(ATTR_FLUXILAB_DEVICE)
        date = str(data.get("lapse_date") or "?")[:10]
        who = _who(data)
        return f"the authorization of {who} for {target} lapses on {date}"
    return f"lab event {kind}"


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, str]]], None],
) -> None:
    """Describe FluxiLab's events in the logbook."""

    def _shown(data: Mapping[str, Any]) -> dict[str, Any]:
        """Apply the lab's names setting to a recorded event, whenever recorded."""
        shown = dict(data)
        engine = hass.data.get(ACCESS_ENGINE)
        show = engine is not None and engine.privacy.show_names
        for field, id_field in zip(
            NAME_FIELDS, ("member_id", "trainer_id"), strict=True
        ):
            person = (
                engine.members.data.get(shown.get(id_field) or "") if engine else None
            )
            shown[field] = person["name"] if show and person else None
        card = shown.get(ATTR_CARD)
        if isinstance(card, str) and not CARD_PSEUDONYM.fullmatch(card):
            # Recorded before cards were pseudonymous.
            shown[ATTR_CARD] = engine.privacy.card(card) if engine else None
        return shown

    def _name(data: Mapping[str, Any]) -> str:
        if (device_id := data.get(ATTR_DEVICE_ID)) and (
            device := dr.async_get(hass).async_get(device_id)
        ):
            return device.name_by_user or device.name or str(device_id)
        return str(data.get(ATTR_FLUXILAB_DEVICE) or "FluxiLab")

    def _entity(data: Mapping[str, Any], platform: Platform, key: str) -> str | None:
        if not (fluxilab_device := data.get(ATTR_FLUXILAB_DEVICE)):
            return None
        return er.async_get(hass).async_get_entity_id(
            platform, DOMAIN, f"{fluxilab_device}_{key}"
        )

    @callback
    def async_describe_access(event: Event) -> dict[str, str]:
        data = event.data
        entry = {
            LOGBOOK_ENTRY_NAME: _name(data),
            LOGBOOK_ENTRY_MESSAGE: describe_access(_shown(data)),
        }
        if entity_id := _entity(data, Platform.EVENT, "access"):
            entry[LOGBOOK_ENTRY_ENTITY_ID] = entity_id
        return entry

    @callback
    def async_describe_device(event: Event) -> dict[str, str]:
        data = event.data
        kind = data.get(ATTR_TYPE)
        message, platform, key = DEVICE_MESSAGES.get(
            str(kind), (f"reported {kind}", None, None)
        )
        entry = {LOGBOOK_ENTRY_NAME: _name(data), LOGBOOK_ENTRY_MESSAGE: message}
        if (
            platform is not None
            and key is not None
            and (entity_id := _entity(data, platform, key))
        ):
            entry[LOGBOOK_ENTRY_ENTITY_ID] = entity_id
        return entry

    async_describe_event(DOMAIN, EVENT_ACCESS, async_describe_access)
    async_describe_event(DOMAIN, EVENT_DEVICE, async_describe_device)

    @callback
    def async_describe_lab(event: Event) -> dict[str, str]:
        data = _shown(event.data)
        return {
            LOGBOOK_ENTRY_NAME: "FluxiLab",
            LOGBOOK_ENTRY_MESSAGE: describe_presence(data)
            if data.get(ATTR_TYPE) in PRESENCE_MESSAGES
            else describe_lab(data),
        }

    async_describe_event(DOMAIN, EVENT_LAB, async_describe_lab)
