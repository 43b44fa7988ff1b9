"""Members, cards and authorizations in and out as CSV (access/member_import.py).

A dry run reports every row; bad rows are rejected with a translated reason; strict
mode writes nothing if any row is bad; a write that fails midway is undone; the
export reads back as no change, formula cells neutralized; only lab admins may.
"""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path
import time
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError, Unauthorized
import pytest
from pytest_homeassistant_custom_component.common import MockUser
from pytest_homeassistant_custom_component.typing import (
    MqttMockHAClient,
    WebSocketGenerator,
)

from custom_components.fluxilab.access import admin, member_import
from custom_components.fluxilab.access.credentials import mask_card
from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.access.member_models import Member
from custom_components.fluxilab.const import DOMAIN
from custom_components.fluxilab.protocol.security import KeyPair
from tests.integration.conftest import DEVICE_ID

from .conftest import MACHINE_TYPE, call, credential_sets

EN = json.loads(
    (
        Path(__file__).parents[3]
        / "custom_components"
        / "fluxilab"
        / "translations"
        / "en.json"
    ).read_text(encoding="utf-8")
)["exceptions"]

HEADER = "member_id,name,email,role,active,cards,authorizations\n"


def lab_state(engine: AccessEngine) -> tuple[dict[str, Any], dict[str, Any]]:
    """Members and authorizations, deep copies to compare before and after."""
    return (
        copy.deepcopy(dict(engine.members.data)),
        copy.deepcopy(dict(engine.authorizations.data)),
    )


@pytest.fixture
async def lab(engine: AccessEngine) -> AccessEngine:
    """Ada (admin), Bob (a fumehood authorization), Cy, each with a card; a laser."""
    await engine.machine_types.async_create_item({"name": "Laser cutter"})
    await engine.members.async_create_item(
        {"name": "Ada", "role": "admin", "cards": ["04ABADA1"], "email": "ada@lab.org"}
    )
    await engine.members.async_create_item({"name": "Bob", "cards": ["04ABB0B1"]})
    await engine.members.async_create_item({"name": "Cy", "cards": ["04ABCY01"]})
    await engine.authorizations.async_create_item(
        {
            "member_id": "bob",
            "machine_type_id": MACHINE_TYPE,
            "expires": "2030-01-31T22:59:59+00:00",
        }
    )
    return engine


