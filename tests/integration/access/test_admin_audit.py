"""Every admin change is audited: who, what, before -> after, through which door.

Each kind of admin data is changed through a service and a websocket command (and
an entity or the options flow where these are doors too); the entry is found in the
audit log through the panel's audit command, with the caller, the door and the
changed fields, and never a card uid or a PIN in clear.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from homeassistant.core import Context, HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser
from pytest_homeassistant_custom_component.typing import WebSocketGenerator
from sqlalchemy import create_engine, insert, inspect, select

from custom_components.fluxilab.access.const import CONF_MAINTENANCE_INTERVAL
from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.const import CONF_MACHINE_TYPE, DOMAIN
from custom_components.fluxilab.history_db import LiveAudit, migration, schema
from custom_components.fluxilab.history_db.database import HistoryDatabase
from custom_components.fluxilab.journal import JOURNAL_FILE
from tests.integration.conftest import DEVICE_ID

from .conftest import MACHINE_TYPE, call

CARD_UID = "04A1B2C3D4E5F6"
SECOND_UID = "04FFEEDDCCBBAA"
BLOCKED = "switch.fumehood_1_blocked"


class Panel:
    """The panel's websocket, as the HA administrator ``hass_admin_user``."""

    def __init__(self, client: Any) -> None:
        self.client = client

    async def send(self, command: str, **data: Any) -> Any:
        await self.client.send_json_auto_id({"type": f"{DOMAIN}/{command}", **data})
        reply = await self.client.receive_json()
        assert reply["success"], reply
        return reply["result"]

    async def audit(self, **filters: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self.send("panel/admin/audit", **filters)
        return result

    async def admin_entries(self, **filters: Any) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = (await self.audit(kind="admin", **filters))[
            "audit"
        ]
        return entries


@pytest.fixture
async def panel(
    hass: HomeAssistant, engine: AccessEngine, hass_ws_client: WebSocketGenerator
) -> Panel:
    """The panel's websocket as the Home Assistant administrator."""
    return Panel(await hass_ws_client(hass))


def newest(
    entries: list[dict[str, Any]], target: str, action: str, operation: str
) -> dict[str, Any]:
    """Return the newest admin entry of a target, action and door."""
    for entry in entries:
        if (
            entry["target"] == target
            and entry["action"] == action
            and entry["operation"] == operation
        ):
            return entry
    raise AssertionError(f"no {target} {action} through {operation} in {entries}")


def assert_actor(entry: dict[str, Any], user: MockUser, door: str) -> None:
    """The entry names the caller and the door."""
    assert entry["kind"] == "admin"
    assert entry["actor_user_id"] == user.id
    assert entry["actor_name"] == user.name
    assert entry["door"] == door


def assert_no_secret(entries: list[dict[str, Any]], *secrets: str) -> None:
    """No card uid or PIN appears anywhere in the entries."""
    text = json.dumps(entries)
    for secret in secrets:
        assert secret not in text


async def test_members_through_service_and_websocket(
    hass: HomeAssistant, engine: AccessEngine, panel: Panel, hass_admin_user: MockUser
) -> None:
    """Create, role change, profile change and deletion: every door, every field."""
    created = await call(
        hass, "add_member", {"name": "Ada Lovelace"}, hass_admin_user, response=True
    )
    ada = created["member_id"]
    await call(
        hass,
        "set_member_role",
        {"member_id": ada, "role": "staff"},
        hass_admin_user,
    )
    await call(
        hass,
        "update_member",
        {"member_id": ada, "email": "ada@example.org"},
        hass_admin_user,
    )
    grace = (await panel.send("panel/admin/member_create", name="Grace Hopper"))[
        "member_id"
    ]
    await panel.send("panel/admin/member_update", member_id=grace, role="admin")
    await panel.send("panel/admin/member_delete", member_id=grace)

    entries = await panel.admin_entries()
    entry = newest(entries, "member", "created", "fluxilab.add_member")
    assert_actor(entry, hass_admin_user, "service")
    assert entry["member_id"] == ada
    assert entry["member_name"] == "Ada Lovelace"
    assert entry["changes"]["role"] == {"before": None, "after": "user"}
    assert entry["changes"]["name"] == {"masked": True}  # the name is the column

    entry = newest(entries, "member", "updated", "fluxilab.set_member_role")
    assert_actor(entry, hass_admin_user, "service")
    assert entry["changes"] == {"role": {"before": "user", "after": "staff"}}

    entry = newest(entries, "member", "updated", "fluxilab.update_member")
    # Personal data are masked: the change is said, not the address.
    assert entry["changes"] == {"email": {"masked": True}}
    assert "ada@example.org" not in json.dumps(entries)

    # Grace is deleted below: what was written about her is anonymized whole
    # (who and whom), as every audit entry naming an erased member is; what
    # changed stays.
    entry = newest(entries, "member", "created", "fluxilab/panel/admin/member_create")
    assert entry["door"] == "websocket"
    assert entry["anonymized"] is True
    assert entry["member_name"] is entry["actor_user_id"] is None
    entry = newest(entries, "member", "updated", "fluxilab/panel/admin/member_update")
    assert entry["changes"] == {"role": {"before": "user", "after": "admin"}}

    # A deleted member's data are erased: the deletion is audited, naming nobody,
    # and the entries about her lost her name.
    entry = newest(entries, "member", "deleted", "fluxilab/panel/admin/member_delete")
    assert_actor(entry, hass_admin_user, "websocket")
    assert entry["member_id"] is None
    assert entry["member_name"] is None
    assert entry["changes"]["role"] == {"before": "admin", "after": None}
    assert "Grace Hopper" not in json.dumps(entries)


async def test_credentials_never_in_clear(
    hass: HomeAssistant, engine: AccessEngine, panel: Panel, hass_admin_user: MockUser
) -> None:
    """Cards and PINs given through both doors: pseudonyms and "changed" only."""
    created = await call(
        hass,
        "add_member",
        {"name": "Alan Turing", "pin": "482916"},
        hass_admin_user,
        response=True,
    )
    alan = created["member_id"]
    await call(hass, "add_card", {"member_id": alan, "card": CARD_UID}, hass_admin_user)
    await panel.send(
        "credentials/add", member_id=alan, credential_type="card", card=SECOND_UID
    )
    reset = await call(
        hass, "reset_pin", {"member_id": alan}, hass_admin_user, response=True
    )
    ws_reset = await panel.send("credentials/reset_pin", member_id=alan)

    entries = await panel.admin_entries(member_id=alan)
    pins = [
        str(value)
        for reply in (reset, ws_reset)
        for key, value in reply.items()
        if "pin" in key and isinstance(value, str)
    ]
    assert len(pins) == 2
    hashes = [
        c["pin_hash"]
        for c in engine.members.data[alan]["credentials"]
        if "pin_hash" in c
    ]
    assert_no_secret(entries, CARD_UID, SECOND_UID, "482916", *pins, *hashes)

    pseudonym = engine.privacy.card(CARD_UID)
    entry = newest(entries, "credential", "created", "fluxilab.add_card")
    assert_actor(entry, hass_admin_user, "service")
    assert entry["member_id"] == alan
    assert entry["label"] == pseudonym
    assert entry["changes"]["card"] == {"before": None, "after": pseudonym}

    entry = newest(entries, "credential", "created", "fluxilab/credentials/add")
    assert_actor(entry, hass_admin_user, "websocket")
    assert entry["label"] == engine.privacy.card(SECOND_UID)

    for operation, door in (
        ("fluxilab.reset_pin", "service"),
        ("fluxilab/credentials/reset_pin", "websocket"),
    ):
        entry = newest(entries, "credential", "updated", operation)
        assert_actor(entry, hass_admin_user, door)
        assert entry["label"] == "pin"
        assert entry["changes"]["pin"] == {"changed": True}

    # The member created with a PIN: the PIN is there, said as "changed".
    entry = newest(entries, "member", "created", "fluxilab.add_member")
    assert entry["changes"]["credentials"]["pin"]["pin"] == {"changed": True}


async def test_authorizations_and_machine_types(
    hass: HomeAssistant, engine: AccessEngine, panel: Panel, hass_admin_user: MockUser
) -> None:
    """Grants, renewals and revocations; machine types saved and deleted."""
    member = (
        await call(
            hass,
            "add_member",
            {"name": "Rosalind Franklin"},
            hass_admin_user,
            response=True,
        )
    )["member_id"]
    granted = await call(
        hass,
        "grant_authorization",
        {"member_id": member, "machine_type_id": MACHINE_TYPE},
        hass_admin_user,
        response=True,
    )
    await call(
        hass,
        "renew_authorization",
        {
            "authorization_id": granted["authorization_id"],
            "expires": "2030-01-01T00:00:00+00:00",
        },
        hass_admin_user,
    )
    await call(
        hass,
        "revoke_authorization",
        {"authorization_id": granted["authorization_id"]},
        hass_admin_user,
    )
    await panel.send(
        "panel/admin/grant", member_ids=[member], machine_type_id=MACHINE_TYPE
    )
    laser = await panel.send(
        "panel/admin/machine_type_save", name="Laser", session_timeout=300
    )
    laser_id = laser["id"] if "id" in laser else laser["machine_type_id"]
    await panel.send(
        "panel/admin/machine_type_save", machine_type_id=laser_id, session_timeout=900
    )
    await panel.send("machine_type/update", machine_type_id=laser_id, grace_period=5)
    await panel.send("panel/admin/machine_type_delete", machine_type_id=laser_id)

    entries = await panel.admin_entries()
    entry = newest(entries, "authorization", "created", "fluxilab.grant_authorization")
    assert_actor(entry, hass_admin_user, "service")
    assert entry["member_id"] == member
    assert entry["member_name"] == "Rosalind Franklin"
    assert entry["label"] == "Fumehood"
    assert entry["target_id"] == MACHINE_TYPE
    entry = newest(entries, "authorization", "updated", "fluxilab.renew_authorization")
    assert entry["changes"]["expires"]["before"] is None
    assert entry["changes"]["expires"]["after"].startswith("2030-01-01")
    newest(entries, "authorization", "deleted", "fluxilab.revoke_authorization")
    entry = newest(entries, "authorization", "created", "fluxilab/panel/admin/grant")
    assert_actor(entry, hass_admin_user, "websocket")
    assert entry["member_name"] == "Rosalind Franklin"
    # A grant of one machine names it as the admin sees it, not by its id.
    await panel.send("panel/admin/grant", member_ids=[member], device_id=DEVICE_ID)
    entries = await panel.admin_entries()
    entry = newest(entries, "authorization", "created", "fluxilab/panel/admin/grant")
    assert entry["device_id"] == DEVICE_ID
    assert entry["label"] == "Fumehood 1"

    entry = newest(
        entries, "machine_type", "created", "fluxilab/panel/admin/machine_type_save"
    )
    assert entry["label"] == "Laser"
    assert entry["changes"]["session_timeout"] == {"before": None, "after": 300}
    entry = newest(
        entries, "machine_type", "updated", "fluxilab/panel/admin/machine_type_save"
    )
    assert entry["changes"] == {"session_timeout": {"before": 300, "after": 900}}
    entry = newest(entries, "machine_type", "updated", "fluxilab/machine_type/update")
    assert_actor(entry, hass_admin_user, "websocket")
    assert entry["changes"] == {"grace_period": {"before": 60, "after": 5}}
    newest(
        entries, "machine_type", "deleted", "fluxilab/panel/admin/machine_type_delete"
    )


async def test_settings_blocking_maintenance_and_options(
    hass: HomeAssistant,
    engine: AccessEngine,
    panel: Panel,
    hass_admin_user: MockUser,
    ha_device_id: str,
    init_integration: MockConfigEntry,
) -> None:
    """Settings, block/unblock and maintenance through services, websocket, entities."""
    await call(hass, "purge", {"usage_retention_days": 200}, hass_admin_user)
    await panel.send("panel/admin/retention", usage_retention_days=100)
    await panel.send("access/settings", session_check_interval=120)
    await call(hass, "block_device", {"device_id": ha_device_id}, hass_admin_user)
    await panel.send("panel/admin/block", device_id=DEVICE_ID, blocked=False)
    await hass.services.async_call(
        "switch",
        "turn_on",
        {"entity_id": BLOCKED},
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    await call(hass, "record_maintenance", {"device_id": ha_device_id}, hass_admin_user)
    await panel.send("panel/admin/record_maintenance", device_id=DEVICE_ID)
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_MACHINE_TYPE: MACHINE_TYPE, CONF_MAINTENANCE_INTERVAL: 250},
    )
    await hass.async_block_till_done()

    entries = await panel.admin_entries()
    entry = newest(entries, "settings", "updated", "fluxilab.purge")
    assert_actor(entry, hass_admin_user, "service")
    assert entry["changes"]["usage_retention_days"]["after"] == 200
    entry = newest(entries, "settings", "updated", "fluxilab/panel/admin/retention")
    assert entry["changes"] == {"usage_retention_days": {"before": 200, "after": 100}}
    entry = newest(entries, "settings", "updated", "fluxilab/access/settings")
    assert entry["changes"]["session_check_interval"]["after"] == 120

    entry = newest(entries, "device", "updated", "fluxilab.block_device")
    assert_actor(entry, hass_admin_user, "service")
    assert entry["device_id"] == DEVICE_ID
    assert entry["label"] == "Fumehood 1"
    assert entry["changes"] == {"blocked": {"before": False, "after": True}}
    entry = newest(entries, "device", "updated", "fluxilab/panel/admin/block")
    assert_actor(entry, hass_admin_user, "websocket")
    assert entry["changes"] == {"blocked": {"before": True, "after": False}}
    entry = newest(entries, "device", "updated", "switch.blocked.turn_on")
    assert_actor(entry, hass_admin_user, "entity")
    assert entry["changes"] == {"blocked": {"before": False, "after": True}}

    for operation, door in (
        ("fluxilab.record_maintenance", "service"),
        ("fluxilab/panel/admin/record_maintenance", "websocket"),
    ):
        entry = newest(entries, "device", "maintenance", operation)
        assert_actor(entry, hass_admin_user, door)
        assert entry["changes"]["since_maintenance"]["after"] == 0.0

    entry = newest(entries, "device", "updated", "options_flow")
    assert entry["door"] == "options_flow"
    assert entry["changes"][CONF_MAINTENANCE_INTERVAL] == {"before": None, "after": 250}


