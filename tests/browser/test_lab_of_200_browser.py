"""Issue 18's acceptance in Chromium: the admin console as a lab of 200 members uses it.

The lab has 50 devices: the two signed agents (fumehoods) and 48 emulated
Fab-O-Matic boards (scripts/fabomatic_emulator.py), adopted through FluxiLab's config
flow, given machine types by the options flow and named after their machine
("Laser 3") by the reconfigure flow, with scripts/dev_lab.py's own steps; 200
members are added through the websocket API. Then, at 1280x800 and at a 390x844
phone viewport, the admin sees the Lab view's 50 machines grouped by type and in
the order people count (Laser 2 before Laser 10), finds a member by typing, makes
them an admin through a confirmation dialog, grants three members two machines
picked by typing among the 50 and sees the toast and the six new rows, finds the
grant in the audit log with the admin's name, gets a translated error next to an
empty grant (never the raw validation text), and reloads to land on the same tab;
on the phone no admin tab scrolls sideways; in Italian the same error reads in
Italian. Screenshots go to docs/screenshots/.

The big lab is this module's own ``lab`` fixture: the other browser tests keep
conftest's two-device lab.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import product
from pathlib import Path
import time
from typing import Any

import pytest

from tests.browser.conftest import (
    ADMIN,
    DEEP_QUERY,
    DEVICES,
    Lab,
    _wait,
    click,
    confirm,
    dump,
    login,
    panel_query,
    panel_text,
    running_lab,
    save,
    toast,
)
from tests.browser.test_panel_browser import admin_state, pick
from tests.browser.webdriver import Browser

FIRST_NAMES = (
    "Ada", "Bruno", "Carla", "Dario", "Elena", "Fabio", "Giulia", "Hugo", "Irene",
    "Luca", "Marta", "Nico", "Olga", "Paolo", "Rita", "Sara", "Tommaso", "Ugo",
    "Vera", "Zeno",
)  # fmt: skip
LAST_NAMES = (
    "Rossi", "Bianchi", "Verdi", "Neri", "Gallo", "Conti", "Costa", "Fontana",
    "Greco", "Marino",
)  # fmt: skip
MEMBERS = [f"{first} {last}" for first, last in product(FIRST_NAMES, LAST_NAMES)]
HOOD = DEVICES[0]
DESKTOP = (1280, 800)
PHONE = (390, 844)
BOARD_TYPES = ("Laser", "3D printer", "CNC mill")
PER_TYPE = 16
BOARDS = range(1, len(BOARD_TYPES) * PER_TYPE + 1)
"""48 boards (machine/1 to machine/48): Laser 1-16, 3D printer 1-16, CNC mill 1-16."""
ADMIN_NAME = "Lab Admin"


def board_type(title: str) -> str:
    """The machine type of a device, from its title as adopted ("Fab-O-Matic 7")."""
    if not title.startswith("Fab-O-Matic "):
        return "Fumehood"
    return BOARD_TYPES[(int(title.rsplit(" ", 1)[1]) - 1) // PER_TYPE]


def board_name(title: str) -> str:
    """A board's name after its machine: "Fab-O-Matic 18" is "3D printer 2"."""
    number = (int(title.rsplit(" ", 1)[1]) - 1) % PER_TYPE + 1
    return f"{board_type(title)} {number}"


async def _set_up_devices(dev_lab: Any, api: Any) -> None:
    """Machine types (options flow), then names (reconfigure flow), as dev_lab does."""
    types = {}
    for name in (*BOARD_TYPES, "Fumehood"):
        data: dict[str, Any] = {"name": name}
        if name == "Fumehood":
            data["safety_limits"] = [{"channel": "face_velocity", "min": 0.4}]
        created = await api.ws({"type": "fluxilab/machine_type/create", **data})
        types[name] = created["id"]
    await dev_lab.configure_devices(api, types, type_for=board_type)
    entries = await api.rest("GET", "/api/config/config_entries/entry?domain=fluxilab")
    assert await dev_lab.rename_boards(api, entries, board_name) == len(BOARDS)


