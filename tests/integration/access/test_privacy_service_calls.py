"""A FluxiLab service call reaches the recorder without secrets, names or card uids.

Home Assistant fires ``call_service`` with every call's data, and the recorder keeps
it in its events table. FluxiLab rewrites its own calls' data before the recorder
sees it (``privacy.service_call_data``), and a member's erasure forgets even the
pseudonyms left there.
"""

from __future__ import annotations

import json
from typing import Any

from homeassistant.components.recorder import Recorder, get_instance
from homeassistant.components.recorder.db_schema import EventData, Events, EventTypes
from homeassistant.components.recorder.util import session_scope
from homeassistant.const import EVENT_CALL_SERVICE
from homeassistant.core import Event, HomeAssistant, callback
import pytest
from pytest_homeassistant_custom_component.common import MockUser
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from sqlalchemy import select

from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.access.privacy import (
    REDACTED,
    SERVICE_CARD_FIELDS,
    SERVICE_MEMBER_FIELDS,
    SERVICE_PERSONAL_FIELDS,
    SERVICE_PLAIN_FIELDS,
    SERVICE_SECRET_FIELDS,
)
from custom_components.fluxilab.const import DOMAIN

from .conftest import call

NAME = "Ada Lovelace"
EMAIL = "ada@example.org"
PIN = "s3cret!9"
CARD = "04aabbcc"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """Start the recorder before Home Assistant (the conftest one starts HA first)."""


async def recorded_calls(hass: HomeAssistant) -> list[dict[str, Any]]:
    """The data of every recorded ``call_service`` event of FluxiLab's."""
    await async_wait_recording_done(hass)

    def _read() -> list[str]:
        with session_scope(hass=hass, read_only=True) as session:
            return [
                str(text)
                for text in session.execute(
                    select(EventData.shared_data)
                    .join(Events, Events.data_id == EventData.data_id)
                    .join(EventTypes, EventTypes.event_type_id == Events.event_type_id)
                    .where(EventTypes.event_type == EVENT_CALL_SERVICE)
                ).scalars()
            ]

    rows = [
        json.loads(text)
        for text in await get_instance(hass).async_add_executor_job(_read)
    ]
    return [row for row in rows if row.get("domain") == DOMAIN]


async def test_a_new_members_secrets_and_names_are_not_recorded(
    hass: HomeAssistant, engine: AccessEngine, hass_admin_user: MockUser
) -> None:
    seen: list[dict[str, Any]] = []

    @callback
    def _seen(event: Event[Any]) -> None:
        if event.data["domain"] == DOMAIN:
            seen.append(dict(event.data))

    hass.bus.async_listen(EVENT_CALL_SERVICE, _seen)
    result = await call(
        hass,
        "add_member",
        {"name": NAME, "email": EMAIL, "pin": PIN, "cards": [CARD]},
        hass_admin_user,
        response=True,
    )
    member_id = result["member_id"]
    # The handler had the data as given.
    member = engine.members.data[member_id]
    assert (member["name"], member["email"]) == (NAME, EMAIL)
    await call(hass, "add_card", {"member_id": member_id, "card": "04ddeeff"})

    rows = await recorded_calls(hass)
    assert [row["service"] for row in rows] == ["add_member", "add_card"]
    text = json.dumps(rows)
    for secret in (NAME, EMAIL, PIN, CARD, "04ddeeff", member_id):
        assert secret not in text, secret
    added, card_added = (row["service_data"] for row in rows)
    assert added == {
        "name": REDACTED,
        "email": REDACTED,
        "pin": REDACTED,
        "cards": [engine.privacy.card(CARD)],
    }
    assert card_added == {
        "member_id": engine.privacy.member(member_id),
        "card": engine.privacy.card("04ddeeff"),
    }
    # Other listeners see what the recorder keeps, never the data in clear.
    assert [event["service_data"] for event in seen] == [added, card_added]


async def test_a_card_given_as_its_pseudonym_stays_one(
    hass: HomeAssistant, engine: AccessEngine
) -> None:
    member = await engine.members.async_create_item({"name": NAME, "cards": [CARD]})
    pseudonym = engine.privacy.card(CARD)
    assert engine.privacy.service_call_data(
        {"card": pseudonym, "cards": [CARD, pseudonym], "member_id": member["id"]}
    ) == {
        "card": pseudonym,
        "cards": [pseudonym, pseudonym],
        "member_id": engine.privacy.member(member["id"]),
    }
    # A field nobody classified is redacted, not recorded as given.
    assert engine.privacy.service_call_data({"surname": "Byron", "role": "staff"}) == {
        "surname": REDACTED,
        "role": "staff",
    }
    assert engine.privacy.service_call_data({"card": 4711}) == {"card": REDACTED}


async def test_every_service_field_is_classified(
    hass: HomeAssistant, engine: AccessEngine
) -> None:
    """A new service field must be put in one of the sets: never recorded by chance.

    (The default redacts it; this test makes the choice explicit.)
    """
    classified = (
        SERVICE_PLAIN_FIELDS
        | SERVICE_CARD_FIELDS
        | SERVICE_MEMBER_FIELDS
        | SERVICE_SECRET_FIELDS
        | SERVICE_PERSONAL_FIELDS
    )
    sets = (
        SERVICE_PLAIN_FIELDS,
        SERVICE_CARD_FIELDS,
        SERVICE_MEMBER_FIELDS,
        SERVICE_SECRET_FIELDS,
        SERVICE_PERSONAL_FIELDS,
    )
    assert sum(map(len, sets)) == len(classified), "a field in two sets"
    fields: dict[str, str] = {}
    for name, service in hass.services.async_services_for_domain(DOMAIN).items():
        schema = service.schema
        assert schema is not None, name
        for marker in schema.schema:
            fields.setdefault(str(marker), name)
    assert len(fields) > 30
    assert {f: s for f, s in fields.items() if f not in classified} == {}


async def test_a_members_erasure_forgets_their_recorded_calls(
    hass: HomeAssistant, engine: AccessEngine, hass_admin_user: MockUser
) -> None:
    member = await engine.members.async_create_item({"name": NAME, "cards": [CARD]})
    other = await engine.members.async_create_item({"name": "Grace Hopper"})
    await call(hass, "set_member_role", {"member_id": member["id"], "role": "staff"})
    await call(hass, "set_member_role", {"member_id": other["id"], "role": "staff"})
    pseudonyms = (engine.privacy.member(member["id"]), engine.privacy.card(CARD))
    assert pseudonyms[0] in json.dumps(await recorded_calls(hass))

    await engine.members.async_delete_item(member["id"])
    await hass.async_block_till_done()
    rows = await recorded_calls(hass)
    text = json.dumps(rows)
    assert all(p not in text for p in pseudonyms)
    # The other member's call is left as it was.
    assert engine.privacy.member(other["id"]) in text
    assert [row["service_data"]["member_id"] for row in rows] == [
        None,
        engine.privacy.member(other["id"]),
    ]
