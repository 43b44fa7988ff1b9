"""Issue 18 item 1 in a live lab: a device whose secure link is broken says so.

The two simulated fumehoods are stopped and started again with their files changed
the two ways a link breaks:

* the first pinned another hub key (as after a hub reinstalled, or an agent that kept
  an earlier lab's state): everything it seals is refused as ``signature``;
* the second lost its device key (a reinstalled device): it announces a new key the
  admin has not confirmed, and what it seals is refused as ``untrusted_key``.

Then the repair issues (``link_broken`` for the first, the pairing issue
``key_changed`` for the second), the Secure link entities (``broken``, with the
last reason), the panel's data and its "Link broken" chip on the Lab view and the
Devices tab, in English and in Italian. ``fluxilab-agent pair --reset`` on the first
device mends its link: the chip and the issue go. Screenshots: docs/screenshots/.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fluxilab_protocol.security import KeyPair
from tests.browser.conftest import (
    ADMIN,
    DEVICES,
    Lab,
    dump,
    login,
    panel_query,
    save,
)
from tests.browser.test_dashboard_browser import device_registry_ids, ok, wait_for
from tests.browser.test_panel_browser import admin_state
from tests.browser.webdriver import Browser

HUB_KEY_CHANGED, DEVICE_KEY_CHANGED = DEVICES


def data_dir(lab: Lab, device: str) -> Path:
    """The simulated device's own folder (fluxilab_agent simulate --data-dir)."""
    return lab.workdir / "sim" / device


def break_links(lab: Lab) -> None:
    """Pin another hub key on the first device; drop the second device's key."""
    state_file = data_dir(lab, HUB_KEY_CHANGED) / "state.json"
    state = json.loads(state_file.read_text())
    assert state["hub_key"], state
    state["hub_key"] = KeyPair.generate().public_b64
    state_file.write_text(json.dumps(state))
    (data_dir(lab, DEVICE_KEY_CHANGED) / "device.key").unlink()


def issues(lab: Lab) -> dict[str, dict[str, Any]]:
    """FluxiLab's repair issues now, by issue id."""
    (reply,) = lab.ws({"type": "repairs/list_issues"})
    return {i["issue_id"]: i for i in ok(reply)["issues"] if i["domain"] == "fluxilab"}


def secure_links(lab: Lab) -> dict[str, dict[str, Any]]:
    """The state of each device's Secure link entity, by device."""
    (registry,) = lab.ws({"type": "config/entity_registry/list"})
    entity_ids = {
        e["unique_id"].removesuffix("_secure_link"): e["entity_id"]
        for e in ok(registry)
        if e["platform"] == "fluxilab" and e["unique_id"].endswith("_secure_link")
    }
    (states,) = lab.ws({"type": "get_states"})
    by_id = {s["entity_id"]: s for s in ok(states)}
    return {device: by_id[entity_id] for device, entity_id in entity_ids.items()}


def link_of(lab: Lab) -> dict[str, str]:
    """The panel's ``link`` of each device."""
    return {d["device_id"]: d["link"] for d in admin_state(lab)["devices"]}


def chip(browser: Browser, selector: str) -> str | None:
    """The text of the "Link broken" chip under ``selector``, if there is one."""
    found = panel_query(browser, f'{selector} [data-status="link_broken"]')
    if not found:
        return None
    return str(browser.script("return arguments[0].textContent.trim()", found))


