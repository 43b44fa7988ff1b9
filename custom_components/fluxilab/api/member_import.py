"""The doors of the CSV member import and export (access/member_import.py).

``fluxilab.import_members`` / ``fluxilab/members/import`` take the CSV text and
answer the report (a dry run writes nothing); ``fluxilab.export_members`` /
``fluxilab/members/export`` answer the CSV; ``fluxilab.import_fabomatic`` reads a
Fab-O-Matic backend's database (access/fabomatic_import.py). ``fluxilab/panel/admin/member_from_card``
turns a card from the unknown-cards list into a new member. Who may call them is
in access/permissions.py; the writes go through admin.py and are audited under the
door that made them, as every other door's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from homeassistant.components import websocket_api
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.helpers import config_validation as cv
from homeassistant.util.hass_dict import HassKey
import probatio as vol

from custom_components.fluxilab.access import (
    admin,
    admin_audit,
    fabomatic_import,
    member_import,
)
from custom_components.fluxilab.access.credentials import CARD
from custom_components.fluxilab.access.engine import ACCESS_ENGINE, AccessEngine
from custom_components.fluxilab.access.errors import AccessValidationError
from custom_components.fluxilab.access.permissions import (
    async_caller,
    require_permission,
)
from custom_components.fluxilab.access.roles import Role
from custom_components.fluxilab.access.store import NAME, ROLE_ID
from custom_components.fluxilab.const import DOMAIN

CSV_TEXT = cv.string
"""The file's text; its size is checked (member_import.check_size) before parsing."""
IMPORT_FIELDS: dict[Any, Any] = {
    vol.Required("csv_text"): CSV_TEXT,
    vol.Optional("dry_run", default=False): cv.boolean,
    vol.Optional("strict", default=True): cv.boolean,
}
FABOMATIC_FIELDS: dict[Any, Any] = {
    vol.Required("path"): vol.All(cv.string, vol.Length(min=1, max=1024)),
    vol.Optional("dry_run", default=True): cv.boolean,
    vol.Optional("strict", default=True): cv.boolean,
}
FROM_CARD_FIELDS: dict[Any, Any] = {
    vol.Required("card"): CARD,
    vol.Required("name"): NAME,
    vol.Optional("email"): vol.Any(None, vol.All(cv.string, vol.Length(max=254))),
    vol.Optional("role", default=Role.USER.value): ROLE_ID,
    vol.Optional(admin.ALLOW_SAME_NAME, default=False): cv.boolean,
}

type Handler = Callable[
    [AccessEngine, ServiceCall], Coroutine[Any, Any, ServiceResponse]
]


IMPORT_LOCK: HassKey[asyncio.Lock] = HassKey(f"{DOMAIN}_member_import")
"""One import at a time: each plans against the lab the one before it left."""


def _engine(hass: HomeAssistant) -> AccessEngine:
    return hass.data[ACCESS_ENGINE]


def _lock(hass: HomeAssistant) -> asyncio.Lock:
    return hass.data.setdefault(IMPORT_LOCK, asyncio.Lock())


async def async_import(
    engine: AccessEngine, csv_text: str, *, dry_run: bool, strict: bool
) -> dict[str, Any]:
    """Import, one at a time, the devices' syncs held until the last write."""
    async with _lock(engine.hass), engine.sync.async_held():
        report = await member_import.async_import(
            engine, csv_text, dry_run=dry_run, strict=strict
        )
    return report.as_wire()


async def _import_members(engine: AccessEngine, call: ServiceCall) -> ServiceResponse:
    """Import; a caller who asked for no report learns of a refused import by error."""
    report = await async_import(
        engine,
        call.data["csv_text"],
        dry_run=call.data["dry_run"],
        strict=call.data["strict"],
    )
    rejected = [row for row in report["rows"] if row["action"] == "reject"]
    if rejected and not call.data["dry_run"] and not call.return_response:
        counted = {"rejected": str(len(rejected)), "line": str(rejected[0]["line"])}
        if call.data["strict"]:
            raise AccessValidationError("import_rejected", **counted)
        raise AccessValidationError("import_partly_rejected", **counted)
    return report