async def test_moving_the_history_database_is_audited(
    engine: AccessEngine, panel: Panel, hass_admin_user: MockUser, tmp_path: Any
) -> None:
    """The history's database is a setting too: where it went, by whom."""
    target = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    await panel.send("history/set_database", url=target)
    entry = newest(
        await panel.admin_entries(),
        "settings",
        "updated",
        "fluxilab/history/set_database",
    )
    assert_actor(entry, hass_admin_user, "websocket")
    assert entry["changes"]["history_database"]["after"] == target
    assert entry["changes"]["history_database"]["before"].endswith(
        "fluxilab_history.db"
    )


async def test_lab_admin_named_as_member_and_erased_with_them(
    hass: HomeAssistant,
    engine: AccessEngine,
    panel: Panel,
    hass_admin_user: MockUser,
    hass_read_only_user: MockUser,
) -> None:
    """A lab admin (not HA's) is named with their member; erasing them blanks it."""
    boss = (
        await call(
            hass,
            "add_member",
            {"name": "Lab Boss", "role": "admin", "user_id": hass_read_only_user.id},
            hass_admin_user,
            response=True,
        )
    )["member_id"]
    await call(hass, "add_member", {"name": "New Member"}, hass_read_only_user)
    entries = await panel.admin_entries()
    entry = newest(entries, "member", "created", "fluxilab.add_member")
    assert entry["actor_user_id"] == hass_read_only_user.id
    assert entry["actor_member_id"] == boss
    assert entry["member_name"] == "New Member"
    by_boss = entry["entry_id"]
    # The member filter: what concerns them, and what they did.
    theirs = {e["entry_id"] for e in await panel.admin_entries(member_id=boss)}
    assert by_boss in theirs
    export = await engine.history.async_member_entries(boss)
    assert by_boss in {e.entry_id for e in export.audit}

    await call(hass, "remove_member", {"member_id": boss}, hass_admin_user)
    await engine.history.async_save()
    db = engine.history.database
    rows = await db.async_run(db.member_entries, boss)
    assert rows.audit == []  # nothing names them any more, in the database
    entries = await panel.admin_entries()
    entry = next(e for e in entries if e["entry_id"] == by_boss)
    # Erasing the lab admin anonymizes the entries they made, whole.
    assert entry["member_name"] is None
    assert entry["actor_user_id"] is None
    assert entry["actor_member_id"] is None
    assert entry["anonymized"] is True