@pytest.mark.timeout(900)
def test_a_broken_link_is_loud(lab: Lab, browser: Browser) -> None:
    entries = {
        device: entry["config_entries"][0]
        for device, entry in device_registry_ids(lab).items()
    }
    assert link_of(lab) == dict.fromkeys(DEVICES, "ok")
    assert not [i for i in issues(lab) if i.startswith(("link_broken", "key_changed"))]

    lab.restart_agent(lambda: break_links(lab))

    # The entities: broken, and why.
    links = wait_for(
        lambda: (
            (found := secure_links(lab))
            and all(found[d]["state"] == "broken" for d in DEVICES)
            and found
        ),
        "both Secure link entities to say broken",
        90,
    )
    assert links[HUB_KEY_CHANGED]["attributes"]["last_rejection"] == "signature"
    assert links[DEVICE_KEY_CHANGED]["attributes"]["last_rejection"] == "untrusted_key"
    for device in DEVICES:
        assert links[device]["attributes"]["rejected_messages"] >= 3, dump(links)

    # The repair issues: the broken link with its fix, and the pairing issue.
    found = issues(lab)
    broken = found.get(f"link_broken_{entries[HUB_KEY_CHANGED]}")
    assert broken is not None, dump(found)
    assert broken["severity"] == "error", dump(broken)
    assert broken["translation_placeholders"]["reason"] == "signature", dump(broken)
    assert f"key_changed_{entries[DEVICE_KEY_CHANGED]}" in found, dump(found)
    # One issue per cause: the new device key's is the pairing issue.
    assert f"link_broken_{entries[DEVICE_KEY_CHANGED]}" not in found, dump(found)
    assert link_of(lab) == dict.fromkeys(DEVICES, "broken")

    # The panel's chip, on the Lab view and in the Devices tab.
    login(browser, lab, ADMIN, "/fluxilab/lab")
    for device in DEVICES:
        text = browser.wait(
            lambda d=device: chip(browser, f'.card.device[data-device="{d}"]'),
            60,
            f"the Link broken chip of {device}",
        )
        assert text == "Link broken"
        # No Open that would lead to "Link not valid": what is wrong, instead.
        card = f'.card.device[data-device="{device}"]'
        assert panel_query(browser, f'{card} button[data-action="open"]') is None
        assert panel_query(browser, f'{card} [data-hint="link_broken"]')
    save(browser, "lab-link-broken", docs=True)
    browser.get(f"{lab.url}/fluxilab/admin/devices")
    browser.wait(
        lambda: panel_query(browser, 'table[data-table="devices"]'), 60, "devices"
    )
    rows = browser.wait(
        lambda: (
            [d for d in DEVICES if chip(browser, f'tr[data-key="{d}"]')]
            == list(DEVICES)
        ),
        30,
        "the chips in the Devices tab",
    )
    assert rows
    save(browser, "admin-devices-link-broken")

    # In Italian.
    ok(
        lab.ws(
            {
                "type": "frontend/set_user_data",
                "key": "language",
                "value": {
                    "language": "it",
                    "number_format": "language",
                    "time_format": "language",
                    "date_format": "language",
                    "time_zone": "local",
                    "first_weekday": "language",
                },
            }
        )[0]
    )
    browser.script("""localStorage.setItem("selectedLanguage", '"it"');""")
    browser.get(f"{lab.url}/fluxilab/lab")
    browser.wait(
        lambda: (
            chip(browser, f'.card.device[data-device="{HUB_KEY_CHANGED}"]')
            == "Collegamento interrotto"
        ),
        60,
        "the chip in Italian",
    )

    # The fix the issue gives: pair --reset on the device, which then pins the
    # hub's key again. The link mends; the chip and the issue go.
    def reset() -> None:
        lab.agent_cli("pair", "--reset", data_dir=data_dir(lab, HUB_KEY_CHANGED))

    lab.restart_agent(reset)
    wait_for(
        lambda: link_of(lab)[HUB_KEY_CHANGED] == "ok", "the mended link", timeout=90
    )
    assert f"link_broken_{entries[HUB_KEY_CHANGED]}" not in issues(lab)
    assert secure_links(lab)[HUB_KEY_CHANGED]["state"] == "ok"
    browser.wait(
        lambda: (
            panel_query(browser, f'.card.device[data-device="{HUB_KEY_CHANGED}"]')
            and chip(browser, f'.card.device[data-device="{HUB_KEY_CHANGED}"]') is None
        ),
        60,
        "the chip gone",
    )
    mended = f'.card.device[data-device="{HUB_KEY_CHANGED}"]'
    assert panel_query(browser, f'{mended} button[data-action="open"]')
    assert chip(browser, f'.card.device[data-device="{DEVICE_KEY_CHANGED}"]')
