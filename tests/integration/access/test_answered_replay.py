"""A decided request whose reply was lost, replayed later as the device's own record.

The hub decides and audits a swipe, the reply never reaches the device (broker
restart), the device decides again from its mirror and buffers that decision with
the same request id. When the backlog replays it, the swipe stays audited once and
the session the device actually ran is the one the hub keeps.
"""

from __future__ import annotations

import json
import time
from typing import Any

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_mqtt_message,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.const import EVENT_ACCESS
from custom_components.fluxilab.device.runtime import FluxiLabDevice
from custom_components.fluxilab.hub import async_get_hub_keys
from custom_components.fluxilab.protocol.security import KeyPair, seal
from custom_components.fluxilab.protocol.topics import Channel
from tests.integration.conftest import DEVICE_ID

from .conftest import MACHINE_TYPE

CARD = "04D0D0D0"
BASE = f"fluxilab/{DEVICE_ID}"


async def send_sealed(
    hass: HomeAssistant, device_keys: KeyPair, channel: Channel, body: dict[str, Any]
) -> None:
    """Publish ``body`` as the device's agent would: sealed for the hub."""
    hub = await async_get_hub_keys(hass)
    topic = f"{BASE}/{channel.value}"
    envelope = seal(device_keys.derive(hub.public_b64), topic, body)
    async_fire_mqtt_message(hass, topic, json.dumps(envelope))
    await hass.async_block_till_done()


def replies(mqtt_mock: MqttMockHAClient) -> int:
    """How many access replies the hub published."""
    topic = f"{BASE}/{Channel.ACCESS_REPLY.value}"
    return sum(
        1 for call in mqtt_mock.async_publish.call_args_list if call.args[0] == topic
    )


async def add_member(engine: AccessEngine, *, authorized: bool = True) -> str:
    """Create a member with CARD (authorized for the fumehood or not)."""
    member = await engine.members.async_create_item({"name": "Ada", "cards": [CARD]})
    if authorized:
        await engine.authorizations.async_create_item(
            {"member_id": member["id"], "machine_type_id": MACHINE_TYPE}
        )
    return str(member["id"])


def decisions(engine: AccessEngine) -> list[dict[str, Any]]:
    """The fumehood's decision audit entries."""
    return [
        a.as_dict()
        for a in engine.history.data["audit"]
        if a.kind == "decision" and a.device_id == DEVICE_ID
    ]


async def replay(
    hass: HomeAssistant, device_keys: KeyPair, seq: int, event: dict[str, Any]
) -> None:
    """Send one buffered access record through the backlog."""
    await send_sealed(
        hass,
        device_keys,
        Channel.BACKLOG,
        {
            "records": [
                {
                    "seq": seq,
                    "ts": time.time() - 1,
                    "kind": "access",
                    "buffered": True,
                    "event": event,
                }
            ]
        },
    )


async def test_replayed_decision_merged_into_answered_request(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    device_keys: KeyPair,
    mqtt_mock: MqttMockHAClient,
) -> None:
    device.values["face_velocity"] = 0.6
    member_id = await add_member(engine)
    events = async_capture_events(hass, EVENT_ACCESS)
    sent = replies(mqtt_mock)
    await send_sealed(
        hass,
        device_keys,
        Channel.ACCESS_REQUEST,
        {"id": "req-lost", "action": "session_start", "card": CARD},
    )
    assert replies(mqtt_mock) == sent + 1  # decided and answered (then lost)
    (audited,) = decisions(engine)
    assert audited["request_id"] == "req-lost"
    hub_session_id = audited["session_id"]

    # The device timed out, granted from its mirror and ran its own session.
    start = {
        "action": "session_start",
        "request_id": "req-lost",
        "card": CARD,
        "member_id": member_id,
        "granted": True,
        "offline": True,
        "reason": "granted",
        "session_id": "dev-session",
    }
    await replay(hass, device_keys, 1, start)
    await replay(hass, device_keys, 1, start)  # and the batch again, after a lost ack
    await replay(
        hass,
        device_keys,
        2,
        {
            "action": "session_stop",
            "offline": True,
            "session_id": "dev-session",
            "card": CARD,
            "member_id": member_id,
            "duration": 1800,
        },
    )

    (entry,) = decisions(engine)
    assert entry["buffered"] is False
    assert entry["device_granted"] is True
    assert entry["session_id"] == "dev-session"
    sessions = [s for s in engine.history.data["sessions"] if s.device_id == DEVICE_ID]
    assert [s.session_id for s in sessions] == ["dev-session"]
    assert engine.history.session(hub_session_id) is None
    assert sessions[0].closed_by == "device"
    assert sessions[0].duration == 1800
    assert device.usage_hours == 0.5
    types = [e.data["type"] for e in events]
    assert types == ["granted", "session_started", "session_ended"]


async def test_replayed_denial_closes_the_session_the_hub_opened(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    device_keys: KeyPair,
) -> None:
    device.values["face_velocity"] = 0.6
    await add_member(engine)
    await send_sealed(
        hass,
        device_keys,
        Channel.ACCESS_REQUEST,
        {"id": "req-2", "action": "session_start", "card": CARD},
    )
    assert device.in_use is True
    # The device's mirror did not know the card yet: it refused offline.
    await replay(
        hass,
        device_keys,
        1,
        {
            "action": "session_start",
            "request_id": "req-2",
            "card": CARD,
            "granted": False,
            "offline": True,
            "reason": "unknown_card",
        },
    )
    (entry,) = decisions(engine)
    assert entry["reason"] == "granted"
    assert entry["device_granted"] is False
    assert device.in_use is False
    assert device.usage_hours == 0.0


async def test_replayed_decision_of_another_request_is_audited(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    device_keys: KeyPair,
) -> None:
    device.values["face_velocity"] = 0.6
    await add_member(engine, authorized=False)
    await send_sealed(
        hass,
        device_keys,
        Channel.ACCESS_REQUEST,
        {"id": "req-3", "action": "check", "card": CARD},
    )
    # A different swipe, decided offline: a second audit entry.
    await replay(
        hass,
        device_keys,
        1,
        {
            "action": "check",
            "request_id": "req-4",
            "card": CARD,
            "granted": False,
            "offline": True,
            "reason": "not_authorized",
        },
    )
    entries = decisions(engine)
    assert [(e["buffered"], e.get("request_id")) for e in entries] == [
        (False, "req-3"),
        (True, None),
    ]
