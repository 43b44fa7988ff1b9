"""Charge-back's doors: projects, session charges, statements (docs/BILLING.md).

- ``fluxilab/project/list|subscribe|create|update|delete``: the projects (a
  storage collection, as machine types are);
- ``fluxilab/billing/set_default``: a member's default project;
- ``fluxilab/billing/set_session`` and the service ``fluxilab.set_session_charge``:
  charge a session to another project, or mark it non-billable (training,
  maintenance, staff);
- ``fluxilab/billing/statement`` and the service ``fluxilab.billing_statement``
  (response data): a project's statement of a month;
- ``GET /api/fluxilab/statement.csv?project_id=..&month=YYYY-MM``: the same as CSV,
  written a line batch at a time.

Who may do which: access/permissions.py (``MANAGE_PROJECTS``, ``SEE_PROJECTS``,
``CHARGE_SESSIONS``, ``STATEMENTS``). Bad input is a translated
ServiceValidationError (``invalid_month``, ``unknown_project``, ...).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
import csv
from dataclasses import replace
from datetime import UTC, datetime
from http import HTTPStatus
import io
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web
from homeassistant.components import websocket_api
from homeassistant.components.http import KEY_HASS, KEY_HASS_USER, HomeAssistantView
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
import probatio as vol

from custom_components.fluxilab.access import admin_audit
from custom_components.fluxilab.access.billing import (
    Charge,
    Statement,
    Totals,
    format_cents,
    parse_month,
)
from custom_components.fluxilab.access.engine import ACCESS_ENGINE
from custom_components.fluxilab.access.errors import AccessValidationError
from custom_components.fluxilab.access.permissions import (
    NotPermitted,
    async_caller,
    caller_for_user,
    require_permission,
)
from custom_components.fluxilab.access.project_store import (
    PROJECT_FIELDS,
    PROJECT_UPDATE_FIELDS,
    ChargeChange,
)
from custom_components.fluxilab.const import DOMAIN

from .websocket import LabCollectionWebsocket

if TYPE_CHECKING:
    from custom_components.fluxilab.access.engine import AccessEngine

CSV_URL: Final = f"/api/{DOMAIN}/statement.csv"
CSV_OPERATION: Final = f"{DOMAIN}/billing/statement"
CSV_BATCH: Final = 500
"""Statement lines per write of the CSV."""
MAX_PARAMETER: Final = 255
NO_PROJECT: Final = ""
"""``project_id`` of the sessions charged to no project (their own statement)."""
CSV_FIELDS: Final = (
    "session_id",
    "start",
    "end",
    "member",
    "device",
    "machine_type",
    "duration_s",
    "billed_s",
    "busy_s",
    "idle_s",
    "non_billable",
    "minimum",
    "amount",
)

PROJECT_ID = vol.All(cv.string, vol.Length(max=100))
MONTH = vol.All(cv.string, vol.Length(max=16))
SESSION_ID = vol.All(cv.string, vol.Length(min=1, max=200))


def _engine(hass: HomeAssistant) -> AccessEngine:
    return hass.data[ACCESS_ENGINE]


def _month(text: str) -> tuple[int, int]:
    if (parsed := parse_month(text)) is None:
        raise AccessValidationError("invalid_month", month=text)
    return parsed


def _project_id(value: str | None) -> str | None:
    return None if value in (None, NO_PROJECT) else value


# The statement as data and as CSV --------------------------------------------------


def _iso(ts: float) -> str:
    return dt_util.as_local(datetime.fromtimestamp(ts, UTC)).isoformat()


def _totals(totals: Totals) -> dict[str, Any]:
    return {
        "sessions": totals.sessions,
        "seconds": float(totals.seconds),
        "billed_seconds": totals.billed_seconds,
        "busy_seconds": totals.busy_seconds,
        "idle_seconds": totals.idle_seconds,
        "non_billable": totals.non_billable,
        "cents": totals.cents,
        "amount": format_cents(totals.cents),
    }


def _line(engine: AccessEngine, item: Charge) -> dict[str, Any]:
    use = item.use
    member = engine.members.data.get(use.member_id or "")
    device = engine.device(use.device_id)
    type_id = use.machine_type_id
    return {
        "session_id": use.session_id,
        "start": _iso(use.start),
        "end": _iso(use.start + use.duration),
        "member_id": use.member_id,
        "member_name": member["name"] if member else None,
        "device_id": use.device_id,
        "device_name": (device.entry.title or use.device_id)
        if device
        else use.device_id,
        "machine_type_id": type_id,
        "seconds": use.duration,
        "billed_seconds": item.billed_seconds,
        "busy_seconds": item.busy_seconds,
        "idle_seconds": item.idle_seconds,
        "non_billable": None if use.non_billable is None else use.non_billable.value,
        "minimum_applied": item.minimum_applied,
        "cents": item.cents,
        "amount": format_cents(item.cents),
    }


def statement_data(engine: AccessEngine, result: Statement) -> dict[str, Any]:
    """Return a statement as the panel, the service and the tests read it."""
    project = (
        None
        if result.project_id is None
        else engine.projects.data.get(result.project_id)
    )
    types = engine.machine_types.data
    return {
        "project": None
        if project is None
        else {"id": project["id"], "name": project["name"], "code": project["code"]},
        "month": f"{result.year:04d}-{result.month:02d}",
        "lines": [_line(engine, item) for item in result.charges],
        "by_machine_type": [
            {
                "machine_type_id": type_id,
                "name": (types.get(type_id or "") or {}).get("name") or type_id,
                **_totals(totals),
            }
            for type_id, totals in sorted(
                result.by_machine_type.items(), key=lambda pair: pair[0] or ""
            )
        ],
        "total": _totals(result.total),
    }


def _csv_rows(lines: list[dict[str, Any]], types: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for line in lines:
        type_id = line["machine_type_id"]
        writer.writerow(
            (
                line["session_id"],
                line["start"],
                line["end"],
                line["member_name"] or line["member_id"] or "",
                line["device_name"],
                (types.get(type_id or "") or {}).get("name") or type_id or "",
                f"{line['seconds']:.3f}",
                line["billed_seconds"],
                line["busy_seconds"],
                line["idle_seconds"],
                line["non_billable"] or "",
                "yes" if line["minimum_applied"] else "",
                line["amount"],
            )
        )
    return buffer.getvalue()


async def async_statement_csv(
    engine: AccessEngine, project_id: str | None, year: int, month: int
) -> AsyncIterator[str]:
    """Yield a statement's CSV: header, lines a batch at a time, the total last."""
    result = await engine.projects.async_statement(project_id, year, month)
    data = statement_data(engine, result)
    yield ",".join(CSV_FIELDS) + "\n"
    lines = data["lines"]
    types = engine.machine_types.data
    for start in range(0, len(lines), CSV_BATCH):
        yield _csv_rows(lines[start : start + CSV_BATCH], types)
    total = data["total"]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(
        (
            "total",
            "",
            "",
            "",
            "",
            "",
            f"{total['seconds']:.3f}",
            total["billed_seconds"],
            total["busy_seconds"],
            total["idle_seconds"],
            total["non_billable"],
            "",
            total["amount"],
        )
    )
    yield buffer.getvalue()