async def test_admin_entries_reach_the_journal(
    hass: HomeAssistant, engine: AccessEngine, hass_admin_user: MockUser
) -> None:
    """An admin change is committed to the journal like any audit entry (crash-safe)."""
    await call(hass, "add_member", {"name": "Journaled"}, hass_admin_user)
    await engine.history.async_commit()
    path = hass.config.path(".storage", JOURNAL_FILE)
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT value FROM docs WHERE store = 'history' AND key LIKE 'audit/%'"
        ).fetchall()
    entries = [json.loads(value) for (value,) in rows]
    assert any(
        e["kind"] == "admin"
        and e["member_name"] == "Journaled"
        and e["actor_user_id"] == hass_admin_user.id
        for e in entries
    ), entries


async def test_retention_blanks_the_actor(
    hass: HomeAssistant, engine: AccessEngine, panel: Panel, hass_admin_user: MockUser
) -> None:
    """Old admin entries lose who and whom like every audit entry."""
    await call(hass, "add_member", {"name": "Old Timer"}, hass_admin_user)
    await engine.history.async_save()
    for entry in engine.history.data["audit"]:
        entry.ts -= 400 * 86400
        engine.history.async_changed(entry)
    await engine.history.async_save()
    await call(hass, "purge", {"usage_retention_days": 30}, hass_admin_user)
    entries = await panel.admin_entries()
    old = newest(entries, "member", "created", "fluxilab.add_member")
    assert old["anonymized"] is True
    assert old["actor_name"] is None
    assert old["actor_user_id"] is None
    assert old["member_name"] is None
    # The purge itself is a fresh admin change, named.
    fresh = newest(entries, "settings", "updated", "fluxilab.purge")
    assert fresh["actor_name"] == hass_admin_user.name


