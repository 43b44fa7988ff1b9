"""A member's recent sessions in the panel come from the database, not from memory.

Memory keeps only the lab's newest closed sessions (``MAX_SESSIONS``, for the live
lookups); a member who last used a machine before the rest of the lab filled it
must still see their sessions in the panel's profile: their own, newest first, as
many as the panel shows, the open one and those the journal has not checkpointed
yet included.
"""

from __future__ import annotations

import time

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockUser
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.fluxilab.access import history as history_module
from custom_components.fluxilab.access.const import SessionEnd
from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.access.member_models import Member
from custom_components.fluxilab.access.sessions import start_session, stop_session
from custom_components.fluxilab.api.panel import RECENT_SESSIONS
from custom_components.fluxilab.const import DOMAIN

from .test_buffered_mark import admin_call

NOW = time.time() - 86400


def use(engine: AccessEngine, member: Member, n: int, *, close: bool = True) -> None:
    session, _new = start_session(
        engine.history,
        session_id=f"{member.id}-{n}",
        device_id="hood-0",
        member=member,
        card=None,
        ts=NOW + n,
        buffered=False,
    )
    if close:
        stop_session(
            engine.history,
            session,
            duration=1.0,
            ts=NOW + n + 1,
            closed_by=SessionEnd.DEVICE,
        )


async def test_profile_lists_own_sessions_memory_no_longer_holds(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_admin_user: MockUser,
    hass_ws_client: WebSocketGenerator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(history_module, "MAX_SESSIONS", 5)
    item = await engine.members.async_create_item(
        {"name": "Ada", "user_id": hass_admin_user.id}
    )
    ada = Member(id=item["id"], name="Ada", role="user")
    other = Member(id="someone-else", name="Bo", role="user")
    n = 0
    for _ in range(RECENT_SESSIONS + 3):  # Ada's, then the lab fills memory
        use(engine, ada, n)
        n += 1
    await engine.history.async_commit()
    for _ in range(40):
        use(engine, other, n)
        n += 1
    await engine.history.async_commit()
    assert not any(s.member_id == ada.id for s in engine.history.data["sessions"])
    use(engine, ada, n, close=False)  # open, not in the database yet
    newest = n

    client = await hass_ws_client(hass)
    profile = await admin_call(client, type=f"{DOMAIN}/panel/profile")

    older = [f"{ada.id}-{k}" for k in range(RECENT_SESSIONS + 2, 2, -1)]
    expected = [f"{ada.id}-{newest}", *older[: RECENT_SESSIONS - 1]]
    assert [s["session_id"] for s in profile["sessions"]] == expected
    assert profile["sessions"][0]["end"] is None
    assert {s["device_id"] for s in profile["sessions"]} == {"hood-0"}


async def test_profile_falls_back_to_memory_when_the_database_is_away(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_admin_user: MockUser,
    hass_ws_client: WebSocketGenerator,
) -> None:
    item = await engine.members.async_create_item(
        {"name": "Ada", "user_id": hass_admin_user.id}
    )
    ada = Member(id=item["id"], name="Ada", role="user")
    for n in range(3):
        use(engine, ada, n)
    use(engine, Member(id="bo", name="Bo", role="user"), 3)
    await engine.history.async_commit()
    client = await hass_ws_client(hass)
    database, engine.history.db = engine.history.db, None  # unreachable
    try:
        profile = await admin_call(client, type=f"{DOMAIN}/panel/profile")
    finally:
        engine.history.db = database  # closed with Home Assistant, as always

    assert profile["member"]["name"] == "Ada"
    assert [s["session_id"] for s in profile["sessions"]] == [
        f"{ada.id}-{n}" for n in (2, 1, 0)
    ]
