"""The history's session index (by id, open per device) agrees with a full scan.

``AccessHistory.session`` and ``open_sessions`` answer from an index instead of
scanning every session in memory (a replay of a long backlog was quadratic). Here
every way sessions come and go is exercised: started and stopped (sessions.py),
appended behind the history's back (telemetry_rules.py books busy time so), trimmed
out of memory, replayed from the journal after a crash, loaded from the database,
anonymized; after each step the index must give what a scan of the list gives.
"""

from __future__ import annotations

import time
from typing import Any

from homeassistant.core import HomeAssistant
import pytest

from custom_components.fluxilab.access import history as history_module
from custom_components.fluxilab.access.const import SessionEnd
from custom_components.fluxilab.access.gdpr import async_forget_member
from custom_components.fluxilab.access.history import AccessHistory
from custom_components.fluxilab.access.member_models import Member
from custom_components.fluxilab.access.sessions import start_session, stop_session
from custom_components.fluxilab.history_db import LiveSession

from .test_history_db import crash, load

NOW = time.time()
DEVICES = ("hood-0", "hood-1", "laser")


def scanned(history: AccessHistory) -> tuple[dict[str, int], dict[str | None, list]]:
    """What a scan of the list says: the newest position of each id, open sessions."""
    sessions = history.data["sessions"]
    by_id = {session.session_id: n for n, session in enumerate(sessions)}
    open_ = {
        device: [
            id(s)
            for s in sessions
            if s.end is None and (device is None or s.device_id == device)
        ]
        for device in (None, *DEVICES, "nowhere")
    }
    return by_id, open_


def assert_index_matches(history: AccessHistory) -> None:
    by_id, open_ = scanned(history)
    sessions = history.data["sessions"]
    for session_id, position in by_id.items():
        assert history.session(session_id) is sessions[position], session_id
    assert history.session("never-seen") is None
    for device, expected in open_.items():
        assert [id(s) for s in history.open_sessions(device)] == expected, device


def start(history: AccessHistory, n: int, *, device: str | None = None) -> None:
    start_session(
        history,
        session_id=f"s{n}",
        device_id=device or DEVICES[n % len(DEVICES)],
        member=Member(id=f"m{n % 4}", name=f"Member {n % 4}", role="user"),
        card=f"04AA{n:04X}",
        ts=NOW + n,
        buffered=n % 2 == 0,
    )


def stop(history: AccessHistory, n: int) -> None:
    session = history.session(f"s{n}")
    assert session is not None
    stop_session(
        history, session, duration=5.0, ts=NOW + n + 5, closed_by=SessionEnd.DEVICE
    )


