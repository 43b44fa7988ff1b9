"""Repair issues of a FluxiLab device: pairing key, new UI address, maintenance due.

When an adopted device announces a key other than the one the admin confirmed (or a
device added by id announces its first key), the device runtime stops trusting it and
calls :func:`async_create_key_changed_issue`. The fix flow shows the confirmed and the
announced pairing fingerprints; only the admin's confirmation stores the new key and
reloads the device. A paired device that announces (sealed) another UI address than
the one pinned at adoption raises :func:`async_create_ui_url_issue`: the Open button
keeps the pinned address until an admin accepts the new one. The access engine raises
and clears the maintenance issue, and the credential sync raises the generation issue
(access/sync.py). A member's problem report is an issue too (access/problems.py):
its fix flow resolves the report, with a note of what was done.
"""

from __future__ import annotations

from typing import Any, Final, Protocol

from homeassistant.components.repairs import RepairsFlow, RepairsFlowResult
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.util.hass_dict import HassKey
import probatio

from .const import (
    CONF_ANNOUNCED_UI_URL,
    CONF_DEVICE_ID,
    CONF_DEVICE_KEY,
    CONF_FINGERPRINT,
    CONF_PENDING_KEY,
    CONF_UI_URL,
    DOMAIN,
    LOGGER,
)
from .hub import HUB_KEYS, async_get_hub_keys
from .protocol.schemas import valid_ui_url
from .protocol.security import fingerprint, parse_public_key

KEY_CHANGED = "key_changed"
"""An adopted device announced a different key."""
PAIRING_REQUIRED = "pairing_required"
"""A device added by id announced its first key."""
LINK_BROKEN = "link_broken"
"""A paired device's sealed messages are refused: the keys differ (link.py)."""
UI_URL_CHANGED = "ui_url_changed"
"""A paired device announced another UI address than the accepted one."""
MAINTENANCE_DUE = "maintenance_due"
MAINTENANCE_CONDITION_DUE = "maintenance_condition_due"
"""Maintenance due because of telemetry conditions (access/telemetry_rules.py)."""

GENERATION_ROLLBACK = "credential_generation_rollback"
"""A device held a newer credential set than the hub's counter (restored backup)."""

PROBLEM_REPORT = "problem_report"
"""A member reported a problem with a device (access/problems.py)."""
PROBLEM_REPORT_UNSAFE = "problem_report_unsafe"
"""... and marked the machine unsafe: it is blocked until the report is resolved."""
ATTR_REPORT_ID = "report_id"
MAX_RESOLUTION: Final = 500
"""Longest note of what was done about a problem."""


class ProblemResolver(Protocol):
    """What the fix flow of a problem report uses (access/problems.py implements it)."""

    def is_open(self, report_id: str) -> bool:
        """Return True while a report is open."""

    async def async_resolve_from_repair(self, report_id: str, resolution: str) -> None:
        """Resolve a report through its repair flow."""


PROBLEM_RESOLVER: HassKey[ProblemResolver] = HassKey(f"{DOMAIN}_problem_resolver")

ATTR_ENTRY_ID = "entry_id"
ATTR_KEY = "key"
ATTR_UI_URL = "ui_url"


def key_issue_id(entry: ConfigEntry) -> str:
    """Issue id of a device's pairing issue."""
    return f"{KEY_CHANGED}_{entry.entry_id}"


def ui_url_issue_id(entry: ConfigEntry) -> str:
    """Issue id of a device's new UI address."""
    return f"{UI_URL_CHANGED}_{entry.entry_id}"


def problem_issue_id(report_id: str) -> str:
    """Issue id of a problem report."""
    return f"{PROBLEM_REPORT}_{report_id}"


