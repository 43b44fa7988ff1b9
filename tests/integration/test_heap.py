"""The start's heap is frozen once for the cycle collector, after Home Assistant started."""

from __future__ import annotations

from collections.abc import Iterator
import gc

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import CoreState, HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.fluxilab.heap import FREEZE_DELAY, async_freeze_startup_heap


@pytest.fixture(autouse=True)
def thawed() -> Iterator[None]:
    """A process that has frozen nothing yet, as Home Assistant's own starts.

    The test plugin freezes the heap for each test module (its
    ``garbage_collection`` fixture); it is frozen again afterwards, as it was.
    """
    gc.unfreeze()
    yield
    gc.freeze()


async def test_frozen_once_a_minute_after_the_start(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    hass.set_state(CoreState.not_running)
    async_freeze_startup_heap(hass)
    freezer.tick(2 * FREEZE_DELAY)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert gc.get_freeze_count() == 0, "frozen before Home Assistant started"

    await hass.async_start()
    await hass.async_block_till_done()
    freezer.tick(FREEZE_DELAY / 2)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert gc.get_freeze_count() == 0, "frozen before the start settled"

    freezer.tick(FREEZE_DELAY)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    frozen = gc.get_freeze_count()
    assert frozen > 10_000, "the start's objects were not frozen"
    assert "Froze" in caplog.text

    # Once per process: objects made since stay with the collector.
    made_since = [[] for _ in range(1_000)]
    async_freeze_startup_heap(hass)
    freezer.tick(2 * FREEZE_DELAY)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert gc.get_freeze_count() <= frozen, "frozen again: cycles made since kept"
    assert all(gc.is_tracked(item) for item in made_since)


async def test_left_alone_when_something_else_froze(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    gc.freeze()
    before = gc.get_freeze_count()
    async_freeze_startup_heap(hass)
    freezer.tick(2 * FREEZE_DELAY)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert gc.get_freeze_count() <= before
    assert "Froze" not in caplog.text


async def test_no_timer_left_when_home_assistant_stops_first(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    async_freeze_startup_heap(hass)
    await hass.async_stop()
    freezer.tick(2 * FREEZE_DELAY)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert gc.get_freeze_count() == 0
