"""Typed lab settings: stored byte for byte as before, unknown keys kept, no phones in a repr."""

from __future__ import annotations

from dataclasses import replace

from homeassistant.helpers.json import json_bytes

from custom_components.fluxilab.access.admin_audit import SETTINGS_MASKED, Diff
from custom_components.fluxilab.access.history import (
    _empty,
    _encode_field,
    _read_field,
)
from custom_components.fluxilab.access.settings_models import KNOWN_KEYS, LabSettings

DEFAULTS = {
    "usage_retention_days": 365,
    "unknown_card_retention_days": 30,
    "session_check_interval": 60,
    "admin_notify_services": [],
    "lapse_notice_days": 14,
    "interest_expiry_hours": 8,
    "checkin_expiry_hours": 12,
    "show_member_names": False,
}
"""The settings document the history stored for a new lab, in its stored order."""

STORED = {
    "session_check_interval": 45,
    "admin_notify_services": ["notify.mobile_app_ada"],
    "usage_retention_days": 400,
    "show_member_names": True,
    "a_newer_setting": {"kept": [1, 2]},
}


def test_a_new_lab_stores_the_defaults_as_before() -> None:
    assert json_bytes(LabSettings().as_dict()) == json_bytes(DEFAULTS)
    assert LabSettings.from_storage({}) == LabSettings()
    assert set(DEFAULTS) == KNOWN_KEYS


def test_missing_keys_read_as_defaults_and_unknown_ones_are_kept() -> None:
    settings = LabSettings.from_storage(STORED)
    assert settings.session_check_interval == 45
    assert settings.admin_notify_services == ("notify.mobile_app_ada",)
    assert settings.lapse_notice_days == 14
    assert settings.extra == {"a_newer_setting": {"kept": [1, 2]}}
    # Byte for byte what the history wrote when it merged a stored document
    # over the defaults (the defaults' order first, then the keys it lacked).
    assert json_bytes(settings.as_dict()) == json_bytes({**DEFAULTS, **STORED})
    assert LabSettings.from_storage(settings.as_dict()) == settings


def test_the_history_field_goes_through_the_model() -> None:
    data = _empty()
    _read_field(data, "settings", STORED)
    assert isinstance(data["settings"], LabSettings)
    assert _encode_field(data, "settings") == json_bytes({**DEFAULTS, **STORED})


def test_a_change_is_a_new_value_the_audit_diffs_as_before() -> None:
    before = LabSettings.from_storage(STORED)
    after = replace(before, lapse_notice_days=30, admin_notify_services=())
    assert before.lapse_notice_days == 14  # unchanged: frozen
    diff = Diff.from_dict(before.as_dict(), after.as_dict(), masked=SETTINGS_MASKED)
    assert diff.as_dict() == {
        "lapse_notice_days": {"before": 14, "after": 30},
        "admin_notify_services": {"masked": True},
    }


def test_no_phone_in_a_repr() -> None:
    shown = repr(LabSettings.from_storage(STORED))
    assert "mobile_app_ada" not in shown
    assert "a_newer_setting" not in shown
    assert "session_check_interval=45" in shown
