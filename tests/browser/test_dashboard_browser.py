"""Issue 20 section 3 in Chromium: FluxiLab on Home Assistant's own dashboards, and the phone.

One lab, in order:

* two areas, a fumehood in each; Ada may use the first, whose machine type has a
  maintenance condition that is soon due; Ada presents her card at it;
* a dashboard in storage mode (``lovelace/dashboards/create`` and
  ``lovelace/config/save``, as the dashboard editor saves one) with two
  ``custom:fluxilab-device-card``: status, who uses it (her role while the lab keeps
  names out of states, her name once it shows them), the live telemetry with a
  sparkline whose first points come from Home Assistant's recorder, maintenance
  due, Open and Book;
* a dashboard whose configuration is only ``strategy: {type: custom:fluxilab}``: a
  section per area with a heading and the area's device cards;
* the panel's sparklines, from the recorder too;
* at a 390x844 phone viewport: the evacuation list's Print shows a printable view
  inside the panel (no pop-up) and prints; Ada's Open, from the dashboard card and
  from the panel, opens the device UI in a new tab while Home Assistant stays.

Screenshots go to docs/screenshots/ (dashboard-*.png, panel-sparklines.png,
*-phone.png).
"""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest

from tests.browser.conftest import (
    ADMIN,
    ARTIFACTS,
    DEEP_QUERY,
    DEVICES,
    MEMBER,
    Lab,
    click,
    dump,
    login,
    panel_query,
    panel_text,
    save,
)
from tests.browser.test_lab_of_200_browser import PHONE, viewport
from tests.browser.test_panel_browser import admin_state
from tests.browser.webdriver import Browser

HOOD, OTHER = DEVICES
AREAS = {HOOD: "Chemistry", OTHER: "Workshop"}
CARD = "04CA5D0B1E"
CARDS_DASHBOARD = "lab-cards"
STRATEGY_DASHBOARD = "lab-auto"

DEEP_ALL = """
const deepAll = (root, selector, found = []) => {
  found.push(...root.querySelectorAll(selector));
  for (const el of root.querySelectorAll("*")) {
    if (el.shadowRoot) deepAll(el.shadowRoot, selector, found);
  }
  return found;
};
"""

CARDS = f"""{DEEP_ALL}
const start = performance.timeOrigin / 1000;
return deepAll(document, "fluxilab-device-card").map((card) => {{
  const root = card.shadowRoot;
  const ha = root && root.querySelector("ha-card[data-device]");
  if (!ha) return {{device: null, text: root ? root.textContent : ""}};
  const lines = [...root.querySelectorAll("fluxilab-sparkline")].map((s) => ({{
    channel: s.dataset.channel,
    points: s.points.length,
    // Seconds before this page loaded of the line's first point: > 0 only for
    // a point the recorder kept, as live values arrive after the page loaded.
    recorded: s.points.length ? start - s.points[0][0] : 0,
    drawn: Boolean(s.shadowRoot && s.shadowRoot.querySelector("svg path")?.getAttribute("d")),
  }}));
  // The value's own text, without the limit beside it.
  const value = (key) => {{
    const v = root.querySelector(`.v[data-channel="${{key}}"]`);
    return v ? [...v.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join("").trim() : undefined;
  }};
  return {{
    device: ha.dataset.device,
    chips: [...root.querySelectorAll(".chip")].map((c) => c.textContent.trim()),
    text: ha.innerText,
    lines,
    face_velocity: value("face_velocity"),
    face_velocity_limit: root.querySelector('.limit[data-limit="face_velocity"]')?.textContent.trim() || null,
    open: Boolean(root.querySelector('button[data-action="open"]')),
    book: root.querySelector('a[data-action="book"]')?.textContent.trim() || null,
  }};
}});
"""

# What the page is when no card shows: where it is, whether the card's module
# loaded, and what Home Assistant drew instead (an error card, the launch screen).
PAGE = f"""{DEEP_ALL}
return {{
  url: location.href,
  card_defined: Boolean(customElements.get("fluxilab-device-card")),
  launch_screen: Boolean(document.getElementById("ha-launch-screen")),
  error_cards: deepAll(document, "hui-error-card").map((c) => c.shadowRoot ? c.shadowRoot.textContent.trim() : ""),
  sections: deepAll(document, "hui-section").length,
  // Whether the page imports the cards module (index.html's extra modules) and what
  // fetching it gave.
  module_in_page: [...document.scripts].some((s) => s.textContent.includes("fluxilab-cards")),
  module_requests: performance.getEntriesByType("resource")
    .filter((e) => e.name.includes("fluxilab-cards"))
    .map((e) => ({{ status: e.responseStatus, ms: Math.round(e.duration), bytes: e.transferSize }})),
}};
"""

