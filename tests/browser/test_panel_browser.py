"""The FluxiLab panel in headless Chromium, used as an admin and as a member would.

One story, in order: the admin logs in, sees every device, creates a member with
an initial PIN through the admin console, grants them one fumehood and blocks the
other; the member logs in, sees only their fumehood, is refused an admin command
sent over the panel's own websocket, then opens the fumehood and lands in its
device UI through the agent's gateway. Screenshots go to artifacts/browser/.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import (
    ADMIN,
    DEEP_QUERY,
    DEVICES,
    MEMBER,
    Lab,
    click,
    confirm,
    dump,
    login,
    panel_query,
    panel_text,
    save,
    toast,
)
from tests.browser.webdriver import Browser

HOOD, OTHER = DEVICES


def admin_state(lab: Lab) -> dict[str, Any]:
    """What the admin console's backend reports now."""
    (reply,) = lab.ws({"type": "fluxilab/panel/admin/state"})
    result: dict[str, Any] = reply["result"]
    return result


def pick(browser: Browser, picker: str, typed: str, option: str) -> None:
    """Type into one of the panel's pickers and choose the option ``option``."""
    field = browser.wait(
        lambda: panel_query(browser, f'fluxilab-picker[name="{picker}"] input'),
        30,
        f"the {picker} picker",
    )
    browser.type(field, typed)
    click(browser, f'fluxilab-picker[name="{picker}"] li[data-option="{option}"]')
    browser.wait(
        lambda: panel_query(
            browser, f'fluxilab-picker[name="{picker}"] [data-picked="{option}"]'
        ),
        30,
        f"{option} picked",
    )


