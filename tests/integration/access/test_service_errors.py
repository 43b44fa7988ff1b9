"""Every refusal of bad service data: a translated error, nothing changed.

Complements test_services.py's test_bad_data_changes_nothing with the refusals
that need a member, a device or a session in place first.
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest

from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.const import DOMAIN
from custom_components.fluxilab.device.runtime import FluxiLabDevice

from .conftest import call

DEVICE = "<the fumehood>"  # replaced by its Home Assistant device id


@pytest.mark.parametrize(
    ("service", "data", "key"),
    [
        ("remove_card", {"card": "NEVER-SEEN"}, "unknown_card"),
        # Nobody swiped an unknown card at the fumehood.
        ("assign_last_unknown_card", {"device_id": DEVICE, "member_id": "ada"},
         "no_unknown_card"),
        ("add_credential",
         {"member_id": "ada", "credential_type": "card", "card": "C9", "pin": "123456"},
         "credential_wrong_secret"),
        ("add_credential",
         {"member_id": "ada", "credential_type": "pin", "card": "C9"},
         "credential_wrong_secret"),
        ("revoke_authorization", {"authorization_id": "nope"}, "unknown_authorization"),
        ("renew_authorization", {"authorization_id": "nope"}, "unknown_authorization"),
        ("export_usage",
         {"device_id": DEVICE, "start": "2026-02-01T00:00:00+00:00",
          "end": "2026-01-01T00:00:00+00:00"},
         "invalid_period"),
        ("grant_authorization", {"member_id": "ada", "device_id": "not-a-device"},
         "unknown_device"),
    ],
)  # fmt: skip
async def test_refused_and_nothing_changed(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    ha_device_id: str,
    service: str,
    data: dict[str, Any],
    key: str,
) -> None:
    await engine.members.async_create_item({"name": "Ada", "cards": ["C1"]})
    data = {k: ha_device_id if v == DEVICE else v for k, v in data.items()}
    members = {k: dict(v) for k, v in engine.members.data.items()}
    authorizations = dict(engine.authorizations.data)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, service, data, response=service == "export_usage")
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == key
    assert {k: dict(v) for k, v in engine.members.data.items()} == members
    assert dict(engine.authorizations.data) == authorizations