async def test_filters_and_paging(
    hass: HomeAssistant,
    engine: AccessEngine,
    panel: Panel,
    hass_admin_user: MockUser,
    ha_device_id: str,
) -> None:
    """Kind, member and device filters; pages follow the cursor without overlap."""
    members = []
    for n in range(7):
        created = await call(
            hass, "add_member", {"name": f"Member {n}"}, hass_admin_user, response=True
        )
        members.append(created["member_id"])
    await call(hass, "block_device", {"device_id": ha_device_id}, hass_admin_user)
    engine.history.add_audit(
        LiveAudit.from_entry(
            {
                "ts": 1.0,
                "kind": "decision",
                "device_id": DEVICE_ID,
                "member_id": None,
                "card": None,
                "reason": "not_authorized",
                "buffered": False,
            }
        )
    )

    everything = (await panel.audit(kind="admin", limit=500))["audit"]
    assert {e["kind"] for e in everything} == {"admin"}
    seen: list[int] = []
    page = await panel.audit(kind="admin", limit=3)
    while True:
        assert len(page["audit"]) <= 3
        seen.extend(e["entry_id"] for e in page["audit"])
        if page["next"] is None:
            break
        page = await panel.audit(kind="admin", limit=3, before=page["next"])
    assert seen == [e["entry_id"] for e in everything]
    assert seen == sorted(seen, reverse=True)
    # The fixture's machine type (the system's), seven members, one block.
    assert len(seen) == len(set(seen)) == 9

    about = await panel.admin_entries(member_id=members[3])
    assert [e["member_name"] for e in about] == ["Member 3"]
    on_device = await panel.audit(device_id=DEVICE_ID)
    kinds = {(e["kind"], e.get("target")) for e in on_device["audit"]}
    assert ("admin", "device") in kinds
    assert ("decision", None) in kinds
    assert all(e["device_id"] == DEVICE_ID for e in on_device["audit"])