SECTIONS = f"""{DEEP_ALL}
return deepAll(document, "hui-section").map((section) => ({{
  headings: deepAll(section, "hui-heading-card").map((h) => (h._config || {{}}).heading),
  devices: deepAll(section, "fluxilab-device-card")
    .map((c) => c.shadowRoot && c.shadowRoot.querySelector("ha-card[data-device]"))
    .filter(Boolean)
    .map((c) => c.dataset.device),
}})).filter((s) => s.devices.length);
"""


MODULE_IMPORT = """
const done = arguments[arguments.length - 1];
const script = [...document.scripts].find((s) => s.textContent.includes("fluxilab-cards"));
const url = script && (script.textContent.match(/import\\("([^"]*fluxilab-cards[^"]*)"\\)/) || [])[1];
if (!url) { done("no import of the module in the page"); return; }
import(url).then(
  () => done({ url, result: "evaluated", defined: Boolean(customElements.get("fluxilab-device-card")) }),
  (err) => done({ url, result: String(err && err.stack || err) }),
);
"""
"""What importing the cards module again gives (a module that threw says why)."""


def cards(browser: Browser) -> dict[str, dict[str, Any]]:
    """The FluxiLab device cards on the page, by device, as they read now."""
    return {c["device"]: c for c in browser.script(CARDS) or [] if c["device"]}


def card_is(browser: Browser, device: str, check: Any) -> Any:
    """The card of ``device`` once ``check(card)`` holds."""
    try:
        return browser.wait(
            lambda: (card := cards(browser).get(device)) and check(card) and card,
            60,
            f"the card of {device}",
        )
    except AssertionError as err:
        raise AssertionError(f"{err}\n{dump(cards(browser))}") from None


def ok(reply: dict[str, Any]) -> Any:
    assert reply["success"], dump(reply)
    return reply.get("result")


def device_registry_ids(lab: Lab) -> dict[str, dict[str, Any]]:
    """The device registry's entries of the FluxiLab devices, by FluxiLab id."""
    (reply,) = lab.ws({"type": "config/device_registry/list"})
    found = {}
    for entry in ok(reply):
        for domain, identifier in entry["identifiers"]:
            if domain == "fluxilab" and identifier in DEVICES:
                found[identifier] = entry
    assert set(found) == set(DEVICES), dump(found)
    return found


def set_up_the_lab(lab: Lab) -> None:
    """Areas, a machine type soon due for maintenance, Ada and her authorization."""
    registry = device_registry_ids(lab)
    for device, area in AREAS.items():
        (created,) = lab.ws({"type": "config/area_registry/create", "name": area})
        (updated,) = lab.ws(
            {
                "type": "config/device_registry/update",
                "device_id": registry[device]["id"],
                "area_id": ok(created)["area_id"],
            }
        )
        ok(updated)
    # Due once the fan has run 3.6 s (a telemetry maintenance condition).
    ok(
        lab.ws(
            {
                "type": "fluxilab/machine_type/create",
                "name": "Fumehood",
                "maintenance_conditions": [
                    {"kind": "channel_hours", "channel": "fan_running", "hours": 0.001}
                ],
                # Shown beside the value on the card. A maximum the simulated hood
                # never reaches: a minimum of 0.4 would refuse its sessions whenever
                # the sash goes up.
                "safety_limits": [{"channel": "face_velocity", "max": 3}],
            }
        )[0]
    )
    entry_id = registry[HOOD]["config_entries"][0]
    flow = lab.admin.request(
        "POST", "/api/config/config_entries/options/flow", {"handler": entry_id}
    )
    # What the form suggests (the pinned UI address, the channels), as a person
    # submitting it sends, with the machine type chosen.
    form = {
        field["name"]: field["description"]["suggested_value"]
        for field in flow["data_schema"]
        if "suggested_value" in (field.get("description") or {})
    }
    done = lab.admin.request(
        "POST",
        f"/api/config/config_entries/options/flow/{flow['flow_id']}",
        {**form, "machine_type": "fumehood"},
    )
    assert done["type"] == "create_entry", dump(done)

    def ready() -> bool:
        devices = {d["device_id"]: d for d in admin_state(lab)["devices"]}
        return all(
            d in devices and devices[d]["online"] and devices[d]["paired"]
            for d in DEVICES
        ) and (devices[HOOD]["machine_type"] == "Fumehood")

    wait_for(ready, "the fumehood's machine type, both devices online")
    member = ok(
        lab.ws(
            {
                "type": "fluxilab/member/create",
                "name": "Ada",
                "cards": [CARD],
                "user_id": lab.member_user_id,
            }
        )[0]
    )
    grant = {
        "type": "fluxilab/panel/admin/grant",
        "member_ids": [member["id"]],
        "device_id": HOOD,
    }
    # The new options reload the device's entry; while it reloads the device is
    # unknown to the engine (issue 20, section 6), so the grant waits for it.
    wait_for(lambda: lab.ws(grant)[0]["success"], "the grant")

    # The interlock refuses without a face velocity reading: the reloaded entry's
    # first telemetry comes before Ada does.
    def face_velocity_read() -> bool:
        hood = next(d for d in admin_state(lab)["devices"] if d["device_id"] == HOOD)
        return any(
            c["key"] == "face_velocity" and c["value"] is not None
            for c in hood["telemetry"]
        )

    wait_for(face_velocity_read, "the fumehood's face velocity")

    # Ada presents her card at the fumehood: a session opens.
    lab.agent_cli("swipe", "--device", HOOD, "--card", CARD)
    wait_for(
        lambda: next(d for d in admin_state(lab)["devices"] if d["device_id"] == HOOD)[
            "in_use"
        ],
        "Ada's session",
    )
    ok(
        lab.ws(
            {
                "type": "call_service",
                "domain": "fluxilab",
                "service": "check_in",
                "service_data": {"member_id": member["id"]},
            }
        )[0]
    )


