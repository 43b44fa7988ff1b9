"""Permission sweep: every door of FluxiLab, as five actors, against the one table.

The doors are read from Home Assistant itself: every service of the ``fluxilab``
domain (``hass.services``), every ``fluxilab/`` websocket command (the websocket
handler registry), every action of every FluxiLab entity (the entity registry and the
services of its platform) and the options flow. A door missing from
``access/permissions.py:PERMISSIONS`` fails the sweep, so a new one cannot ship
without an entry.

Each door is called as a Home Assistant administrator, a lab admin who is not one,
lab staff, a lab member and a Home Assistant user with no member (and, for the
services and websocket commands, as members of two roles the lab named itself), with
valid data
from ``Case``: once aimed at someone else's member or device (allowed only with
``Scope.ANY``) and, where the permission has an "own" part, once at the caller's own
(allowed with any scope). An allowed call must succeed (or fail only for the data
reason its case names); a refused one must be refused as unauthorized and change
nothing, on the devices either.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
import itertools
import json
from pathlib import Path
import re
import time
from typing import Any

from homeassistant.auth.const import GROUP_ID_ADMIN, GROUP_ID_USER
from homeassistant.components import websocket_api
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.components.websocket_api import ERR_UNAUTHORIZED
from homeassistant.config_entries import HANDLERS
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import Context, HomeAssistant, SupportsResponse
from homeassistant.exceptions import HomeAssistantError, Unauthorized
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockUser,
    async_fire_mqtt_message,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    MqttMockHAClient,
)

from custom_components.fluxilab import repairs as repairs_platform
from custom_components.fluxilab.access.permissions import (
    PERMISSIONS,
    Level,
    Permission,
    Scope,
)
from custom_components.fluxilab.access.roles import RoleFlags
from custom_components.fluxilab.api import occupancy
from custom_components.fluxilab.const import CONF_LATEST_SW_VERSION, DOMAIN
from custom_components.fluxilab.hub import async_get_hub_keys
from custom_components.fluxilab.protocol.security import KeyPair, seal_announce
from custom_components.fluxilab.repairs import (
    async_create_key_changed_issue,
    key_issue_id,
)

from .conftest import ALICE_PIN, DEVICE_KEYS, HOOD, LASER, Client, Lab, snapshot

type Connect = Callable[[MockUser], Awaitable[Client]]

ACTORS: dict[str, Level] = {
    "ha_admin": Level.HA_ADMIN,
    "lab_admin": Level.LAB_ADMIN,
    "lab_staff": Level.LAB_STAFF,
    "lab_member": Level.LAB_MEMBER,
    "ha_user": Level.HA_USER,
}
LAB_ROLE_ACTORS: dict[str, tuple[Level, dict[str, Any]]] = {
    # maintenance alone: lab staff (it may book for others by its level).
    "lab_technician": (Level.LAB_STAFF, {"name": "Technician", "maintenance": True}),
    # book_for_others alone: a lab member who books for anyone.
    "lab_booker": (Level.LAB_MEMBER, {"name": "Booker", "book_for_others": True}),
}
"""Members of roles the lab named itself: the level their flags give, the role."""
ENTITY_PLATFORMS = (
    "binary_sensor",
    "button",
    "calendar",
    "event",
    "sensor",
    "switch",
    "update",
)
ACCESS_MD = Path(__file__).parents[2] / "docs" / "ACCESS.md"
ATTR_DEVICE_ID = "device_id"
OWN_PIN = "24681357"
TOMORROW = dt_util.now().replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(
    days=1
)


def _slot(hours: float) -> dict[str, str]:
    """An hour's booking, ``hours`` after 09:00 tomorrow."""
    start = TOMORROW + timedelta(hours=hours)
    return {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}


ENTITY_DATA: dict[str, dict[str, Any]] = {
    # Ada, the lab admin, may hold bookings of every device.
    "calendar.bookings.create_event": {
        "summary": "Ada",
        "start_date_time": _slot(8)["start"],
        "end_date_time": _slot(8)["end"],
    },
    "calendar.bookings.get_events": {
        "start_date_time": _slot(0)["start"],
        "end_date_time": _slot(10)["end"],
    },
}
"""What an entity action needs besides the entity (others need nothing)."""
ENTITY_RESPONSES = {"get_events"}
ENTITY_MAY_FAIL = {"switch.relay.turn_on": {"relay_device_blocked"}}
"""Translation keys an allowed entity action may still end with (the block switch
before it in the sweep leaves the device blocked)."""
HOOD_ACTUATORS = [{"key": "lock", "kind": "interlock"}]


