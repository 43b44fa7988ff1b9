"""Issue 17 section 5 in Chromium: a record kept offline carries the panel's clock.

A stranger's card at the fumehood is refused live, then again while the fumehood is
cut off the broker: the device refuses it itself and sends the record later, from
its backlog. In the audit log the offline refusal has the clock icon with its
tooltip, the live one none; "Recorded offline only" keeps the offline one.
"""

from __future__ import annotations

import time
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
    save,
)
from tests.browser.webdriver import Browser

HOOD = DEVICES[0]
STRANGER = "04BADC0FFE"
TOOLTIP = "Recorded offline at the device, sent later"


def wait_for(check: Any, what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def decisions(lab: Lab) -> list[dict[str, Any]]:
    """The fumehood's decisions in the audit, newest first."""
    (reply,) = lab.ws(
        {"type": "fluxilab/panel/admin/audit", "device_id": HOOD, "kind": "decision"}
    )
    assert reply["success"], dump(reply)
    return list(reply["result"]["audit"])


@pytest.mark.timeout(600)
def test_an_offline_refusal_has_the_clock_in_the_audit_log(
    lab: Lab, browser: Browser
) -> None:
    lab.agent_cli("swipe", "--device", HOOD, "--card", STRANGER)
    wait_for(lambda: len(decisions(lab)) == 1, "the live refusal")
    lab.agent_cli("cut", "--device", HOOD, "--seconds", "8")
    lab.agent_cli("swipe", "--device", HOOD, "--card", STRANGER)
    offline, live = wait_for(
        lambda: found if len(found := decisions(lab)) == 2 else None,
        "the offline refusal, from the backlog",
        90,
    )
    assert (offline["buffered"], live["buffered"]) == (True, False), dump(
        [offline, live]
    )

    login(browser, lab, ADMIN, "/fluxilab/admin/audit")
    mark = wait_for(
        lambda: panel_query(
            browser, f'tr[data-key="{offline["entry_id"]}"] .offline-mark'
        ),
        "the clock beside the offline refusal",
    )
    assert browser.script("return arguments[0].title", mark) == TOOLTIP
    assert (
        browser.script(
            "return arguments[0].querySelector('ha-icon').getAttribute('icon')", mark
        )
        == "mdi:clock-outline"
    )
    # The icon is drawn (Home Assistant's ha-icon), not an empty box.
    assert browser.script("return arguments[0].getBoundingClientRect().width", mark), (
        "the clock has no size"
    )
    assert (
        panel_query(browser, f'tr[data-key="{live["entry_id"]}"] .offline-mark') is None
    )
    save(browser, "admin-audit-offline-mark")

    # "Recorded offline only" asks the hub for those alone.
    click(browser, 'input[name="offline_only"]')
    wait_for(
        lambda: panel_query(browser, f'tr[data-key="{live["entry_id"]}"]') is None,
        "the live refusal filtered out",
    )
    assert panel_query(browser, f'tr[data-key="{offline["entry_id"]}"] .offline-mark')
