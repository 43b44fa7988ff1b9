"""Projects (accounts) and a month's statement per project (rules: billing.py).

Projects are configuration, like machine types: a ``DictStorageCollection`` whose
items name their members and the members whose *default* project they are (one
default per member). A session is charged to a project:

1. the one staff chose for it afterwards (``async_set_session``, kept in a small
   store of their own beside the usage history, with its non-billable mark);
2. else the one stamped on the session when it started: the project the member
   chose at the device (a session start's ``project``, if they belong to it and it
   is active), or their default then (``project_id`` in the session, with its
   machine type, so a statement does not move when a default or a device's machine
   type changes later);
3. else its member's default project now (sessions from before billing).

A statement reads the month's sessions from the usage history (the history
database, a batch at a time) and charges each at its machine type's current rates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
import time
from typing import TYPE_CHECKING, Any, Final, TypedDict, override

from homeassistant.core import CALLBACK_TYPE, Event, callback
from homeassistant.helpers import collection, config_validation as cv
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
import probatio as vol

from custom_components.fluxilab.const import (
    ATTR_SESSION_ID,
    ATTR_TYPE,
    DOMAIN,
    EVENT_ACCESS,
)
from custom_components.fluxilab.history_db import SessionQuery, SessionRecord

from .admin_audit import change
from .billing import (
    Charge,
    NonBillable,
    Rates,
    SessionUse,
    Statement,
    Totals,
    charge,
    month_bounds,
    statement,
)
from .const import COLLECTION_STORAGE_VERSION, AccessEventType, SessionEnd
from .errors import AccessValidationError
from .lab import Lab
from .store import NAME

if TYPE_CHECKING:
    from .admin_audit import AdminAudit

PROJECTS_STORAGE_KEY: Final = f"{DOMAIN}.projects"
CHARGES_STORAGE_KEY: Final = f"{DOMAIN}.session_charges"
CHARGES_STORAGE_VERSION: Final = 1
MAX_PROJECT_MEMBERS: Final = 10_000
TOTALS_MAX_AGE: Final = 60.0
"""Seconds this month's totals per project are reused (the sensors poll them)."""
_MEMBER_IDS = vol.All(
    cv.ensure_list,
    vol.Length(max=MAX_PROJECT_MEMBERS),
    [vol.All(cv.string, vol.Length(min=1, max=100))],
)
PROJECT_FIELDS: dict[Any, Any] = {
    vol.Required("name"): NAME,
    vol.Optional("code", default=""): vol.All(cv.string, vol.Strip, vol.Length(max=64)),
    vol.Optional("active", default=True): cv.boolean,
    vol.Optional("members", default=list): _MEMBER_IDS,
    vol.Optional("default_members", default=list): _MEMBER_IDS,
}
PROJECT_UPDATE_FIELDS: dict[Any, Any] = {
    vol.Optional(key.schema): value for key, value in PROJECT_FIELDS.items()
}
NON_BILLABLE = vol.Any(None, vol.All(vol.Coerce(NonBillable), str))


def _unique(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(ids))


@callback
def _is_session_start(event_data: Mapping[str, Any]) -> bool:
    return bool(event_data.get(ATTR_TYPE) == AccessEventType.SESSION_STARTED.value)