@pytest.mark.timeout(600)
def test_admin_then_member(lab: Lab, browser: Browser) -> None:
    # The admin sees every device, live.
    login(browser, lab, ADMIN, "/fluxilab")
    for device_id in DEVICES:
        browser.wait(
            lambda d=device_id: panel_query(
                browser, f'.card.device[data-device="{d}"]'
            ),
            60,
            f"the card of {device_id}",
        )
    browser.wait(lambda: "Face velocity" in panel_text(browser), 30, "telemetry")
    save(browser, "lab-admin", docs=True)

    # Admin console: a member with an initial PIN, linked to the member's login.
    click(browser, 'button[data-tab="admin"]')
    name = browser.wait(
        lambda: panel_query(browser, 'form[data-form="member"] input[name="name"]'),
        30,
        "the member form",
    )
    browser.type(name, "Ada")
    browser.script(
        f"""{DEEP_QUERY}
        const root = deep(document, "fluxilab-panel").shadowRoot;
        root.querySelector('form[data-form="member"] select[name="user_id"]').value = arguments[0];""",
        lab.member_user_id,
    )
    browser.type(
        panel_query(browser, 'form[data-form="member"] input[name="pin"]'), "246810"
    )
    click(browser, 'form[data-form="member"] button[type="submit"]')
    browser.wait(
        lambda: panel_query(browser, 'tr[data-key="ada"]'), 30, "Ada in the list"
    )
    ada = next(m for m in admin_state(lab)["members"] if m["id"] == "ada")
    assert ada["user_id"] == lab.member_user_id, dump(ada)
    assert ada["has_pin"] is True
    assert "pin" not in ada
    assert "pin_hash" not in ada

    # Grant the first fumehood to Ada.
    # The member and the machine are picked by typing, as in a lab of hundreds.
    click(browser, 'button[data-action="admin-tab"][data-tab="authorizations"]')
    pick(browser, "member_ids", "Ada", "ada")
    pick(browser, "target", HOOD, f"device:{HOOD}")
    click(browser, 'form[data-form="grant"] button[type="submit"]')
    browser.wait(
        lambda: any(
            a["member_id"] == "ada" and a.get("device_id") == HOOD
            for a in admin_state(lab)["authorizations"]
        ),
        30,
        "the authorization",
    )

    # Block the other fumehood.
    click(browser, 'button[data-action="admin-tab"][data-tab="devices"]')
    click(browser, f'button[data-action="block"][data-device="{OTHER}"]')
    # Blocking is privileged: the panel asks first.
    confirm(browser, "Block")
    browser.wait(
        lambda: next(d for d in admin_state(lab)["devices"] if d["device_id"] == OTHER)[
            "blocked"
        ],
        30,
        "the block",
    )
    browser.wait(
        lambda: panel_query(
            browser,
            f'button[data-action="block"][data-device="{OTHER}"][data-blocked="false"]',
        ),
        30,
        "the Unblock button",
    )
    save(browser, "admin-console", docs=True)

    # A machine type with a face-velocity interlock, through its form.
    click(browser, 'button[data-action="admin-tab"][data-tab="machine_types"]')
    browser.type(
        panel_query(browser, 'form[data-form="type"] input[name="name"]'), "Fumehood"
    )
    browser.script(
        f"""{DEEP_QUERY}
        const root = deep(document, "fluxilab-panel").shadowRoot;
        root.querySelector('form[data-form="type"] select[name="safety_channel"]').value = "face_velocity";""",
    )
    browser.type(
        panel_query(browser, 'form[data-form="type"] input[name="safety_min"]'), "0.4"
    )
    # Issue 17 §5: a dangerous machine wants card + PIN.
    click(browser, 'form[data-form="type"] input[name="require_pin"]')
    click(browser, 'form[data-form="type"] button[type="submit"]')
    fumehood = browser.wait(
        lambda: next(
            (t for t in admin_state(lab)["machine_types"] if t["id"] == "fumehood"),
            None,
        ),
        30,
        "the machine type",
    )
    assert fumehood["safety_limits"] == [{"channel": "face_velocity", "min": 0.4}]
    # The offline select left at its default: a type with safety limits denies.
    assert (fumehood["offline_policy"], fumehood["offline_max_age"]) == ("deny", 24)
    assert fumehood["require_pin"] is True
    browser.wait(
        lambda: panel_query(browser, 'tr[data-type="fumehood"]'), 30, "the type row"
    )
    save(browser, "admin-machine-types")

    # Issue 9 item 6: "In the lab", with the evacuation list's print button.
    # (Back up to the tabs first: under Home Assistant's toolbar they take no click.)
    browser.script(
        f"""{DEEP_QUERY}
        deep(document, "fluxilab-panel").shadowRoot.querySelector("nav.tabs")
          .scrollIntoView({{block: "center"}});"""
    )
    click(browser, 'button[data-tab="presence"]')
    browser.wait(
        lambda: "People in the lab: 0" in panel_text(browser), 30, "the occupancy"
    )
    assert panel_query(browser, 'button[data-action="presence-print"]')
    save(browser, "presence-admin")

    # The member: a fresh page without the admin's tokens.
    browser.script("localStorage.clear(); sessionStorage.clear();")
    browser.cmd("DELETE", "/cookie")
    login(browser, lab, MEMBER, "/fluxilab")
    browser.wait(
        lambda: panel_query(browser, f'.card.device[data-device="{HOOD}"]'),
        60,
        "Ada's fumehood",
    )
    assert panel_query(browser, f'.card.device[data-device="{OTHER}"]') is None
    assert panel_query(browser, 'button[data-tab="admin"]') is None
    save(browser, "lab-member", docs=True)

    # Ada checks herself in without a card; she sees the count, not the list.
    click(browser, 'button[data-tab="presence"]')
    click(browser, 'button[data-action="presence-check"][data-verb="check_in"]')
    browser.wait(
        lambda: "People in the lab: 1" in panel_text(browser), 30, "Ada checked in"
    )
    assert panel_query(browser, 'button[data-action="presence-print"]') is None
    save(browser, "presence-member")
    click(browser, 'button[data-tab="lab"]')

    # On a phone (the companion app's webview): one column, and a menu button.
    browser.cmd("POST", "/window/rect", {"width": 390, "height": 844})
    browser.wait(lambda: panel_query(browser, "button.menu"), 15, "the menu button")
    save(browser, "lab-member-phone")

    # The panel hiding the admin tab is not the protection: the backend refuses.
    refused = browser.async_script(
        f"""{DEEP_QUERY}
        const done = arguments[arguments.length - 1];
        deep(document, "home-assistant").hass.connection
          .sendMessagePromise({{type: "fluxilab/panel/admin/block", device_id: arguments[0], blocked: true}})
          .then((result) => done({{result}}), (error) => done({{error}}));""",
        HOOD,
    )
    assert refused["error"]["code"] == "unauthorized", dump(refused)
    hood = next(d for d in admin_state(lab)["devices"] if d["device_id"] == HOOD)
    assert hood["blocked"] is False

    # The panel's last door (issue 14, finding 1): should the hub ever answer with
    # an address that is not http(s), the panel does not go there. A javascript: URL
    # would run in Home Assistant's origin.
    before = browser.url
    outcome = browser.async_script(
        f"""{DEEP_QUERY}
        const done = arguments[arguments.length - 1];
        const panel = deep(document, "fluxilab-panel");
        const open = panel.client.open;
        panel.client.open = async () => ({{url: "javascript:window.__fluxilab_pwned = 1"}});
        panel.shadowRoot.querySelector("fluxilab-lab-view").openDevice(arguments[0]).then(() => {{
          panel.client.open = open;
          setTimeout(() => done({{
            pwned: window.__fluxilab_pwned === 1,
            message: panel.toast && panel.toast.text,
          }}), 200);
        }});""",
        HOOD,
    )
    assert outcome["pwned"] is False, dump(outcome)
    assert "not a web address" in str(outcome["message"]), dump(outcome)
    assert "not a web address" in toast(browser)
    assert browser.url == before

    # Open: through the gateway, into the device UI, as Ada, in a new tab (the
    # companion app shows a new window's address in the system browser), while Home
    # Assistant stays where it was.
    home = browser.windows
    click(browser, f'button[data-action="open"][data-device="{HOOD}"]')
    opened = browser.wait(
        lambda: [h for h in browser.windows if h not in home], 30, "the new tab"
    )
    assert browser.url == before
    browser.switch_to(opened[0])
    gateway = f"http://127.0.0.1:{lab.gateway_ports[HOOD]}/"
    browser.wait(
        lambda: browser.url.startswith(gateway) and "fluxilab_token" not in browser.url,
        30,
        "the device UI",
    )
    body = browser.wait(
        lambda: browser.script("return document.body && document.body.innerText"),
        30,
        "the device page",
    )
    assert "Ada" in body, body[:1000]
    assert "Refused" not in body
    # A member's page: what she came for, not the device's internals.
    for internal in ("fingerprint", "buffered", "credentials", "relay"):
        assert internal not in body.lower(), body[:1000]
    # And a way back to the panel page she opened it from (a signed claim).
    back = browser.script(
        "const a = document.getElementById('fl-back'); return a && a.href"
    )
    assert back == before, (back, before)
    assert "Back to Home Assistant" in body
    save(browser, "device-ui", docs=True)


