"""Issue 9 item 1 in the panel: cards and PIN per member, as an admin and a member.

The admin opens a member's credentials from the members table, deactivates one card
and adds another with a label; the member opens their profile and reports a card
lost. Each step is checked against the backend. Screenshots go to artifacts/browser/.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import (
    ADMIN,
    DEVICES,
    MEMBER,
    Lab,
    click,
    confirm,
    dump,
    login,
    panel_query,
    save,
)
from tests.browser.webdriver import Browser

FIRST, SECOND, ADDED = "04B1C2D3E4", "04F5A6B7C8", "04D00D1E55"
TWIN = "04EEEEB7C8"  # ends as SECOND does


def credentials(lab: Lab, member_id: str) -> dict[str, dict[str, Any]]:
    """The member's credentials by card uid (the PIN under ``pin``), from the backend."""
    (reply,) = lab.ws({"type": "fluxilab/credentials/list", "member_id": member_id})
    assert reply["success"], dump(reply)
    return {c.get("card") or c["type"]: c for c in reply["result"]["credentials"]}


@pytest.mark.timeout(600)
def test_item1_credentials_in_the_panel(lab: Lab, browser: Browser) -> None:
    (reply,) = lab.ws(
        {
            "type": "fluxilab/member/create",
            "name": "Ada",
            "cards": [FIRST, SECOND],
            "pin": "246810",
            "user_id": lab.member_user_id,
        }
    )
    assert reply["success"], dump(reply)
    member_id = reply["result"]["id"]
    held = credentials(lab, member_id)

    # The admin: Members, Edit on Ada's row, deactivate the first card, add one.
    login(browser, lab, ADMIN, "/fluxilab")
    click(browser, 'button[data-tab="admin"]')
    click(browser, f'button[data-action="credentials-edit"][data-member="{member_id}"]')
    click(
        browser,
        f'button[data-action="credential-toggle"][data-credential="{held[FIRST]["id"]}"]',
    )
    browser.wait(
        lambda: credentials(lab, member_id)[FIRST]["active"] is False,
        30,
        "the first card deactivated",
    )
    secret = browser.wait(
        lambda: panel_query(
            browser, 'form[data-form="credential-add"] input[name="secret"]'
        ),
        30,
        "the add form",
    )
    browser.type(secret, ADDED)
    browser.type(
        panel_query(browser, 'form[data-form="credential-add"] input[name="label"]'),
        "Watch",
    )
    click(browser, 'form[data-form="credential-add"] button[type="submit"]')
    browser.wait(
        lambda: credentials(lab, member_id).get(ADDED, {}).get("label") == "Watch",
        30,
        "the added card",
    )
    browser.wait(
        lambda: panel_query(
            browser,
            f'button[data-action="credential-toggle"][data-credential="{held[FIRST]["id"]}"][data-active="true"]',
        ),
        30,
        "the Activate button",
    )
    save(browser, "credentials-admin")

    # A card with the second's label and last four (issue 18 item 9): the two show
    # the day each was added.
    (twin,) = lab.ws(
        {
            "type": "fluxilab/credentials/add",
            "member_id": member_id,
            "credential_type": "card",
            "card": TWIN,
            "label": held[SECOND]["label"],
        }
    )
    assert twin["success"], dump(twin)
    # An authorization until June 30, 2027: the end of that day in Rome, the lab's
    # time zone (stored as 21:59:59 UTC).
    (grant,) = lab.ws(
        {
            "type": "fluxilab/authorization/create",
            "member_id": member_id,
            "device_id": DEVICES[0],
            "expires": "2027-06-30T23:59:59",
        }
    )
    assert grant["success"], dump(grant)

    # The member: profile, report the second card lost.
    browser.script("localStorage.clear(); sessionStorage.clear();")
    browser.cmd("DELETE", "/cookie")
    # Ada reads her profile in Tokyo, seven hours ahead of the lab: still June 30.
    browser.cmd(
        "POST",
        "/goog/cdp/execute",
        {
            "cmd": "Emulation.setTimezoneOverride",
            "params": {"timezoneId": "Asia/Tokyo"},
        },
    )
    login(browser, lab, MEMBER, "/fluxilab")
    click(browser, 'button[data-tab="profile"]')
    expiry = browser.wait(
        lambda: browser.script(
            "const el = arguments[0]; return el ? el.textContent : '';",
            panel_query(
                browser,
                f'tr[data-authorization="{grant["result"]["id"]}"] td:nth-child(2)',
            ),
        ),
        30,
        "the authorization's expiry",
    )
    assert expiry.strip() == "Jun 30, 2027", expiry
    # It lapses that day too (not "6/30/27, 9:59 PM", not July 1).
    lapses = browser.wait(
        lambda: browser.script(
            "const el = arguments[0]; return el ? el.textContent : '';",
            panel_query(
                browser,
                f'tr[data-authorization="{grant["result"]["id"]}"] td:nth-child(5)',
            ),
        ),
        30,
        "the authorization's lapse date",
    )
    assert " ".join(lapses.split()) == "Jun 30, 2027 (expires)", lapses
    lost = (
        f'button[data-action="credential-lost"][data-credential="{held[SECOND]["id"]}"]'
    )
    browser.wait(lambda: panel_query(browser, lost), 30, "the Report lost button")
    for alike in (held[SECOND]["id"], twin["result"]["id"]):
        assert panel_query(browser, f'[data-added="{alike}"]'), alike
    assert panel_query(browser, f'[data-added="{held[FIRST]["id"]}"]') is None
    click(browser, lost)
    # The dialog names the card by its label and masked number.
    asked = confirm(browser, "Deactivate")
    assert f"{held[SECOND]['label']} (" in asked, asked
    assert "B7C8)" in asked, asked
    browser.wait(
        lambda: credentials(lab, member_id)[SECOND]["active"] is False,
        30,
        "the second card reported lost",
    )
    after = credentials(lab, member_id)
    assert after[ADDED]["active"] is True
    assert after["pin"]["active"] is True
    # The member sees their cards masked, and no admin controls.
    browser.wait(
        lambda: panel_query(browser, lost) is None,
        30,
        "the reported card's button gone",
    )
    assert panel_query(browser, 'button[data-action="credential-remove"]') is None
    save(browser, "credentials-member")


