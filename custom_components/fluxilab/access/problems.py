"""Problem reports: a member tells the lab something is wrong with a device.

Any member who may use a device reports a problem with it (the panel's
``fluxilab/problem/report``; who may: permissions.py ``REPORT_PROBLEMS``), optionally
marking the machine unsafe. Each report

- is a Home Assistant repair issue (``problem_report_<id>``, an error when unsafe),
  whose fix flow resolves it (repairs.py);
- is an entry in the device's history, the admin audit (admin_audit.py): who
  reported it and when (``problem`` ``created``), and who resolved it
  (``problem`` ``updated``, ``resolved`` before -> after);
- when unsafe, blocks the device at once: the engine refuses every swipe as
  ``unsafe`` (``refusal``), and the device's mirror carries ``unsafe`` so it holds
  offline too, until staff resolve the report (the panel's
  ``fluxilab/problem/resolve`` or the repair flow).

Reports are kept in Home Assistant storage (they outlive a restart; an unsafe
machine stays blocked), resolved ones for ``KEEP_RESOLVED_DAYS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Protocol, TypedDict
import uuid

from homeassistant.core import callback
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from custom_components.fluxilab.const import DOMAIN, LOGGER
from custom_components.fluxilab.repairs import (
    MAX_RESOLUTION,
    PROBLEM_RESOLVER,
    async_create_problem_issue,
    async_delete_problem_issue,
)

from . import admin_audit
from .const import Reason
from .decisions import authorization_reason
from .errors import AccessValidationError
from .lab import Lab
from .member_models import Member

if TYPE_CHECKING:
    from custom_components.fluxilab.device.port import AccessDevice
    from custom_components.fluxilab.protocol.access import AccessRequest

    from .admin_audit import AdminAudit
    from .sync import CredentialSync

PROBLEMS_STORAGE_KEY: Final = f"{DOMAIN}.problems"
PROBLEMS_STORAGE_VERSION: Final = 1
MAX_DESCRIPTION: Final = 500
MAX_OPEN_PER_DEVICE: Final = 50
"""Open reports one device may gather (a flood of reports is refused)."""
KEEP_RESOLVED_DAYS: Final = 365
DOOR_REPAIR_FLOW: Final = "repair_flow"
DOOR_DEVICE: Final = "device"
"""A report sent from the device's own UI (the member signed in there)."""
SIGNAL_PROBLEMS_CHANGED: Final = f"{DOMAIN}_problems_changed"
"""Dispatcher signal, argument our device id: that device's reports changed."""


class StoredProblems(TypedDict):
    """What the problems' Store holds: every report, as ``ProblemReport.as_dict``."""

    reports: list[dict[str, Any]]  # edge: the problems Store's file, as stored


@dataclass(frozen=True, slots=True, kw_only=True)
class ProblemReport:
    """One report of a problem with a device, open or resolved.

    What was reported and how it was resolved may name people: not in a repr.
    """

    id: str
    device_id: str
    description: str = field(repr=False)
    unsafe: bool = False
    reported: datetime
    member_id: str | None = None
    """Who reported it (None: nobody, or a member since deleted)."""
    user_id: str | None = None
    """Their Home Assistant user, if they came through one."""
    resolved: datetime | None = None
    """None while the report is open."""
    resolved_by_user_id: str | None = None
    resolved_by_member_id: str | None = None
    resolution: str | None = field(default=None, repr=False)

    @classmethod
    def from_storage(cls, item: Mapping[str, Any]) -> ProblemReport:
        """Read a stored report."""
        resolved = item.get("resolved")
        return cls(
            id=str(item["id"]),
            device_id=str(item["device_id"]),
            description=str(item.get("description") or ""),
            unsafe=bool(item.get("unsafe")),
            reported=datetime.fromisoformat(item["reported"]),
            member_id=item.get("member_id"),
            user_id=item.get("user_id"),
            resolved=None if resolved is None else datetime.fromisoformat(resolved),
            resolved_by_user_id=item.get("resolved_by_user_id"),
            resolved_by_member_id=item.get("resolved_by_member_id"),
            resolution=item.get("resolution"),
        )

    @property
    def is_open(self) -> bool:
        """True until staff resolve it."""
        return self.resolved is None

    def as_dict(self) -> dict[str, Any]:
        """Return the report as stored (and exported: GDPR)."""
        return {
            "id": self.id,
            "device_id": self.device_id,
            "description": self.description,
            "unsafe": self.unsafe,
            "reported": self.reported.isoformat(),
            "member_id": self.member_id,
            "user_id": self.user_id,
            "resolved": None if self.resolved is None else self.resolved.isoformat(),
            "resolved_by_user_id": self.resolved_by_user_id,
            "resolved_by_member_id": self.resolved_by_member_id,
            "resolution": self.resolution,
        }


class ProblemLab(Lab, Protocol):
    """What the reports use of the engine: the lab, its audit and its sync."""

    admin_audit: AdminAudit
    sync: CredentialSync