def test_schema_1_database_gains_the_actor_columns(tmp_path: Any) -> None:
    """A database of schema 1 migrates: its rows stay, the actor columns appear."""
    url = f"sqlite:///{tmp_path / 'v1.db'}"
    old = schema.MetaData()
    for table in schema.metadata.sorted_tables:
        schema.Table(
            table.name,
            old,
            *(
                schema.Column(
                    c.name, c.type, primary_key=c.primary_key, nullable=c.nullable
                )
                for c in table.columns
                if c.name not in schema.ACTOR_FIELDS
                # audit.buffered came with schema 3
                and not (table is schema.audit and c.name == "buffered")
            ),
        )
    engine = create_engine(url)
    with engine.begin() as connection:
        old.create_all(connection)
        connection.execute(
            insert(old.tables[schema.schema_version.name]).values(
                version=1, applied=0.0
            )
        )
        connection.execute(
            insert(old.tables[schema.audit.name]).values(
                entry_id=1,
                ts=5.0,
                kind="decision",
                member_id="ada",
                anonymized=False,
                data='{"kind": "decision", "ts": 5.0, "member_id": null}',
            )
        )
    assert migration.migrate(engine) == 1
    with engine.connect() as connection:
        assert migration.current_version(connection) == schema.SCHEMA_VERSION == 3
        for table in (schema.audit, schema.sessions):
            columns = {c["name"] for c in inspect(connection).get_columns(table.name)}
            assert set(schema.ACTOR_FIELDS) <= columns
            assert "buffered" in columns
        assert connection.execute(select(schema.audit.c.member_id)).scalar() == "ada"
        # No "buffered" in its data: null, as an admin change's.
        assert connection.execute(select(schema.audit.c.buffered)).scalar() is None
    engine.dispose()
    db = HistoryDatabase(url)
    db.open()
    try:
        assert db.anonymize_member("ada", []) == 1
    finally:
        db.close()
        db.shutdown()