def panel_text(browser: Browser, selector: str) -> str:
    """The text of an element inside the panel ("" while it is not there)."""
    return str(
        browser.script(
            "const el = arguments[0]; return el ? el.textContent : '';",
            panel_query(browser, selector),
        )
        or ""
    )


@pytest.mark.timeout(600)
def test_issue14_reset_pin_then_the_member_replaces_it(
    lab: Lab, browser: Browser
) -> None:
    """Issue 14 finding 4 in the panel: Reset PIN shows a one-time initial PIN once;
    the member's profile asks to replace it, with the initial one as the current."""
    (reply,) = lab.ws(
        {
            "type": "fluxilab/member/create",
            "name": "Bea",
            "cards": [FIRST],
            "user_id": lab.member_user_id,
        }
    )
    assert reply["success"], dump(reply)
    member_id = reply["result"]["id"]

    login(browser, lab, ADMIN, "/fluxilab")
    click(browser, 'button[data-tab="admin"]')
    click(browser, f'button[data-action="credentials-edit"][data-member="{member_id}"]')
    # The add form takes cards only: an admin never types a member's PIN.
    browser.wait(
        lambda: panel_query(browser, 'form[data-form="credential-add"]'), 30, "form"
    )
    assert panel_query(browser, 'select[name="credential_type"]') is None
    # The editor opens at the member's own row, not at the foot of the table.
    assert panel_query(
        browser,
        f'tr[data-key="{member_id}"] + tr.editor-row[data-editor="{member_id}"]',
    )
    click(
        browser,
        f'button[data-action="credential-reset-pin"][data-member="{member_id}"]',
    )
    confirm(browser, "new initial PIN")
    browser.wait(
        lambda: credentials(lab, member_id).get("pin", {}).get("must_change"),
        30,
        "the initial PIN",
    )
    shown = browser.wait(
        lambda: panel_text(browser, ".message.success"), 30, "the issued PIN"
    )
    initial = next(word for word in shown.replace(":", " ").split() if word.isdigit())
    assert len(initial) == 8, shown
    save(browser, "credentials-reset-pin")

    browser.script("localStorage.clear(); sessionStorage.clear();")
    browser.cmd("DELETE", "/cookie")
    login(browser, lab, MEMBER, "/fluxilab")
    click(browser, 'button[data-tab="profile"]')
    browser.wait(
        lambda: panel_query(browser, '[data-pin="must-change"]'), 30, "the prompt"
    )
    for name, value in (
        ("current_pin", "00000000"),
        ("new_pin", "bea-own-pin"),
        ("repeat_pin", "bea-own-pin"),
    ):
        browser.type(
            panel_query(browser, f'form[data-form="pin"] input[name="{name}"]'), value
        )
    # Issue 18 item 3: a wrong current PIN is said at its field, in words, and
    # what was typed stays.
    click(browser, 'form[data-form="pin"] button[type="submit"]')
    said = browser.wait(
        lambda: panel_text(browser, '[data-error="current_pin"]'),
        30,
        "the error at the current PIN",
    )
    assert said == "The current PIN is wrong.", said
    kept = browser.script(
        "return arguments[0].value;",
        panel_query(browser, 'form[data-form="pin"] input[name="new_pin"]'),
    )
    assert kept == "bea-own-pin"
    save(browser, "credentials-wrong-pin")
    current = panel_query(browser, 'form[data-form="pin"] input[name="current_pin"]')
    browser.script("arguments[0].value = '';", current)
    browser.type(current, initial)
    click(browser, 'form[data-form="pin"] button[type="submit"]')
    browser.wait(
        lambda: credentials(lab, member_id)["pin"]["must_change"] is False,
        30,
        "the PIN replaced",
    )
    browser.wait(
        lambda: panel_query(browser, '[data-pin="must-change"]') is None,
        30,
        "the prompt gone",
    )
    save(browser, "credentials-pin-replaced")
