"""Short pauses of Python's cycle collector: the heap Home Assistant started with, frozen.

CPython (3.14.5 on, and before 3.14) collects cycles by generations. A full
(generation 2) collection walks every object the collector tracks while every
thread waits for it. In a lab's Home Assistant (60 devices, 200 members, the
recorder and the dashboard) that is about 480,000 objects and 140-450 ms per pass,
every minute or two: card checks, telemetry and the UI all wait for it. On a quiet
machine the event loop's longest stalls were these passes
(docs/PERFORMANCE.md, "Issue 15: fourth pass (the cycle collector)").

Almost all of that heap is what Home Assistant built while starting (modules,
registries, integrations, the lab's devices and members) and lives as long as the
process. Once Home Assistant has started and the start's own garbage is collected,
``gc.freeze()`` moves those objects to the collector's permanent generation: later
collections still run, as often as before, over what was allocated since. Objects
are still freed by reference counting as always; only cycles among the frozen
objects that become garbage later are no longer reclaimed, which for the objects
of a start (built once, kept for the process's life) is little.

Done once per process, after the start and never again (freezing again would keep
every cycle made since). Skipped when something else has frozen objects already.
"""

from __future__ import annotations

from datetime import timedelta
import gc
import time

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.start import async_at_started
from homeassistant.util.hass_dict import HassKey

from .const import LOGGER

FREEZE_DELAY = timedelta(minutes=1)
"""After Home Assistant has started: discovery and the first updates settle first."""

_SCHEDULED: HassKey[bool] = HassKey("fluxilab_heap_freeze")


@callback
def async_freeze_startup_heap(hass: HomeAssistant) -> None:
    """Freeze the start's heap once, ``FREEZE_DELAY`` after Home Assistant started."""
    if hass.data.get(_SCHEDULED):
        return
    hass.data[_SCHEDULED] = True

    @callback
    def _freeze(_now: object) -> None:
        if frozen := gc.get_freeze_count():
            LOGGER.debug("Startup heap not frozen: %s objects already are", frozen)
            return
        began = time.perf_counter()
        collected = gc.collect()
        gc.freeze()
        LOGGER.info(
            "Froze %s objects of Home Assistant's start for the cycle collector "
            "(%s unreachable collected first, %.0f ms): its full passes now walk "
            "only what was made since",
            gc.get_freeze_count(),
            collected,
            1000 * (time.perf_counter() - began),
        )

    @callback
    def _started(_hass: HomeAssistant) -> None:
        cancel: CALLBACK_TYPE = async_call_later(hass, FREEZE_DELAY, _freeze)

        @callback
        def _stopping(_event: Event) -> None:
            cancel()

        hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, _stopping)

    async_at_started(hass, _started)
