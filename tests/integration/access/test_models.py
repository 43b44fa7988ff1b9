"""The access messages (protocol/access.py): request, decision, record, and wire."""

from __future__ import annotations

import pytest
import voluptuous as vol

from custom_components.fluxilab.access import const
from custom_components.fluxilab.protocol.access import (
    AccessRecord,
    AccessRequest,
    Decision,
    Reason,
)
from custom_components.fluxilab.protocol.schemas import (
    ACCESS_EVENT_SCHEMA,
    ACCESS_REQUEST_SCHEMA,
    AccessAction,
)


def test_request_from_a_validated_body() -> None:
    body = ACCESS_REQUEST_SCHEMA(
        {"id": "r1", "action": "session_start", "card": "04AABB", "extra": 1}
    )
    assert AccessRequest.from_wire(body) == AccessRequest(
        id="r1", action=AccessAction.SESSION_START, card="04AABB"
    )


def test_record_from_a_validated_event() -> None:
    """A backlog record's event is read once; its card stays out of the repr."""
    body = ACCESS_EVENT_SCHEMA(
        {
            "action": "session_start",
            "request_id": "r1",
            "card": "04AABB",
            "granted": True,
            "offline": True,
            "session_id": "s1",
            "extra": 1,
        }
    )
    record = AccessRecord.from_wire(body)
    assert record == AccessRecord(
        action=AccessAction.SESSION_START,
        request_id="r1",
        card="04AABB",
        granted=True,
        offline=True,
        session_id="s1",
    )
    assert "04AABB" not in repr(record)
    # What a board's own replay hands in: plain values, nothing validated beyond.
    stop = AccessRecord.from_wire(
        {"action": AccessAction.SESSION_STOP.value, "duration": 12.5}
    )
    assert stop.action is AccessAction.SESSION_STOP
    assert stop.duration == 12.5
    assert not stop.granted
    assert stop.card is None


def test_decision_body_leaves_unset_fields_out() -> None:
    decision = Decision(
        id="r1",
        granted=False,
        reason=Reason.MAINTENANCE_DUE,
        member_id="ada",
        timeout=600.0,
        message="Clean the lens",
    )
    assert decision.as_wire() == {
        "id": "r1",
        "granted": False,
        "reason": "maintenance_due",
        "member_id": "ada",
        "timeout": 600.0,
        "message": "Clean the lens",
    }


def test_decision_body_is_checked_by_the_reply_schema() -> None:
    with pytest.raises(vol.Invalid):
        Decision(id="r1", granted=True, reason=Reason.GRANTED, timeout=-1.0).as_wire()


def test_no_repr_shows_a_card_a_name_or_a_report() -> None:
    """Requests and decisions are logged and traced: personal data stays out."""
    request = AccessRequest(
        id="r1",
        action=AccessAction.PROBLEM_REPORT,
        card="04AABB",
        description="Ada cut her finger",
    )
    decision = Decision(
        id="r1", granted=True, reason=Reason.GRANTED, member_id="m1", name="Ada"
    )
    for text in (repr(request), repr(decision)):
        assert "04AABB" not in text
        assert "Ada" not in text
    assert "m1" in repr(decision)
    assert decision.as_wire()["name"] == "Ada"  # the device still shows it


def test_the_engine_names_the_wire_reasons() -> None:
    """access/const.py's Reason is the protocol's: one set of reason codes."""
    assert const.Reason is Reason
