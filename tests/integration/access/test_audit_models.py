"""Typed admin-audit changes and problem reports: stored as before, nothing personal in a repr."""

from __future__ import annotations

from datetime import UTC, datetime

from custom_components.fluxilab.access.admin_audit import (
    CREATED,
    UPDATED,
    CredentialChange,
    CredentialView,
    Diff,
    FieldChange,
    change,
)
from custom_components.fluxilab.access.problems import ProblemReport


class _Privacy:
    """Pseudonyms without a hub: enough for a credential's view."""

    def card(self, card: str) -> str:
        return f"card_{card.lower()}"


PRIVACY = _Privacy()


def test_field_changes_are_stored_as_the_audit_stored_them() -> None:
    assert change(1, 2).as_dict() == {"before": 1, "after": 2}
    assert FieldChange(masked=True).as_dict() == {"masked": True}
    assert FieldChange(changed_only=True).as_dict() == {"changed": True}
    assert FieldChange(kept_because="owner").as_dict() == {"kept": True, "why": "owner"}


def test_a_diff_shows_changed_fields_only_masked_unless_shown() -> None:
    before = {"id": "ada", "name": "Ada", "role": "user", "email": None, "note": ""}
    after = {"id": "ada", "name": "Ada L.", "role": "staff", "email": "", "note": None}
    diff = Diff.from_dict(before, after, ignored={"id"}, shown={"role"})
    assert diff.as_dict() == {
        "name": {"masked": True},
        "role": {"before": "user", "after": "staff"},
    }
    assert list(diff.as_dict()) == ["name", "role"]  # sorted, as stored before
    assert not Diff.from_dict(before, before)
    assert Diff.from_dict({}, {"x": 0}).as_dict() == {"x": {"before": None, "after": 0}}


def test_credentials_come_last_by_label() -> None:
    pin = CredentialChange(
        action=UPDATED,
        label="pin",
        changes=Diff(fields={"pin": FieldChange(changed_only=True)}),
    )
    diff = Diff(fields={"role": change("user", "staff")}, credentials=(pin,))
    assert diff.as_dict() == {
        "role": {"before": "user", "after": "staff"},
        "credentials": {"pin": {"action": UPDATED, "pin": {"changed": True}}},
    }


def test_a_credential_is_compared_by_pseudonym_and_its_pin_never_shown() -> None:
    card = CredentialView.from_storage(
        {"id": "c1", "type": "card", "label": "Ada's badge", "card": "04A1B2"},
        PRIVACY,
    )
    assert card.card == "card_04a1b2"
    assert card.shown_label == "card_04a1b2"
    created = CredentialView.diff(None, card).as_dict()
    assert created == {
        "card": {"before": None, "after": "card_04a1b2"},
        "label": {"before": None, "after": "Ada's badge"},
        "type": {"before": None, "after": "card"},
    }
    old = CredentialView.from_storage(
        {"id": "p", "type": "pin", "pin_hash": "$2b$x"}, PRIVACY
    )
    new = CredentialView.from_storage(
        {"id": "p", "type": "pin", "pin_hash": "$2b$y"}, PRIVACY
    )
    assert not old.same(new)
    assert old.same(old)
    assert CredentialView.diff(old, new).as_dict() == {"pin": {"changed": True}}
    shown = (
        repr(card)
        + repr(old)
        + repr(CredentialChange(action=CREATED, label="card_04a1b2", changes=Diff()))
    )
    for secret in ("04A1B2", "card_04a1b2", "Ada's badge", "$2b$x"):
        assert secret not in shown


def test_a_field_change_hides_its_values_in_a_repr() -> None:
    shown = repr(change("Ada saw the fan stop", None))
    assert "Ada" not in shown


STORED_REPORT = {
    "id": "r1",
    "device_id": "hood-1",
    "description": "Ada saw the fan stop",
    "unsafe": True,
    "reported": "2026-01-02T03:04:05.678901+00:00",
    "member_id": "ada",
    "user_id": "u1",
    "resolved": "2026-01-03T00:00:00+00:00",
    "resolved_by_user_id": "u2",
    "resolved_by_member_id": "bob",
    "resolution": "Bob replaced the belt",
}


def test_a_problem_report_round_trips_its_stored_form() -> None:
    report = ProblemReport.from_storage(STORED_REPORT)
    assert report.reported == datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    assert not report.is_open
    assert report.as_dict() == STORED_REPORT
    assert list(report.as_dict()) == list(STORED_REPORT)
    opened = ProblemReport.from_storage({**STORED_REPORT, "resolved": None})
    assert opened.is_open
    assert opened.as_dict()["resolved"] is None


def test_a_problem_report_repr_names_nobody() -> None:
    shown = repr(ProblemReport.from_storage(STORED_REPORT))
    assert "Ada" not in shown
    assert "Bob" not in shown
    assert "r1" in shown
