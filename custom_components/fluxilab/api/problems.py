"""The panel's problem report commands: report, resolve, list (docs/BOOKINGS.md).

``fluxilab/problem/report`` files a report of a problem with a device, optionally
marking the machine unsafe (it is blocked at once); ``fluxilab/problem/resolve``
resolves one (staff: an unsafe device is free again); ``fluxilab/problem/list``
lists reports. Who may: access/permissions.py ``REPORT_PROBLEMS`` (members: the
devices they may use), ``RESOLVE_PROBLEMS``, ``SEE_PROBLEMS`` (members: their own
reports, and which devices are reported unsafe).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components import websocket_api
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import Unauthorized
from homeassistant.util import dt as dt_util
import probatio as vol

from custom_components.fluxilab.access.const import Reason
from custom_components.fluxilab.access.decisions import authorization_reason
from custom_components.fluxilab.access.engine import ACCESS_ENGINE
from custom_components.fluxilab.access.errors import AccessValidationError
from custom_components.fluxilab.access.permissions import (
    Caller,
    Scope,
    require_permission,
    websocket_caller,
)
from custom_components.fluxilab.access.problems import MAX_DESCRIPTION, ProblemReport
from custom_components.fluxilab.access.roles import flags
from custom_components.fluxilab.const import DOMAIN
from custom_components.fluxilab.repairs import MAX_RESOLUTION

if TYPE_CHECKING:
    from custom_components.fluxilab.access.engine import AccessEngine


def _engine(hass: HomeAssistant) -> AccessEngine:
    return hass.data[ACCESS_ENGINE]


def _may_use(engine: AccessEngine, caller: Caller, device_id: str) -> bool:
    """Return True if the caller's member may use the device (authorizations)."""
    member = caller.member
    device = engine.device(device_id)
    if member is None or not member.active or device is None:
        return False
    return (
        authorization_reason(
            member,
            engine.authorizations.typed_of_member(member.id),
            device_id,
            engine.machine_type_of(device),
            dt_util.utcnow(),
            role=flags(member, engine.roles.typed()),
            check_window=False,
        )
        is Reason.GRANTED
    )


def public_report(
    engine: AccessEngine, report: ProblemReport, *, named: bool
) -> dict[str, Any]:
    """Return a report as the panel shows it; ``named``: with who made it."""
    stored = report.as_dict()
    shown = {
        key: stored[key]
        for key in (
            "id",
            "device_id",
            "description",
            "unsafe",
            "reported",
            "resolved",
            "resolution",
        )
    }
    shown["member_id"] = shown["member_name"] = shown["resolved_by"] = None
    if named:
        member = engine.members.member(report.member_id or "")
        shown["member_id"] = report.member_id
        shown["member_name"] = member.name if member else None
        resolver = engine.members.member(report.resolved_by_member_id or "")
        shown["resolved_by"] = resolver.name if resolver else None
    return shown


@callback
def async_setup_problem_websocket(hass: HomeAssistant) -> None:
    """Register ``fluxilab/problem/report|resolve|list``."""
    websocket_api.async_register_command(hass, ws_problem_report)
    websocket_api.async_register_command(hass, ws_problem_resolve)
    websocket_api.async_register_command(hass, ws_problem_list)


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/problem/report",
        vol.Required("fluxilab_device"): vol.All(str, vol.Length(max=64)),
        vol.Required("description"): vol.All(str, vol.Length(max=MAX_DESCRIPTION)),
        vol.Optional("unsafe", default=False): bool,
    }
)
@websocket_api.async_response
async def ws_problem_report(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Report a problem with a device (members: one they may use)."""
    engine = _engine(hass)
    caller = websocket_caller(hass, connection)
    device_id = msg["fluxilab_device"]
    if caller.scope(msg["type"]) is not Scope.ANY and not _may_use(
        engine, caller, device_id
    ):
        # The same answer for a device that does not exist and one not theirs.
        raise Unauthorized(context=connection.context(msg))
    member_id = caller.member_id
    report = await engine.problems.async_report(
        device_id,
        None if member_id is None else engine.members.member(member_id),
        msg["description"],
        unsafe=msg["unsafe"],
    )
    connection.send_result(msg["id"], public_report(engine, report, named=True))


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/problem/resolve",
        vol.Required("report_id"): vol.All(str, vol.Length(max=64)),
        vol.Optional("resolution", default=""): vol.All(
            str, vol.Length(max=MAX_RESOLUTION)
        ),
    }
)
@websocket_api.async_response
async def ws_problem_resolve(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Resolve a report (staff): an unsafe device is free again."""
    engine = _engine(hass)
    report = await engine.problems.async_resolve(msg["report_id"], msg["resolution"])
    connection.send_result(msg["id"], public_report(engine, report, named=True))


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/problem/list",
        vol.Optional("fluxilab_device"): vol.All(str, vol.Length(max=64)),
        vol.Optional("open_only", default=False): bool,
    }
)
@websocket_api.async_response
async def ws_problem_list(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """List reports (members: their own) and the devices reported unsafe."""
    engine = _engine(hass)
    caller = websocket_caller(hass, connection)
    everyone = caller.scope(msg["type"]) is Scope.ANY
    device_id = msg.get("fluxilab_device")
    if device_id is not None and engine.device(device_id) is None:
        raise AccessValidationError("unknown_device", device=device_id)
    reports = sorted(
        (
            report
            for report in engine.problems.data.values()
            if (device_id is None or report.device_id == device_id)
            and (not msg["open_only"] or report.is_open)
            and (everyone or caller.is_own(report.member_id))
        ),
        key=lambda r: r.reported,
        reverse=True,
    )
    connection.send_result(
        msg["id"],
        {
            "reports": [public_report(engine, r, named=True) for r in reports],
            "unsafe": sorted(d for d in engine.devices if engine.problems.unsafe(d)),
        },
    )