@dataclass(frozen=True, slots=True, kw_only=True)
class Project:
    """A project (an account) sessions are charged to."""

    id: str
    name: str
    code: str = ""
    active: bool = True
    members: tuple[str, ...] = ()
    """Member ids of those who belong to it."""
    default_members: tuple[str, ...] = ()
    """Member ids of those whose default project it is (each one's only default)."""

    @classmethod
    def from_storage(cls, item: Mapping[str, Any]) -> Project:
        """Read a stored project."""
        return cls(
            id=str(item["id"]),
            name=str(item["name"]),
            code=str(item.get("code") or ""),
            active=bool(item.get("active", True)),
            members=tuple(item.get("members", ())),
            default_members=tuple(item.get("default_members", ())),
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the project as stored."""
        return {
            "id": self.id,
            "name": self.name,
            "code": self.code,
            "active": self.active,
            "members": list(self.members),
            "default_members": list(self.default_members),
        }


class StoredCharge(TypedDict, total=False):
    """What staff set for one session, as the charges store holds it."""

    project_id: str | None
    non_billable: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionCharge:
    """What staff set for one session: its project, its non-billable mark."""

    project_set: bool = False
    """Staff chose the project (``project_id`` None: no project at all)."""
    project_id: str | None = None
    non_billable_set: bool = False
    non_billable: NonBillable | None = None
    """Why the session is charged nothing; None: it is charged."""

    @classmethod
    def from_storage(cls, item: StoredCharge) -> SessionCharge:
        """Read what the charges store holds of one session."""
        mark = item.get("non_billable")
        return cls(
            project_set="project_id" in item,
            project_id=item.get("project_id"),
            non_billable_set="non_billable" in item,
            non_billable=None if mark is None else NonBillable(mark),
        )

    def as_dict(self) -> StoredCharge:
        """Return it as the charges store holds it (only the fields staff set)."""
        stored: StoredCharge = {}
        if self.project_set:
            stored["project_id"] = self.project_id
        if self.non_billable_set:
            stored["non_billable"] = (
                None if self.non_billable is None else self.non_billable.value
            )
        return stored


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargeChange:
    """What staff change of a session's charge (a field not set: left as it is)."""

    set_project: bool = False
    project_id: str | None = None
    set_non_billable: bool = False
    non_billable: str | None = None
    """A ``NonBillable`` value or None (checked by the store)."""

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> ChargeChange:
        """Read the change a websocket command or a service call asks for."""
        return cls(
            set_project="project_id" in data,
            project_id=data.get("project_id"),
            set_non_billable="non_billable" in data,
            non_billable=data.get("non_billable"),
        )


class ProjectCollection(collection.DictStorageCollection):
    """The lab's projects, each member's default, and what staff charged where."""

    def __init__(self, engine: Lab) -> None:
        """Keep the engine for members, machine types, devices and the history."""
        super().__init__(
            Store(engine.hass, COLLECTION_STORAGE_VERSION, PROJECTS_STORAGE_KEY)
        )
        self.engine = engine
        self._charges_store: Store[dict[str, dict[str, StoredCharge]]] = Store(
            engine.hass, CHARGES_STORAGE_VERSION, CHARGES_STORAGE_KEY
        )
        self.session_charges: dict[str, SessionCharge] = {}
        """Session id -> what staff set: its project, its non-billable mark."""
        self._unsub: CALLBACK_TYPE | None = None
        self._this_month: tuple[float, dict[str | None, Totals]] | None = None

    async def async_start(self) -> None:
        """Load projects and staff's changes; stamp each new session's project."""
        await self.async_load()
        stored = await self._charges_store.async_load() or {}
        self.session_charges = {
            session_id: SessionCharge.from_storage(charge)
            for session_id, charge in stored.get("sessions", {}).items()
        }
        self.engine.members.async_add_listener(self._async_member_changed)
        self._unsub = self.hass.bus.async_listen(
            EVENT_ACCESS,
            self._session_started,
            event_filter=_is_session_start,
        )

    @callback
    def async_stop(self) -> None:
        """Stop stamping sessions."""
        if self._unsub is not None:
            self._unsub()
            self._unsub = None

    # The collection -----------------------------------------------------------------

    def _checked_members(
        self,
        members: Iterable[str],
        default_members: Iterable[str],
        project_id: str | None,
    ) -> tuple[list[str], list[str]]:
        """Return a project's members and default members, checked (each once).

        Every default member is a member too; a member has one default project.
        """
        known = self.engine.members.data
        belong = _unique(members)
        defaults = _unique(default_members)
        for member_id in (*belong, *defaults):
            if member_id not in known:
                raise AccessValidationError("unknown_member", member=member_id)
        for member_id in defaults:
            if member_id not in belong:
                belong.append(member_id)
            other = self.default_project(member_id)
            if other is not None and other.id != project_id:
                raise AccessValidationError(
                    "project_default_taken",
                    member=known[member_id]["name"],
                    project=other.name,
                )
        return belong, defaults

    @override
    async def _process_create_data(self, data: dict[str, Any]) -> dict[str, Any]:
        try:
            item: dict[str, Any] = vol.Schema(PROJECT_FIELDS)(data)
        except vol.Invalid as err:
            raise AccessValidationError("invalid_data", error=str(err)) from err
        item["members"], item["default_members"] = self._checked_members(
            item["members"], item["default_members"], None
        )
        return item

    @override
    def _get_suggested_id(self, info: dict[str, Any]) -> str:
        return str(info["code"] or info["name"])

    @override
    async def _update_data(
        self, item: dict[str, Any], update_data: dict[str, Any]
    ) -> dict[str, Any]:
        try:
            changed = vol.Schema(PROJECT_UPDATE_FIELDS)(update_data)
        except vol.Invalid as err:
            raise AccessValidationError("invalid_data", error=str(err)) from err
        updated = {**item, **changed}
        updated["members"], updated["default_members"] = self._checked_members(
            updated["members"], updated["default_members"], item["id"]
        )
        return updated

    async def _async_member_changed(
        self, change_type: str, item_id: str, item: dict[str, Any]
    ) -> None:
        """Take a removed member out of every project (their erasure, gdpr.py)."""
        if change_type != collection.CHANGE_REMOVED:
            return
        for project in list(self.data.values()):
            if item_id in project["members"]:
                await self.async_update_item(
                    project["id"],
                    {
                        "members": [m for m in project["members"] if m != item_id],
                        "default_members": [
                            m for m in project["default_members"] if m != item_id
                        ],
                    },
                )

    # Lookups ------------------------------------------------------------------------

    def project(self, project_id: str) -> Project:
        """Return a project, or refuse an unknown id (translated)."""
        if (item := self.data.get(project_id)) is None:
            raise AccessValidationError("unknown_project", project=project_id)
        return Project.from_storage(item)

    def default_project(self, member_id: str | None) -> Project | None:
        """Return the project a member's sessions are charged to by default."""
        if member_id is None:
            return None
        for item in self.data.values():
            if member_id in item["default_members"]:
                return Project.from_storage(item)
        return None

    def projects_of(self, member_id: str) -> list[Project]:
        """Return the projects a member belongs to."""
        return [
            Project.from_storage(item)
            for item in self.data.values()
            if member_id in item["members"]
        ]

    async def async_set_default(self, member_id: str, project_id: str | None) -> None:
        """Make ``project_id`` a member's default project (None: no default)."""
        if member_id not in self.engine.members.data:
            raise AccessValidationError("unknown_member", member=member_id)
        if project_id is not None:
            self.project(project_id)
        before = self.default_project(member_id)
        if before is not None and before.id != project_id:
            await self.async_update_item(
                before.id,
                {
                    "default_members": [
                        m for m in before.default_members if m != member_id
                    ]
                },
            )
        if project_id is not None and (before is None or before.id != project_id):
            project = self.project(project_id)
            await self.async_update_item(
                project_id, {"default_members": [*project.default_members, member_id]}
            )

    # Sessions -----------------------------------------------------------------------

    @callback
    def _session_started(self, event: Event) -> None:
        """Stamp a new session with its member's default project and machine type."""
        history = self.engine.history
        if (session := history.session(event.data[ATTR_SESSION_ID] or "")) is None:
            return
        requested, session.project_request = session.project_request, None
        if session.stamped:
            return
        stored = self.data.get(requested or "")
        chosen = None if stored is None else Project.from_storage(stored)
        if (
            chosen is None
            or not chosen.active
            or session.member_id not in chosen.members
        ):
            chosen = self.default_project(session.member_id)
        session.project_id = chosen.id if chosen is not None else None
        device = self.engine.device(session.device_id)
        session.machine_type_id = device.machine_type_id if device is not None else None
        session.stamped = True
        history.async_changed(session)

    async def async_find_session(self, session_id: str) -> SessionRecord:
        """Return a session of the usage history by id, or refuse (translated)."""
        history = self.engine.history
        if (session := history.session(session_id)) is not None:
            return session.as_record()
        async for batch in history.async_iter_sessions(SessionQuery()):
            for record in batch:
                if record.session_id == session_id:
                    return record
        raise AccessValidationError("session_not_found", session=session_id)

    async def async_set_session(
        self,
        session_id: str,
        asked: ChargeChange,
        audit: AdminAudit,
    ) -> dict[str, str | None]:
        """Charge a session to another project, or mark it (non-)billable.

        ``asked``: a project (None: none) and/or a non-billable mark (None, or a
        reason). Audited as a ``session_charge`` change; returns the charge now.
        """
        session = await self.async_find_session(session_id)
        if asked.set_project and asked.project_id is not None:
            self.project(asked.project_id)
        mark: NonBillable | None = None
        if asked.set_non_billable:
            try:
                valid = vol.Schema({vol.Required("non_billable"): NON_BILLABLE})(
                    {"non_billable": asked.non_billable}
                )
            except vol.Invalid as err:
                raise AccessValidationError("invalid_data", error=str(err)) from err
            mark = (
                None
                if valid["non_billable"] is None
                else NonBillable(valid["non_billable"])
            )
        before: dict[str, str | None] = {
            "project_id": self.project_of(session),
            "non_billable": self.non_billable_of(session),
        }
        charge = self.session_charges.get(session_id, SessionCharge())
        if asked.set_project:
            charge = replace(charge, project_set=True, project_id=asked.project_id)
        if asked.set_non_billable:
            charge = replace(charge, non_billable_set=True, non_billable=mark)
        self.session_charges[session_id] = charge
        after: dict[str, str | None] = {
            "project_id": self.project_of(session),
            "non_billable": self.non_billable_of(session),
        }
        self._charges_store.async_delay_save(
            lambda: {
                "sessions": {
                    charged: stored.as_dict()
                    for charged, stored in self.session_charges.items()
                }
            },
            1.0,
        )
        member = self.engine.members.member(session.member_id or "")
        audit.record(
            "session_charge",
            "updated",
            {
                key: change(before[key], after[key])
                for key in before
                if before[key] != after[key]
            },
            member=member,
            device_id=session.device_id,
            target_id=session_id,
        )
        return {"session_id": session_id, **after}

    def project_of(self, session: SessionRecord) -> str | None:
        """Return the project a session is charged to (module docstring).

        A project deleted since leaves its sessions to no project, where a
        statement still shows them.
        """
        charge = self.session_charges.get(session.session_id)
        if charge is not None and charge.project_set:
            chosen = charge.project_id
        elif session.project_id is not None:
            chosen = session.project_id
        else:
            project = self.default_project(session.member_id)
            chosen = project.id if project is not None else None
        return chosen if chosen in self.data else None

    def non_billable_of(self, session: SessionRecord) -> NonBillable | None:
        """Return why a session is not charged, None if it is."""
        charge = self.session_charges.get(session.session_id)
        return None if charge is None else charge.non_billable

    def machine_type_id_of(self, session: SessionRecord) -> str | None:
        """Return the machine type a session is charged at."""
        if session.machine_type_id is not None:
            return session.machine_type_id
        device = self.engine.device(session.device_id)
        return device.machine_type_id if device is not None else None

    def use_of(self, session: SessionRecord) -> SessionUse:
        """Return a closed session as the billing rules read it."""
        busy = session.busy_seconds
        return SessionUse(
            session_id=session.session_id,
            device_id=session.device_id,
            member_id=session.member_id,
            start=float(session.start),
            duration=float(session.duration or 0.0),
            busy_seconds=None if busy is None else float(busy),
            all_busy=session.closed_by == SessionEnd.IDLE.value,
            project_id=self.project_of(session),
            machine_type_id=self.machine_type_id_of(session),
            non_billable=self.non_billable_of(session),
        )

    async def _async_charges(self, year: int, month: int) -> list[Charge]:
        """Return the charge of every closed session of a month (lab time zone)."""
        start, end = month_bounds(year, month, dt_util.get_default_time_zone())
        types = self.engine.machine_types.data
        charges: list[Charge] = []
        async for batch in self.engine.history.async_iter_sessions(
            SessionQuery(start=start, end=end)
        ):
            for session in batch:
                if session.end is None:
                    continue  # an open session is charged once it closes
                use = self.use_of(session)
                rates = Rates.from_storage(types.get(use.machine_type_id or ""))
                charges.append(charge(use, rates))
        return charges

    async def async_statement(
        self, project_id: str | None, year: int, month: int
    ) -> Statement:
        """Return a project's statement of a month (None: sessions of no project)."""
        if project_id is not None:
            self.project(project_id)
        charges = await self._async_charges(year, month)
        return statement(
            project_id,
            year,
            month,
            (item for item in charges if item.use.project_id == project_id),
        )

    async def async_this_month(self) -> dict[str | None, Totals]:
        """Return this month's totals per project (the sensors), at most a minute old."""
        now = time.monotonic()
        if self._this_month is not None and now - self._this_month[0] < TOTALS_MAX_AGE:
            return self._this_month[1]
        today = dt_util.now()
        totals: dict[str | None, Totals] = {}
        for item in await self._async_charges(today.year, today.month):
            totals.setdefault(item.use.project_id, Totals()).add(item)
        self._this_month = (now, totals)
        return totals