async def _export_members(engine: AccessEngine, call: ServiceCall) -> ServiceResponse:
    return {
        "csv_text": member_import.export_csv(engine),
        "members": len(engine.members.data),
    }


def _database_path(hass: HomeAssistant, path: str) -> Path:
    """Return the database file: in the config folder, or a folder HA allows."""
    config = Path(hass.config.config_dir).resolve()
    found = (config / path).resolve()
    if not (found.is_relative_to(config) or hass.config.is_allowed_path(str(found))):
        raise AccessValidationError("fabomatic_path_not_allowed", path=path[:200])
    return found


async def _import_fabomatic(engine: AccessEngine, call: ServiceCall) -> ServiceResponse:
    """Read a Fab-O-Matic backend's database and import what FluxiLab can hold."""
    hass = engine.hass
    # Both touch the file system: in the executor.
    path = await hass.async_add_executor_job(_database_path, hass, call.data["path"])
    data = await hass.async_add_executor_job(fabomatic_import.read_database, path)
    async with _lock(hass), engine.sync.async_held():
        result = await fabomatic_import.async_import(
            engine, data, dry_run=call.data["dry_run"], strict=call.data["strict"]
        )
    return result.as_wire()


SERVICES: dict[str, tuple[Handler, dict[Any, Any], SupportsResponse]] = {
    "import_members": (_import_members, IMPORT_FIELDS, SupportsResponse.OPTIONAL),
    "export_members": (_export_members, {}, SupportsResponse.ONLY),
    "import_fabomatic": (
        _import_fabomatic,
        FABOMATIC_FIELDS,
        SupportsResponse.ONLY,
    ),
}


def _wrap(
    name: str, handler: Handler
) -> Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]]:
    """Check the permission and open the audit's door, as every service does."""
    operation = f"{DOMAIN}.{name}"

    async def _call(call: ServiceCall) -> ServiceResponse:
        engine = _engine(call.hass)
        caller = await async_caller(engine.hass, call.context.user_id)
        caller.require(operation, context=call.context)
        with admin_audit.through(caller, admin_audit.DOOR_SERVICE, operation):
            return await handler(engine, call)

    return _call


@callback
def async_setup_member_import(hass: HomeAssistant) -> None:
    """Register the import and export services and websocket commands."""
    for name, (handler, fields, response) in SERVICES.items():
        hass.services.async_register(
            DOMAIN,
            name,
            _wrap(name, handler),
            schema=vol.Schema(fields),
            supports_response=response,
        )
    websocket_api.async_register_command(hass, ws_import)
    websocket_api.async_register_command(hass, ws_export)
    websocket_api.async_register_command(hass, ws_member_from_card)


@require_permission
@websocket_api.websocket_command(
    {vol.Required("type"): f"{DOMAIN}/members/import", **IMPORT_FIELDS}
)
@websocket_api.async_response
async def ws_import(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Plan (dry run) or apply a CSV import; answer the report."""
    report = await async_import(
        _engine(hass), msg["csv_text"], dry_run=msg["dry_run"], strict=msg["strict"]
    )
    connection.send_result(msg["id"], report)


@require_permission
@websocket_api.websocket_command({vol.Required("type"): f"{DOMAIN}/members/export"})
@callback
def ws_export(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Answer every member, their cards and authorizations as CSV."""
    engine = _engine(hass)
    connection.send_result(
        msg["id"],
        {
            "csv_text": member_import.export_csv(engine),
            "members": len(engine.members.data),
        },
    )


@require_permission
@websocket_api.websocket_command(
    {vol.Required("type"): f"{DOMAIN}/panel/admin/member_from_card", **FROM_CARD_FIELDS}
)
@websocket_api.async_response
async def ws_member_from_card(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Make a new member holding a card seen as unknown (uid or its pseudonym)."""
    engine = _engine(hass)
    card = engine.resolve_card(msg["card"], unknown=True)
    fields: dict[str, Any] = {"name": msg["name"], "role": msg["role"], "cards": [card]}
    if msg.get("email"):
        fields["email"] = msg["email"]
    result = await admin.async_create_member(
        engine.members,
        admin.MemberCreate(fields=fields, allow_same_name=msg[admin.ALLOW_SAME_NAME]),
    )
    connection.send_result(msg["id"], {"member_id": result.member_id})
