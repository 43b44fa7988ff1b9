"""Issue 18 item 4 in Chromium: a grant made in the panel is in its audit log.

In the seeded lab of 200 members (test_lab_of_200_browser.py) the admin grants Ada
Rossi the laser cutter with the grant form, opens the audit log, keeps admin
changes only and finds the grant with the admin's name, what changed and the door,
in words; the log pages ("More" follows the hub's cursor: the seeding alone is 201
admin changes) and the member filter keeps the entries about Ada.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import (
    ADMIN,
    Lab,
    click,
    dump,
    login,
    panel_text,
    save,
)
from tests.browser.test_lab_of_200_browser import (
    ADMIN_NAME,
    PHONE,
    audit_rows,
    choose_kind,
    no_sideways_scroll,
    seed,
    table_keys,
    viewport,
)
from tests.browser.test_panel_browser import admin_state, pick
from tests.browser.webdriver import Browser

RAW = re.compile(r"\b(not_authorized|machine_type|panel/admin|fluxilab\.)")


def shown(browser: Browser) -> int:
    """How many entries the audit view says it holds."""
    match = re.search(r"(\d+) entries shown", panel_text(browser))
    return int(match.group(1)) if match else -1


@pytest.mark.timeout(900)
def test_a_grant_is_in_the_audit_log_with_the_admins_name(
    lab: Lab, browser: Browser
) -> None:
    seed(lab)
    login(browser, lab, ADMIN, "/fluxilab/admin/authorizations")
    pick(browser, "member_ids", "ada ros", "ada_rossi")
    pick(browser, "target", "laser", "type:laser_cutter")
    before = {a["id"] for a in admin_state(lab)["authorizations"]}
    click(browser, 'form[data-form="grant"] button[type="submit"]')
    browser.wait(
        lambda: any(
            a["id"] not in before and a["member_id"] == "ada_rossi"
            for a in admin_state(lab)["authorizations"]
        ),
        30,
        "the grant",
    )

    click(browser, 'button[data-action="admin-tab"][data-tab="audit"]')
    browser.wait(
        lambda: browser.url.endswith("/fluxilab/admin/audit"), 30, "the audit tab"
    )
    browser.wait(lambda: shown(browser) > 0, 60, "the audit log")
    choose_kind(browser, "admin")
    # The newest admin change first: the grant, by the admin, through the panel.
    browser.wait(
        lambda: "Authorization created: Laser cutter" in panel_text(browser),
        60,
        "the grant in the audit log",
    )
    row = next(
        r for r in audit_rows(browser) if "Authorization created: Laser cutter" in r
    )
    assert ADMIN_NAME in row, row
    assert "Ada Rossi" in row, row
    assert "Panel" in row, row
    text = panel_text(browser)
    assert not RAW.search(text), RAW.search(text)
    save(browser, "admin-audit-grant", docs=True)

    # Pages: 100 a page, "More" asks the hub for the next one.
    assert shown(browser) == 100, shown(browser)
    click(browser, 'button[data-action="audit-more"]')
    browser.wait(lambda: shown(browser) == 200, 60, "the second page")
    keys = table_keys(browser, "audit")
    assert len(keys) == len(set(keys)), dump(keys)

    # The member filter: only what concerns Ada (created, then granted).
    pick(browser, "member_id", "ada ros", "ada_rossi")
    browser.wait(lambda: shown(browser) == 2, 60, "Ada's entries")
    text = panel_text(browser)
    assert "Member created" in text, text
    assert "Authorization created: Laser cutter" in text, text
    assert text.count(ADMIN_NAME) >= 2, text

    # On a phone the rows are cards: nothing scrolls sideways.
    viewport(browser, PHONE)
    browser.wait(lambda: no_sideways_scroll(browser), 15, "no sideways scroll")
    save(browser, "admin-audit-phone", docs=True)
