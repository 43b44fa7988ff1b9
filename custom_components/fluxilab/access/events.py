"""The fluxilab_access bus event and the device's event entity (docs/EVENTS.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.dispatcher import async_dispatcher_send

from custom_components.fluxilab.const import (
    ATTR_BUFFERED,
    ATTR_DURATION,
    ATTR_FLUXILAB_DEVICE,
    ATTR_REASON,
    ATTR_SESSION_ID,
    ATTR_TYPE,
    DOMAIN,
    EVENT_ACCESS,
    EVENT_TYPES,
)
from custom_components.fluxilab.device.port import SIGNAL_ACCESS_EVENT

from .const import AccessEventType
from .member_models import Member
from .privacy import privacy_of

if TYPE_CHECKING:
    from custom_components.fluxilab.device.port import AccessDevice


def ha_device_id(hass: HomeAssistant, device: AccessDevice) -> str | None:
    """Return Home Assistant's device registry id of one of our devices."""
    entry = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, device.device_id), device.entry.entry_id
    )
    return entry.id if entry is not None else None


def fire_access_event(
    hass: HomeAssistant,
    device: AccessDevice,
    event_type: AccessEventType,
    *,
    member: Member | None = None,
    card: str | None = None,
    reason: str | None = None,
    buffered: bool = False,
    session_id: str | None = None,
    duration: float | None = None,
    ts: float | None = None,
    # edge: extra fields of the bus event data, as fired
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Fire fluxilab_access and show it on the device's event entity.

    The member's linked Home Assistant user is named in the data and is the event's
    context user, so the logbook and automations see who did it. The card is its
    pseudonym, the name there only if the lab shows names (privacy.py): the
    recorder keeps these events.
    """
    privacy = privacy_of(hass)
    person = privacy.person_fields(member, card)
    user_id = person["user_id"]
    data: dict[str, Any] = {  # edge: the bus event data, as fired
        ATTR_TYPE: event_type.value,
        ATTR_FLUXILAB_DEVICE: device.device_id,
        "device_id": ha_device_id(hass, device),
        **person,
        ATTR_REASON: reason,
        ATTR_BUFFERED: buffered,
        ATTR_SESSION_ID: session_id,
        ATTR_DURATION: duration,
        "ts": ts,
        **(extra or {}),
    }
    privacy.event_data(data)
    hass.bus.async_fire(EVENT_ACCESS, data, context=Context(user_id=user_id))
    if event_type.value in EVENT_TYPES:
        async_dispatcher_send(
            hass, SIGNAL_ACCESS_EVENT.format(device.device_id), event_type.value, data
        )
