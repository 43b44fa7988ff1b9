"""Charge-back in Chromium (docs/BILLING.md): a project's statement in the panel.

The admin gives the fumehood rates in the machine-type form (12.00 an hour, at least
2,50, by the started quarter hour), Ada gets a default project; her real session at the simulated fumehood is closed, and the
admin opens *Admin → Billing*: the month's statement shows the session at 3.00 (a
quarter hour at 12.00), the printable page shows the same, and a line moved to
another project leaves the first project's statement.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.browser.conftest import (
    ADMIN,
    Lab,
    click,
    login,
    panel_query,
    panel_text,
    save,
)
from tests.browser.test_dashboard_browser import ok, set_up_the_lab, wait_for
from tests.browser.test_panel_browser import admin_state
from tests.browser.webdriver import Browser


def set_value(browser: Browser, selector: str, value: str) -> None:
    """Put ``value`` in a field of the panel, as typing it would."""
    browser.script(
        """const input = arguments[0];
        input.value = arguments[1];
        input.dispatchEvent(new Event("input", {bubbles: true}));
        input.dispatchEvent(new Event("change", {bubbles: true}));""",
        panel_query(browser, selector),
        value,
    )


def statement_total(browser: Browser) -> str | None:
    """The statement's total in cents, as the table carries it (None: none shown)."""
    row = panel_query(browser, 'table[data-table="statement-types"] tr.total')
    if row is None:
        return None
    value: str | None = browser.script("return arguments[0].dataset.total", row)
    return value


@pytest.mark.timeout(900)
def test_a_statement_in_the_panel(lab: Lab, browser: Browser) -> None:
    set_up_the_lab(lab)  # Ada's session is open on the fumehood
    ada = next(m for m in admin_state(lab)["members"] if m["name"] == "Ada")
    grant = ok(
        lab.ws(
            {
                "type": "fluxilab/project/create",
                "name": "Grant A",
                "code": "GA-1",
                "default_members": [ada["id"]],
            }
        )[0]
    )
    ok(lab.ws({"type": "fluxilab/project/create", "name": "Teaching"})[0])
    session_id = wait_for(
        lambda: next(
            (
                s["session_id"]
                for s in ok(
                    lab.ws(
                        {"type": "fluxilab/panel/admin/history", "member_id": ada["id"]}
                    )[0]
                )["sessions"]
                if s["end"] is None
            ),
            None,
        ),
        "Ada's open session",
    )
    ok(
        lab.ws(
            {
                "type": "call_service",
                "domain": "fluxilab",
                "service": "close_session",
                "service_data": {"session_id": session_id},
            }
        )[0]
    )

    # The rates, typed in the machine-type form as amounts (kept in cents).
    login(browser, lab, ADMIN, "/fluxilab/admin/machine_types")
    click(browser, 'button[data-action="type-edit"][data-type="fumehood"]')
    browser.wait(
        lambda: panel_query(browser, 'form[data-form="type"][data-type="fumehood"]'),
        15,
        "the fumehood's form",
    )
    for name, value in (
        ("billing_hourly", "12.00"),
        ("billing_minimum", "2,50"),
        ("billing_round_minutes", "15"),
    ):
        set_value(browser, f'form[data-form="type"] input[name="{name}"]', value)
    click(browser, 'form[data-form="type"] button[type="submit"]')
    fumehood = wait_for(
        lambda: next(
            (
                t
                for t in admin_state(lab)["machine_types"]
                if t["id"] == "fumehood" and t.get("billing_hourly_cents") == 1200
            ),
            None,
        ),
        "the rates saved",
    )
    assert fumehood["billing_minimum_cents"] == 250
    assert fumehood["billing_round_minutes"] == 15
    assert fumehood["billing_idle_hourly_cents"] is None

    browser.get(f"{lab.url}/fluxilab/admin/billing")
    browser.wait(
        lambda: panel_query(browser, 'form[data-form="statement"] select option'),
        60,
        "the projects",
    )
    month = datetime.now().strftime("%Y-%m")
    browser.script(
        """const input = arguments[0];
        input.value = arguments[1];
        input.dispatchEvent(new Event("change", {bubbles: true}));""",
        panel_query(browser, 'form[data-form="statement"] input[name="month"]'),
        month,
    )
    click(browser, 'button[data-action="statement"]')
    browser.wait(lambda: statement_total(browser) == "300", 60, "the statement")
    text = panel_text(browser)
    assert "Grant A (GA-1)" in text, text
    assert "Ada" in text, text
    assert "3.00" in text, text
    save(browser, "admin-billing", docs=True)

    click(browser, 'button[data-action="statement-print"]')
    browser.wait(lambda: panel_query(browser, "section.printable"), 15, "the page")
    assert "3.00" in panel_text(browser)
    save(browser, "admin-billing-print")
    click(browser, 'button[data-action="print-close"]')

    # Staff move the line to Teaching: Grant A's statement is empty then.
    teaching = next(
        p["id"]
        for p in lab.ws({"type": "fluxilab/project/list"})[0]["result"]
        if p["name"] == "Teaching"
    )
    browser.script(
        """const select = arguments[0];
        select.value = arguments[1];
        select.dispatchEvent(new Event("change", {bubbles: true}));""",
        panel_query(browser, 'select[data-action="charge-project"]'),
        teaching,
    )
    browser.wait(lambda: statement_total(browser) == "0", 60, "the line moved")
    moved = lab.ws(
        {"type": "fluxilab/billing/statement", "project_id": teaching, "month": month}
    )[0]["result"]
    assert [line["session_id"] for line in moved["lines"]] == [session_id]
    assert grant["id"] != teaching

    # Issue 18 item 3: a new project without a name is said at the name, and the
    # code typed stays.
    set_value(browser, 'form[data-form="project"] input[name="code"]', "NEW-1")
    click(browser, 'form[data-form="project"] button[type="submit"]')
    said = browser.wait(
        lambda: browser.script(
            "const el = arguments[0]; return el ? el.textContent : '';",
            panel_query(browser, 'form[data-form="project"] [data-error="name"]'),
        ),
        15,
        "the error at the project's name",
    )
    assert said == "This field is required.", said
    kept = browser.script(
        "return arguments[0].value;",
        panel_query(browser, 'form[data-form="project"] input[name="code"]'),
    )
    assert kept == "NEW-1"
