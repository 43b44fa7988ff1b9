"""Backlog telemetry for an hour the recorder already compiled from live states
(the device was online part of the hour) is merged into that row, not written over
it: the recorder's mean, min and max still count."""

from __future__ import annotations

from datetime import UTC, datetime
import time
from typing import Any

from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import async_import_statistics
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.fluxilab.protocol.security import KeyPair
from custom_components.fluxilab.protocol.topics import Channel

from .test_backfill import (  # noqa: F401  # the recorder-first fixture
    _hour_row,
    _records,
    auto_enable_custom_integrations,
)
from .test_device import FACE_VELOCITY, bring_online, send_sealed


async def test_backlog_merges_into_the_recorders_own_row(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
    mqtt_mock: MqttMockHAClient,
) -> None:
    await bring_online(hass, announce)
    hour = int(time.time() // 3600 * 3600) - 5 * 3600
    # What the recorder compiled for that hour from the live states it saw.
    async_import_statistics(
        hass,
        StatisticMetaData(
            mean_type=StatisticMeanType.ARITHMETIC,
            has_sum=False,
            name=None,
            source="recorder",
            statistic_id=FACE_VELOCITY,
            unit_class="speed",
            unit_of_measurement="m/s",
        ),
        [
            StatisticData(
                start=datetime.fromtimestamp(hour, UTC), mean=30.0, min=25.0, max=40.0
            )
        ],
    )
    await async_wait_recording_done(hass)
    row = await _hour_row(hass, hour)
    assert row is not None
    assert (row["mean"], row["min"], row["max"]) == pytest.approx((30.0, 25.0, 40.0))

    # Ten buffered samples of 1..10 for the same hour arrive with the backlog.
    records = _records(hour, 1, [float(v) for v in range(1, 11)])
    await send_sealed(hass, device_keys, Channel.BACKLOG, {"records": records})
    row = await _hour_row(hass, hour)
    assert row is not None
    # The recorder's row weighs as one sample (the hub saw no live one that hour).
    assert row["mean"] == pytest.approx((30.0 + 55.0) / 11)
    assert (row["min"], row["max"]) == pytest.approx((1.0, 40.0))
