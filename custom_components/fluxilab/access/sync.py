"""Credential sync: each device's mirror of the members who may use it.

The set per device holds only members who may start a session there (active and
authorized for its machine type or the device, or bypassing by role), with their
active cards, the hash of their PIN if it is active (flagged ``pin_must_change`` while
it is an initial PIN), level and maintenance flag: a deactivated card or PIN is left
out, so the device refuses it offline too. Lab-hours windows are not mirrored:
offline, a device only knows who is authorized at all (docs/ACCESS.md). A set is
published (signed, encrypted, retained) only when it differs from the last one sent
to that device; every published set carries a higher generation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.util import dt as dt_util

from custom_components.fluxilab.const import LOGGER
from custom_components.fluxilab.protocol.schemas import CREDENTIALS_SCHEMA
from custom_components.fluxilab.protocol.topics import Channel

from .const import DEFAULT_GRACE_PERIOD, DEFAULT_SESSION_TIMEOUT, Reason
from .credentials import member_cards, member_pin_hash, pin_must_change
from .decisions import authorization_reason
from .roles import flags

if TYPE_CHECKING:
    from custom_components.fluxilab.device import FluxiLabDevice

    from .engine import AccessEngine


def credential_members(
    engine: AccessEngine, device: FluxiLabDevice
) -> list[dict[str, Any]]:
    """Return the mirror entries of the members who may use ``device``."""
    machine_type = engine.machine_type_of(device)
    now = dt_util.utcnow()
    allowed: list[dict[str, Any]] = []
    for member in sorted(engine.members.data.values(), key=lambda m: m["id"]):
        if not member["active"]:
            continue
        reason = authorization_reason(
            member,
            engine.authorizations.of_member(member["id"]),
            device.device_id,
            machine_type,
            now,
            check_window=False,
        )
        if reason is not Reason.GRANTED:
            continue
        entry: dict[str, Any] = {
            "id": member["id"],
            "name": member["name"],
            "level": member["role"],
            "cards": member_cards(member),
            "maintenance": flags(member).may_maintain,
        }
        if pin_hash := member_pin_hash(member):
            entry["pin_hash"] = pin_hash
            if pin_must_change(member):
                # The device refuses it with a reason instead of logging in with it.
                entry["pin_must_change"] = True
        allowed.append(entry)
    return allowed


class CredentialSync:
    """Publishes credential sets and remembers what each device last got."""

    def __init__(self, engine: AccessEngine) -> None:
        """Start with nothing sent."""
        self._engine = engine
        self._sent: dict[str, dict[str, Any]] = {}

    def body(self, device: FluxiLabDevice) -> dict[str, Any]:
        """Build the set (without generation) for ``device``."""
        machine_type = self._engine.machine_type_of(device)
        return {
            "members": credential_members(self._engine, device),
            "timeout": machine_type["session_timeout"]
            if machine_type
            else DEFAULT_SESSION_TIMEOUT,
            "grace": machine_type["grace_period"]
            if machine_type
            else DEFAULT_GRACE_PERIOD,
        }

    async def async_sync(self, device: FluxiLabDevice, *, force: bool = False) -> bool:
        """Send the device its set if it changed (or ``force``); True if sent."""
        if device.keys is None:
            LOGGER.debug("Device %s is not paired: no credential set", device.device_id)
            return False
        body = self.body(device)
        if not force and self._sent.get(device.device_id) == body:
            return False
        history = self._engine.history
        history.data["generation"] += 1
        history.async_changed()
        message = CREDENTIALS_SCHEMA({"generation": history.data["generation"], **body})
        await device.async_send(Channel.CREDENTIALS, message, encrypt=True, retain=True)
        self._sent[device.device_id] = body
        return True

    async def async_sync_all(self) -> None:
        """Bring every device's mirror up to date."""
        for device in list(self._engine.devices.values()):
            try:
                await self.async_sync(device)
            except Exception:
                LOGGER.exception("Credential set for %s not sent", device.device_id)

    def forget(self, device_id: str) -> None:
        """Forget what a device got (it is removed, or must get everything again)."""
        self._sent.pop(device_id, None)