class ProblemReports:
    """Every device's problem reports, open and resolved."""

    def __init__(self, engine: ProblemLab) -> None:
        """Start empty; ``async_load`` reads the stored reports."""
        self.engine = engine
        self.hass = engine.hass
        self._store: Store[StoredProblems] = Store(
            engine.hass, PROBLEMS_STORAGE_VERSION, PROBLEMS_STORAGE_KEY
        )
        self.data: dict[str, ProblemReport] = {}
        self._unsafe: frozenset[str] = frozenset()
        """Devices with an open unsafe report (a card check reads only this)."""

    async def async_load(self) -> None:
        """Read the stored reports; raise the repair issues of the open ones."""
        stored = await self._store.async_load()
        cutoff = dt_util.utcnow() - timedelta(days=KEEP_RESOLVED_DAYS)
        reports = (
            ProblemReport.from_storage(item)
            for item in (stored["reports"] if stored else ())
        )
        self.data = {
            report.id: report
            for report in reports
            if report.resolved is None or report.resolved >= cutoff
        }
        for report in self.data.values():
            if report.is_open:
                self._async_raise_issue(report)
        self._index()
        self.hass.data[PROBLEM_RESOLVER] = self

    @callback
    def async_stop(self) -> None:
        """Stop answering the repair flows."""
        if self.hass.data.get(PROBLEM_RESOLVER) is self:
            del self.hass.data[PROBLEM_RESOLVER]

    def _index(self) -> None:
        self._unsafe = frozenset(
            r.device_id for r in self.data.values() if r.unsafe and r.is_open
        )

    def _async_save(self) -> None:
        self._index()
        self._store.async_delay_save(
            lambda: {"reports": [r.as_dict() for r in self.data.values()]}, 1.0
        )

    # Reading ------------------------------------------------------------------------

    def of_device(self, device_id: str) -> list[ProblemReport]:
        """Return a device's reports, newest first."""
        return sorted(
            (r for r in self.data.values() if r.device_id == device_id),
            key=lambda r: r.reported,
            reverse=True,
        )

    def open_reports(self, device_id: str | None = None) -> list[ProblemReport]:
        """Return the open reports (of one device), newest first."""
        return sorted(
            (
                r
                for r in self.data.values()
                if r.is_open and (device_id is None or r.device_id == device_id)
            ),
            key=lambda r: r.reported,
            reverse=True,
        )

    def unsafe(self, device_id: str) -> bool:
        """Return True while an open report says the device is unsafe."""
        return device_id in self._unsafe

    def refusal(self, device_id: str) -> Reason | None:
        """Return ``unsafe`` while the device is reported unsafe (the engine's verdict)."""
        return Reason.UNSAFE if self.unsafe(device_id) else None

    def is_open(self, report_id: str) -> bool:
        """Return True while a report is open (the repair flow asks)."""
        report = self.data.get(report_id)
        return report is not None and report.is_open

    def report(self, report_id: str) -> ProblemReport:
        """Return a report, or raise the translated unknown_problem."""
        if (found := self.data.get(report_id)) is None:
            raise AccessValidationError("unknown_problem", report=report_id)
        return found

    # Writing ------------------------------------------------------------------------

    async def async_report(
        self,
        device_id: str,
        member: Member | None,
        description: str,
        *,
        unsafe: bool = False,
        door: admin_audit.Door | None = None,
    ) -> ProblemReport:
        """File a report of a problem with a device (``member``: who reports).

        ``door``: where it came from (the caller's door, if not given).
        """
        if (device := self.engine.device(device_id)) is None:
            raise AccessValidationError("unknown_device", device=device_id)
        text = description.strip()
        if not text:
            raise AccessValidationError("problem_description_missing")
        if len(self.open_reports(device_id)) >= MAX_OPEN_PER_DEVICE:
            raise AccessValidationError(
                "problem_too_many", max=str(MAX_OPEN_PER_DEVICE)
            )
        door = door or admin_audit.current_door()
        report = ProblemReport(
            id=uuid.uuid4().hex[:12],
            device_id=device_id,
            description=text[:MAX_DESCRIPTION],
            unsafe=bool(unsafe),
            reported=dt_util.utcnow(),
            member_id=None if member is None else member.id,
            user_id=door.user_id,
        )
        self.data[report.id] = report
        self._async_save()
        self.engine.admin_audit.record(
            "problem",
            admin_audit.CREATED,
            {
                "unsafe": admin_audit.change(None, report.unsafe),
                "description": admin_audit.change(None, report.description),
            },
            member=member,
            device_id=device_id,
            target_id=report.id,
            label=device.entry.title or device_id,
            door=door,
        )
        self._async_raise_issue(report)
        LOGGER.info(
            "Problem reported on %s%s", device_id, " (unsafe)" if unsafe else ""
        )
        await self._async_changed(device_id, was_unsafe=False)
        return report

    async def async_device_report(
        self,
        device: AccessDevice,
        member: Member,
        request: AccessRequest,
    ) -> Reason:
        """File a report a member signed in at the device sent; return the reply's reason.

        The member must be active and authorized for the device, as in the panel.
        The audit names the device as the door and the member as who reported.
        """
        if not member.active:
            return Reason.INACTIVE
        authorized = authorization_reason(
            member,
            self.engine.authorizations.typed_of_member(member.id),
            device.device_id,
            self.engine.machine_type_of(device),
            dt_util.utcnow(),
            role=self.engine.roles.flags(member.role),
            check_window=False,
        )
        if authorized is not Reason.GRANTED:
            return authorized
        door = admin_audit.Door(
            kind=DOOR_DEVICE,
            operation=f"{DOMAIN}/device/problem_report",
            user_name=member.name or None,
            member_id=member.id,
        )
        try:
            await self.async_report(
                device.device_id,
                member,
                request.description or "",
                unsafe=request.unsafe,
                door=door,
            )
        except AccessValidationError:
            return Reason.NOT_ALLOWED  # no description, or too many open reports
        return Reason.PROBLEM_REPORTED

    async def async_resolve(
        self,
        report_id: str,
        resolution: str = "",
        *,
        door: admin_audit.Door | None = None,
    ) -> ProblemReport:
        """Resolve a report (staff): its issue goes, an unsafe machine is free again."""
        report = self.report(report_id)
        if not report.is_open:
            raise AccessValidationError("problem_resolved", report=report_id)
        door = door or admin_audit.current_door()
        device_id = report.device_id
        was_unsafe = self.unsafe(device_id)
        now = dt_util.utcnow()
        resolved = replace(
            report,
            resolved=now,
            resolved_by_user_id=door.user_id,
            resolved_by_member_id=door.member_id,
            resolution=resolution.strip()[:MAX_RESOLUTION] or None,
        )
        self.data[report_id] = resolved
        self._async_save()
        device = self.engine.device(device_id)
        self.engine.admin_audit.record(
            "problem",
            admin_audit.UPDATED,
            {
                "resolved": admin_audit.change(None, now.isoformat()),
                "resolution": admin_audit.change(None, resolved.resolution),
            },
            member=self.engine.members.member(report.member_id or ""),
            device_id=device_id,
            target_id=report_id,
            label=(device.entry.title if device else None) or device_id,
            door=door,
        )
        async_delete_problem_issue(self.hass, report_id)
        await self._async_changed(device_id, was_unsafe=was_unsafe)
        return resolved

    def of_member(self, member_id: str) -> list[ProblemReport]:
        """Return the reports a member made or resolved, oldest first (GDPR export)."""
        return sorted(
            (
                report
                for report in self.data.values()
                if member_id in (report.member_id, report.resolved_by_member_id)
            ),
            key=lambda report: report.reported,
        )

    @callback
    def async_forget_member(self, member_id: str) -> None:
        """Take a deleted member out of the reports (the reports stay, nameless).

        An open report's repair issue named its reporter: it is raised again
        without them.
        """
        changed = False
        for report_id, stored in list(self.data.items()):
            report = stored
            if report.member_id == member_id:
                report = replace(report, member_id=None, user_id=None)
                if report.is_open:
                    self._async_raise_issue(report)
            if report.resolved_by_member_id == member_id:
                report = replace(
                    report, resolved_by_member_id=None, resolved_by_user_id=None
                )
            if report is not stored:
                self.data[report_id] = report
                changed = True
        if changed:
            self._async_save()

    async def async_resolve_from_repair(self, report_id: str, resolution: str) -> None:
        """Resolve a report through its repair flow (Home Assistant's admins).

        The flow does not say which administrator: the audit names the door.
        """
        await self.async_resolve(
            report_id,
            resolution,
            door=admin_audit.Door(kind=DOOR_REPAIR_FLOW, operation="repair_flow"),
        )

    async def _async_changed(self, device_id: str, *, was_unsafe: bool) -> None:
        async_dispatcher_send(self.hass, SIGNAL_PROBLEMS_CHANGED, device_id)
        if was_unsafe == self.unsafe(device_id):
            return
        # The device hears it at once: its mirror says unsafe (offline too).
        if (device := self.engine.device(device_id)) is None:
            return
        try:
            await self.engine.sync.async_sync(device)
        except Exception:
            LOGGER.exception("Credential set for %s not sent", device_id)

    @callback
    def _async_raise_issue(self, report: ProblemReport) -> None:
        device = self.engine.device(report.device_id)
        member = self.engine.members.member(report.member_id or "")
        if member is None:
            reporter = "-"
        else:
            reporter = self.engine.privacy.name(member) or self.engine.privacy.member(
                member.id
            )
        async_create_problem_issue(
            self.hass,
            report.id,
            unsafe=report.unsafe,
            placeholders={
                "device": (device.entry.title if device else None) or report.device_id,
                "description": report.description,
                "reporter": reporter,
                "reported": dt_util.as_local(report.reported).strftime(
                    "%Y-%m-%d %H:%M"
                ),
            },
        )