def changed(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Name what differs between two snapshots, two levels deep (for the message)."""
    names: list[str] = []
    for key in sorted({*before, *after}):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            names += [
                f"{key}.{sub}: {old.get(sub)!r:.120} -> {new.get(sub)!r:.120}"
                for sub in sorted({*old, *new}, key=str)
                if old.get(sub) != new.get(sub)
            ]
        else:
            names.append(key)
    return names


# The lab, its actors and the targets of each call --------------------------------------


@dataclass
class Actors:
    """The five callers and the member each is linked to."""

    lab: Lab
    users: dict[str, MockUser]
    members: dict[str, dict[str, Any] | None]
    pins: dict[str, str]


@pytest.fixture
async def actors(hass: HomeAssistant, lab: Lab) -> Actors:
    """The lab's users plus an HA administrator and a lab admin who is not one."""
    admins = await hass.auth.async_get_group(GROUP_ID_ADMIN)
    users_group = await hass.auth.async_get_group(GROUP_ID_USER)
    ha_admin = MockUser(name="Root", groups=[admins]).add_to_hass(hass)
    lab_admin = MockUser(name="Ada", groups=[users_group]).add_to_hass(hass)
    assert ha_admin.is_admin
    assert not lab_admin.is_admin
    engine = lab.engine
    ada = await engine.members.async_update_item(
        lab.admin_member["id"], {"user_id": lab_admin.id}
    )
    # Staff may use the fumehood too, so "their own device" means the same for both.
    await engine.authorizations.async_create_item(
        {"member_id": lab.steve["id"], "machine_type_id": "fumehood"}
    )
    lab_users: dict[str, MockUser] = {}
    lab_members: dict[str, dict[str, Any] | None] = {}
    for actor, (_level, fields) in LAB_ROLE_ACTORS.items():
        role = await engine.roles.async_create_item(fields)
        lab_users[actor] = MockUser(name=fields["name"], groups=[users_group])
        lab_users[actor].add_to_hass(hass)
        lab_members[actor] = await engine.members.async_create_item(
            {
                "name": f"{fields['name']} member",
                "role": role["id"],
                "user_id": lab_users[actor].id,
                "cards": [f"5EE{len(lab_members)}0{len(lab_members)}"],
            }
        )
        await engine.authorizations.async_create_item(
            {"member_id": lab_members[actor]["id"], "machine_type_id": "fumehood"}
        )
    # Their own PINs, as members get them: an admin's reset, then their own change.
    for member in (ada, lab.steve, *lab_members.values()):
        initial, _credential = await engine.members.async_reset_pin(member["id"])
        await engine.members.async_change_pin(member["id"], initial, OWN_PIN)
    await hass.async_block_till_done()
    return Actors(
        lab=lab,
        users={
            "ha_admin": ha_admin,
            "lab_admin": lab_admin,
            "lab_staff": lab.staff,
            "lab_member": lab.plain,
            "ha_user": lab.stranger,
            **lab_users,
        },
        members={
            "ha_admin": None,
            "lab_admin": ada,
            "lab_staff": lab.steve,
            "lab_member": lab.alice,
            "ha_user": None,
            **lab_members,
        },
        pins={"lab_member": ALICE_PIN},
    )


@dataclass
class Target:
    """Someone else's things, made fresh for one call so calls cannot collide."""

    n: int
    member_id: str
    card: str
    credential_id: str
    machine_type_id: str
    spare_machine_type_id: str
    """A machine type no authorization refers to (one that may be deleted)."""
    authorization_id: str
    session_id: str


_counter = itertools.count(1)


async def make_target(hass: HomeAssistant, lab: Lab) -> Target:
    """A member with a card and an authorization for a machine type of its own."""
    n = next(_counter)
    engine = lab.engine
    card = f"C0FFEE{n:04X}"
    member = await engine.members.async_create_item(
        {"name": f"Zed {n}", "cards": [card]}
    )
    machine_type = await engine.machine_types.async_create_item({"name": f"Lathe {n}"})
    spare = await engine.machine_types.async_create_item({"name": f"Spare {n}"})
    authorization = await engine.authorizations.async_create_item(
        {"member_id": member["id"], "machine_type_id": machine_type["id"]}
    )
    await hass.async_block_till_done()
    return Target(
        n=n,
        member_id=member["id"],
        card=card,
        credential_id=member["credentials"][0]["id"],
        machine_type_id=machine_type["id"],
        spare_machine_type_id=spare["id"],
        authorization_id=authorization["id"],
        session_id=f"01SWEEP{n:019d}",
    )


def values(lab: Lab, target: Target, *, service: bool) -> dict[str, Any]:
    """Valid values for every field a call may take, aimed at ``target``."""
    return {
        "name": f"Mallory {target.n}",
        "email": "mallory@example.com",
        "member_id": target.member_id,
        "member_ids": [target.member_id],
        "role": "admin",
        "active": False,
        "blocked": True,
        "card": f"BADC0{target.n:04X}",
        "cards": [f"BADC1{target.n:04X}"],
        "csv_text": f"name,cards\nImported {target.n},5EED{target.n:08X}\n",
        "path": f"fabomatic-{target.n}.db",  # no such file: refused as no database
        "credential_type": "card",
        "credential_id": target.credential_id,
        "label": "Mallory's",
        "device_id": lab.ha_device[LASER] if service else LASER,
        "fluxilab_device": LASER,
        "machine_type_id": target.machine_type_id,
        "authorization_id": target.authorization_id,
        "session_id": target.session_id,
        "usage_retention_days": 365,
        "unknown_card_retention_days": 30,
        "folder": f"fluxilab-broker-{target.n}",  # inside the config folder
        "password": "hunter2hunter2",
        "session_timeout": 60,
        "access_timeout": 5.0,
        "url": "default",  # the history database: the SQLite file it is in already
        **_slot(0),  # a booking (and a window the history filters take)
        "booking_id": PREPARED_BOOKINGS.get(target.n, "none"),
        "outage_id": PREPARED_OUTAGES.get(target.n, "none"),
        "report_id": PREPARED_REPORTS.get(target.n, "none"),
        "description": "The fan rattles",
        "month": "2026-11",
        "non_billable": "training",
        "project_id": None,  # no project: its statement; a case names one
        "role_id": PREPARED_ROLES.get(target.n, "none"),
    }


def fill(schema: Any, known: dict[str, Any], name: str) -> dict[str, Any]:
    """Call data with every required field of ``schema`` and the known optional ones.

    Of an Exclusive group only the first field is sent.
    """
    data: dict[str, Any] = {}
    exclusive: set[str] = set()
    fields = getattr(schema, "schema", schema)
    if not isinstance(fields, dict):
        return data
    for marker in fields:
        key = str(getattr(marker, "schema", marker))
        if key in ("type", "id"):
            continue
        if type(marker).__name__ == "Exclusive":
            if marker.group_of_exclusion in exclusive:
                continue
            exclusive.add(marker.group_of_exclusion)
        if key in known:
            data[key] = known[key]
        elif type(marker).__name__ == "Required":
            pytest.fail(f"{name}: add a value for its required field {key!r}")
    return data


# What each call sends ---------------------------------------------------------------

type Data = dict[str, Any] | None
type OwnData = Callable[[Actors, str], Data]
type Prepare = Callable[[HomeAssistant, Lab, Target], Awaitable[None]]


def _own_card(actors: Actors, actor: str) -> str | None:
    member = actors.members[actor]
    if member is None:
        return None
    current = actors.lab.engine.members.data[member["id"]]
    return next(c["id"] for c in current["credentials"] if c["type"] == "card")


def _own(extra: dict[str, Any], *, member: bool = True) -> OwnData:
    """Data aimed at the caller's own member (None for callers without one)."""

    def _data(actors: Actors, actor: str) -> Data:
        if not member:
            return dict(extra)
        own = actors.members[actor]
        return None if own is None else {"member_id": own["id"], **extra}

    return _data


def _own_credential(actors: Actors, actor: str) -> Data:
    """Report the caller's own card lost."""
    own = actors.members[actor]
    if own is None:
        return None
    return {
        "member_id": own["id"],
        "credential_id": _own_card(actors, actor),
        "active": False,
    }


def _laser_for_service(actors: Actors, actor: str) -> Data:
    """Queue oneself (no member_id) for the laser."""
    return {ATTR_DEVICE_ID: actors.lab.ha_device[LASER]}


def _change_pin(actors: Actors, actor: str) -> Data:
    # Alice's PIN, else the one the actors fixture made the member's own.
    return {"current_pin": actors.pins.get(actor, OWN_PIN), "new_pin": "13572468"}


async def _check_target_in(hass: HomeAssistant, lab: Lab, target: Target) -> None:
    occupancy.async_check_in(lab.engine, lab.engine.members.data[target.member_id])


async def _laser_busy(hass: HomeAssistant, lab: Lab, target: Target) -> None:
    """Open a session on the laser (for the interest queue, or to be closed)."""
    await lab.engine.authorizations.async_create_item(
        {"member_id": target.member_id, "machine_type_id": "laser"}
    )
    device = lab.engine.device(LASER)
    assert device is not None
    assert lab.engine.open_session(device, target.session_id, target.card, time.time())


PREPARED_BOOKINGS: dict[int, str] = {}
"""Target number -> the target's booking of the laser (``_bookings_made``)."""


async def _target_on_laser(hass: HomeAssistant, lab: Lab, target: Target) -> None:
    """Authorize the target for the laser, so it may be booked for them."""
    await lab.engine.authorizations.async_create_item(
        {"member_id": target.member_id, "machine_type_id": "laser"}
    )


async def _bookings_made(hass: HomeAssistant, lab: Lab, target: Target) -> None:
    """The target's booking of the laser; Alice's, Steve's and Ada's of the hood."""
    await _target_on_laser(hass, lab, target)
    bookings = lab.engine.bookings
    made = await bookings.async_create_item(
        {"device_id": LASER, "member_id": target.member_id, **_slot(10 + target.n % 10)}
    )
    PREPARED_BOOKINGS[target.n] = made["id"]
    for hours, member in ((3, lab.alice), (5, lab.steve), (7, lab.admin_member)):
        if not any(
            b.start == TOMORROW + timedelta(hours=hours)
            for b in bookings.of_member(member["id"])
        ):
            await bookings.async_create_item(
                {"device_id": HOOD, "member_id": member["id"], **_slot(hours)}
            )


PREPARED_OUTAGES: dict[int, str] = {}
"""Target number -> an outage of the laser made for the target's call."""
PREPARED_REPORTS: dict[int, str] = {}
"""Target number -> the target's problem report on the laser."""


async def _outage_scheduled(hass: HomeAssistant, lab: Lab, target: Target) -> None:
    """An outage of the laser, a day after tomorrow's slots (one per target)."""
    start = TOMORROW + timedelta(days=1, hours=target.n)
    made = await lab.engine.bookings.async_schedule_outage(
        LASER, start.isoformat(), (start + timedelta(minutes=30)).isoformat()
    )
    PREPARED_OUTAGES[target.n] = made.id


async def _problem_reported(hass: HomeAssistant, lab: Lab, target: Target) -> None:
    """The target's report of a problem with the laser (not unsafe)."""
    member = lab.engine.members.known(target.member_id)
    report = await lab.engine.problems.async_report(LASER, member, "Loose belt")
    PREPARED_REPORTS[target.n] = report.id


PREPARED_ROLES: dict[int, str] = {}
"""Target number -> a lab role no member has (``_role_made``)."""


async def _role_made(hass: HomeAssistant, lab: Lab, target: Target) -> None:
    """A lab role nobody has, to change or delete."""
    made = await lab.engine.roles.async_create_item(
        {"name": f"Spare role {target.n}", "supervisor": True}
    )
    PREPARED_ROLES[target.n] = made["id"]


PREPARED_PROJECTS: dict[int, str] = {}
"""Target number -> a project of the target's (``_project_made``)."""


async def _project_made(hass: HomeAssistant, lab: Lab, target: Target) -> None:
    """A project the target belongs to, to change, delete or make a default."""
    made = await lab.engine.projects.async_create_item(
        {"name": f"Grant {target.n}", "members": [target.member_id]}
    )
    PREPARED_PROJECTS[target.n] = made["id"]


async def _session_to_charge(hass: HomeAssistant, lab: Lab, target: Target) -> None:
    """A session of the target's on the laser, and a project to charge it to."""
    await _laser_busy(hass, lab, target)
    await _project_made(hass, lab, target)


def _on_project(data: dict[str, Any], target: Target) -> dict[str, Any]:
    return {**data, "project_id": PREPARED_PROJECTS[target.n]}


def _own_booking(actors: Actors, actor: str) -> Data:
    """Cancel one of the caller's own bookings."""
    own = actors.members[actor]
    if own is None:
        return None
    mine = actors.lab.engine.bookings.of_member(own["id"])
    return {"booking_id": mine[0].id}


async def _unknown_card_seen(hass: HomeAssistant, lab: Lab, target: Target) -> None:
    lab.engine.history.add_unknown_card(f"BADC0{target.n:04X}", LASER, time.time())


@dataclass(frozen=True, kw_only=True)
class Case:
    """How to call one door: at someone else, at oneself, or only at oneself."""

    other: Callable[[dict[str, Any], Target], dict[str, Any]] | None = None
    """Data from the door's schema and values, changed (None: filled as is)."""
    own: OwnData | None = None
    """Data for the call at the caller's own member or device."""
    own_only: bool = False
    """The door only ever reaches the caller's own: no call at someone else."""
    prepare: Prepare | None = None
    may_fail: frozenset[str] = field(default_factory=frozenset)
    """Translation keys (or error codes) an allowed call may still end with."""


def _without(*keys: str) -> Callable[[dict[str, Any], Target], dict[str, Any]]:
    return lambda data, _target: {k: v for k, v in data.items() if k not in keys}


def _new_card(data: dict[str, Any], target: Target) -> dict[str, Any]:
    """A card nobody holds yet, for the target member."""
    return {
        **{k: v for k, v in data.items() if k not in ("pin", "card")},
        "credential_type": "card",
        "card": f"5eed{target.n:08x}",
    }


def _case(**kwargs: Any) -> Case:
    if "may_fail" in kwargs:
        kwargs["may_fail"] = frozenset(kwargs["may_fail"])
    return Case(**kwargs)


S, W = f"{DOMAIN}.", f"{DOMAIN}/"
CASES: dict[str, Case] = {
    f"{S}update_member": _case(
        # Nobody sets another member's PIN (the PIN rules, not the role).
        other=_without("pin"),
        own=_own({"name": "Myself"}),
    ),
    # A PIN comes only from a reset (the PIN rules): the doors add cards.
    f"{S}add_credential": _case(other=_new_card),
    f"{W}credentials/add": _case(other=_new_card),
    f"{S}update_credential": _case(own=_own_credential),
    f"{W}credentials/update": _case(own=_own_credential),
    f"{S}list_credentials": _case(own=_own({}, member=False), may_fail={"no_member"}),
    f"{W}credentials/list": _case(own=_own({}, member=False), may_fail={"no_member"}),
    f"{S}remove_card": _case(other=lambda _data, target: {"card": target.card}),
    f"{S}assign_last_unknown_card": _case(prepare=_unknown_card_seen),
    f"{W}panel/admin/member_from_card": _case(prepare=_unknown_card_seen),
    f"{S}import_fabomatic": _case(may_fail={"fabomatic_no_database"}),
    # The sweep's devices are FluxiLab agents: an allowed call reaches the board
    # check (tests/integration/test_fabomatic_remote.py drives a board).
    f"{S}remote_start": _case(may_fail={"not_a_board"}),
    f"{S}remote_stop": _case(may_fail={"not_a_board"}),
    f"{S}check_in": _case(own=_own({}, member=False), may_fail={"no_member_linked"}),
    f"{S}check_out": _case(
        own=_own({}, member=False),
        prepare=_check_target_in,
        may_fail={"no_member_linked", "not_checked_in"},
    ),
    f"{S}notify_when_free": _case(
        own=_laser_for_service, prepare=_laser_busy, may_fail={"no_member"}
    ),
    f"{S}cancel_notify_when_free": _case(
        own=_laser_for_service, may_fail={"no_member"}
    ),
    f"{W}interest/subscribe": _case(
        own=_own({"fluxilab_device": LASER}, member=False),
        prepare=_laser_busy,
        may_fail={"no_member"},
    ),
    f"{W}interest/cancel": _case(
        own=_own({"fluxilab_device": LASER}, member=False), may_fail={"no_member"}
    ),
    f"{S}close_session": _case(prepare=_laser_busy),
    f"{W}booking/create": _case(
        prepare=_target_on_laser,
        own=_own({"fluxilab_device": HOOD, **_slot(0)}, member=False),
        may_fail={"no_member"},
    ),
    f"{W}booking/delete": _case(prepare=_bookings_made, own=_own_booking),
    f"{W}booking/list": _case(
        prepare=_bookings_made,
        own=_own({"fluxilab_device": HOOD}, member=False),
        own_only=True,
    ),
    f"{W}outage/delete": _case(prepare=_outage_scheduled),
    f"{W}problem/report": _case(
        own=_own({"fluxilab_device": HOOD, "description": "Mine"}, member=False),
    ),
    f"{W}problem/resolve": _case(prepare=_problem_reported),
    f"{W}problem/list": _case(
        prepare=_problem_reported,
        own=_own({}, member=False),
        own_only=True,
    ),
    **{
        door: _case(
            other=lambda data, target: {
                **data,
                "machine_type_id": target.spare_machine_type_id,
            }
        )
        for door in (f"{W}machine_type/delete", f"{W}panel/admin/machine_type_delete")
    },
    f"{S}generate_broker_config": _case(other=_without(ATTR_DEVICE_ID, "password")),
    **{
        door: _case(prepare=_role_made)
        for door in (f"{W}role/update", f"{W}role/delete")
    },
    **{
        door: _case(prepare=_project_made, other=_on_project)
        for door in (
            f"{W}project/update",
            f"{W}project/delete",
            f"{W}billing/set_default",
        )
    },
    **{
        door: _case(prepare=_session_to_charge, other=_on_project)
        for door in (f"{W}billing/set_session", f"{S}set_session_charge")
    },
    f"{W}panel/open": _case(own=_own({ATTR_DEVICE_ID: HOOD}, member=False)),
    f"{W}panel/change_pin": _case(
        own=_change_pin, own_only=True, may_fail={"no_member"}
    ),
    f"{W}notify/get": _case(
        own=_own({}, member=False), own_only=True, may_fail={"not_found"}
    ),
    f"{W}notify/set": _case(
        own=_own({"notify_service": None}, member=False),
        own_only=True,
        may_fail={"not_found"},
    ),
    **{
        door: _case(own=_own({}, member=False), own_only=True)
        for door in (
            f"{W}panel/profile",
            f"{W}lapsing/mine",
            f"{W}panel/lab",
            f"{W}panel/subscribe",
            f"{W}interest/list",
            f"{W}occupancy/list",
            f"{S}occupancy",
        )
    },
}
"""Doors that need more than their schema filled with ``values``."""


def shows_everyone(door: str, result: Any) -> bool | None:
    """Whether a listing door's result reached beyond the caller's own (None: n/a)."""
    if door in (f"{W}panel/lab", f"{W}panel/subscribe"):
        return LASER in str(result)
    if door in (f"{W}occupancy/list", f"{S}occupancy"):
        return "members" in result
    if door == f"{W}interest/list":
        return "queues" in result
    if door == f"{W}problem/list":
        return bool(result["reports"])  # the target's report, not the caller's
    if door == f"{W}booking/list":
        named = {b["member_id"] for b in result["device"]["bookings"] if b["member_id"]}
        return len(named) > 1
    return None


# Doors ------------------------------------------------------------------------------


def websocket_doors(hass: HomeAssistant) -> dict[str, Any]:
    """Every fluxilab/ websocket command, with its schema."""
    handlers: dict[str, tuple[Any, Any]] = hass.data[websocket_api.DOMAIN]
    return {
        name: schema
        for name, (_handler, schema) in handlers.items()
        if name.startswith(W)
    }


def service_doors(hass: HomeAssistant) -> dict[str, Any]:
    """Every fluxilab service, by its table name."""
    return {
        f"{S}{name}": service
        for name, service in hass.services.async_services_for_domain(DOMAIN).items()
    }


@dataclass(frozen=True)
class EntityAction:
    """One action of one FluxiLab entity through a service of its platform."""

    door: str
    entity_id: str
    domain: str
    service: str


def entity_doors(hass: HomeAssistant) -> list[EntityAction]:
    """Every action of every FluxiLab entity: its platform's services."""
    registry = er.async_get(hass)
    found = []
    for entry in hass.config_entries.async_entries(DOMAIN):
        device_id = entry.data["device_id"]
        for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
            assert entity.domain in ENTITY_PLATFORMS, entity.entity_id
            key = entity.unique_id.removeprefix(f"{device_id}_")
            for service in hass.services.async_services_for_domain(entity.domain):
                # toggle runs turn_on or turn_off, whose entries it must share.
                action = "turn_on" if service == "toggle" else service
                found.append(
                    EntityAction(
                        f"{entity.domain}.{key}.{action}",
                        entity.entity_id,
                        entity.domain,
                        service,
                    )
                )
    return found


def flow_doors(hass: HomeAssistant) -> set[str]:
    """The flows Home Assistant runs for the integration."""
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    handler = HANDLERS[DOMAIN]
    flows = {"config_flow"}
    if handler.async_supports_options_flow(entry):
        flows.add("options_flow")
    if hasattr(repairs_platform, "async_create_fix_flow"):
        flows.add("repair_flow")
    return flows


def all_doors(hass: HomeAssistant) -> set[str]:
    """Every operation the integration offers, named as in the table."""
    return (
        set(service_doors(hass))
        | set(websocket_doors(hass))
        | {action.door for action in entity_doors(hass)}
        | flow_doors(hass)
    )


@pytest.fixture
async def online(hass: HomeAssistant, actors: Actors) -> Actors:
    """Both devices online and offered an agent update (so every action can run)."""
    for entry in hass.config_entries.async_entries(DOMAIN):
        hass.config_entries.async_update_entry(
            entry, options={**entry.options, CONF_LATEST_SW_VERSION: "9.9.9"}
        )
    await hass.async_block_till_done()
    for device_id in (HOOD, LASER):
        async_fire_mqtt_message(hass, f"fluxilab/{device_id}/status", "online")
    # The fumehood's agent has an interlock: its relay switch is a door too.
    hub = await async_get_hub_keys(hass)
    topic = f"fluxilab/{HOOD}/announce"
    announce = {
        "v": 1,
        "id": HOOD,
        "name": "Hood-1",
        "kind": "fumehood",
        "model": "FH-1200",
        "sw_version": "0.1.0",
        "key": DEVICE_KEYS[HOOD].public_b64,
        "capabilities": {"actuators": HOOD_ACTUATORS},
    }
    sealed = seal_announce(DEVICE_KEYS[HOOD].derive(hub.public_b64), topic, announce)
    async_fire_mqtt_message(hass, topic, json.dumps(sealed))
    await hass.async_block_till_done()
    return actors


# The sweep --------------------------------------------------------------------------


async def test_every_door_is_in_the_table(hass: HomeAssistant, online: Actors) -> None:
    """A door without a table entry fails; so does an entry without a door."""
    doors = all_doors(hass)
    assert doors - set(PERMISSIONS) == set(), "add these to PERMISSIONS"
    assert set(PERMISSIONS) - doors == set(), "stale PERMISSIONS entries"
    # The sweep sees every kind of door.
    assert f"{S}add_member" in doors
    assert f"{W}member/create" in doors
    assert f"{W}panel/admin/block" in doors
    assert {
        "button.reboot.press",
        "switch.blocked.turn_on",
        "switch.relay.turn_on",
    } <= doors
    assert "update.firmware.install" in doors
    # Doors that need a case to be swept honestly have one.
    for door in doors:
        permission = PERMISSIONS[door]
        if permission.own is not None and door not in CASES:
            pytest.fail(f"{door}: permission has an own part; give it a Case.own")


class Sweeper:
    """Calls doors as one actor and checks each outcome against the table."""

    def __init__(
        self,
        hass: HomeAssistant,
        actors: Actors,
        actor: str,
        client: Client,
        mqtt_mock: MqttMockHAClient,
    ) -> None:
        """Bind to one actor's user and websocket connection."""
        self.hass = hass
        self.actors = actors
        self.actor = actor
        if actor in LAB_ROLE_ACTORS:
            self.level, fields = LAB_ROLE_ACTORS[actor]
            self.role: RoleFlags | None = RoleFlags.of_role(fields)
        else:
            self.level, self.role = ACTORS[actor], None
        self.user = actors.users[actor]
        self.client = client
        self.mqtt_mock = mqtt_mock
        self.outcomes: dict[tuple[str, str], str] = {}
        self._ids = itertools.count(1)

    async def _websocket(self, door: str, data: dict[str, Any]) -> tuple[bool, Any]:
        """Send a command; return (success, result or error) of its own reply."""
        msg_id = next(self._ids)
        await self.client.send_json({"id": msg_id, "type": door, **data})
        while True:
            reply = await self.client.receive_json()
            if reply["id"] == msg_id and reply["type"] == "result":
                break
        if reply["success"]:
            return True, reply["result"]
        return False, reply["error"]

    async def _service(self, door: str, data: dict[str, Any]) -> tuple[bool, Any]:
        service = service_doors(self.hass)[door]
        try:
            result = await self.hass.services.async_call(
                DOMAIN,
                door.removeprefix(S),
                data,
                blocking=True,
                context=Context(user_id=self.user.id),
                return_response=service.supports_response is SupportsResponse.ONLY,
            )
        except Unauthorized:
            return False, {"code": ERR_UNAUTHORIZED}
        except HomeAssistantError as err:
            return False, {"code": "error", "translation_key": err.translation_key}
        return True, result

    async def call(self, door: str, data: dict[str, Any], *, expect: bool) -> Any:
        """Call ``door`` with ``data``; ``expect``: the table allows this call."""
        # The journal numbers new entries when it collects them (a commit within
        # 0.2 s): let it, so its bookkeeping is not taken for the call's doing.
        await self.actors.lab.engine.history.async_commit()
        before = snapshot(self.actors.lab.engine)
        self.mqtt_mock.async_publish.reset_mock()
        if door.startswith(S):
            success, result = await self._service(door, data)
        else:
            success, result = await self._websocket(door, data)
        await self.hass.async_block_till_done()
        where = f"{self.actor} {door} {data}: {result}"
        refused = not success and result.get("code") == ERR_UNAUTHORIZED
        if not expect:
            assert refused, f"should be refused: {where}"
            after = snapshot(self.actors.lab.engine)
            assert after == before, f"{where}; changed: {changed(before, after)}"
            assert self.mqtt_mock.async_publish.call_count == 0, where
        elif not success:
            case = CASES.get(door, Case())
            reason = result.get("translation_key") or result.get("code")
            assert reason in case.may_fail, f"should be allowed and succeed: {where}"
        self.outcomes[door, "refused" if refused else "allowed"] = where
        return result if success else None

    async def door(self, door: str, schema: Any) -> None:
        """Call one door at someone else's and at the caller's own, as the case says."""
        case = CASES.get(door, Case())
        scope = PERMISSIONS[door].scope(self.level, self.role)
        lab = self.actors.lab
        target = await make_target(self.hass, lab)
        if case.prepare is not None:
            await case.prepare(self.hass, lab, target)
            await self.hass.async_block_till_done()
        if not case.own_only:
            known = values(lab, target, service=door.startswith(S))
            data = fill(schema, known, door)
            if case.other is not None:
                data = case.other(data, target)
            await self.call(door, data, expect=scope is Scope.ANY)
        if case.own is not None:
            own = case.own(self.actors, self.actor)
            if own is None:  # the door needs a member the caller does not have
                return
            result = await self.call(door, own, expect=scope is not None)
            shown = shows_everyone(door, result) if result is not None else None
            if shown is not None:
                assert shown is (scope is Scope.ANY), f"{self.actor} {door}: {result}"


@pytest.mark.parametrize("actor", [*ACTORS, *LAB_ROLE_ACTORS])
async def test_sweep_services_and_websocket(
    hass: HomeAssistant,
    online: Actors,
    ws_as: Connect,
    mqtt_mock: MqttMockHAClient,
    tmp_path: Path,
    actor: str,
) -> None:
    """Every service and websocket command, as ``actor``, against PERMISSIONS."""
    hass.config.config_dir = str(tmp_path)  # generate_broker_config writes there
    client = await ws_as(online.users[actor])
    sweeper = Sweeper(hass, online, actor, client, mqtt_mock)
    doors: dict[str, Any] = {
        door: service.schema for door, service in service_doors(hass).items()
    }
    doors |= websocket_doors(hass)
    for door, schema in sorted(doors.items()):
        await sweeper.door(door, schema)
    allowed = {door for door, outcome in sweeper.outcomes if outcome == "allowed"}
    refused = {door for door, outcome in sweeper.outcomes if outcome == "refused"}
    assert allowed | refused == set(doors)
    if actor == "ha_admin":
        assert refused == set()
    if actor == "ha_user":
        # Nothing but what the table makes public to every Home Assistant user.
        assert allowed == {
            door for door in doors if PERMISSIONS[door].scope(Level.HA_USER) is not None
        }


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize("actor", list(ACTORS))
async def test_sweep_entity_actions(
    hass: HomeAssistant,
    online: Actors,
    mqtt_mock: MqttMockHAClient,
    actor: str,
) -> None:
    """Every action of every FluxiLab entity, as ``actor``, against PERMISSIONS."""
    user = online.users[actor]
    level = ACTORS[actor]
    actions = entity_doors(hass)
    assert {a.domain for a in actions} == {"button", "calendar", "switch", "update"}
    for action in sorted(actions, key=lambda a: (a.entity_id, a.service)):
        state = hass.states.get(action.entity_id)
        assert state is not None
        assert state.state != "unavailable", action
        door = action.door
        if action.service == "toggle" and state.state == "on":
            door = door.replace(".turn_on", ".turn_off")
        await online.lab.engine.history.async_commit()
        before = snapshot(online.lab.engine)
        mqtt_mock.async_publish.reset_mock()
        allowed = PERMISSIONS[door].scope(level) is not None
        where = f"{actor} {action}"
        try:
            await hass.services.async_call(
                action.domain,
                action.service,
                {ATTR_ENTITY_ID: action.entity_id, **ENTITY_DATA.get(action.door, {})},
                blocking=True,
                context=Context(user_id=user.id),
                return_response=action.service in ENTITY_RESPONSES,
            )
        except Unauthorized:
            assert not allowed, f"should be allowed: {where}"
            await hass.async_block_till_done()
            assert snapshot(online.lab.engine) == before, where
            assert mqtt_mock.async_publish.call_count == 0, where
        except HomeAssistantError as err:
            failed: str | None = err.translation_key
            assert allowed, f"should be refused: {where}"
            assert failed in ENTITY_MAY_FAIL.get(door, set()), where
        else:
            assert allowed, f"should be refused: {where}"
        await hass.async_block_till_done()


@pytest.mark.parametrize("actor", list(ACTORS))
@pytest.mark.parametrize("flow", ["config_flow", "options_flow", "repair_flow"])
async def test_flows_are_for_ha_admins(
    hass: HomeAssistant,
    online: Actors,
    hass_client_no_auth: ClientSessionGenerator,
    flow: str,
    actor: str,
) -> None:
    """Home Assistant starts the integration's flows for its administrators only."""
    assert await async_setup_component(hass, "config", {})
    assert await async_setup_component(hass, "repairs", {})
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    url, body = {
        "config_flow": ("/api/config/config_entries/flow", {"handler": DOMAIN}),
        "options_flow": (
            "/api/config/config_entries/options/flow",
            {"handler": entry.entry_id},
        ),
        "repair_flow": (
            "/api/repairs/issues/fix",
            {"handler": DOMAIN, "issue_id": key_issue_id(entry)},
        ),
    }[flow]
    if flow == "repair_flow":
        async_create_key_changed_issue(hass, entry, KeyPair.generate().public_b64)
    refresh = await hass.auth.async_create_refresh_token(
        online.users[actor], "https://example.com/"
    )
    token = hass.auth.async_create_access_token(refresh)
    client = await hass_client_no_auth()
    response = await client.post(
        url, json=body, headers={"Authorization": f"Bearer {token}"}
    )
    allowed = PERMISSIONS[flow].scope(ACTORS[actor]) is not None
    assert response.status in (200, 401), await response.text()
    assert (response.status == 200) is allowed, await response.text()
    if not allowed:
        return
    result = await response.json()
    if result.get("type") == "form":
        manager = {
            "config_flow": hass.config_entries.flow,
            "options_flow": hass.config_entries.options,
            "repair_flow": repairs_flow_manager(hass),
        }[flow]
        manager.async_abort(result["flow_id"])


# The finding (issue 14, 2), one door at a time ----------------------------------------


def _entity_id(hass: HomeAssistant, platform: str, unique_id: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(platform, DOMAIN, unique_id)
    assert entity_id is not None
    return entity_id


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_user_without_member_cannot_restart_a_device(
    hass: HomeAssistant, online: Actors, mqtt_mock: MqttMockHAClient
) -> None:
    """Any HA user could press restart, force sync and record maintenance: no more."""
    mqtt_mock.async_publish.reset_mock()
    for key in ("reboot", "force_sync", "record_maintenance"):
        with pytest.raises(Unauthorized) as err:
            await hass.services.async_call(
                "button",
                "press",
                {ATTR_ENTITY_ID: _entity_id(hass, "button", f"{HOOD}_{key}")},
                blocking=True,
                context=Context(user_id=online.users["ha_user"].id),
            )
        assert err.value.translation_key == "not_permitted"
        assert err.value.translation_placeholders == {
            "operation": f"button.{key}.press"
        }
    await hass.async_block_till_done()
    assert mqtt_mock.async_publish.call_count == 0


async def test_lab_admin_uses_the_block_switch(
    hass: HomeAssistant, online: Actors
) -> None:
    """A lab admin who is not an HA admin blocks a device as through the panel."""
    await hass.services.async_call(
        "switch",
        "turn_on",
        {ATTR_ENTITY_ID: _entity_id(hass, "switch", f"{HOOD}_blocked")},
        blocking=True,
        context=Context(user_id=online.users["lab_admin"].id),
    )
    device = online.lab.engine.device(HOOD)
    assert device is not None
    assert device.blocked


async def test_staff_record_maintenance_but_cannot_restart(
    hass: HomeAssistant, online: Actors, mqtt_mock: MqttMockHAClient
) -> None:
    """Staff maintain (as at the device) through the button; restarting is not theirs."""
    context = Context(user_id=online.users["lab_staff"].id)
    await hass.services.async_call(
        "button",
        "press",
        {ATTR_ENTITY_ID: _entity_id(hass, "button", f"{HOOD}_record_maintenance")},
        blocking=True,
        context=context,
    )
    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            "button",
            "press",
            {ATTR_ENTITY_ID: _entity_id(hass, "button", f"{HOOD}_reboot")},
            blocking=True,
            context=context,
        )


async def test_automations_may_do_everything(
    hass: HomeAssistant, online: Actors
) -> None:
    """A call without a user is the system: allowed, as Home Assistant allows it."""
    await hass.services.async_call(
        "switch",
        "turn_on",
        {ATTR_ENTITY_ID: _entity_id(hass, "switch", f"{LASER}_blocked")},
        blocking=True,
    )
    await hass.services.async_call(
        DOMAIN,
        "unblock_device",
        {"device_id": online.lab.ha_device[LASER]},
        blocking=True,
    )
    device = online.lab.engine.device(LASER)
    assert device is not None
    assert not device.blocked


# docs/ACCESS.md shows the same table ----------------------------------------------------

CELL = {Scope.ANY: "yes", Scope.OWN: "own", None: "no"}


def permissions_table() -> str:
    """The table of docs/ACCESS.md, from PERMISSIONS (one row per permission)."""
    doors: dict[Permission, list[str]] = {}
    for door, permission in PERMISSIONS.items():
        doors.setdefault(permission, []).append(door)
    lines = [
        "| Permission | HA admin | lab admin | lab staff | lab member | HA user | "
        '"own" means | Operations |',
        "|---|---|---|---|---|---|---|---|",
    ]
    for permission, names in doors.items():
        cells = [CELL[permission.scope(level)] for level in ACTORS.values()]
        operations = ", ".join(f"`{name}`" for name in names)
        lines.append(
            f"| {permission.name} | {' | '.join(cells)} | "
            f"{permission.own_means or '—'} | {operations} |"
        )
    return "\n".join(lines)


def test_access_md_shows_the_table() -> None:
    """docs/ACCESS.md's table of who may do what is the code's table."""
    text = ACCESS_MD.read_text(encoding="utf-8")
    found = re.search(
        r"<!-- permissions table -->\n(.*?)\n<!-- end of permissions table -->",
        text,
        re.S,
    )
    assert found is not None, "docs/ACCESS.md lacks the permissions table markers"
    expected = permissions_table()
    assert found.group(1) == expected, f"docs/ACCESS.md should show:\n{expected}"
