"""The history's doors beside the panel's: the streamed usage CSV, the database.

``GET /api/fluxilab/usage.csv`` streams the usage CSV.

A year of sessions is too much for one websocket message; this view writes the CSV
as the database hands it over, a batch at a time (read and formatted on the history
database's worker thread), so neither memory nor the event loop hold the whole.
The caller needs the same right as the panel's history view
(``panel/admin/history`` in access/permissions.py). Query parameters, all optional:
``member_id``, ``device_id``, ``start`` and ``end`` (ISO 8601; ``start <= session
start < end``).

``fluxilab/history/database`` and ``fluxilab/history/set_database`` (websocket, Home
Assistant administrators) tell and change which database holds the history.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web
from homeassistant.components import websocket_api
from homeassistant.components.http import KEY_HASS, KEY_HASS_USER, HomeAssistantView
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
import probatio as vol
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from custom_components.fluxilab.access import admin_audit, gdpr
from custom_components.fluxilab.access.engine import ACCESS_ENGINE
from custom_components.fluxilab.access.history import RECORDER_URL
from custom_components.fluxilab.access.permissions import (
    NotPermitted,
    caller_for_user,
    require_permission,
)
from custom_components.fluxilab.const import DOMAIN
from custom_components.fluxilab.history_db import SessionQuery, redact_url

if TYPE_CHECKING:
    from custom_components.fluxilab.access.engine import AccessEngine

OPERATION: Final = "panel/admin/history"
URL: Final = f"/api/{DOMAIN}/usage.csv"
MAX_PARAMETER: Final = 255


class UsageCsvView(HomeAssistantView):
    """Stream the usage CSV of the sessions matching the query's filters."""

    url = URL
    name = f"api:{DOMAIN}:usage_csv"
    requires_auth = True

    async def get(self, request: web.Request) -> web.StreamResponse:
        """Check the caller's right, then stream the CSV."""
        hass = request.app[KEY_HASS]
        if (engine := hass.data.get(ACCESS_ENGINE)) is None:
            return self.json_message("not ready", HTTPStatus.SERVICE_UNAVAILABLE)
        caller = caller_for_user(
            request[KEY_HASS_USER], engine.members.members(), engine.roles.typed()
        )
        try:
            caller.require(f"{DOMAIN}/{OPERATION}")
        except NotPermitted:
            return self.json_message("not permitted", HTTPStatus.FORBIDDEN)
        params = request.query
        if any(len(value) > MAX_PARAMETER for value in params.values()):
            return self.json_message("parameter too long", HTTPStatus.BAD_REQUEST)
        moments: dict[str, float | None] = {}
        for key in ("start", "end"):
            moments[key] = None
            if (text := params.get(key)) is not None:
                if (moment := dt_util.parse_datetime(text)) is None:
                    return self.json_message(f"bad {key}", HTTPStatus.BAD_REQUEST)
                moments[key] = dt_util.as_utc(moment).timestamp()
        start, end = moments["start"], moments["end"]
        if start is not None and end is not None and start >= end:
            return self.json_message("bad period", HTTPStatus.BAD_REQUEST)
        query = SessionQuery(
            member_id=params.get("member_id"),
            device_id=params.get("device_id"),
            start=start,
            end=end,
        )
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/csv; charset=utf-8",
                "Content-Disposition": 'attachment; filename="fluxilab-usage.csv"',
                "Cache-Control": "no-store",
            }
        )
        await response.prepare(request)
        async for chunk in gdpr.async_usage_csv(engine.history, query):
            await response.write(chunk.encode())
        await response.write_eof()
        return response


# Which database ---------------------------------------------------------------------

SETTING_DEFAULT: Final = "default"
DIALECTS: Final = frozenset({"sqlite", "postgresql", "mysql", "mariadb"})
MAX_URL: Final = 2048


def _database_state(engine: AccessEngine) -> dict[str, Any]:
    history = engine.history
    setting = history.database_settings.setting
    db = history.database
    return {
        "setting": SETTING_DEFAULT
        if setting is None
        else RECORDER_URL
        if setting == RECORDER_URL
        else "url",
        "url": redact_url(db.url),
        "dialect": db.dialect,
    }


def _engine(hass: HomeAssistant) -> AccessEngine:
    if (engine := hass.data.get(ACCESS_ENGINE)) is None:
        raise HomeAssistantError(
            translation_domain=DOMAIN, translation_key="access_engine_missing"
        )
    return engine


@require_permission
@websocket_api.websocket_command({vol.Required("type"): f"{DOMAIN}/history/database"})
@websocket_api.async_response
async def ws_database(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Which database holds the history (its URL without the password)."""
    connection.send_result(msg["id"], _database_state(_engine(hass)))


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/history/set_database",
        vol.Required("url"): vol.Any(
            None, vol.All(cv.string, vol.Length(min=1, max=MAX_URL))
        ),
    }
)
@websocket_api.async_response
async def ws_set_database(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Move the history to another database, one that holds no history yet.

    ``url``: None or "default" (the SQLite file), "recorder" (the recorder's
    database) or a SQLAlchemy URL (PostgreSQL, MariaDB/MySQL, SQLite).
    """
    engine = _engine(hass)
    setting: str | None = msg["url"]
    if setting == SETTING_DEFAULT:
        setting = None
    if setting is not None and setting != RECORDER_URL:
        try:
            backend = make_url(setting).get_backend_name()
        except ArgumentError:
            backend = None
        if backend not in DIALECTS:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="history_db_url_invalid"
            )
    before = _database_state(engine)["url"]
    await engine.history.async_move_to(setting)
    state = _database_state(engine)
    # Audited in the database the history now lives in (admin_audit.py).
    engine.admin_audit.record(
        "settings",
        "updated",
        {}
        if state["url"] == before
        else {"history_database": admin_audit.change(before, state["url"])},
        target_id="history_database",
    )
    connection.send_result(msg["id"], state)


@callback
def async_setup_history_api(hass: HomeAssistant) -> None:
    """Register the history's websocket commands and the streamed CSV."""
    websocket_api.async_register_command(hass, ws_database)
    websocket_api.async_register_command(hass, ws_set_database)
    if "http" in hass.config.components:
        hass.http.register_view(UsageCsvView())
