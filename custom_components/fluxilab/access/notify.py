"""Push notifications to members and admins (docs/ACCESS.md "Notifications").

A member is reached through their own ``notify_service`` (for example
``notify.mobile_app_ada_phone`` or a ``script.*`` that routes elsewhere), else through
every mobile_app phone registered by their linked Home Assistant user. Admins are
reached through the ``admin_notify_services`` setting and a persistent notification.

Every notification also fires ``fluxilab_notification`` on the bus, so automations can
route them their own way. A failing notify service is logged, never raised: a lab
operation must not fail because a phone is unreachable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
import logging
import re
from typing import Any, Final

from homeassistant.components import persistent_notification
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import slugify
import probatio as vol

from custom_components.fluxilab.const import DOMAIN

from .errors import AccessValidationError
from .member_models import Member
from .privacy import PRIVACY, privacy_of

_LOGGER = logging.getLogger(__name__)

EVENT_NOTIFICATION: Final = "fluxilab_notification"
"""Bus event of every notification: member_id, user_id, title, message, tag,
services (those that accepted it), target ("member" or "admins")."""
SETTING_ADMIN_NOTIFY_SERVICES: Final = "admin_notify_services"
NOTIFY_TIMEOUT: Final = 30.0
"""Seconds one notify service may take before it is given up on."""
MOBILE_APP: Final = "mobile_app"
NOTIFY_SERVICE_PATTERN: Final = re.compile(r"^(notify|script)\.[a-z0-9_]+$")


def notify_service(value: Any) -> str:
    """Validate a notification target: ``notify.<name>`` or ``script.<name>``."""
    if not isinstance(value, str) or not NOTIFY_SERVICE_PATTERN.match(
        text := value.strip()
    ):
        raise vol.Invalid("expected notify.<name> or script.<name>")
    return text


NOTIFY_SERVICES: Final = vol.All(
    vol.Any(None, [notify_service]), lambda v: list(v or [])
)


async def async_notification_text(
    hass: HomeAssistant, key: str, **placeholders: str
) -> tuple[str, str]:
    """Return the title and message of a notification in the lab's language.

    The texts live in the translation files under ``common.<key>_title`` and
    ``common.<key>_message`` (``common`` is the translation section Home Assistant
    allows for texts of no other kind); a missing text falls back to the key, so a
    notification is never lost.
    """
    strings = await async_get_translations(
        hass, hass.config.language, "common", {DOMAIN}
    )
    prefix = f"component.{DOMAIN}.common.{key}"
    texts = []
    for part in ("title", "message"):
        template = strings.get(f"{prefix}_{part}", key)
        try:
            texts.append(template.format(**placeholders))
        except (KeyError, IndexError, ValueError):
            _LOGGER.warning("Notification text %s.%s is malformed", key, part)
            texts.append(template)
    return texts[0], texts[1]


def mobile_app_phones(hass: HomeAssistant, user_id: str) -> dict[str, str]:
    """Return the push-capable phones a Home Assistant user registered, by service.

    mobile_app names each push-capable phone's service after its ``device_name``,
    ``notify.mobile_app_<slug>``; phones without push have no service. The value is
    the phone's name as its owner gave it ("Ada's Phone").
    """
    phones: dict[str, str] = {}
    for entry in hass.config_entries.async_entries(MOBILE_APP):
        if entry.data.get("user_id") != user_id or not entry.data.get("device_name"):
            continue
        name = slugify(f"{MOBILE_APP}_{entry.data['device_name']}")
        if hass.services.has_service("notify", name):
            phones[f"notify.{name}"] = str(entry.data["device_name"])
    return dict(sorted(phones.items()))


def mobile_app_services(hass: HomeAssistant, user_id: str) -> list[str]:
    """Return the notify services of the phones a Home Assistant user registered."""
    return list(mobile_app_phones(hass, user_id))


def member_services(hass: HomeAssistant, member: Member) -> list[str]:
    """Return where a member's notifications go."""
    if own := member.notify_service:
        return [own]
    if user_id := member.user_id:
        return mobile_app_services(hass, user_id)
    return []


def admin_services(hass: HomeAssistant) -> list[str]:
    """Return the admins' notify services (the ``admin_notify_services`` setting)."""
    if (privacy := hass.data.get(PRIVACY)) is None:
        return []  # no engine yet
    return [str(s) for s in privacy.settings.admin_notify_services]