def wait_for(check: Any, what: str, timeout: float = 60) -> Any:
    """Poll a backend ``check`` (no browser involved)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def create_dashboard(lab: Lab, url_path: str, title: str, config: Any) -> None:
    """A storage-mode dashboard with ``config``, as the dashboard editor saves one."""
    ok(
        lab.ws(
            {
                "type": "lovelace/dashboards/create",
                "url_path": url_path,
                "title": title,
                "icon": "mdi:flask",
                "mode": "storage",
                "show_in_sidebar": True,
                "require_admin": False,
            }
        )[0]
    )
    ok(
        lab.ws(
            {"type": "lovelace/config/save", "url_path": url_path, "config": config}
        )[0]
    )


CARDS_CONFIG = {
    "title": "Lab cards",
    "views": [
        {
            "title": "Lab",
            "path": "lab",
            "type": "sections",
            "max_columns": 2,
            "sections": [
                {
                    "type": "grid",
                    "cards": [
                        {"type": "heading", "heading": "FluxiLab"},
                        {"type": "custom:fluxilab-device-card", "device": HOOD},
                        {"type": "custom:fluxilab-device-card", "device": OTHER},
                    ],
                }
            ],
        }
    ],
}


def recorded_line(card: dict[str, Any], channel: str) -> bool:
    """The card's sparkline of ``channel`` is drawn and starts from the recorder."""
    line = next((x for x in card["lines"] if x["channel"] == channel), None)
    return bool(line and line["drawn"] and line["points"] >= 2 and line["recorded"] > 1)