@callback
def async_create_problem_issue(
    hass: HomeAssistant,
    report_id: str,
    *,
    unsafe: bool,
    placeholders: dict[str, str],
) -> None:
    """Show a problem report (``device``, ``description``, ``reporter``, ``reported``)."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        problem_issue_id(report_id),
        is_fixable=True,
        is_persistent=False,
        severity=ir.IssueSeverity.ERROR if unsafe else ir.IssueSeverity.WARNING,
        translation_key=PROBLEM_REPORT_UNSAFE if unsafe else PROBLEM_REPORT,
        translation_placeholders=placeholders,
        data={ATTR_REPORT_ID: report_id},
    )


@callback
def async_delete_problem_issue(hass: HomeAssistant, report_id: str) -> None:
    """Withdraw a problem report's issue (it was resolved)."""
    ir.async_delete_issue(hass, DOMAIN, problem_issue_id(report_id))


def maintenance_issue_id(entry: ConfigEntry) -> str:
    """Issue id of a device's maintenance issue."""
    return f"{MAINTENANCE_DUE}_{entry.entry_id}"


@callback
def async_create_key_changed_issue(
    hass: HomeAssistant, entry: ConfigEntry, new_key: str
) -> None:
    """Ask the admin to confirm the pairing key a device announced."""
    old_fingerprint: str | None = entry.data.get(CONF_FINGERPRINT)
    new_fingerprint = "?"
    if (hub := hass.data.get(HUB_KEYS)) is not None:
        # Always loaded while a device runs; only the fix flow strictly needs it.
        new_fingerprint = fingerprint(hub.public_bytes, parse_public_key(new_key))
    first_key = entry.data.get(CONF_DEVICE_KEY) is None
    ir.async_create_issue(
        hass,
        DOMAIN,
        key_issue_id(entry),
        is_fixable=True,
        # Kept over restarts: the runtime does not raise it again for a key that
        # is already pending.
        is_persistent=True,
        severity=ir.IssueSeverity.WARNING if first_key else ir.IssueSeverity.ERROR,
        translation_key=PAIRING_REQUIRED if first_key else KEY_CHANGED,
        translation_placeholders={
            "name": entry.title,
            "old_fingerprint": old_fingerprint or "-",
            "new_fingerprint": new_fingerprint,
        },
        data={ATTR_ENTRY_ID: entry.entry_id, ATTR_KEY: new_key},
    )