def rows_by_line(report: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {row["line"]: row for row in report["rows"]}


BAD_FILE = (
    HEADER
    + ",Carol,carol@lab.org,staff,true,04ABCA01;04ABCA02,laser_cutter@2031-06-30\n"  # 2 new
    + "bob,Bob,bob@lab.org,,,04ABB0B1,fumehood@2030-01-31T22:59:59+00:00\n"  # 3 email
    + ",Ada,ada@lab.org,admin,true,04ABADA1,\n"  # 4 unchanged (matched by name)
    + ",,x@lab.org,user,true,,\n"  # 5 missing name
    + ",Dan,,user,true,04ABCA01,\n"  # 6 a card row 2 takes
    + ",Eve,,user,true,04ABCY01,\n"  # 7 a card Cy holds
    + ",Fay,,user,true,,bandsaw\n"  # 8 unknown machine type
    + ",Gus,,user,true,,laser_cutter@31/12/2030\n"  # 9 bad expiry
    + f",{'H' * 101},,user,true,,\n"  # 10 too long
    + ",Ida,,wizard,true,,\n"  # 11 unknown role
    + ",Jo,,user,true,,fumehood;Fumehood\n"  # 12 the same authorization twice
    + "ghost,Kim,,user,true,,\n"  # 13 unknown member id
    + ",carol,,user,true,,\n"  # 14 row 2's member again
)


async def test_dry_run_reports_every_row_and_writes_nothing(
    hass: HomeAssistant, lab: AccessEngine, hass_admin_user: MockUser
) -> None:
    """Each row: what it would do, or why it is rejected, in the lab's words."""
    before = lab_state(lab)
    report = await call(
        hass,
        "import_members",
        {"csv_text": BAD_FILE, "dry_run": True},
        hass_admin_user,
        response=True,
    )
    assert lab_state(lab) == before
    assert report["dry_run"] is True
    assert report["applied"] is False
    assert report["summary"] == {"create": 1, "update": 1, "unchanged": 1, "reject": 10}
    rows = rows_by_line(report)
    assert rows[2]["action"] == "create"
    assert rows[2]["changes"] == ["active", "cards", "email", "name", "role"]
    assert rows[2]["cards"] == 2
    assert rows[2]["authorizations"] == [{"target": "laser_cutter", "action": "create"}]
    assert (rows[3]["action"], rows[3]["changes"]) == ("update", ["email"])
    assert rows[3]["authorizations"] == []  # the same expiry: unchanged
    assert (rows[4]["action"], rows[4]["member_id"]) == ("unchanged", "ada")
    expected = {
        5: ("import_missing_name", {}),
        6: ("import_repeated_card", {"card": mask_card("04ABCA01"), "line": "2"}),
        7: ("card_in_use", {"card": mask_card("04ABCY01")}),
        8: ("unknown_machine_type", {"machine_type": "bandsaw"}),
        9: (
            "import_bad_expiry",
            {"value": "31/12/2030", "target": "laser_cutter"},
        ),
        10: ("import_too_long", {"field": "name", "max": "100"}),
        11: ("import_invalid_field", {"field": "role"}),
        12: ("import_repeated_authorization", {"target": "Fumehood"}),
        13: ("unknown_member", {"member": "ghost"}),
        14: ("import_repeated_member", {"line": "2"}),
    }
    for line, (key, placeholders) in expected.items():
        row = rows[line]
        assert row["action"] == "reject", row
        reason = row["reason"]
        assert reason["translation_domain"] == DOMAIN
        assert (reason["translation_key"], reason["translation_placeholders"]) == (
            key,
            placeholders,
        ), row
        # The reason is translated: the English text from translations/en.json.
        message = str(EN[key]["message"]).format(**placeholders).rstrip(".")
        assert reason["message"] == message
    # A card is never shown in clear, even to the admin who sent it.
    assert "04ABCA01" not in json.dumps(report)
    assert "04ABCY01" not in json.dumps(report)


async def test_strict_import_with_one_bad_row_imports_nothing(
    hass: HomeAssistant, lab: AccessEngine, hass_admin_user: MockUser
) -> None:
    """Strict (the default): one rejected row, and no row is written."""
    before = lab_state(lab)
    text = HEADER + ",Carol,,user,true,04ABCA01,\n" + ",Dan,,user,true,,bandsaw\n"
    report = await call(
        hass, "import_members", {"csv_text": text}, hass_admin_user, response=True
    )
    await hass.async_block_till_done()
    assert report["applied"] is False
    assert report["summary"]["create"] == 1
    assert report["summary"]["reject"] == 1
    assert lab_state(lab) == before


async def test_lenient_import_writes_the_good_rows(
    hass: HomeAssistant, lab: AccessEngine, hass_admin_user: MockUser
) -> None:
    """Not strict: the good rows are written, the bad ones reported."""
    text = HEADER + ",Carol,,user,true,04ABCA01,\n" + ",Dan,,user,true,,bandsaw\n"
    report = await call(
        hass,
        "import_members",
        {"csv_text": text, "strict": False},
        hass_admin_user,
        response=True,
    )
    assert report["applied"] is True
    assert "carol" in lab.members.data
    assert "dan" not in lab.members.data


async def test_import_writes_through_the_admin_api_and_is_audited(
    hass: HomeAssistant,
    lab: AccessEngine,
    hass_admin_user: MockUser,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Members, cards and authorizations written, each audited under the door."""
    text = (
        HEADER
        + ",Carol,carol@lab.org,staff,true,04ABCA01;04ABCA02,laser_cutter@2031-06-30;fumehood\n"
        + "bob,Bob,bob@lab.org,,false,04ABB0B2,fumehood@2032-01-01\n"
        + f",Hana,,user,true,,device:{DEVICE_ID}\n"
    )
    report = await call(
        hass, "import_members", {"csv_text": text}, hass_admin_user, response=True
    )
    await hass.async_block_till_done()
    assert report["applied"] is True
    assert report["summary"] == {"create": 2, "update": 1, "unchanged": 0, "reject": 0}
    carol = lab.members.data["carol"]
    assert (carol["role"], carol["email"]) == ("staff", "carol@lab.org")
    assert Member.from_storage(carol).cards() == ["04ABCA01", "04ABCA02"]
    grants = {
        a["machine_type_id"]: a.get("expires")
        for a in lab.authorizations.of_member("carol")
    }
    # A date alone is the end of that day, in the lab's time zone.
    expiry = member_import._expiry("2031-06-30T23:59:59", "laser_cutter")
    assert expiry is not None
    assert grants["laser_cutter"] == expiry.isoformat()
    assert grants[MACHINE_TYPE] is None
    bob = lab.members.data["bob"]
    assert (bob["active"], bob["email"]) == (False, "bob@lab.org")
    assert Member.from_storage(bob).cards(active_only=False) == ["04ABB0B2"]
    (renewed,) = lab.authorizations.of_member("bob")
    renewal = member_import._expiry("2032-01-01", "fumehood")
    assert renewal is not None
    assert renewed["expires"] == renewal.isoformat()
    (device_grant,) = lab.authorizations.of_member("hana")
    assert device_grant["device_id"] == DEVICE_ID

    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": f"{DOMAIN}/panel/admin/audit", "kind": "admin"}
    )
    reply = await client.receive_json()
    entries = reply["result"]["audit"]
    ours = [e for e in entries if e["operation"] == f"{DOMAIN}.import_members"]
    assert {(e["target"], e["action"]) for e in ours} >= {
        ("member", "created"),
        ("member", "updated"),
        ("authorization", "created"),
        ("authorization", "updated"),
    }
    assert all(e["door"] == "service" for e in ours)
    assert all(e["actor_user_id"] == hass_admin_user.id for e in ours)
    assert "04ABCA01" not in json.dumps(entries)


async def test_export_then_import_is_no_change(
    hass: HomeAssistant, lab: AccessEngine, hass_admin_user: MockUser
) -> None:
    """The round trip: an export read back by a dry run changes nothing."""
    await lab.members.async_create_item(
        {"name": "=cmd|' /C calc'!A0", "email": "+1@lab.org", "cards": ["04ABC0DE"]}
    )
    # A second Ada, confirmed when she was added: the round trip keeps both.
    await admin.async_create_member(
        lab.members,
        admin.MemberCreate(fields={"name": "Ada"}, allow_same_name=True),
    )
    await lab.authorizations.async_create_item(
        {"member_id": "ada", "device_id": DEVICE_ID}
    )
    await lab.authorizations.async_create_item(
        {
            "member_id": "ada",
            "machine_type_id": "laser_cutter",
            "window_start": "08:00",
            "window_end": "18:00",
        }
    )
    exported = await call(hass, "export_members", {}, hass_admin_user, response=True)
    text = exported["csv_text"]
    assert exported["members"] == 5
    assert text.splitlines()[0] == HEADER.strip()
    # No cell a spreadsheet would run: the formula is shown as text.
    for line in text.splitlines()[1:]:
        for cell in line.split(","):
            assert not cell.startswith(member_import.FORMULA_START), line
    assert "'=cmd|" in text
    assert "'+1@lab.org" in text
    before = lab_state(lab)
    report = await call(
        hass,
        "import_members",
        {"csv_text": text, "dry_run": True},
        hass_admin_user,
        response=True,
    )
    assert report["summary"] == {"create": 0, "update": 0, "unchanged": 5, "reject": 0}
    # And applied: still nothing written.
    report = await call(
        hass, "import_members", {"csv_text": text}, hass_admin_user, response=True
    )
    assert report["applied"] is False
    assert lab_state(lab) == before


async def test_too_large_a_file_is_refused_before_parsing(
    hass: HomeAssistant,
    lab: AccessEngine,
    hass_admin_user: MockUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Over the cap: refused with a translated error, the CSV reader never runs."""

    def _no_parse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("parsed a file over the cap")

    monkeypatch.setattr(member_import.csv, "reader", _no_parse)
    text = HEADER + ",x,,,,,\n" * (member_import.MAX_IMPORT_BYTES // 8)
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass, "import_members", {"csv_text": text, "dry_run": True}, hass_admin_user
        )
    assert err.value.translation_key == "import_too_large"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "import_empty"),
        ("name,shoe_size\nAda,42\n", "import_unknown_column"),
        ("email\nada@lab.org\n", "import_missing_column"),
        ("name,name\nAda,Ada\n", "import_repeated_column"),
        (
            "name\n" + "x\n" * (member_import.MAX_IMPORT_ROWS + 1),
            "import_too_many_rows",
        ),
    ],
)
async def test_a_file_that_is_not_an_import_is_refused(
    hass: HomeAssistant,
    lab: AccessEngine,
    hass_admin_user: MockUser,
    text: str,
    key: str,
) -> None:
    """The file as a whole: a translated error, nothing planned."""
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass, "import_members", {"csv_text": text, "dry_run": True}, hass_admin_user
        )
    assert err.value.translation_key == key


