"""Roles in Chromium (docs/ACCESS.md, "Roles and permissions").

The admin adds a lab role in *Admin → Roles* (the built-in ones are shown, fixed),
gives it a flag from its row, finds it in a member's role picker and gives it to a
member; deleting it is then refused with the hub's reason, and once nobody has it,
it goes.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import (
    ADMIN,
    Lab,
    click,
    confirm,
    login,
    panel_query,
    panel_text,
    toast,
)
from tests.browser.test_billing_browser import set_value
from tests.browser.test_dashboard_browser import ok, wait_for
from tests.browser.test_panel_browser import admin_state
from tests.browser.webdriver import Browser


def lab_role(lab: Lab, role_id: str) -> dict[str, Any] | None:
    return next((r for r in admin_state(lab)["roles"] if r["id"] == role_id), None)


@pytest.mark.timeout(900)
def test_roles_in_the_panel(lab: Lab, browser: Browser) -> None:
    (made,) = lab.ws({"type": "fluxilab/member/create", "name": "Tess"})
    tess = ok(made)["id"]
    login(browser, lab, ADMIN, "/fluxilab/admin/roles")
    browser.wait(
        lambda: panel_query(browser, 'table[data-table="roles"] tr[data-role="staff"]'),
        60,
        "the roles view",
    )
    # The built-in roles' flags are shown and cannot be changed.
    staff_box = panel_query(
        browser, 'tr[data-role="staff"] input[data-flag="maintenance"]'
    )
    assert browser.script("return arguments[0].checked", staff_box) is True
    assert browser.script("return arguments[0].disabled", staff_box) is True

    set_value(browser, 'form[data-form="role"] input[name="name"]', "Technician")
    click(browser, 'form[data-form="role"] input[name="maintenance"]')
    click(browser, 'button[data-action="role-create"]')
    role = wait_for(lambda: lab_role(lab, "technician"), "the role saved")
    assert (role["maintenance"], role["supervisor"]) == (True, False)

    browser.wait(
        lambda: panel_query(browser, 'tr[data-role="technician"]'), 30, "its row"
    )
    click(browser, 'tr[data-role="technician"] input[data-flag="supervisor"]')
    wait_for(
        lambda: (lab_role(lab, "technician") or {}).get("supervisor"),
        "the flag saved",
    )

    # The members' role picker offers it; the member gets it.
    browser.get(f"{lab.url}/fluxilab/admin/members")
    picker = f'select[data-action="member-role"][data-member="{tess}"]'
    browser.wait(lambda: panel_query(browser, picker), 60, "the members view")
    options = browser.script(
        "return [...arguments[0].options].map((o) => o.value)",
        panel_query(browser, picker),
    )
    assert "technician" in options
    browser.script(
        """const select = arguments[0];
        select.value = "technician";
        select.dispatchEvent(new Event("change", {bubbles: true}));""",
        panel_query(browser, picker),
    )
    wait_for(
        lambda: next(m for m in admin_state(lab)["members"] if m["id"] == tess)["role"]
        == "technician",
        "the member's role saved",
    )

    # In use: the hub refuses the delete, and says why.
    browser.get(f"{lab.url}/fluxilab/admin/roles")
    delete = 'tr[data-role="technician"] button[data-action="role-delete"]'
    browser.wait(lambda: panel_query(browser, delete), 60, "the roles view again")
    click(browser, delete)
    confirm(browser)
    refusal = browser.wait(
        lambda: toast(browser) if "Technician" in toast(browser) else None,
        30,
        "the hub's refusal",
    )
    assert "1" in refusal, refusal  # how many members have it
    assert lab_role(lab, "technician") is not None

    ok(lab.ws({"type": "fluxilab/member/update", "member_id": tess, "role": "user"})[0])
    browser.get(f"{lab.url}/fluxilab/admin/roles")
    browser.wait(lambda: panel_query(browser, delete), 60, "the roles view once more")
    click(browser, delete)
    confirm(browser)
    wait_for(lambda: lab_role(lab, "technician") is None, "the role deleted")
    browser.wait(
        lambda: panel_query(browser, 'tr[data-role="technician"]') is None,
        30,
        "its row gone",
    )
    assert "Technician" not in panel_text(browser)