@pytest.mark.timeout(900)
def test_dashboards_and_the_phone(lab: Lab, browser: Browser) -> None:
    set_up_the_lab(lab)
    create_dashboard(lab, CARDS_DASHBOARD, "Lab cards", CARDS_CONFIG)
    create_dashboard(
        lab,
        STRATEGY_DASHBOARD,
        "Lab",
        {"strategy": {"type": "custom:fluxilab"}},
    )

    # The cards on a dashboard, as the admin sees them.
    try:
        login(
            browser,
            lab,
            ADMIN,
            f"/{CARDS_DASHBOARD}/lab",
            lambda: len(cards(browser)) == 2,
            # The first page after the login loads the whole frontend and the
            # card's module: on a machine busy with the rest of the suite that
            # took longer than a minute once (CI of 46e9d5c).
            timeout=150,
        )
    except AssertionError as err:
        # Twice in CI (46e9d5c, e12c568) the first page after the login never
        # defined the card: "Configuration error" cards, the module not defined,
        # with nothing the page said why. What the page holds is kept, and the page
        # is loaded once more, as a person would; a second miss fails the test.
        first = browser.script(PAGE)
        first["module_import"] = browser.async_script(MODULE_IMPORT)
        save(browser, "dashboard-cards-first-load")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "dashboard-cards-first-load.json").write_text(dump(first))
        browser.script("location.reload();")
        try:
            browser.wait(lambda: len(cards(browser)) == 2, 120, "the cards, reloaded")
        except AssertionError:
            save(browser, "dashboard-cards-failed")
            raise AssertionError(
                f"{err}: {dump(browser.script(CARDS))}; first page: {dump(first)};"
                f" reloaded: {dump(browser.script(PAGE))}"
            ) from None
    hood = card_is(
        browser,
        HOOD,
        lambda c: "Maintenance due" in c["chips"] and recorded_line(c, "face_velocity"),
    )
    assert hood["chips"][0] == "Online", dump(hood)
    # Names stay out of states by default: the current user sensor says her role.
    assert "In use by User" in hood["chips"], dump(hood)
    assert "Ada" not in hood["text"], dump(hood)
    assert str(hood["face_velocity"]).endswith(" m/s"), dump(hood)
    assert float(hood["face_velocity"].split()[0]) > 0, dump(hood)
    # Its limit beside it, with the last hour's sparkline (issue 18 item 10).
    assert hood["face_velocity_limit"] == "(≤ 3)", dump(hood)
    assert hood["open"] is True, dump(hood)
    assert hood["book"] == "Book", dump(hood)
    assert "Chemistry" in hood["text"], dump(hood)
    other = card_is(browser, OTHER, lambda c: "Free" in c["chips"])
    assert "Maintenance due" not in other["chips"], dump(other)
    assert "Workshop" in other["text"], dump(other)
    save(browser, "dashboard-cards", docs=True)

    # The lab shows names: the same card names her, live.
    ok(lab.ws({"type": "fluxilab/access/settings", "show_member_names": True})[0])
    card_is(browser, HOOD, lambda c: "In use by Ada" in c["chips"])

    # The strategy's dashboard: a section per area, each with its devices' cards.
    browser.get(f"{lab.url}/{STRATEGY_DASHBOARD}/lab")
    sections = browser.wait(
        lambda: (found := browser.script(SECTIONS)) and len(found) == 2 and found,
        60,
        "the strategy's two sections",
    )
    assert sections == [
        {"headings": ["Chemistry"], "devices": [HOOD]},
        {"headings": ["Workshop"], "devices": [OTHER]},
    ], dump(sections)
    card_is(browser, HOOD, lambda c: recorded_line(c, "face_velocity"))
    save(browser, "dashboard-strategy", docs=True)

    # The panel's sparklines come from the recorder as well.
    browser.get(f"{lab.url}/fluxilab/lab")
    browser.wait(
        lambda: browser.script(
            f"""{DEEP_QUERY}
            const start = performance.timeOrigin / 1000;
            const root = deep(document, "fluxilab-panel")?.shadowRoot;
            const line = root && root.querySelector(
              '.card.device[data-device="{HOOD}"] fluxilab-sparkline[data-channel="face_velocity"]');
            return Boolean(line && line.points.length >= 2 && start - line.points[0][0] > 1
              && line.shadowRoot.querySelector("svg path"));"""
        ),
        60,
        "the panel's face velocity sparkline from the recorder",
    )
    shown = panel_text(browser)
    assert "Maintenance due" in shown
    # The condition by its channel's name, not its rule ("fan_running > 0.5: ...").
    assert "Fan running active: " in shown, shown
    assert "of 0.001 h" in shown, shown
    assert "fan_running" not in shown, shown
    save(browser, "panel-sparklines", docs=True)

    # On a phone: Print of the evacuation list, inside the panel.
    viewport(browser, PHONE)
    browser.get(f"{lab.url}/fluxilab/presence")
    click(browser, 'button[data-action="presence-print"]')
    windows = browser.windows
    printable = browser.wait(
        lambda: browser.script(
            f"""{DEEP_QUERY}
            const section = deep(document, "fluxilab-panel").shadowRoot.querySelector("section.printable");
            if (!section) return null;
            const box = section.getBoundingClientRect();
            return {{text: section.innerText, width: box.width, scroll: section.scrollWidth,
                     style: Boolean(document.getElementById("fluxilab-print-style"))}};"""
        ),
        30,
        "the printable evacuation list",
    )
    assert "People in the lab: 1" in printable["text"], dump(printable)
    assert "Ada" in printable["text"], dump(printable)
    assert printable["style"] is True, dump(printable)
    assert printable["width"] <= PHONE[0], dump(printable)
    assert printable["scroll"] <= printable["width"] + 1, dump(printable)
    assert panel_query(browser, 'button[data-action="print-now"]')
    assert panel_query(browser, 'button[data-action="presence-csv"]')
    assert browser.windows == windows  # no pop-up: the webview has none
    save(browser, "presence-print-phone", docs=True)
    # What the browser's print makes of the page (print CSS applied): a PDF.
    pdf = base64.b64decode(browser.cmd("POST", "/print", {"background": True}))
    assert pdf.startswith(b"%PDF"), pdf[:20]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "presence-print-phone.pdf").write_bytes(pdf)
    click(browser, 'button[data-action="print-close"]')

    # Ada on the phone: Open from the dashboard card, then from the panel.
    browser.script("localStorage.clear(); sessionStorage.clear();")
    browser.cmd("DELETE", "/cookie")
    login(
        browser,
        lab,
        MEMBER,
        f"/{CARDS_DASHBOARD}/lab",
        lambda: cards(browser).get(HOOD),
    )
    mine = card_is(browser, HOOD, lambda c: c["open"])
    assert "In use by Ada" in mine["chips"], dump(mine)
    # The other fumehood is not hers: its card says so instead of showing it.
    assert OTHER not in cards(browser), dump(cards(browser))
    assert any(
        OTHER in c["text"] for c in browser.script(CARDS) if c["device"] is None
    ), dump(browser.script(CARDS))
    save(browser, "dashboard-card-phone", docs=True)
    gateway = f"http://127.0.0.1:{lab.gateway_ports[HOOD]}/"
    opened_from(
        browser,
        lambda: browser.script(
            f"""{DEEP_ALL}
            const card = deepAll(document, "fluxilab-device-card").find((c) =>
              c.shadowRoot.querySelector('ha-card[data-device="{HOOD}"]'));
            card.shadowRoot.querySelector('button[data-action="open"]').click();
            return true;"""
        ),
        gateway,
    )
    # Back to Home Assistant's tab, the device UI's closed.
    browser.cmd("DELETE", "/window")
    browser.switch_to(browser.windows[0])

    browser.get(f"{lab.url}/fluxilab/lab")
    opened_from(
        browser,
        lambda: click(browser, f'button[data-action="open"][data-device="{HOOD}"]'),
        gateway,
    )
    save(browser, "device-ui-phone", docs=True)