@callback
def async_delete_key_changed_issue(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Withdraw a device's pairing issue (the device returned to its key)."""
    ir.async_delete_issue(hass, DOMAIN, key_issue_id(entry))


def link_issue_id(entry: ConfigEntry) -> str:
    """Issue id of a device's broken secure link."""
    return f"{LINK_BROKEN}_{entry.entry_id}"


@callback
def async_create_link_broken_issue(
    hass: HomeAssistant, entry: ConfigEntry, reason: str
) -> None:
    """Tell the admin a device's messages are refused, and how to pair it again.

    Not persistent: the runtime raises it again as soon as the device's messages
    are refused after a restart, and withdraws it when one verifies.
    """
    device_key: str | None = entry.data.get(CONF_DEVICE_KEY)
    expected = "-"
    if device_key is not None and (hub := hass.data.get(HUB_KEYS)) is not None:
        expected = fingerprint(hub.public_bytes, parse_public_key(device_key))
    ir.async_create_issue(
        hass,
        DOMAIN,
        link_issue_id(entry),
        is_fixable=False,
        is_persistent=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key=LINK_BROKEN,
        translation_placeholders={
            "name": entry.title,
            "reason": reason,
            "fingerprint": expected,
        },
    )


@callback
def async_delete_link_broken_issue(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Withdraw a device's broken-link issue (its messages verify again)."""
    ir.async_delete_issue(hass, DOMAIN, link_issue_id(entry))


@callback
def async_create_ui_url_issue(
    hass: HomeAssistant, entry: ConfigEntry, url: str
) -> None:
    """Ask the admin whether the Open button may use the UI address announced now."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        ui_url_issue_id(entry),
        is_fixable=True,
        is_persistent=True,
        severity=ir.IssueSeverity.WARNING,
        translation_key=UI_URL_CHANGED,
        translation_placeholders={
            "name": entry.title,
            "old_url": entry.options.get(CONF_UI_URL) or "-",
            "new_url": url,
        },
        data={ATTR_ENTRY_ID: entry.entry_id, ATTR_UI_URL: url},
    )


@callback
def async_delete_ui_url_issue(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Withdraw a device's UI address issue (it announces the accepted one again)."""
    ir.async_delete_issue(hass, DOMAIN, ui_url_issue_id(entry))


@callback
def async_create_maintenance_issue(
    hass: HomeAssistant,
    entry: ConfigEntry,
    description: str,
    conditions: list[str] | None = None,
) -> None:
    """Tell the admin a device is due for maintenance (and which conditions are)."""
    placeholders = {"name": entry.title, "description": description or "-"}
    if conditions:
        placeholders["conditions"] = "\n".join(f"- {text}" for text in conditions)
    ir.async_create_issue(
        hass,
        DOMAIN,
        maintenance_issue_id(entry),
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=MAINTENANCE_CONDITION_DUE if conditions else MAINTENANCE_DUE,
        translation_placeholders=placeholders,
    )


@callback
def async_delete_maintenance_issue(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Withdraw a device's maintenance issue (maintenance was recorded)."""
    ir.async_delete_issue(hass, DOMAIN, maintenance_issue_id(entry))


@callback
def async_delete_issues(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Withdraw every issue of a device (it was removed)."""
    async_delete_key_changed_issue(hass, entry)
    async_delete_ui_url_issue(hass, entry)
    async_delete_link_broken_issue(hass, entry)
    async_delete_maintenance_issue(hass, entry)


@callback
def async_create_generation_issue(
    hass: HomeAssistant, name: str, device_generation: int, hub_generation: int
) -> None:
    """Tell the admin the credential counter went back, and that it was resynced."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        GENERATION_ROLLBACK,
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=GENERATION_ROLLBACK,
        translation_placeholders={
            "name": name,
            "device_generation": str(device_generation),
            "hub_generation": str(hub_generation),
        },
    )


class ConfirmPairingFlow(RepairsFlow):
    """Show both fingerprints; store the new key only when the admin confirms."""

    def __init__(self, entry: ConfigEntry, key: str) -> None:
        """Remember which device and which key the issue is about."""
        self._entry = entry
        self._key = key

    async def async_step_init(
        self, user_input: dict[str, str] | None = None
    ) -> RepairsFlowResult:
        """Start with the confirmation."""
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Compare fingerprints, then trust the announced key."""
        entry = self._entry
        if entry.data.get(CONF_PENDING_KEY) != self._key:
            # The device announced yet another key since: that one has its own
            # issue; this confirmation would trust a key nobody compared.
            return self.async_abort(reason="key_superseded")
        hub = await async_get_hub_keys(self.hass)
        new_fingerprint = hub.derive(self._key).fingerprint
        if user_input is not None:
            data = {
                key: value
                for key, value in entry.data.items()
                if key != CONF_PENDING_KEY
            }
            data[CONF_DEVICE_KEY] = self._key
            data[CONF_FINGERPRINT] = new_fingerprint
            self.hass.config_entries.async_update_entry(entry, data=data)
            LOGGER.info("Pairing of %s confirmed: %s", entry.title, new_fingerprint)
            self.hass.config_entries.async_schedule_reload(entry.entry_id)
            return self.async_create_entry(data={})
        return self.async_show_form(
            step_id="confirm",
            data_schema=probatio.Schema({}),
            description_placeholders={
                "name": entry.title,
                "old_fingerprint": entry.data.get(CONF_FINGERPRINT) or "-",
                "new_fingerprint": new_fingerprint,
            },
        )


class AcceptUiUrlFlow(RepairsFlow):
    """Show the pinned and the announced UI address; switch only on confirmation."""

    def __init__(self, entry: ConfigEntry, url: str) -> None:
        """Remember which device and which address the issue is about."""
        self._entry = entry
        self._url = url

    async def async_step_init(
        self, user_input: dict[str, str] | None = None
    ) -> RepairsFlowResult:
        """Start with the confirmation."""
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Pin the announced address (unless the admin set one of their own)."""
        entry = self._entry
        issue = ir.async_get(self.hass).async_get_issue(DOMAIN, self.issue_id)
        if (
            issue is None
            or (issue.data or {}).get(ATTR_UI_URL) != self._url
            or not valid_ui_url(self._url)
        ):
            # The device announced yet another address since: accept that one.
            return self.async_abort(reason="ui_url_superseded")
        if user_input is not None:
            options = dict(entry.options)
            own = options.get(CONF_UI_URL) not in (
                None,
                options.get(CONF_ANNOUNCED_UI_URL),
            )
            options[CONF_ANNOUNCED_UI_URL] = self._url
            if not own:
                options[CONF_UI_URL] = self._url
            self.hass.config_entries.async_update_entry(entry, options=options)
            registry = dr.async_get(self.hass)
            if device := registry.async_get_device_by_identifier(
                (DOMAIN, entry.data[CONF_DEVICE_ID]), entry.entry_id
            ):
                registry.async_update_device(
                    device.id, configuration_url=options[CONF_UI_URL]
                )
            LOGGER.info("UI address of %s accepted: %s", entry.title, self._url)
            return self.async_create_entry(data={})
        return self.async_show_form(
            step_id="confirm",
            data_schema=probatio.Schema({}),
            description_placeholders={
                "name": entry.title,
                "old_url": entry.options.get(CONF_UI_URL) or "-",
                "new_url": self._url,
            },
        )


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """Create the fix flow of a pairing, a UI address or a problem report issue."""
    if issue_id.startswith(f"{PROBLEM_REPORT}_"):
        return ResolveProblemFlow(str((data or {}).get(ATTR_REPORT_ID)))
    entry_id = str((data or {}).get(ATTR_ENTRY_ID))
    if (entry := hass.config_entries.async_get_entry(entry_id)) is None:
        return _GoneFlow()
    if issue_id.startswith(f"{UI_URL_CHANGED}_"):
        return AcceptUiUrlFlow(entry, str((data or {}).get(ATTR_UI_URL)))
    return ConfirmPairingFlow(entry, str((data or {}).get(ATTR_KEY)))


class ResolveProblemFlow(RepairsFlow):
    """Resolve a member's problem report (an unsafe device is free again)."""

    def __init__(self, report_id: str) -> None:
        """Remember which report the issue is about."""
        self._report_id = report_id

    async def async_step_init(
        self, user_input: dict[str, str] | None = None
    ) -> RepairsFlowResult:
        """Start with the confirmation."""
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Ask what was done; resolve the report on confirmation."""
        resolver = self.hass.data.get(PROBLEM_RESOLVER)
        issue = ir.async_get(self.hass).async_get_issue(DOMAIN, self.issue_id)
        if resolver is None or issue is None or not resolver.is_open(self._report_id):
            ir.async_delete_issue(self.hass, DOMAIN, self.issue_id)
            return self.async_abort(reason="problem_gone")
        if user_input is not None:
            await resolver.async_resolve_from_repair(
                self._report_id, str(user_input.get("resolution") or "")
            )
            return self.async_create_entry(data={})
        return self.async_show_form(
            step_id="confirm",
            data_schema=probatio.Schema(
                {
                    probatio.Optional("resolution", default=""): probatio.All(
                        str, probatio.Length(max=MAX_RESOLUTION)
                    )
                }
            ),
            description_placeholders=dict(issue.translation_placeholders or {}),
        )


class _GoneFlow(RepairsFlow):
    """The device was removed while its issue was open."""

    async def async_step_init(
        self, user_input: dict[str, str] | None = None
    ) -> RepairsFlowResult:
        """Nothing to confirm any more."""
        ir.async_delete_issue(self.hass, DOMAIN, self.issue_id)
        return self.async_abort(reason="device_removed")
