"""The write-ahead journal: a crash after a commit loses nothing, replays add nothing.

A "crash" here is what SIGKILL leaves: the journal's file as committed, the JSON
files (``hass_storage``) as last saved, and nothing else — the in-memory objects are
dropped without any save, and new ones load from what is left.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
import os
import sqlite3
import time
from typing import Any
from unittest.mock import MagicMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.tasks import SynchronizeTask
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.fluxilab.access import gdpr, sessions
from custom_components.fluxilab.access.history import AccessHistory
from custom_components.fluxilab.backfill import DeviceBacklog
from custom_components.fluxilab.const import DOMAIN, LIVE_ACK_INTERVAL
from custom_components.fluxilab.history_db import LiveAudit
from custom_components.fluxilab.journal import (
    DATA_JOURNAL,
    ISSUE_JOURNAL_UNREADABLE,
    JOURNAL_FILE,
    Journal,
    JournalError,
    async_get_journal,
)
from custom_components.fluxilab.protocol.security import KeyPair
from custom_components.fluxilab.protocol.topics import Channel

from .test_device import bring_online, published_acks, send_sealed

DEVICE = "hood-9"
STREAM = "s1"
BATCH = 500


def journal_path(hass: HomeAssistant) -> str:
    """Where the journal lives (the test's own config dir)."""
    return hass.config.path(".storage", JOURNAL_FILE)


async def load(hass: HomeAssistant) -> tuple[AccessHistory, DeviceBacklog]:
    """Start the history and one device's backlog, as set-up does."""
    history = AccessHistory(hass)
    await history.async_load()
    backlog = DeviceBacklog(hass, DEVICE)
    await backlog.async_load()
    return history, backlog


async def db_mark(history: AccessHistory) -> int | None:
    """The journal mark the history database holds (its last checkpoint)."""
    return await history.database.async_run(history.database.journal_mark)


def crash(hass: HomeAssistant, *stores: AccessHistory | DeviceBacklog) -> None:
    """Drop everything in memory without saving, as SIGKILL does."""
    journal = hass.data.pop(DATA_JOURNAL)
    for store in stores:
        if store._save_timer is not None:
            store._save_timer.cancel()
            store._save_timer = None
    if journal._soon is not None:
        journal._soon.cancel()
        journal._soon = None
    journal._closed = True  # no final write at the test's end: it died
    journal._close_db()


def replay_batch(history: AccessHistory, backlog: DeviceBacklog, first: int) -> None:
    """What one backlog batch of BATCH access records does to memory.

    Odd records start a session (audit + session), even ones stop it.
    """
    seqs = backlog.seqs_for(STREAM)
    now = time.time() - 3600
    for seq in range(first, first + BATCH):
        session_id = f"session-{seq if seq % 2 else seq - 1}"
        if seq % 2:
            history.add_audit(
                LiveAudit.from_entry(
                    {
                        "ts": now + seq,
                        "kind": "decision",
                        "device_id": DEVICE,
                        "member_id": None,
                        "card": None,
                        "reason": "granted",
                        "buffered": True,
                    }
                )
            )
            sessions.start_session(
                history,
                session_id=session_id,
                device_id=DEVICE,
                member=None,
                card=None,
                ts=now + seq,
                buffered=True,
            )
        else:
            session = history.session(session_id)
            assert session is not None
            sessions.stop_session(
                history,
                session,
                duration=1.0,
                ts=now + seq,
                closed_by=sessions.SessionEnd.DEVICE,
            )
        backlog.add_sample("face_velocity", now + seq, 0.5)
        seqs.add(seq)


def summary(history: AccessHistory, backlog: DeviceBacklog) -> dict[str, Any]:
    """What a restart must find."""
    seqs = backlog.seqs_for(STREAM)
    return {
        "audit": len(history.data["audit"]),
        "sessions": sorted(s.session_id for s in history.data["sessions"]),
        "closed": sum(1 for s in history.data["sessions"] if s.end is not None),
        "ids": [e.entry_id for e in history.data["audit"]],
        "seqs": seqs.as_list(),
        "samples": sum(a.count for a in backlog.hours["face_velocity"].values()),
    }


async def test_crash_after_commit_before_json_save(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """The state the ack promised is back after a crash that saved no JSON at all."""
    history, backlog = await load(hass)
    replay_batch(history, backlog, 1)
    journal = await async_get_journal(hass)
    started = time.perf_counter()
    await backlog.async_commit()
    elapsed = (time.perf_counter() - started) * 1000
    print(  # the figure the lead asked for
        f"journal commit of one {BATCH}-record batch: {elapsed:.1f} ms"
        f" ({journal.stats.rows} documents)"
    )
    before = summary(history, backlog)
    assert before["audit"] == BATCH // 2
    assert f"{DOMAIN}.history" not in hass_storage
    assert await db_mark(history) is None  # no checkpoint in the database yet
    crash(hass, history, backlog)

    history, backlog = await load(hass)
    assert summary(history, backlog) == before
    assert os.stat(journal_path(hass)).st_mode & 0o777 == 0o600
    # The seqs are back with the data: the replayed batch is recognized as stored.
    assert all(seq in backlog.seqs_for(STREAM) for seq in range(1, BATCH + 1))
    crash(hass, history, backlog)


async def test_replay_is_idempotent(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """Checkpoint, more commits, crash, reload, crash again: every entry once."""
    history, backlog = await load(hass)
    replay_batch(history, backlog, 1)
    await history.async_save()  # checkpoint: the database with its mark, rows dropped
    await backlog.async_save()
    journal = await async_get_journal(hass)
    assert await hass.async_add_executor_job(journal.rows_on_disk) == 0
    assert (await db_mark(history) or 0) > 0
    replay_batch(history, backlog, BATCH + 1)
    await history.async_commit()
    expected = summary(history, backlog)
    assert expected["audit"] == BATCH
    crash(hass, history, backlog)

    for _ in range(2):  # a crash right after a recovery recovers the same again
        history, backlog = await load(hass)
        assert summary(history, backlog) == expected
        crash(hass, history, backlog)


async def test_rows_older_than_the_files_mark_are_not_applied(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """A crash between the JSON write and the drop: the old rows are skipped."""
    history, backlog = await load(hass)
    replay_batch(history, backlog, 1)
    await history.async_commit()
    with patch.object(Journal, "_drop"):  # the crash comes before the drop
        await history.async_save()
    # A later change the file also holds (a session changed again) ...
    session = history.data["sessions"][0]
    session.member_name = "corrected"
    history.async_changed(session)
    await history.async_save()
    expected = summary(history, backlog)
    crash(hass, history, backlog)

    history, backlog = await load(hass)
    assert summary(history, backlog) == expected
    assert history.data["sessions"][0].member_name == "corrected"
    crash(hass, history, backlog)


async def test_unreadable_journal_is_reported_not_fatal(
    hass: HomeAssistant, hass_storage: dict[str, Any], issue_registry: ir.IssueRegistry
) -> None:
    """A torn or corrupt file is moved aside and reported; set-up goes on."""
    history, backlog = await load(hass)
    replay_batch(history, backlog, 1)
    await history.async_save()
    crash(hass, history, backlog)
    path = journal_path(hass)
    with open(path, "r+b") as file:  # noqa: ASYNC230  # a test's small file
        file.seek(0)
        file.write(b"this is not a database" * 64)

    history, backlog = await load(hass)
    assert len(history.data["audit"]) == BATCH // 2  # from the JSON checkpoint
    assert issue_registry.async_get_issue(DOMAIN, ISSUE_JOURNAL_UNREADABLE)
    # The journal works again: a new commit survives the next crash.
    replay_batch(history, backlog, BATCH + 1)
    await backlog.async_commit()
    crash(hass, history, backlog)
    history, backlog = await load(hass)
    assert len(history.data["audit"]) == BATCH
    crash(hass, history, backlog)


async def test_unreadable_document_is_skipped(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """One bad row (not JSON) is counted and skipped; the others apply."""
    history, backlog = await load(hass)
    replay_batch(history, backlog, 1)
    await history.async_commit()
    crash(hass, history, backlog)
    connection = sqlite3.connect(journal_path(hass))
    connection.execute(
        "UPDATE docs SET value = x'7b7b' WHERE key ="
        " (SELECT key FROM docs WHERE key LIKE 'audit/%' LIMIT 1)"
    )
    connection.commit()
    connection.close()

    history, backlog = await load(hass)
    journal = await async_get_journal(hass)
    assert journal.stats.unreadable_rows == 1
    assert len(history.data["audit"]) == BATCH // 2 - 1
    crash(hass, history, backlog)


async def test_batch_not_acked_when_the_journal_fails(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
    mqtt_mock: MqttMockHAClient,
    freezer: FrozenDateTimeFactory,
) -> None:
    """No commit, no ack; the resent batch is stored once and acknowledged."""
    await bring_online(hass, announce)
    record = {
        "seq": 3,
        "ts": time.time() - 60,
        "kind": "access",
        "buffered": True,
        "event": {
            "action": "session_start",
            "granted": True,
            "offline": True,
            "session_id": "offline-1",
        },
    }
    with patch.object(Journal, "_write", side_effect=sqlite3.OperationalError("full")):
        await send_sealed(hass, device_keys, Channel.BACKLOG, {"records": [record]})
        freezer.tick(timedelta(seconds=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    assert await published_acks(hass, mqtt_mock, device_keys) == []

    await send_sealed(hass, device_keys, Channel.BACKLOG, {"records": [record]})
    freezer.tick(timedelta(seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert await published_acks(hass, mqtt_mock, device_keys) == [3]
    engine = hass.data["fluxilab_access_engine"]
    assert [s.session_id for s in engine.history.data["sessions"]] == ["offline-1"]
    assert len(engine.history.data["audit"]) == 1


async def test_daily_purge_survives_a_failing_journal(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A purge that cannot be committed warns; the timer's next run still purges."""
    engine = hass.data["fluxilab_access_engine"]
    # What the journal raises when its commit fails (whether a purge has rows to
    # commit at all depends on what earlier commits took, so raise it directly).
    failing = patch.object(engine, "async_purge", side_effect=JournalError("full"))
    with failing as purge:
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(days=1, seconds=1))
        await hass.async_block_till_done()
    assert purge.await_count == 1
    assert "Daily purge not saved yet: full" in caplog.text
    caplog.clear()
    with patch.object(engine, "async_purge", wraps=engine.async_purge) as purge:
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(days=2, seconds=2))
        await hass.async_block_till_done()
    assert purge.await_count == 1
    assert "Daily purge not saved yet" not in caplog.text


async def test_live_telemetry_acked_after_the_recorder_commit(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
    mqtt_mock: MqttMockHAClient,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The live ack waits for the recorder's barrier: until it commits, no ack."""
    barriers: list[SynchronizeTask] = []
    recorder = MagicMock()
    recorder.queue_task = barriers.append  # the recorder has not run them yet
    hass.config.components.add("recorder")
    with patch(
        "custom_components.fluxilab.journal.get_instance", return_value=recorder
    ):
        await bring_online(hass, announce)
        await send_sealed(
            hass,
            device_keys,
            Channel.TELEMETRY,
            {"seq": 1, "ts": time.time(), "values": {"face_velocity": 0.4}},
        )
        freezer.tick(timedelta(seconds=LIVE_ACK_INTERVAL + 0.1))
        async_fire_time_changed(hass)  # the live flush: it asks for a barrier
        for _ in range(5):
            await asyncio.sleep(0)
        freezer.tick(timedelta(seconds=0.2))
        async_fire_time_changed(hass)  # the barrier's window ends: it is queued
        for _ in range(20):
            await asyncio.sleep(0)
        assert await published_acks(hass, mqtt_mock, device_keys) == []
        assert len(barriers) == 1
        barriers[0].future.set_result(None)  # the recorder's commit
        await hass.async_block_till_done()
        assert await published_acks(hass, mqtt_mock, device_keys) == [1]


async def test_forgetting_a_member_survives_a_crash(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """A member forgotten (GDPR) stays forgotten after a crash before the JSON save.

    The journal holds the entries as first committed, with the member's name: the
    entries blanked in place must replace those rows, or a restart brings them back.
    """
    history, _backlog = await load(hass)
    for offset in range(3):
        history.add_audit(
            LiveAudit.from_entry(
                {
                    "ts": time.time() - 60 + offset,
                    "kind": "decision",
                    "device_id": DEVICE,
                    "member_id": "grace",
                    "member_name": "Grace Hopper",
                    "card": "c0ffee01",
                    "reason": "granted",
                    "buffered": False,
                }
            )
        )
    history.async_changed()
    await history.async_commit()
    await gdpr.async_forget_member(history, "grace", ["c0ffee01"])
    await history.async_commit()
    crash(hass, history)

    history, _backlog = await load(hass)
    assert len(history.data["audit"]) == 3
    assert all(
        entry.member_id is None and entry.member_name is None and entry.card is None
        for entry in history.data["audit"]
    )
    crash(hass, history)


async def test_seqs_added_after_a_commit_inside_a_batch_are_journaled(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """A commit in the middle of a batch (another device's, a live swipe's) must not
    leave the rest of the batch's sequence numbers out of the next one.

    The batch holds its stream's set and adds to it as it goes; before, only fetching
    the set marked it changed, so the seqs added after a mid-batch commit never reached
    the journal while their hourly samples did: after a crash the device's resend was
    counted a second time (a replayed hour's mean came out wrong in the e2e test).
    """
    history, backlog = await load(hass)
    seqs = backlog.seqs_for(STREAM)
    now = time.time() - 3600
    seqs.add(1)
    backlog.add_sample("face_velocity", now, 0.5)
    await backlog.async_commit()  # someone else's commit, mid-batch
    seqs.add(2)
    backlog.add_sample("face_velocity", now + 1, 0.7)
    await backlog.async_commit()  # the batch's own commit, before its ack
    crash(hass, history, backlog)

    history, backlog = await load(hass)
    assert 1 in backlog.seqs_for(STREAM)
    assert 2 in backlog.seqs_for(STREAM)
    assert sum(a.count for a in backlog.hours["face_velocity"].values()) == 2
    crash(hass, history, backlog)