async def _async_send(
    hass: HomeAssistant,
    service: str,
    payload: dict[str, Any],
    context: Context | None,
) -> bool:
    """Call one notify/script service; log and return False when it fails."""
    domain, _, name = service.partition(".")
    if not hass.services.has_service(domain, name):
        _LOGGER.warning("Notification not sent: %s does not exist", service)
        return False
    try:
        async with asyncio.timeout(NOTIFY_TIMEOUT):
            await hass.services.async_call(
                domain, name, payload, blocking=True, context=context
            )
    except (HomeAssistantError, vol.Invalid, TimeoutError) as err:
        _LOGGER.warning("Notification through %s failed: %s", service, err)
        return False
    except Exception:
        _LOGGER.exception("Notification through %s failed", service)
        return False
    return True


@dataclass(frozen=True, slots=True, kw_only=True)
class Notification:
    """One notification, the same for every service it goes to.

    Its texts name members (a lapse notice, a free machine): never in a repr.
    """

    title: str = field(repr=False)
    message: str = field(repr=False)
    tag: str | None = None
    """Lets a later notification replace this one on the phone (``data.tag``)."""
    app_data: Mapping[str, str] | None = field(default=None, repr=False)
    """The companion app's ``data`` (a URL to open, the device), as given."""

    def as_wire(self) -> dict[str, Any]:
        """Return the notify (or script) service call's data."""
        extra: dict[str, str] = dict(self.app_data or {})
        if self.tag is not None:
            extra.setdefault("tag", self.tag)
        payload: dict[str, Any] = {"title": self.title, "message": self.message}
        if extra:
            payload["data"] = extra
        return payload


async def _async_send_all(
    hass: HomeAssistant,
    services: list[str],
    notification: Notification,
    context: Context | None,
) -> list[str]:
    """Send to several services at once; return those that accepted it."""
    results = await asyncio.gather(
        *(
            _async_send(hass, service, notification.as_wire(), context)
            for service in services
        )
    )
    return [service for service, ok in zip(services, results, strict=True) if ok]


async def async_notify_member(
    hass: HomeAssistant,
    member: Member,
    *,
    title: str,
    message: str,
    tag: str | None = None,
    data: Mapping[str, str] | None = None,
) -> list[str]:
    """Notify a member on their phone(s); return the services that accepted it.

    ``tag`` lets a later notification replace an earlier one on the phone (the
    companion app's ``data.tag``). Never raises because of a notify service.
    """
    user_id = member.user_id
    context = Context(user_id=user_id)
    used = await _async_send_all(
        hass,
        member_services(hass, member),
        Notification(title=title, message=message, tag=tag, app_data=data),
        context,
    )
    hass.bus.async_fire(
        EVENT_NOTIFICATION,
        {
            "target": "member",
            "member_id": member.id,
            "member_name": privacy_of(hass).name(member),
            "user_id": user_id,
            "title": title,
            "message": message,
            "tag": tag,
            "services": used,
        },
        context=context,
    )
    return used


async def async_notify_admins(
    hass: HomeAssistant,
    *,
    title: str,
    message: str,
    tag: str | None = None,
) -> list[str]:
    """Notify the lab's admins; return the notify services that accepted it.

    A persistent notification (replaced per ``tag``) is always created too.
    """
    persistent_notification.async_create(
        hass,
        message,
        title=title,
        notification_id=f"{DOMAIN}_{tag}" if tag else None,
    )
    used = await _async_send_all(
        hass,
        admin_services(hass),
        Notification(title=title, message=message, tag=tag),
        None,
    )
    hass.bus.async_fire(
        EVENT_NOTIFICATION,
        {
            "target": "admins",
            "member_id": None,
            "member_name": None,
            "user_id": None,
            "title": title,
            # Admins' messages list members by name (lapse notices): the recorder
            # keeps this event, so the text only where the lab shows names.
            "message": message if privacy_of(hass).show_names else None,
            "tag": tag,
            "services": used,
        },
    )
    return used


def check_own_target(hass: HomeAssistant, member: Member, target: str | None) -> None:
    """Refuse a member's own notification target that is not one of their phones.

    Managers may point anyone anywhere (a ``script.*`` that routes to Telegram, a
    shared notifier); a member acting on themselves may only choose among their own
    phones or clear it, so they can neither run an arbitrary script with the hub's
    message nor send their notices to someone else's phone.
    """
    if target is None:
        return
    own = mobile_app_services(hass, member.user_id) if member.user_id else []
    if target not in own:
        raise AccessValidationError(
            "notify_target_not_own", target=target, services=", ".join(own) or "-"
        )
