"""The automation blueprints in docs/blueprints: valid, and they do what they say."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from homeassistant.components.automation.config import AUTOMATION_BLUEPRINT_SCHEMA
from homeassistant.components.blueprint.models import Blueprint, BlueprintInputs
from homeassistant.core import HomeAssistant, ServiceCall, SupportsResponse
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from homeassistant.util.yaml import load_yaml_dict
import pytest
from pytest_homeassistant_custom_component.common import (
    async_fire_time_changed,
    async_mock_service,
)

BLUEPRINTS = Path(__file__).parents[2] / "docs" / "blueprints"
NOTIFY = [
    {
        "action": "notify.test",
        "data": {"message": "{{ device_name | default(trigger.platform) }}"},
    }
]


def automation(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """Validate a blueprint and return the automation it makes with ``inputs``."""
    blueprint = Blueprint(
        load_yaml_dict(str(BLUEPRINTS / name)),
        path=name,
        expected_domain="automation",
        schema=AUTOMATION_BLUEPRINT_SCHEMA,
    )
    use = BlueprintInputs(blueprint, {"use_blueprint": {"path": name, "input": inputs}})
    use.validate()
    config: dict[str, Any] = use.async_substitute()
    config.pop("blueprint", None)
    return {"id": name, "alias": name, **config}


async def setup(hass: HomeAssistant, config: dict[str, Any]) -> None:
    """Load one automation."""
    assert await async_setup_component(hass, "automation", {"automation": [config]})
    await hass.async_block_till_done()


def later(hass: HomeAssistant, seconds: float) -> None:
    """Move time forward so that `for:` timers fire."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))


def test_every_blueprint_is_listed() -> None:
    assert sorted(p.name for p in BLUEPRINTS.glob("*.yaml")) == [
        "denied_card_alert.yaml",
        "device_offline_alert.yaml",
        "fumehood_airflow_alarm.yaml",
        "maintenance_due_notification.yaml",
        "occupancy_fire_list.yaml",
    ]


@pytest.mark.parametrize("unblock", [True, False])
async def test_airflow_alarm_blocks_notifies_and_unblocks(
    hass: HomeAssistant, unblock: bool
) -> None:
    notify = async_mock_service(hass, "notify", "test")
    block = async_mock_service(hass, "fluxilab", "block_device")
    unblock_calls = async_mock_service(hass, "fluxilab", "unblock_device")
    hass.states.async_set("sensor.hood_face_velocity", "0.55")
    await setup(
        hass,
        automation(
            "fumehood_airflow_alarm.yaml",
            {
                "face_velocity": "sensor.hood_face_velocity",
                "hood": "hood-device-id",
                "threshold": 0.4,
                "duration": {"seconds": 30},
                "unblock": unblock,
                "notify": NOTIFY,
            },
        ),
    )
    hass.states.async_set("sensor.hood_face_velocity", "0.2")
    later(hass, 10)
    await hass.async_block_till_done()
    assert block == []  # not yet: the airflow must stay low for 30 s
    later(hass, 31)
    await hass.async_block_till_done()
    assert [c.data for c in block] == [{"device_id": "hood-device-id"}]
    assert len(notify) == 1

    hass.states.async_set("sensor.hood_face_velocity", "0.6")
    later(hass, 62)
    await hass.async_block_till_done()
    assert len(unblock_calls) == (1 if unblock else 0)
    assert len(notify) == 1


async def test_maintenance_due_notification(hass: HomeAssistant) -> None:
    notify = async_mock_service(hass, "notify", "test")
    await setup(
        hass, automation("maintenance_due_notification.yaml", {"notify": NOTIFY})
    )
    hass.bus.async_fire(
        "fluxilab_device",
        {"type": "online", "fluxilab_device": "hood-1", "device_id": None},
    )
    hass.bus.async_fire(
        "fluxilab_device",
        {"type": "maintenance_due", "fluxilab_device": "hood-1", "device_id": None},
    )
    await hass.async_block_till_done()
    assert [c.data["message"] for c in notify] == ["hood-1"]


async def test_denied_card_alert_filters_reasons(hass: HomeAssistant) -> None:
    notify = async_mock_service(hass, "notify", "test")
    await setup(
        hass,
        automation(
            "denied_card_alert.yaml",
            {
                "reasons": ["unknown_card"],
                "notify": [
                    {
                        "action": "notify.test",
                        "data": {
                            "message": "{{ card }} {{ reason }} {{ device_name }}"
                        },
                    }
                ],
            },
        ),
    )
    for event_type, reason in (
        ("denied", "not_authorized"),
        ("granted", "granted"),
        ("denied", "unknown_card"),
    ):
        hass.bus.async_fire(
            "fluxilab_access",
            {
                "type": event_type,
                "reason": reason,
                "card": "DEADBEEF",
                "fluxilab_device": "hood-1",
                "device_id": None,
                "member_name": None,
            },
        )
    await hass.async_block_till_done()
    messages: list[ServiceCall] = notify
    assert [c.data["message"] for c in messages] == ["DEADBEEF unknown_card hood-1"]


async def test_device_offline_alert_waits_for_grace(hass: HomeAssistant) -> None:
    notify = async_mock_service(hass, "notify", "test")
    for entity in (
        "binary_sensor.hood_connectivity",
        "binary_sensor.laser_connectivity",
    ):
        hass.states.async_set(entity, "on")
    await setup(
        hass,
        automation(
            "device_offline_alert.yaml",
            {
                "connectivity": [
                    "binary_sensor.hood_connectivity",
                    "binary_sensor.laser_connectivity",
                ],
                "grace": {"minutes": 5},
                "notify": NOTIFY,
            },
        ),
    )
    # A short drop is forgiven; a long one is reported.
    hass.states.async_set("binary_sensor.laser_connectivity", "off")
    later(hass, 60)
    hass.states.async_set("binary_sensor.laser_connectivity", "on")
    hass.states.async_set("binary_sensor.hood_connectivity", "off")
    later(hass, 301)
    await hass.async_block_till_done()
    assert [c.data["message"] for c in notify] == ["hood connectivity"]


async def test_fire_list_sends_who_is_in_the_lab(hass: HomeAssistant) -> None:
    """The alarm turning on sends the occupancy service's list (issue 9 item 6)."""
    notify = async_mock_service(hass, "notify", "test")
    occupancy = async_mock_service(
        hass,
        "fluxilab",
        "occupancy",
        response={
            "count": 2,
            "members": [
                {"name": "Ada", "where": ["entrance"], "since": "2026-03-02T08:05:00"},
                {
                    "name": "Bob",
                    "where": ["entrance", "Laser"],
                    "since": "2026-03-02T09:30:00",
                },
            ],
        },
        supports_response=SupportsResponse.ONLY,
    )
    hass.states.async_set("binary_sensor.fire_alarm", "off")
    await setup(
        hass,
        automation(
            "occupancy_fire_list.yaml",
            {
                "alarm": "binary_sensor.fire_alarm",
                "notify": [
                    {
                        "action": "notify.test",
                        "data": {"title": "{{ count }}", "message": "{{ people }}"},
                    }
                ],
            },
        ),
    )
    hass.states.async_set("binary_sensor.fire_alarm", "on")
    await hass.async_block_till_done()
    assert len(occupancy) == 1
    (sent,) = notify
    assert sent.data["title"] == 2
    lines = sent.data["message"].strip().splitlines()
    assert [line.split(" (since")[0] for line in lines] == [
        "Ada: entrance",
        "Bob: entrance, Laser",
    ]
