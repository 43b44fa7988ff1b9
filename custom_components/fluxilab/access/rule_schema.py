"""The schema of a machine type's telemetry rules (telemetry_rules.py runs them).

Kept apart from the rules' runtime so that store.py, which validates machine
types, needs nothing of the engine's features.
"""

from __future__ import annotations

from typing import Any, Final, Literal, TypedDict

from homeassistant.helpers import config_validation as cv
import probatio as vol

MIN_CONDITION_HOURS: Final = 0.001
"""Smallest ``hours`` of a channel_hours rule (3.6 s: lets tests run in seconds)."""

CHANNEL_HOURS: Final = "channel_hours"
BELOW_BASELINE: Final = "below_baseline"


class StoredChannelHours(TypedDict):
    """A ``channel_hours`` condition as the machine type stores it."""

    kind: Literal["channel_hours"]
    channel: str
    above: float
    hours: float


class StoredBelowBaseline(TypedDict):
    """A ``below_baseline`` condition as the machine type stores it."""

    kind: Literal["below_baseline"]
    channel: str
    baseline: float
    days: int


CHANNEL = vol.All(cv.string, vol.Strip, vol.Length(min=1, max=32))
CHANNEL_HOURS_RULE = vol.Schema(
    {
        vol.Required("kind"): CHANNEL_HOURS,
        vol.Required("channel"): CHANNEL,
        vol.Optional("above", default=0.5): vol.Coerce(float),
        vol.Required("hours"): vol.All(
            vol.Coerce(float), vol.Range(min=MIN_CONDITION_HOURS, max=1_000_000)
        ),
    }
)
BELOW_BASELINE_RULE = vol.Schema(
    {
        vol.Required("kind"): BELOW_BASELINE,
        vol.Required("channel"): CHANNEL,
        vol.Required("baseline"): vol.Coerce(float),
        vol.Required("days"): vol.All(vol.Coerce(int), vol.Range(min=1, max=365)),
    }
)


def _condition(value: Any) -> StoredChannelHours | StoredBelowBaseline:
    """Validate one maintenance condition by its kind."""
    if not isinstance(value, dict):
        raise vol.Invalid("a maintenance condition must be a mapping")
    kind = value.get("kind")
    checked: StoredChannelHours | StoredBelowBaseline
    if kind == CHANNEL_HOURS:
        checked = CHANNEL_HOURS_RULE(value)
    elif kind == BELOW_BASELINE:
        checked = BELOW_BASELINE_RULE(value)
    else:
        raise vol.Invalid(
            f"kind must be {CHANNEL_HOURS} or {BELOW_BASELINE}", path=["kind"]
        )
    return checked


MACHINE_TYPE_RULE_FIELDS: dict[Any, Any] = {
    vol.Optional("busy_channel"): vol.Any(None, CHANNEL),
    vol.Optional("busy_above"): vol.Coerce(float),
    vol.Optional("busy_delay"): vol.All(vol.Coerce(float), vol.Range(min=0, max=86400)),
    vol.Optional("maintenance_conditions"): vol.All(
        cv.ensure_list, [_condition], vol.Length(max=10)
    ),
}
"""Machine-type fields of the telemetry rules (store.py merges them into its schema)."""