async def test_a_write_failing_midway_is_undone(
    hass: HomeAssistant,
    lab: AccessEngine,
    hass_admin_user: MockUser,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The third write fails: the member created and the member changed go back."""
    before = lab_state(lab)
    grants = 0
    real_grant = admin.async_grant

    async def _failing_grant(*args: Any, **kwargs: Any) -> Any:
        nonlocal grants
        grants += 1
        if grants == 2:
            raise OSError("disk full")
        return await real_grant(*args, **kwargs)

    monkeypatch.setattr(admin, "async_grant", _failing_grant)
    text = (
        HEADER
        + ",Carol,,user,true,04ABCA01,laser_cutter\n"
        + "bob,Bob,bob@lab.org,staff,,04ABB0B2,fumehood@2033-01-01\n"
    )
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "import_members", {"csv_text": text}, hass_admin_user)
    await hass.async_block_till_done()
    assert err.value.translation_key == "import_rolled_back"
    assert err.value.translation_placeholders == {"line": "3", "error": "OSError"}
    assert grants == 2
    members, authorizations = lab_state(lab)
    assert members.keys() == before[0].keys()
    for member_id, member in before[0].items():
        now = members[member_id]
        for key in ("name", "email", "role", "active"):
            assert now.get(key) == member.get(key), (member_id, key)
        assert now["credentials"] == member["credentials"]
    assert authorizations.keys() == before[1].keys()
    assert (
        authorizations["bob_fumehood"]["expires"]
        == (before[1]["bob_fumehood"]["expires"])
    )
    # Card uids are personal data: never in our log, nor in the error.
    ours = [r for r in caplog.records if r.name.startswith("custom_components")]
    assert any("Member import undone" in r.getMessage() for r in ours)
    for record in ours:
        assert "04ABCA01" not in record.getMessage()
        assert "04ABB0B2" not in record.getMessage()
    assert "04ABCA01" not in str(err.value)


async def test_a_lab_member_may_not_import_or_export(
    hass: HomeAssistant,
    lab: AccessEngine,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_user: MockUser,
    hass_read_only_access_token: str,
) -> None:
    """Not a lab admin: refused at every door, nothing written."""
    await lab.members.async_update_item("bob", {"user_id": hass_read_only_user.id})
    before = lab_state(lab)
    text = HEADER + ",Mallory,,admin,true,,\n"
    for service, data in (
        ("import_members", {"csv_text": text}),
        ("export_members", {}),
    ):
        with pytest.raises(Unauthorized):
            await call(
                hass,
                service,
                data,
                hass_read_only_user,
                response=service != "import_members",
            )
    client = await hass_ws_client(hass, hass_read_only_access_token)
    for command, data in (
        ("members/import", {"csv_text": text}),
        ("members/export", {}),
        ("panel/admin/member_from_card", {"card": "5EED01", "name": "Mallory"}),
    ):
        await client.send_json_auto_id({"type": f"{DOMAIN}/{command}", **data})
        reply = await client.receive_json()
        assert not reply["success"], command
        assert reply["error"]["code"] == "unauthorized", command
    await hass.async_block_till_done()
    assert lab_state(lab) == before


async def test_the_websocket_doors(
    hass: HomeAssistant,
    lab: AccessEngine,
    hass_admin_user: MockUser,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """The panel's commands answer what the services answer."""
    client = await hass_ws_client(hass)
    text = (
        HEADER
        + ",Carol,,user,true,04ABCA01,,,\n,,,,,,\n,Dan,,user,true,,bandsaw\n"
        + ",Eve,,user,true,,,surplus\n"
    )
    await client.send_json_auto_id(
        {"type": f"{DOMAIN}/members/import", "csv_text": text, "dry_run": True}
    )
    reply = await client.receive_json()
    assert reply["success"], reply
    service = await call(
        hass,
        "import_members",
        {"csv_text": text, "dry_run": True},
        hass_admin_user,
        response=True,
    )
    assert reply["result"] == service
    # Empty cells past the header are no matter (a spreadsheet's); a value is.
    actions = {row["name"]: row["action"] for row in service["rows"]}
    assert actions == {"Carol": "create", "Dan": "reject", "Eve": "reject"}
    assert service["rows"][-1]["reason"]["translation_key"] == "import_extra_cells"
    await client.send_json_auto_id({"type": f"{DOMAIN}/members/export"})
    reply = await client.receive_json()
    exported = await call(hass, "export_members", {}, hass_admin_user, response=True)
    assert reply["result"] == exported


async def test_an_unknown_card_becomes_a_new_member(
    hass: HomeAssistant,
    lab: AccessEngine,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Swiped, unknown, turned into a member from the list (by its pseudonym)."""
    lab.history.add_unknown_card("5EED01", DEVICE_ID, time.time())
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": f"{DOMAIN}/panel/admin/member_from_card",
            "card": lab.privacy.card("5EED01"),
            "name": "Newcomer",
            "email": "new@lab.org",
        }
    )
    reply = await client.receive_json()
    assert reply["success"], reply
    assert reply["result"] == {"member_id": "newcomer"}
    await hass.async_block_till_done()
    member = lab.members.data["newcomer"]
    assert Member.from_storage(member).cards() == ["5EED01"]
    assert (member["role"], member["email"]) == ("user", "new@lab.org")
    assert lab.history.data["unknown_cards"] == {}
    # A name someone has already is refused unless confirmed, as for every door.
    lab.history.add_unknown_card("5EED02", DEVICE_ID, time.time())
    await client.send_json_auto_id(
        {
            "type": f"{DOMAIN}/panel/admin/member_from_card",
            "card": "5EED02",
            "name": "Ada",
        }
    )
    reply = await client.receive_json()
    assert not reply["success"]
    assert reply["error"]["translation_key"] == "member_name_taken"


async def test_devices_get_one_credential_set_per_import(
    hass: HomeAssistant,
    lab: AccessEngine,
    hass_admin_user: MockUser,
    mqtt_mock: MqttMockHAClient,
    device_keys: KeyPair,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Syncs are held over the writes: one set after an import, none if undone."""
    await hass.async_block_till_done()
    mqtt_mock.async_publish.reset_mock()
    text = "".join(
        f",Member {i},,user,true,04AB{i:04d},{MACHINE_TYPE}\n" for i in range(5)
    )
    await call(hass, "import_members", {"csv_text": HEADER + text}, hass_admin_user)
    await hass.async_block_till_done()
    (sent,) = await credential_sets(hass, mqtt_mock, device_keys)
    imported = {m["id"] for m in sent["members"]} & {f"member_{i}" for i in range(5)}
    assert len(imported) == 5

    mqtt_mock.async_publish.reset_mock()
    real_grant = admin.async_grant
    grants = 0

    async def _failing_grant(*args: Any, **kwargs: Any) -> Any:
        nonlocal grants
        grants += 1
        if grants == 3:
            raise OSError("disk full")
        return await real_grant(*args, **kwargs)

    monkeypatch.setattr(admin, "async_grant", _failing_grant)
    text = "".join(
        f",Other {i},,user,true,04AC{i:04d},{MACHINE_TYPE}\n" for i in range(5)
    )
    with pytest.raises(ServiceValidationError):
        await call(hass, "import_members", {"csv_text": HEADER + text}, hass_admin_user)
    await hass.async_block_till_done()
    # Undone before any device heard of it: the devices' sets did not change.
    assert await credential_sets(hass, mqtt_mock, device_keys) == []


@pytest.mark.parametrize(
    ("strict", "key", "written"),
    [(True, "import_rejected", False), (False, "import_partly_rejected", True)],
)
async def test_an_import_without_a_report_says_what_was_refused(
    hass: HomeAssistant,
    lab: AccessEngine,
    hass_admin_user: MockUser,
    strict: bool,
    key: str,
    written: bool,
) -> None:
    """Called from an automation with no response: rejected rows are an error."""
    text = HEADER + ",Carol,,user,true,,\n" + ",,,user,true,,\n"
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "import_members",
            {"csv_text": text, "strict": strict},
            hass_admin_user,
        )
    assert err.value.translation_key == key
    assert err.value.translation_placeholders == {"rejected": "1", "line": "3"}
    assert ("carol" in lab.members.data) is written


async def test_two_imports_at_once_take_turns(
    hass: HomeAssistant, lab: AccessEngine, hass_admin_user: MockUser
) -> None:
    """The second plans against what the first wrote: no clash, no double member."""
    text = HEADER + ",Carol,,user,true,04ABCA01,laser_cutter\n"
    first, second = await asyncio.gather(
        *(
            call(
                hass,
                "import_members",
                {"csv_text": text},
                hass_admin_user,
                response=True,
            )
            for _ in range(2)
        )
    )
    assert first["summary"]["create"] == 1
    assert second["summary"] == {"create": 0, "update": 0, "unchanged": 1, "reject": 0}
    assert [m["name"] for m in lab.members.data.values()].count("Carol") == 1


async def test_a_name_one_row_gives_is_taken_for_the_rows_after_it(
    hass: HomeAssistant, lab: AccessEngine, hass_admin_user: MockUser
) -> None:
    """Bob renamed Robert: a new Robert, or Cy renamed Robert, is refused."""
    text = (
        HEADER
        + "bob,Robert,,,,,\n"
        + ",robert,,user,true,,\n"
        + "cy,Robert,,,,,\n"
        + ",Dora,,user,true,,\n"
    )
    report = await call(
        hass,
        "import_members",
        {"csv_text": text, "dry_run": True},
        hass_admin_user,
        response=True,
    )
    rows = rows_by_line(report)
    assert rows[2]["action"] == "update"
    for line in (3, 4):
        assert rows[line]["reason"]["translation_key"] == "import_repeated_member"
        assert rows[line]["reason"]["translation_placeholders"] == {"line": "2"}
    assert rows[5]["action"] == "create"


async def test_a_card_moves_when_its_row_comes_first(
    hass: HomeAssistant, lab: AccessEngine, hass_admin_user: MockUser
) -> None:
    """A card taken from Cy in one row is Dora's in a later one; not the other way."""
    moved = HEADER + "cy,Cy,,,,,\n" + ",Dora,,user,true,04ABCY01,\n"
    report = await call(
        hass, "import_members", {"csv_text": moved}, hass_admin_user, response=True
    )
    assert report["applied"] is True
    assert Member.from_storage(lab.members.data["dora"]).cards() == ["04ABCY01"]
    assert Member.from_storage(lab.members.data["cy"]).cards(active_only=False) == []
    # Given before it is taken: refused, as the store would refuse it.
    late = HEADER + ",Eli,,user,true,04ABB0B1,\n" + "bob,Bob,,,,,\n"
    report = await call(
        hass,
        "import_members",
        {"csv_text": late, "dry_run": True},
        hass_admin_user,
        response=True,
    )
    assert rows_by_line(report)[2]["reason"]["translation_key"] == "card_in_use"
