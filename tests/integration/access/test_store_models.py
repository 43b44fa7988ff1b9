"""The typed models of the history's edges, the bookings and the projects.

Each is read from its stored (or wire) form once and written back the same way;
none shows a card uid, a name or free text in its repr.
"""

from __future__ import annotations

from datetime import UTC, datetime

from custom_components.fluxilab.access.billing import NonBillable
from custom_components.fluxilab.access.booking_store import (
    BookingMove,
    BookingRequest,
    OutageRequest,
)
from custom_components.fluxilab.access.bookings import Booking, BookingKind
from custom_components.fluxilab.access.project_store import (
    ChargeChange,
    Project,
    SessionCharge,
)
from custom_components.fluxilab.history_db import (
    AuditEntry,
    SessionRecord,
    UnknownCard,
)

CARD = "C0FFEE01"


def test_an_unknown_card_round_trips_and_hides_its_uid() -> None:
    stored = {"card": CARD, "device_id": "hood-1", "ts": 1_700_000_000}
    card = UnknownCard.from_dict(stored)
    assert card.as_dict() == stored
    assert isinstance(card.as_dict()["ts"], int)  # stored as it was: same JSON
    assert CARD not in repr(card)
    assert "hood-1" in repr(card)


def test_a_record_given_an_entry_id_stores_it_in_its_document() -> None:
    session = SessionRecord.from_entry({"session_id": "s1", "device_id": "d"})
    numbered = session.with_entry_id(7)
    assert (session.entry_id, numbered.entry_id) == (None, 7)
    assert numbered.as_wire() == {"session_id": "s1", "device_id": "d", "entry_id": 7}
    entry = AuditEntry.from_entry({"ts": 1.0, "kind": "maintenance", "entry_id": 3})
    assert entry.with_entry_id(9).as_wire() == {
        "ts": 1.0,
        "kind": "maintenance",
        "entry_id": 9,  # in its place
    }


def test_a_booking_reads_its_release_and_note() -> None:
    stored = {
        "id": "hood-1_2026-01-01T10:00",
        "kind": "outage",
        "device_id": "hood-1",
        "member_id": "",
        "note": "Ada's filter change",
        "start": "2026-01-01T10:00:00+00:00",
        "end": "2026-01-01T11:00:00+00:00",
        "released": True,
        "no_show": True,
        "created": "2025-12-31T10:00:00+00:00",
    }
    booking = Booking.from_storage(stored)
    assert booking.kind is BookingKind.OUTAGE
    assert (booking.released, booking.no_show) == (True, True)
    assert booking.note == "Ada's filter change"
    assert "Ada" not in repr(booking)
    # What a member's export shows of it: the fields it always showed.
    assert booking.as_dict() == {
        key: stored[key]
        for key in ("id", "device_id", "member_id", "start", "end", "released", "kind")
    }
    assert Booking.from_storage({**stored, **booking.as_dict()}) == booking


def test_booking_requests_are_validated_once() -> None:
    request = BookingRequest.from_wire(
        {
            "device_id": "hood-1",
            "member_id": "ada",
            "start": "2026-01-01T10:00:00+00:00",
            "end": "2026-01-01T11:00:00+00:00",
        }
    )
    assert request.start == datetime(2026, 1, 1, 10, tzinfo=UTC)
    outage = OutageRequest.from_wire(
        {
            "kind": "outage",
            "device_id": "hood-1",
            "start": "2026-01-01T10:00:00+00:00",
            "end": "2026-01-01T11:00:00+00:00",
        }
    )
    assert outage.note == ""
    move = BookingMove.from_wire({"end": "2026-01-01T12:00:00+00:00"})
    assert (move.start, move.end) == (None, datetime(2026, 1, 1, 12, tzinfo=UTC))


def test_a_project_round_trips() -> None:
    stored = {
        "id": "p1",
        "name": "Thesis",
        "code": "T-1",
        "active": False,
        "members": ["ada", "bob"],
        "default_members": ["ada"],
    }
    project = Project.from_storage(stored)
    assert project.members == ("ada", "bob")
    assert project.as_dict() == stored
    assert Project.from_storage(project.as_dict()) == project


def test_a_session_charge_stores_only_what_staff_set() -> None:
    for stored in (
        {},
        {"project_id": None},
        {"project_id": "p1"},
        {"non_billable": None},
        {"non_billable": "training", "project_id": "p1"},
    ):
        charge = SessionCharge.from_storage(stored)  # type: ignore[arg-type]
        assert charge.as_dict() == stored
    assert SessionCharge.from_storage({"project_id": None}).project_set is True
    assert SessionCharge.from_storage({}).project_set is False
    assert (
        SessionCharge.from_storage({"non_billable": "staff"}).non_billable
        is NonBillable.STAFF
    )


def test_a_charge_change_keeps_what_was_not_asked_for_apart() -> None:
    change = ChargeChange.from_wire({"type": "x", "project_id": None})
    assert (change.set_project, change.project_id) == (True, None)
    assert change.set_non_billable is False
    assert ChargeChange.from_wire({"non_billable": "training"}).non_billable == (
        "training"
    )