def opened_from(browser: Browser, press: Any, gateway: str) -> None:
    """Press Open: the device UI opens in a new tab, Home Assistant stays where it was.

    Ends in the new tab, showing the device UI as Ada.
    """
    home = browser.windows
    before = browser.url
    press()
    opened = browser.wait(
        lambda: [h for h in browser.windows if h not in home], 30, "the new tab"
    )
    assert browser.url == before
    browser.switch_to(opened[0])
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


def history_rows(browser: Browser) -> dict[str, list[str]]:
    """The usage history's rows on screen: each session's cells by its key."""
    rows: dict[str, list[str]] = browser.script(
        f"""{DEEP_QUERY}
        const root = deep(document, "fluxilab-panel")?.shadowRoot;
        const rows = root ? [...root.querySelectorAll('table[data-table="history"] > tbody > tr[data-key]')] : [];
        return Object.fromEntries(rows.map((row) =>
          [row.dataset.key, [...row.cells].map((cell) => cell.textContent.trim())]));"""
    )
    return rows


@pytest.mark.timeout(900)
def test_the_usage_history_is_live(lab: Lab, browser: Browser) -> None:
    """Issue 18 item 7: an admin on Usage history sees a session end without Filter."""
    set_up_the_lab(lab)  # Ada's session at the hood is open
    login(browser, lab, ADMIN, "/fluxilab/admin/history")
    rows = browser.wait(
        lambda: (found := history_rows(browser)) and found,
        60,
        "the latest sessions, without pressing Filter",
    )
    ((key, cells),) = rows.items()
    assert cells[0] == "Ada", cells
    assert cells[3] == "open", cells
    # Ada swipes again at the hood: her session ends, and the row says so.
    lab.agent_cli("swipe", "--device", HOOD, "--card", CARD)
    ended = browser.wait(
        lambda: (row := history_rows(browser).get(key)) and row[3] != "open" and row,
        60,
        "the session's end in the usage history",
    )
    assert ended[3], ended
