"""Issue 17 section 4 in the panel: members in by CSV, and a swiped card made a member.

The admin chooses a CSV with a good row and a bad one in Members → Import and
export: the dry run's report shows both (the bad one with its reason in words),
strict mode offers no import; unticked, Import writes the good row only. Then a
card swiped at a device and unknown becomes a new member from Unknown cards. Each
step is checked against the backend. Screenshots go to artifacts/browser/.
"""

from __future__ import annotations

from pathlib import Path
import time
from typing import Any

import pytest

from tests.browser.conftest import (
    ADMIN,
    DEVICES,
    Lab,
    click,
    confirm,
    dump,
    login,
    panel_query,
    panel_text,
    save,
)
from tests.browser.webdriver import Browser

HOOD = DEVICES[0]
STRANGER = "04BADC0FFE"
NAMESAKE = "04CA7A0515"


def members(lab: Lab) -> dict[str, dict[str, Any]]:
    (reply,) = lab.ws({"type": "fluxilab/member/list"})
    assert reply["success"], dump(reply)
    return {m["name"]: m for m in reply["result"]}


def wait_for(check: Any, what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.timeout(600)
def test_csv_import_and_a_member_from_an_unknown_card(
    lab: Lab, browser: Browser, tmp_path: Path
) -> None:
    (reply,) = lab.ws({"type": "fluxilab/machine_type/create", "name": "Laser cutter"})
    assert reply["success"], dump(reply)
    csv_file = tmp_path / "members.csv"
    csv_file.write_text(
        "name,email,role,cards,authorizations\n"
        "Carla Rossi,carla@lab.example,user,04A1B2C3D4,laser_cutter@2031-06-30\n"
        "Dario,,user,,bandsaw\n",
        encoding="utf-8",
    )

    login(browser, lab, ADMIN, "/fluxilab")
    click(browser, 'button[data-tab="admin"]')
    file_input = browser.wait(
        lambda: panel_query(browser, 'input[name="import_file"]'), 30, "the file input"
    )
    browser.type(file_input, str(csv_file))
    browser.wait(
        lambda: panel_query(browser, 'table[data-import-report] tr[data-line="3"]'),
        30,
        "the dry run's report",
    )
    text = panel_text(browser)
    assert "There is no machine type bandsaw" in text, text
    assert panel_query(browser, 'tr[data-line="2"][data-action="create"]')
    assert panel_query(browser, 'tr[data-line="3"][data-action="reject"]')
    # Strict: a rejected row, so nothing to import; and nothing was written.
    assert panel_query(browser, 'button[data-action="members-import"]') is None
    assert "Carla Rossi" not in members(lab)
    browser.script(
        "arguments[0].scrollIntoView({block: 'start'})",
        panel_query(browser, '[data-form="member-import"]'),
    )
    save(browser, "import-dry-run")

    click(browser, 'input[name="import_strict"]')
    click(browser, 'button[data-action="members-import"]')
    carla = wait_for(lambda: members(lab).get("Carla Rossi"), "Carla's member")
    assert carla["cards"] == ["04A1B2C3D4"]
    assert "Dario" not in members(lab)
    (reply,) = lab.ws({"type": "fluxilab/authorization/list"})
    assert [
        a["machine_type_id"] for a in reply["result"] if a["member_id"] == carla["id"]
    ] == ["laser_cutter"]
    save(browser, "import-applied")

    # A stranger swipes at the hood: listed as unknown, then made a member.
    lab.agent_cli("swipe", "--device", HOOD, "--card", STRANGER)
    tab = 'button[data-action="admin-tab"][data-tab="unknown_cards"]'
    # The import form is at the page's foot: back up to the tabs, as one scrolls.
    browser.script(
        "arguments[0].scrollIntoView({block: 'center'})", panel_query(browser, tab)
    )
    click(browser, tab)
    name = browser.wait(
        lambda: panel_query(
            browser,
            f'[data-form="member-from-card"][data-card="{STRANGER}"] input',
        ),
        60,
        "the unknown card's row",
    )
    browser.type(name, "Nuovo Arrivato")
    click(browser, f'[data-form="member-from-card"][data-card="{STRANGER}"] button')
    newcomer = wait_for(lambda: members(lab).get("Nuovo Arrivato"), "the new member")
    assert newcomer["cards"] == [STRANGER]
    browser.wait(
        lambda: panel_query(
            browser, f'[data-form="member-from-card"][data-card="{STRANGER}"]'
        )
        is None,
        30,
        "the card to leave the unknown list",
    )
    save(browser, "import-member-from-card")

    # Issue 18 item 4: another unknown card, for a second Carla Rossi: the panel
    # asks first, and on yes the hub makes her (it refuses a taken name unasked).
    lab.agent_cli("swipe", "--device", HOOD, "--card", NAMESAKE)
    name = browser.wait(
        lambda: panel_query(
            browser,
            f'[data-form="member-from-card"][data-card="{NAMESAKE}"] input',
        ),
        60,
        "the second unknown card's row",
    )
    browser.type(name, "Carla Rossi")
    click(browser, f'[data-form="member-from-card"][data-card="{NAMESAKE}"] button')
    asked = confirm(browser, "There is already a member named Carla Rossi")
    assert "Add another one?" in asked, asked

    def both_carlas() -> list[dict[str, Any]]:
        (reply,) = lab.ws({"type": "fluxilab/member/list"})
        return [m for m in reply["result"] if m["name"] == "Carla Rossi"]

    carlas = wait_for(lambda: len(both_carlas()) == 2 and both_carlas(), "Carla two")
    assert sorted(c["cards"][0] for c in carlas) == sorted(["04A1B2C3D4", NAMESAKE])
