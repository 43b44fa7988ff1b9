"""Maintenance in Chromium (docs/ACCESS.md, "Maintenance"): the plan and interventions.

The admin writes the fumehood's plan in the machine-type form (what to do, the
instructions' address); *Admin → Maintenance* shows it for the hood with the
instructions as a link, registers maintenance done with a note after asking, and
lists the intervention with the note and who did it.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import (
    ADMIN,
    Lab,
    click,
    confirm,
    login,
    panel_query,
    panel_text,
)
from tests.browser.test_billing_browser import set_value
from tests.browser.test_dashboard_browser import HOOD, ok, set_up_the_lab, wait_for
from tests.browser.test_panel_browser import admin_state
from tests.browser.webdriver import Browser

DESCRIPTION = "Change the filter, check the airflow"
URL = "https://lab.example/fumehood-maintenance"


@pytest.mark.timeout(900)
def test_plan_and_interventions_in_the_panel(lab: Lab, browser: Browser) -> None:
    set_up_the_lab(lab)
    login(browser, lab, ADMIN, "/fluxilab/admin/machine_types")
    click(browser, 'button[data-action="type-edit"][data-type="fumehood"]')
    browser.wait(
        lambda: panel_query(browser, 'form[data-form="type"][data-type="fumehood"]'),
        15,
        "the fumehood's form",
    )
    set_value(
        browser,
        'form[data-form="type"] textarea[name="maintenance_description"]',
        DESCRIPTION,
    )
    set_value(browser, 'form[data-form="type"] input[name="maintenance_url"]', URL)
    click(browser, 'form[data-form="type"] button[type="submit"]')
    fumehood = wait_for(
        lambda: next(
            (
                t
                for t in admin_state(lab)["machine_types"]
                if t["id"] == "fumehood" and t.get("maintenance_url") == URL
            ),
            None,
        ),
        "the plan saved",
    )
    assert fumehood["maintenance_description"] == DESCRIPTION

    browser.get(f"{lab.url}/fluxilab/admin/maintenance")
    select = 'select[data-field="maintenance-device"]'
    browser.wait(lambda: panel_query(browser, select), 60, "the maintenance view")
    browser.script(
        """const select = arguments[0];
        select.value = arguments[1];
        select.dispatchEvent(new Event("change", {bubbles: true}));""",
        panel_query(browser, select),
        HOOD,
    )
    browser.wait(
        lambda: panel_query(browser, f'section[data-plan="{HOOD}"]'), 15, "the plan"
    )
    assert DESCRIPTION in panel_text(browser)
    link = panel_query(browser, 'a[data-field="maintenance-url"]')
    assert browser.script("return arguments[0].href", link) == URL

    set_value(
        browser, 'form[data-form="maintenance"] textarea[name="note"]', "New filter"
    )
    click(browser, 'button[data-action="maintenance-record"]')
    confirm(browser)
    browser.wait(
        lambda: panel_query(
            browser, 'table[data-table="interventions"] tr[data-entry]'
        ),
        30,
        "the intervention listed",
    )
    row = panel_query(browser, 'table[data-table="interventions"] tr[data-entry]')
    assert "New filter" in str(browser.script("return arguments[0].textContent", row))
    (log,) = lab.ws({"type": "fluxilab/panel/admin/maintenance_log", "device_id": HOOD})
    assert [i["note"] for i in ok(log)["interventions"]] == ["New filter"]