@pytest.fixture
def lab(tmp_path: Path, socket_enabled: None) -> Iterator[Lab]:
    """The lab of 50 devices: conftest's two agents and 48 Fab-O-Matic boards."""
    started = time.monotonic()
    with running_lab(tmp_path / "lab", boards=BOARDS) as running:
        adopted = time.monotonic()
        running.dev_lab(_set_up_devices)

        def not_ready() -> list[str]:
            devices = admin_state(running)["devices"]
            return [
                f"{d['device_id']} ({d['name']}, online={d['online']}, "
                f"type={d['machine_type']})"
                for d in devices
                if not d["online"]
                or not d["machine_type"]
                or d["name"].startswith("Fab-O-Matic")
            ] or ([] if len(devices) == 50 else [f"{len(devices)} devices"])

        try:
            _wait(lambda: not not_ready(), 120, "50 named, typed devices online")
        except AssertionError as err:
            raise AssertionError(f"{err}: {not_ready()}") from None
        print(
            f"lab of 50 devices: started and adopted in {adopted - started:.0f} s, "
            f"typed and named in {time.monotonic() - adopted:.0f} s"
        )
        yield running


def slug(name: str) -> str:
    """The id the member collection gives a name."""
    return name.lower().replace(" ", "_")


def seed(lab: Lab) -> None:
    """200 members and a machine type, as an admin's scripts would add them."""
    replies = lab.ws(
        *({"type": "fluxilab/member/create", "name": name} for name in MEMBERS),
        {"type": "fluxilab/machine_type/create", "name": "Laser cutter"},
    )
    failed = [reply for reply in replies if not reply["success"]]
    assert not failed, dump(failed)
    assert len(admin_state(lab)["members"]) == len(MEMBERS) == 200


def viewport(browser: Browser, size: tuple[int, int]) -> None:
    """Size the page's viewport (not the window) to ``size``."""
    width, height = size
    browser.cmd("POST", "/window/rect", {"width": width, "height": height})
    inner = browser.script("return [window.innerWidth, window.innerHeight]")
    browser.cmd(
        "POST",
        "/window/rect",
        {"width": 2 * width - inner[0], "height": 2 * height - inner[1]},
    )
    browser.wait(
        lambda: browser.script("return [window.innerWidth, window.innerHeight]")
        == [width, height],
        10,
        f"a {width}x{height} viewport",
    )


def table_keys(browser: Browser, table: str) -> list[str]:
    """The row keys a data table shows now (its current page)."""
    keys: list[str] = browser.script(
        f"""{DEEP_QUERY}
        const root = deep(document, "fluxilab-panel").shadowRoot;
        return [...root.querySelectorAll('table[data-table="{table}"] > tbody > tr[data-key]')]
          .map((row) => row.dataset.key);"""
    )
    return keys


def search(browser: Browser, typed: str) -> None:
    """Type into the search box of the data table on screen."""
    field = browser.wait(
        lambda: panel_query(browser, "fluxilab-data-table input.search"),
        30,
        "the table's search box",
    )
    browser.script("arguments[0].value = '';", field)
    browser.type(field, typed)


def no_sideways_scroll(browser: Browser) -> bool:
    """The panel fits the viewport's width (nothing to scroll sideways)."""
    return bool(
        browser.script(
            f"""{DEEP_QUERY}
            const main = deep(document, "fluxilab-panel").shadowRoot.getElementById("content");
            return main.scrollWidth <= main.clientWidth + 1;"""
        )
    )


def page_fits(browser: Browser) -> bool:
    """Neither the page nor the panel is wider than the viewport."""
    return bool(
        browser.script(
            f"""{DEEP_QUERY}
            const main = deep(document, "fluxilab-panel").shadowRoot.getElementById("content");
            return document.documentElement.scrollWidth <= window.innerWidth
              && main.scrollWidth <= main.clientWidth + 1;"""
        )
    )


def lab_groups(browser: Browser) -> dict[str, list[str]]:
    """The Lab view's groups (heading: device names, in the order shown)."""
    groups: list[list[Any]] = browser.script(
        f"""{DEEP_QUERY}
        const root = deep(document, "fluxilab-panel").shadowRoot;
        return [...root.querySelectorAll("fluxilab-lab-view .grid[data-group]")].map((grid) => [
          grid.previousElementSibling.textContent.trim(),
          [...grid.querySelectorAll(".card.device h3")].map((h) => h.textContent.trim()),
        ]);"""
    )
    return dict(groups)