class StatementCsvView(HomeAssistantView):
    """Stream a project's statement of a month as CSV."""

    url = CSV_URL
    name = f"api:{DOMAIN}:statement_csv"
    requires_auth = True

    async def get(self, request: web.Request) -> web.StreamResponse:
        """Check the caller's right and the parameters, then stream the CSV."""
        hass = request.app[KEY_HASS]
        if (engine := hass.data.get(ACCESS_ENGINE)) is None:
            return self.json_message("not ready", HTTPStatus.SERVICE_UNAVAILABLE)
        caller = caller_for_user(
            request[KEY_HASS_USER], engine.members.members(), engine.roles.typed()
        )
        try:
            caller.require(CSV_OPERATION)
        except NotPermitted:
            return self.json_message("not permitted", HTTPStatus.FORBIDDEN)
        params = request.query
        if any(len(value) > MAX_PARAMETER for value in params.values()):
            return self.json_message("parameter too long", HTTPStatus.BAD_REQUEST)
        if (month := parse_month(params.get("month", ""))) is None:
            return self.json_message("bad month", HTTPStatus.BAD_REQUEST)
        project_id = _project_id(params.get("project_id"))
        if project_id is not None and project_id not in engine.projects.data:
            return self.json_message("unknown project", HTTPStatus.NOT_FOUND)
        name = (
            f"fluxilab-statement-{project_id or 'none'}-{month[0]:04d}-{month[1]:02d}"
        )
        safe = "".join(
            c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in name
        )
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/csv; charset=utf-8",
                "Content-Disposition": f'attachment; filename="{safe}.csv"',
                "Cache-Control": "no-store",
            }
        )
        await response.prepare(request)
        async for chunk in async_statement_csv(engine, project_id, *month):
            await response.write(chunk.encode())
        await response.write_eof()
        return response


