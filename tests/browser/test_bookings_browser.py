"""Issue 17 §1 in the panel: a member books a device in its week view and cancels.

Another member's booking shows as booked, without a name; the member books a slot
through the form, sees it under "My bookings", and cancels it. Each step is checked
against the backend. Screenshots go to artifacts/browser/.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from tests.browser.conftest import (
    DEVICES,
    MEMBER,
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

DEVICE = DEVICES[0]


def device_bookings(lab: Lab) -> list[dict[str, Any]]:
    """The device's bookings of the coming fortnight, as an admin sees them."""
    (reply,) = lab.ws(
        {
            "type": "fluxilab/booking/list",
            "fluxilab_device": DEVICE,
            "end": (date.today() + timedelta(days=14)).isoformat(),
        }
    )
    assert reply["success"], dump(reply)
    result: list[dict[str, Any]] = reply["result"]["device"]["bookings"]
    return result


def set_value(browser: Browser, selector: str, value: str) -> None:
    """Set a form field as the user's picker would, and tell lit it changed."""
    element = browser.wait(lambda: panel_query(browser, selector), 30, selector)
    browser.script(
        "arguments[0].value = arguments[1];"
        "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));",
        element,
        value,
    )


@pytest.mark.timeout(600)
def test_a_member_books_and_cancels_in_the_week_view(
    lab: Lab, browser: Browser
) -> None:
    (ada,) = lab.ws(
        {"type": "fluxilab/member/create", "name": "Ada", "user_id": lab.member_user_id}
    )
    assert ada["success"], dump(ada)
    (bob,) = lab.ws({"type": "fluxilab/member/create", "name": "Bob Other"})
    assert bob["success"], dump(bob)
    for member in (ada, bob):
        (grant,) = lab.ws(
            {
                "type": "fluxilab/authorization/create",
                "member_id": member["result"]["id"],
                "device_id": DEVICE,
            }
        )
        assert grant["success"], dump(grant)
    tomorrow = date.today() + timedelta(days=1)
    (booked,) = lab.ws(
        {
            "type": "fluxilab/booking/create",
            "fluxilab_device": DEVICE,
            "member_id": bob["result"]["id"],
            "start": f"{tomorrow}T09:00:00",
            "end": f"{tomorrow}T10:00:00",
        }
    )
    assert booked["success"], dump(booked)
    # The week view opens on this week; tomorrow may be next week's Monday.
    next_week = tomorrow.weekday() == 0

    login(browser, lab, MEMBER, "/fluxilab")
    click(browser, 'button[data-tab="bookings"]')
    set_value(browser, 'select[data-field="booking-device"]', DEVICE)
    if next_week:
        click(browser, 'button[data-action="week-next"]')
    browser.wait(
        lambda: panel_query(
            browser, f'[data-view="week"] [data-booking="{booked["result"]["id"]}"]'
        ),
        30,
        "Bob's booking in the week",
    )
    assert "Bob" not in panel_text(browser)  # another member's booking: no name

    set_value(browser, 'form[data-form="book"] input[name="day"]', str(tomorrow))
    # Issue 18 item 3: a refused booking is said in the form, in words, and the
    # times typed stay.
    set_value(browser, 'form[data-form="book"] input[name="from"]', "15:30")
    set_value(browser, 'form[data-form="book"] input[name="to"]', "14:00")
    click(browser, 'form[data-form="book"] button[type="submit"]')
    said = browser.wait(
        lambda: browser.script(
            "const el = arguments[0]; return el ? el.textContent : '';",
            panel_query(browser, 'form[data-form="book"] [data-error="book"]'),
        ),
        30,
        "the refusal in the booking form",
    )
    assert said == "A booking must end after it starts.", said
    kept = browser.script(
        "return arguments[0].value;",
        panel_query(browser, 'form[data-form="book"] input[name="from"]'),
    )
    assert kept == "15:30"
    set_value(browser, 'form[data-form="book"] input[name="from"]', "14:00")
    set_value(browser, 'form[data-form="book"] input[name="to"]', "15:30")
    click(browser, 'form[data-form="book"] button[type="submit"]')
    mine = browser.wait(
        lambda: [
            b for b in device_bookings(lab) if b["member_id"] == ada["result"]["id"]
        ],
        30,
        "Ada's booking",
    )
    assert len(mine) == 1
    browser.wait(
        lambda: panel_query(
            browser, f'[data-view="my-bookings"] [data-booking="{mine[0]["id"]}"]'
        ),
        30,
        "the booking under My bookings",
    )
    save(browser, "bookings-week")

    click(
        browser,
        f'[data-view="my-bookings"] button[data-action="booking-cancel"]'
        f'[data-booking="{mine[0]["id"]}"]',
    )
    confirm(browser, "Cancel")
    browser.wait(
        lambda: all(b["id"] != mine[0]["id"] for b in device_bookings(lab)),
        30,
        "the booking cancelled",
    )
    assert [b["id"] for b in device_bookings(lab)] == [booked["result"]["id"]]


@pytest.mark.timeout(600)
def test_a_member_sees_an_outage_and_reports_the_machine_unsafe(
    lab: Lab, browser: Browser
) -> None:
    """Issue 17 §2: staff's outage shows in the week; a member reports it unsafe."""
    (ada,) = lab.ws(
        {"type": "fluxilab/member/create", "name": "Ada", "user_id": lab.member_user_id}
    )
    assert ada["success"], dump(ada)
    (grant,) = lab.ws(
        {
            "type": "fluxilab/authorization/create",
            "member_id": ada["result"]["id"],
            "device_id": DEVICE,
        }
    )
    assert grant["success"], dump(grant)
    tomorrow = date.today() + timedelta(days=1)
    (outage,) = lab.ws(
        {
            "type": "fluxilab/outage/create",
            "fluxilab_device": DEVICE,
            "start": f"{tomorrow}T08:00:00",
            "end": f"{tomorrow}T12:00:00",
            "note": "New filter",
        }
    )
    assert outage["success"], dump(outage)

    login(browser, lab, MEMBER, "/fluxilab")
    click(browser, 'button[data-tab="bookings"]')
    set_value(browser, 'select[data-field="booking-device"]', DEVICE)
    if tomorrow.weekday() == 0:
        click(browser, 'button[data-action="week-next"]')
    browser.wait(
        lambda: panel_query(
            browser,
            f'[data-view="week"] .outage[data-booking="{outage["result"]["id"]}"]',
        ),
        30,
        "the outage in the week",
    )
    assert "Outage: New filter" in panel_text(browser)
    # A member may not end it.
    assert not panel_query(browser, 'button[data-action="outage-end"]')

    set_value(browser, 'form[data-form="report"] textarea', "Sparks at the plug")
    click(browser, 'form[data-form="report"] input[name="unsafe"]')
    click(browser, 'form[data-form="report"] button[type="submit"]')
    confirm(browser, "Report a problem")

    def reported() -> list[dict[str, Any]]:
        (reply,) = lab.ws({"type": "fluxilab/problem/list", "open_only": True})
        assert reply["success"], dump(reply)
        return list(reply["result"]["reports"])

    (report,) = browser.wait(reported, 30, "the report at the hub")
    assert report["unsafe"] is True
    assert report["description"] == "Sparks at the plug"
    assert report["member_id"] == ada["result"]["id"]
    browser.wait(
        lambda: panel_query(browser, '[data-field="unsafe"]'), 30, "the unsafe banner"
    )
    save(browser, "bookings-problem-report")