def the_lab_view(browser: Browser, size: tuple[int, int]) -> dict[str, list[str]]:
    """The Lab view with its 50 machines at ``size``: its groups once all are shown."""
    viewport(browser, size)
    click(browser, 'nav.tabs button[data-tab="lab"]')
    groups: dict[str, list[str]] = browser.wait(
        lambda: (g := lab_groups(browser)) and sum(map(len, g.values())) == 50 and g,
        60,
        "the 50 machines in the Lab view",
    )
    return groups


def audit_rows(browser: Browser) -> list[str]:
    """The text of each row the audit table shows now."""
    found: list[str] = browser.script(
        f"""{DEEP_QUERY}
        const root = deep(document, "fluxilab-panel").shadowRoot;
        return [...root.querySelectorAll('table[data-table="audit"] > tbody > tr[data-key]')]
          .map((row) => row.innerText);"""
    )
    return found


def choose_kind(browser: Browser, kind: str) -> None:
    """Pick an audit kind in the view's kind filter."""
    browser.script(
        f"""{DEEP_QUERY}
        const select = deep(document, "fluxilab-panel").shadowRoot
          .querySelector('select[name="kind_filter"]');
        select.value = arguments[0];
        select.dispatchEvent(new Event("change", {{bubbles: true}}));""",
        kind,
    )


def every_admin_tab_fits(browser: Browser) -> list[str]:
    """Open each admin tab; return those wider than the viewport (sideways scroll)."""
    tabs: list[str] = browser.script(
        f"""{DEEP_QUERY}
        return [...deep(document, "fluxilab-panel").shadowRoot
          .querySelectorAll('nav.sub button[data-action="admin-tab"]')].map((b) => b.dataset.tab);"""
    )
    assert len(tabs) >= 9, tabs
    wide = []
    for tab in tabs:
        click(browser, f'button[data-action="admin-tab"][data-tab="{tab}"]')
        browser.wait(
            lambda t=tab: browser.url.endswith(f"/fluxilab/admin/{t}")
            and "Loading…" not in panel_text(browser),
            30,
            f"the {tab} tab",
        )
        time.sleep(0.5)  # what the tab loads after it shows
        if not page_fits(browser):
            save(browser, f"too-wide-{tab}")
            wide.append(f"{tab}: {widest(browser)}")
    return wide


def widest(browser: Browser) -> str:
    """The panel's elements that reach past the viewport's right edge (diagnostics)."""
    found: list[str] = browser.script(
        f"""{DEEP_QUERY}
        const main = deep(document, "fluxilab-panel").shadowRoot.getElementById("content");
        const scrolls = (el) => {{
          for (let up = el.parentElement; up && up !== main; up = up.parentElement) {{
            if (["auto", "scroll"].includes(getComputedStyle(up).overflowX)) return true;
          }}
          return false;
        }};
        return [...main.querySelectorAll("*")]
          .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1 && !scrolls(el))
          .slice(0, 8)
          .map((el) => `${{el.tagName.toLowerCase()}}.${{el.className}}[${{el.getAttribute("name") || ""}}]`
            + ` ${{Math.round(el.getBoundingClientRect().width)}}px`);"""
    )
    return ", ".join(found)


def members_by_typing(browser: Browser, lab: Lab, size: tuple[int, int]) -> None:
    """Find a member among 200 by typing, at ``size``."""
    viewport(browser, size)
    browser.wait(
        lambda: panel_query(browser, 'table[data-table="members"]'), 60, "members"
    )
    # A page of 25, not 200 rows: the table pages.
    assert len(table_keys(browser, "members")) == 25
    search(browser, "giulia ver")
    browser.wait(
        lambda: table_keys(browser, "members") == ["giulia_verdi"],
        30,
        "Giulia Verdi found by typing",
    )


