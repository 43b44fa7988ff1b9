"""Choosing where the history lives (``fluxilab/history/set_database``): the same
database again changes nothing, a database that cannot be reached or a recorder that
is not there is refused with a translated error, and the history stays put."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import (
    MqttMockHAClient,
    WebSocketGenerator,
)

from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.access.history import (
    DATABASE_FILE,
    DATABASE_SETTINGS_KEY,
    ISSUE_HISTORY_DB,
)
from custom_components.fluxilab.const import DOMAIN
from custom_components.fluxilab.history_db import sqlite_url

from .test_history_db import admin_call, fill


async def refused(client: Any, url: str) -> dict[str, Any]:
    await client.send_json_auto_id(
        {"type": "fluxilab/history/set_database", "url": url}
    )
    reply = await client.receive_json()
    assert reply["success"] is False, reply
    error: dict[str, Any] = reply["error"]
    return error


async def test_the_same_database_again_moves_nothing(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_ws_client: WebSocketGenerator,
    hass_storage: dict[str, Any],
) -> None:
    await fill(engine, 3, 2)
    await engine.history.async_save()
    default = sqlite_url(hass.config.path(DATABASE_FILE))
    db = engine.history.database
    client = await hass_ws_client(hass)
    # Named by its URL: now a setting of its own, the same database kept open.
    state = await admin_call(client, type="fluxilab/history/set_database", url=default)
    assert state == {"setting": "url", "url": default, "dialect": "sqlite"}
    assert engine.history.database is db
    assert hass_storage[DATABASE_SETTINGS_KEY]["data"] == {"url": default}
    assert await db.async_run(db.count, "sessions") == 3


async def test_a_database_that_cannot_be_opened_is_refused(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_ws_client: WebSocketGenerator,
    tmp_path: Path,
) -> None:
    await fill(engine, 2, 1)
    await engine.history.async_save()
    before = engine.history.database
    client = await hass_ws_client(hass)
    # Its folder would be inside a plain file: it cannot be created.
    (tmp_path / "a-file").write_text("not a folder")
    target = sqlite_url(str(tmp_path / "a-file" / "history.db"))
    error = await refused(client, target)
    assert error["translation_key"] == "history_db_unreachable"
    assert "a-file" in error["message"]
    # Still where it was, with everything in it.
    assert engine.history.database is before
    assert await before.async_run(before.count, "sessions") == 2
    state = await admin_call(client, type="fluxilab/history/database")
    assert state["setting"] == "default"


async def test_the_recorder_database_needs_the_recorder(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_ws_client: WebSocketGenerator,
) -> None:
    assert "recorder" not in hass.config.components
    client = await hass_ws_client(hass)
    error = await refused(client, "recorder")
    assert error["translation_key"] == "recorder_missing"
    state = await admin_call(client, type="fluxilab/history/database")
    assert state["setting"] == "default"


async def test_an_unreachable_history_database_at_start_is_a_repair(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    mock_config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    url = sqlite_url(str(blocker / "history.db"))
    hass_storage[DATABASE_SETTINGS_KEY] = {
        "version": 1,
        "minor_version": 1,
        "key": DATABASE_SETTINGS_KEY,
        "data": {"url": url},
    }
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    # FluxiLab did not start on the wrong database: the admin is told why.
    assert mock_config_entry.state is not ConfigEntryState.LOADED
    issue = ir.async_get(hass).async_get_issue(DOMAIN, ISSUE_HISTORY_DB)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["url"] == url
