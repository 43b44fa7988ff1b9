"""One identity, in the browser: the admin creates a member with a Home Assistant
login from the member form; the member logs in to Home Assistant with it and opens
their fumehood through the panel's signed link, with no second password; the admin
deactivates the member and their login goes with them, then comes back with them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import (
    ADMIN,
    DEVICES,
    Lab,
    click,
    dump,
    login,
    panel_query,
)
from tests.browser.webdriver import Browser

HOOD = DEVICES[0]
DORA = ("dora", "dora-password-1")


def _member(lab: Lab, member_id: str) -> dict[str, Any] | None:
    (reply,) = lab.ws({"type": "fluxilab/panel/admin/state"})
    return next((m for m in reply["result"]["members"] if m["id"] == member_id), None)


def _user_active(lab: Lab, user_id: str) -> bool:
    (reply,) = lab.ws({"type": "config/auth/list"})
    return bool(next(u for u in reply["result"] if u["id"] == user_id)["is_active"])


@pytest.mark.timeout(600)
def test_one_login_for_home_assistant_and_the_device(
    lab: Lab, browser: Browser
) -> None:
    login(browser, lab, ADMIN, "/fluxilab")
    click(browser, 'button[data-tab="admin"]')
    form = 'form[data-form="member"]'
    name = browser.wait(
        lambda: panel_query(browser, f'{form} input[name="name"]'), 30, "the form"
    )
    browser.type(name, "Dora")
    click(browser, f'{form} input[name="create_login"]')
    username = browser.wait(
        lambda: panel_query(browser, f'{form} input[name="login_username"]'),
        30,
        "the username field",
    )
    browser.type(username, DORA[0])
    browser.type(panel_query(browser, f'{form} input[name="login_password"]'), DORA[1])
    # On by default for a login FluxiLab creates.
    assert browser.script(
        "return arguments[0].checked",
        panel_query(browser, f'{form} input[name="deactivate_login"]'),
    )
    click(browser, f'{form} button[type="submit"]')
    dora = browser.wait(lambda: _member(lab, "dora"), 30, "Dora in the list")
    assert dora["login_created_by_fluxilab"] is True, dump(dora)
    assert dora["deactivate_login"] is True, dump(dora)
    assert _user_active(lab, dora["user_id"])
    (reply,) = lab.ws(
        {
            "type": "fluxilab/panel/admin/grant",
            "member_ids": ["dora"],
            "device_id": HOOD,
        }
    )
    assert reply["success"], dump(reply)

    # Dora: her new Home Assistant login, then the fumehood through the link.
    browser.script("localStorage.clear(); sessionStorage.clear();")
    browser.cmd("DELETE", "/cookie")
    login(browser, lab, DORA, "/fluxilab")
    browser.wait(
        lambda: panel_query(browser, f'.card.device[data-device="{HOOD}"]'),
        60,
        "Dora's fumehood",
    )
    home = browser.windows
    click(browser, f'button[data-action="open"][data-device="{HOOD}"]')
    opened = browser.wait(
        lambda: [h for h in browser.windows if h not in home], 30, "the new tab"
    )
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
    assert "Dora" in body, body[:1000]
    assert "Sign in" not in body, body[:1000]
    browser.cmd("DELETE", "/window")
    browser.switch_to(home[0])

    # The admin deactivates Dora: her login goes; reactivated, it comes back.
    browser.script("localStorage.clear(); sessionStorage.clear();")
    browser.cmd("DELETE", "/cookie")
    login(browser, lab, ADMIN, "/fluxilab")
    click(browser, 'button[data-tab="admin"]')
    for active in (False, True):
        click(
            browser,
            f'button[data-action="member-active"][data-member="dora"]'
            f'[data-active="{str(active).lower()}"]',
        )
        browser.wait(
            lambda a=active: _user_active(lab, dora["user_id"]) is a,
            30,
            f"Dora's login active={active}",
        )
    # The toggle on her row turns the option off; then her login stays.
    click(browser, 'input[data-action="member-deactivate-login"][data-member="dora"]')
    browser.wait(
        lambda: (_member(lab, "dora") or {}).get("deactivate_login") is False,
        30,
        "the option off",
    )