@pytest.mark.timeout(900)
def test_a_lab_of_200_members(lab: Lab, browser: Browser) -> None:
    seed(lab)
    login(browser, lab, ADMIN, "/fluxilab")

    # The Lab view: 50 machines by type, in the order people count.
    groups = the_lab_view(browser, DESKTOP)
    assert list(groups) == ["3D printer", "CNC mill", "Fumehood", "Laser"], dump(groups)
    assert groups["Laser"] == [f"Laser {n}" for n in range(1, 17)], dump(groups)
    assert groups["3D printer"][:3] == ["3D printer 1", "3D printer 2", "3D printer 3"]
    assert len(groups["Fumehood"]) == len(DEVICES), dump(groups)
    # Boards never pair: no "Not paired" on them (nor on the paired agents).
    assert "Not paired" not in panel_text(browser)
    save(browser, "lab-50-devices", docs=True)

    # Desktop: find a member by typing; the address says where we are.
    click(browser, 'nav.tabs button[data-tab="admin"]')
    members_by_typing(browser, lab, DESKTOP)
    assert browser.url.endswith("/fluxilab/admin/members"), browser.url
    save(browser, "admin-members-search", docs=True)

    # What is being typed survives a live update of the admin data.
    name = panel_query(browser, 'form[data-form="member"] input[name="name"]')
    browser.type(name, "Half typed")
    (added,) = lab.ws({"type": "fluxilab/member/create", "name": "Live Update"})
    assert added["success"], dump(added)
    browser.wait(
        lambda: browser.script(
            f"""{DEEP_QUERY}
            return deep(document, "fluxilab-panel").admin.members.length;"""
        )
        == len(MEMBERS) + 1,
        30,
        "the live update",
    )
    assert browser.script("return arguments[0].value;", name) == "Half typed"
    browser.script("arguments[0].value = '';", name)

    # A role change to admin is asked first; cancelling changes nothing.
    def choose_role(role: str) -> None:
        browser.script(
            f"""{DEEP_QUERY}
            const select = deep(document, "fluxilab-panel").shadowRoot
              .querySelector('select[data-action="member-role"][data-member="giulia_verdi"]');
            select.value = arguments[0];
            select.dispatchEvent(new Event("change", {{bubbles: true}}));""",
            role,
        )

    choose_role("admin")
    browser.wait(
        lambda: panel_query(browser, "dialog.confirm[open]"), 30, "the question"
    )
    save(browser, "admin-confirm-role", docs=True)
    click(browser, 'dialog.confirm[open] button[data-confirm="no"]')
    browser.wait(
        lambda: panel_query(browser, "dialog.confirm[open]") is None, 30, "closed"
    )
    giulia = next(m for m in admin_state(lab)["members"] if m["id"] == "giulia_verdi")
    assert giulia["role"] == "user", dump(giulia)
    choose_role("admin")
    asked = confirm(browser, "Giulia Verdi")
    assert "lab admin" in asked, asked
    browser.wait(
        lambda: next(
            m for m in admin_state(lab)["members"] if m["id"] == "giulia_verdi"
        )["role"]
        == "admin",
        30,
        "Giulia made an admin",
    )
    browser.wait(lambda: "Giulia Verdi saved." in toast(browser), 30, "the toast")

    # Grant: nothing picked is refused next to the field, in words.
    click(browser, 'button[data-action="admin-tab"][data-tab="authorizations"]')
    browser.wait(
        lambda: browser.url.endswith("/fluxilab/admin/authorizations"),
        30,
        "the address of the tab",
    )
    click(browser, 'form[data-form="grant"] button[type="submit"]')
    shown = browser.wait(
        lambda: panel_text(browser)
        if "Pick at least one member." in panel_text(browser)
        else "",
        30,
        "the error at the member picker",
    )
    assert "length of value" not in shown
    assert "member_ids" not in shown
    assert panel_query(browser, 'fluxilab-picker[name="member_ids"] .field-error'), (
        "the error is not at its field"
    )

    # Three members among 200, two machines among 50, picked by typing.
    chosen = ["Ada Rossi", "Marta Costa", "Zeno Marino"]
    for name in chosen:
        pick(
            browser,
            "member_ids",
            name.split()[0].lower() + " " + name.split()[1][:3],
            slug(name),
        )
    machines = {"fabomatic-10": "Laser 10", "fabomatic-18": "3D printer 2"}
    pick(browser, "target", "laser 10", "device:fabomatic-10")
    pick(browser, "target", "printer 2", "device:fabomatic-18")
    before = {a["id"] for a in admin_state(lab)["authorizations"]}
    click(browser, 'form[data-form="grant"] button[type="submit"]')
    browser.wait(
        lambda: "6 authorizations granted." in toast(browser), 30, "the grant's toast"
    )
    created = [a for a in admin_state(lab)["authorizations"] if a["id"] not in before]
    expected = {(slug(name), device) for name in chosen for device in machines}
    assert {(a["member_id"], a.get("device_id")) for a in created} == expected, dump(
        created
    )
    # The new rows are on the first page, marked new.
    browser.wait(
        lambda: {a["id"] for a in created}
        <= set(table_keys(browser, "authorizations")),
        30,
        "the new rows",
    )
    assert panel_text(browser).count("New") >= 6
    save(browser, "admin-grant-done", docs=True)

    # A reload lands on the same tab.
    browser.get(browser.url)
    browser.wait(
        lambda: panel_query(
            browser,
            'button[data-action="admin-tab"][data-tab="authorizations"][aria-selected="true"]',
        ),
        60,
        "the authorizations tab after the reload",
    )
    browser.wait(
        lambda: panel_query(browser, 'table[data-table="authorizations"]'),
        60,
        "the authorizations table after the reload",
    )

    # The audit log: the grant, by the admin's name, about the member and the machine.
    click(browser, 'button[data-action="admin-tab"][data-tab="audit"]')
    browser.wait(
        lambda: browser.url.endswith("/fluxilab/admin/audit"), 30, "the audit tab"
    )
    browser.wait(lambda: audit_rows(browser), 60, "the audit log")
    choose_kind(browser, "admin")
    row = browser.wait(
        lambda: next(
            (r for r in audit_rows(browser) if "Laser 10" in r and "Zeno Marino" in r),
            None,
        ),
        60,
        "the grant in the audit log",
    )
    assert ADMIN_NAME in row, row
    assert "fabomatic-10" not in row, row
    save(browser, "lab-50-audit-grant")

    # The phone: the same search, no table scrolling sideways, the tab in sight.
    click(browser, 'button[data-action="admin-tab"][data-tab="authorizations"]')
    viewport(browser, PHONE)
    assert every_admin_tab_fits(browser) == [], "admin tabs wider than a phone"
    click(browser, 'button[data-action="admin-tab"][data-tab="members"]')
    members_by_typing(browser, lab, PHONE)
    browser.wait(lambda: no_sideways_scroll(browser), 15, "no sideways scroll")
    selected: Any = browser.script(
        f"""{DEEP_QUERY}
        const button = deep(document, "fluxilab-panel").shadowRoot
          .querySelector('nav.sub button[aria-selected="true"]');
        const box = button.getBoundingClientRect();
        return box.left >= 0 && box.right <= window.innerWidth;"""
    )
    assert selected is True
    save(browser, "admin-members-phone", docs=True)
    click(browser, 'button[data-action="admin-tab"][data-tab="authorizations"]')
    browser.wait(
        lambda: panel_query(browser, 'table[data-table="authorizations"]'), 30, "table"
    )
    browser.wait(lambda: no_sideways_scroll(browser), 15, "no sideways scroll")
    save(browser, "admin-authorizations-phone", docs=True)

    # The Lab view on the phone: the same groups, one column, nothing sideways.
    assert the_lab_view(browser, PHONE) == groups
    assert page_fits(browser)
    save(browser, "lab-50-devices-phone", docs=True)
    click(browser, 'nav.tabs button[data-tab="admin"]')
    click(browser, 'button[data-action="admin-tab"][data-tab="authorizations"]')

    # In Italian (the user's Home Assistant language), the same refusal in Italian.
    (reply,) = lab.ws(
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
    )
    assert reply["success"], dump(reply)
    browser.script("""localStorage.setItem("selectedLanguage", '"it"');""")
    browser.get(browser.url)
    browser.wait(
        lambda: "Abilitazioni" in panel_text(browser), 60, "the panel in Italian"
    )
    click(browser, 'form[data-form="grant"] button[type="submit"]')
    browser.wait(
        lambda: "Scegli almeno un membro." in panel_text(browser),
        30,
        "the Italian error at the member picker",
    )
    save(browser, "admin-grant-error-it", docs=True)
