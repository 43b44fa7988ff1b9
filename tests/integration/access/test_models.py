"""The engine's typed request and decision, and their wire bodies."""

from __future__ import annotations

import pytest
import voluptuous as vol

from custom_components.fluxilab.access.const import Reason
from custom_components.fluxilab.access.models import AccessRequest, Decision
from custom_components.fluxilab.protocol.schemas import (
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
