"""A card check's reply first, its records right after: none of them lost.

The engine does before a check's reply only what the reply needs; the audit entry,
the ``fluxilab_access`` event, the event entity, the tag's scan and the credential's
last use follow once the reply is on its way (engine.py, ``_after_reply``). These
tests pin both halves: at the moment the reply is published nothing of that is
there yet, and after it everything is, in the journal too, and a stop right after a
burst of checks saves every one.
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any
from unittest.mock import patch

from homeassistant.components.tag import EVENT_TAG_SCANNED
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.const import EVENT_ACCESS
from custom_components.fluxilab.device.runtime import FluxiLabDevice
from custom_components.fluxilab.history_db.database import AuditQuery
from custom_components.fluxilab.journal import JOURNAL_FILE
from custom_components.fluxilab.protocol.access import (
    AccessRecord,
    AccessRequest,
    Decision,
    Reason,
)
from custom_components.fluxilab.protocol.schemas import AccessAction
from custom_components.fluxilab.protocol.security import KeyPair
from custom_components.fluxilab.protocol.topics import Channel
from tests.integration.test_device import send_sealed

from .conftest import MACHINE_TYPE, answer_request

CARD = "04AABBCC"


async def ada(engine: AccessEngine) -> dict[str, Any]:
    """A member with card CARD, authorized for the fumehood type."""
    member = await engine.members.async_create_item(
        {"name": "Ada Lovelace", "cards": [CARD]}
    )
    await engine.authorizations.async_create_item(
        {"member_id": member["id"], "machine_type_id": MACHINE_TYPE}
    )
    return member


def decisions(engine: AccessEngine) -> list[str]:
    """Request ids of the live decisions in the audit log, in order."""
    return [
        entry.detail("request_id")
        for entry in engine.history.data["audit"]
        if entry.kind == "decision" and entry.has_detail("request_id")
    ]


async def test_the_device_hands_the_engine_a_request_and_sends_its_decision(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    device_keys: KeyPair,
) -> None:
    """The body is read once at the device's edge; the engine sees no wire dict."""
    replies: list[dict[str, Any]] = []
    send = device.async_send

    async def spy(channel: Channel, body: dict[str, Any], **kwargs: Any) -> None:
        if channel is Channel.ACCESS_REPLY:
            replies.append(body)
        await send(channel, body, **kwargs)

    device.async_send = spy  # type: ignore[method-assign]
    decision = Decision(id="q9", granted=False, reason=Reason.UNKNOWN_CARD)
    with patch.object(
        engine, "async_decide", autospec=True, return_value=decision
    ) as decide:
        await send_sealed(
            hass,
            device_keys,
            Channel.ACCESS_REQUEST,
            {"id": "q9", "action": "check", "card": CARD},
        )
        await hass.async_block_till_done()
    decide.assert_awaited_once()
    assert decide.await_args.args == (
        device,
        AccessRequest(id="q9", action=AccessAction.CHECK, card=CARD),
    )
    assert replies == [decision.as_wire()]


async def test_the_reply_is_published_before_the_check_is_recorded(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    device_keys: KeyPair,
) -> None:
    """Over MQTT: the reply goes out first; audit, events and last use follow."""
    device.values["face_velocity"] = 0.6
    member = await ada(engine)
    await hass.async_block_till_done()
    access = async_capture_events(hass, EVENT_ACCESS)
    scans = async_capture_events(hass, EVENT_TAG_SCANNED)
    at_reply: list[dict[str, Any]] = []
    send = device.async_send

    async def spy(channel: Channel, body: dict[str, Any], **kwargs: Any) -> None:
        if channel is Channel.ACCESS_REPLY:
            at_reply.append(
                {
                    "reply": body,
                    "audited": list(decisions(engine)),
                    "events": len(access),
                    "scans": len(scans),
                }
            )
        await send(channel, body, **kwargs)

    device.async_send = spy  # type: ignore[method-assign]
    await send_sealed(
        hass,
        device_keys,
        Channel.ACCESS_REQUEST,
        {"id": "q1", "action": "check", "card": CARD},
    )
    await hass.async_block_till_done()

    (seen,) = at_reply
    assert (seen["reply"]["granted"], seen["reply"]["reason"]) == (True, "granted")
    assert (seen["audited"], seen["events"], seen["scans"]) == ([], 0, 0)
    # Then all of it, once.
    assert decisions(engine) == ["q1"]
    assert [event.data["type"] for event in access] == ["granted"]
    assert [event.data["tag_id"] for event in scans] == [engine.privacy.card(CARD)]
    card = next(c for c in engine.members.data[member["id"]]["credentials"])
    assert card["last_used"] is not None


async def test_the_checks_records_reach_the_journal(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice
) -> None:
    """After the reply, the audit entries are committed like any live change."""
    device.values["face_velocity"] = 0.6
    await ada(engine)
    for number in range(20):
        await answer_request(
            engine, device, {"id": f"r{number}", "action": "check", "card": CARD}
        )
    assert decisions(engine) == []  # nothing yet: the replies come first
    await hass.async_block_till_done()
    await engine.history.async_commit()

    # In the journal's file, which a restart applies (no JSON file was saved).
    path = hass.config.path(".storage", JOURNAL_FILE)
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT value FROM docs WHERE store = 'history' AND key LIKE 'audit/%'"
        ).fetchall()
    entries = [json.loads(value) for (value,) in rows]
    found = [e["request_id"] for e in entries if e["kind"] == "decision"]
    assert sorted(found) == sorted(f"r{number}" for number in range(20))


async def test_a_stop_right_after_a_burst_saves_every_check(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
) -> None:
    """Checks still waiting for their records when HA stops are saved, in order."""
    device.values["face_velocity"] = 0.6
    await ada(engine)
    for number in range(30):
        await answer_request(
            engine, device, {"id": f"r{number}", "action": "check", "card": CARD}
        )
    assert len(decisions(engine)) < 30
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()

    # What the stop's checkpoint wrote into the history database (read as it is,
    # without the flush a query makes first).
    db = engine.history.database
    saved = await db.async_run(db.audit_page, AuditQuery(kind="decision", limit=100))
    assert sorted(e.detail("request_id") for e in saved) == sorted(
        f"r{number}" for number in range(30)
    )


async def test_a_replayed_record_finds_the_answer_still_to_be_recorded(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice
) -> None:
    """A device's replay of a request the hub answered a moment ago merges into it."""
    device.values["face_velocity"] = 0.6
    await ada(engine)
    reply = await answer_request(
        engine, device, {"id": "q7", "action": "check", "card": CARD}
    )
    assert reply["granted"] is True
    # The reply was lost: the device decided from its mirror and replays it.
    await engine.async_handle_record(
        device,
        AccessRecord.from_wire(
            {"action": "check", "card": CARD, "granted": True, "request_id": "q7"}
        ),
        time.time(),
        True,
    )
    await hass.async_block_till_done()
    entries = [
        e.as_dict() for e in engine.history.data["audit"] if e.kind == "decision"
    ]
    assert len(entries) == 1  # audited once, the device's view merged into it
    assert entries[0]["request_id"] == "q7"
    assert entries[0]["device_granted"] is True