async def test_index_follows_start_stop_trim_reload_and_anonymize(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_module, "MAX_SESSIONS", 8)
    history = await load(hass)
    assert_index_matches(history)

    # Start and stop, with queries in between (the index catches up as it goes).
    for n in range(30):
        start(history, n)
        if n % 3:
            stop(history, n)
        if n % 4 == 0:
            assert_index_matches(history)
            await history.async_commit()  # entries get ids: old closed ones leave
    assert_index_matches(history)
    await history.async_commit()
    assert_index_matches(history)
    # Trimmed: memory keeps the newest and every open one, the index no others.
    assert len(history.data["sessions"]) < 30
    assert history.session("s1") is None  # closed and trimmed
    assert history.session("s0") is not None  # open: stays
    # Left open: every third (all on hood-0).
    assert [s.session_id for s in history.open_sessions("hood-0")] == [
        f"s{n}" for n in range(0, 30, 3)
    ]
    assert history.open_sessions("hood-1") == []

    # Appended behind the history's back (telemetry rules book busy time so), and
    # an id a device repeated: the newest wins, as a scan from the end found it.
    history.data["sessions"].append(
        LiveSession.from_entry(
            {
                "session_id": "busy-1",
                "device_id": "laser",
                "member_id": None,
                "member_name": None,
                "card": None,
                "start": NOW,
                "last_seen": NOW + 9,
                "end": NOW + 9,
                "duration": 9.0,
                "closed_by": SessionEnd.IDLE.value,
                "buffered": False,
            }
        )
    )
    history.data["sessions"].append(
        LiveSession.from_entry({**history.data["sessions"][-2].as_dict(), "end": None})
    )
    history.async_changed()
    assert_index_matches(history)
    repeated = history.data["sessions"][-1]
    assert history.session(repeated.session_id) is repeated

    # Renamed (the hub's session takes the id the device ran it under).
    renamed = history.session("s27")
    assert renamed is not None
    history.rename_session(renamed, "dev-27")
    assert history.session("s27") is None
    assert history.session("dev-27") is renamed
    assert_index_matches(history)
    renamed.session_id = "s27"  # and back, as old code did it: not found stale
    assert history.session("dev-27") is None
    history.rename_session(renamed, "s27")
    assert_index_matches(history)

    # Anonymized in place (a member erased): ids, devices and ends stay, and so
    # does the index.
    await async_forget_member(history, "m1", [])
    assert all(s.member_id != "m1" for s in history.data["sessions"])
    assert any(s.anonymized for s in history.open_sessions("hood-0"))
    assert_index_matches(history)

    # A crash: loaded from the database and replayed from the journal (entries
    # replaced and inserted in the middle of the list).
    stop(history, 27)
    await history.async_commit()
    crash(hass, history)
    history = await load(hass)
    assert_index_matches(history)
    assert history.session("s27") is not None
    assert history.session("s27").end is not None  # type: ignore[union-attr]
    assert all(s.session_id != "s27" for s in history.open_sessions())

    # A clean reload, and a list replaced wholesale.
    await history.async_save()
    history = await load(hass)
    assert_index_matches(history)
    for n in range(30, 40):
        start(history, n, device="hood-1")
    assert_index_matches(history)
    history.data["sessions"] = history.data["sessions"][-3:]
    assert_index_matches(history)
    history.data["sessions"].clear()
    assert_index_matches(history)
    assert history.open_sessions() == []


async def test_lookups_do_not_scan_the_list(hass: HomeAssistant) -> None:
    """A replay's lookups cost the same with 20 or 20,000 sessions in memory.

    Memory is full (MAX_SESSIONS): every new session trims the oldest one out.
    """
    history = await load(hass)
    for n in range(history_module.MAX_SESSIONS):
        history.data["sessions"].append(
            LiveSession.from_entry(
                {
                    "session_id": f"old{n}",
                    "device_id": DEVICES[n % 3],
                    "member_id": None,
                    "member_name": None,
                    "card": None,
                    "start": NOW - n,
                    "last_seen": NOW - n,
                    "end": NOW - n + 1,
                    "duration": 1.0,
                    "closed_by": "device",
                    "buffered": True,
                }
            )
        )
    history.async_changed()
    await history.async_commit()  # entry ids: the old ones may leave memory
    start(history, 1, device="laser")

    class Counting(list[LiveSession]):
        iterated = 0
        read = 0

        def __iter__(self) -> Any:
            Counting.iterated += 1
            return super().__iter__()

        def __reversed__(self) -> Any:
            Counting.iterated += 1
            return super().__reversed__()

        def __getitem__(self, key: Any) -> Any:
            if isinstance(key, int):
                Counting.read += 1
            return super().__getitem__(key)

    history.data["sessions"] = Counting(history.data["sessions"])
    history.session("old0")  # a new list: indexed once more
    Counting.iterated = Counting.read = 0
    replayed = 500
    for n in range(2, replayed):
        start(history, n, device="laser")
        assert history.open_sessions("laser")[-1].session_id == f"s{n}"
        stop(history, n)
        assert history.session(f"old{history_module.MAX_SESSIONS - n}") is not None
    assert Counting.iterated == 0
    assert Counting.read <= 2 * replayed  # each new session read once, not the list
    assert len(history.data["sessions"]) == history_module.MAX_SESSIONS
    assert history.session("old0") is None  # trimmed out of memory and the index
    assert [s.session_id for s in history.open_sessions("laser")] == ["s1"]
    assert_index_matches(history)