# Websocket -------------------------------------------------------------------------


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/billing/statement",
        vol.Optional("project_id"): vol.Any(None, PROJECT_ID),
        vol.Required("month"): MONTH,
    }
)
@websocket_api.async_response
async def ws_statement(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Answer a project's statement of a month (no project: sessions of none)."""
    engine = _engine(hass)
    year, month = _month(msg["month"])
    result = await engine.projects.async_statement(
        _project_id(msg.get("project_id")), year, month
    )
    connection.send_result(msg["id"], statement_data(engine, result))


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/billing/set_session",
        vol.Required("session_id"): SESSION_ID,
        vol.Optional("project_id"): vol.Any(None, PROJECT_ID),
        vol.Optional("non_billable"): vol.Any(None, vol.All(str, vol.Length(max=32))),
    }
)
@websocket_api.async_response
async def ws_set_session(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Charge a session to another project, or mark it (non-)billable."""
    engine = _engine(hass)
    result = await engine.projects.async_set_session(
        msg["session_id"], ChargeChange.from_wire(msg), engine.admin_audit
    )
    connection.send_result(msg["id"], result)


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/billing/set_default",
        vol.Required("member_id"): vol.All(str, vol.Length(max=100)),
        vol.Required("project_id"): vol.Any(None, PROJECT_ID),
    }
)
@websocket_api.async_response
async def ws_set_default(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Make a project a member's default (None: no default)."""
    engine = _engine(hass)
    await engine.projects.async_set_default(
        msg["member_id"], _project_id(msg["project_id"])
    )
    project = engine.projects.default_project(msg["member_id"])
    connection.send_result(
        msg["id"],
        {"member_id": msg["member_id"], "project_id": project and project.id},
    )


# Services --------------------------------------------------------------------------


async def _statement_service(
    engine: AccessEngine, call: ServiceCall
) -> ServiceResponse:
    year, month = _month(call.data["month"])
    result = await engine.projects.async_statement(
        _project_id(call.data.get("project_id")), year, month
    )
    return statement_data(engine, result)


async def _set_session_service(
    engine: AccessEngine, call: ServiceCall
) -> ServiceResponse:
    change = ChargeChange.from_wire(call.data)
    if change.set_non_billable and change.non_billable in ("", "billable"):
        change = replace(change, non_billable=None)
    charged = await engine.projects.async_set_session(
        call.data["session_id"], change, engine.admin_audit
    )
    return {**charged}


type _Handler = Callable[
    [AccessEngine, ServiceCall], Coroutine[Any, Any, ServiceResponse]
]

SERVICES: Final[dict[str, tuple[_Handler, dict[Any, Any], SupportsResponse]]] = {
    "billing_statement": (
        _statement_service,
        {
            vol.Optional("project_id"): vol.Any(None, PROJECT_ID),
            vol.Required("month"): MONTH,
        },
        SupportsResponse.ONLY,
    ),
    "set_session_charge": (
        _set_session_service,
        {
            vol.Required("session_id"): SESSION_ID,
            vol.Optional("project_id"): vol.Any(None, PROJECT_ID),
            vol.Optional("non_billable"): vol.Any(
                None, vol.All(cv.string, vol.Length(max=32))
            ),
        },
        SupportsResponse.OPTIONAL,
    ),
}


def _service(
    name: str, handler: _Handler
) -> Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]]:
    operation = f"{DOMAIN}.{name}"

    async def _call(call: ServiceCall) -> ServiceResponse:
        engine = _engine(call.hass)
        caller = await async_caller(engine.hass, call.context.user_id)
        caller.require(operation, context=call.context)
        with admin_audit.through(caller, admin_audit.DOOR_SERVICE, operation):
            return await handler(engine, call)

    return _call


@callback
def async_setup_billing_api(hass: HomeAssistant, engine: AccessEngine) -> None:
    """Register the projects' collection commands, billing commands and services."""
    LabCollectionWebsocket(
        engine.projects,
        f"{DOMAIN}/project",
        "project",
        PROJECT_FIELDS,
        PROJECT_UPDATE_FIELDS,
    ).async_setup(hass)
    websocket_api.async_register_command(hass, ws_statement)
    websocket_api.async_register_command(hass, ws_set_session)
    websocket_api.async_register_command(hass, ws_set_default)
    for name, (handler, fields, response) in SERVICES.items():
        hass.services.async_register(
            DOMAIN,
            name,
            _service(name, handler),
            schema=vol.Schema(fields),
            supports_response=response,
        )
    if "http" in hass.config.components:
        hass.http.register_view(StatementCsvView())