@pytest.mark.timeout(600)
def test_a_second_member_of_the_same_name_is_asked_first(
    lab: Lab, browser: Browser
) -> None:
    """The hub refuses a name taken unless confirmed: the panel asks, then adds.

    Bea is in the list the panel loaded; Cy is added behind its back, so only the
    hub knows her when the admin types her name (member_name_taken, then asked).
    """
    (reply,) = lab.ws({"type": "fluxilab/panel/admin/member_create", "name": "Bea"})
    assert reply["success"], dump(reply)
    login(browser, lab, ADMIN, "/fluxilab")
    click(browser, 'button[data-tab="admin"]')
    form = 'form[data-form="member"]'
    browser.wait(
        lambda: panel_query(browser, f'{form} input[name="name"]'),
        30,
        "the member form",
    )
    (reply,) = lab.ws({"type": "fluxilab/panel/admin/member_create", "name": "Cy"})
    assert reply["success"], dump(reply)
    for typed, new_id in (("bea", "bea_2"), ("Cy", "cy_2")):
        browser.type(panel_query(browser, f'{form} input[name="name"]'), typed)
        click(browser, f'{form} button[type="submit"]')
        confirm(browser, "Add another one?")
        browser.wait(
            lambda n=new_id: any(m["id"] == n for m in admin_state(lab)["members"]),
            30,
            f"{new_id} added",
        )
    names = sorted(m["name"] for m in admin_state(lab)["members"])
    assert names.count("Bea") == 1
    assert names.count("bea") == 1
    assert names.count("Cy") == 2
