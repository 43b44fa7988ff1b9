"""GDPR: retention purge, anonymization, member data export, usage export."""

from __future__ import annotations

import csv
import io
from typing import Any

from .credentials import member_pin_hash, public_credentials
from .history import AccessHistory

DAY = 86400.0
SESSION_CSV_FIELDS = (
    "session_id",
    "device_id",
    "member_id",
    "member_name",
    "card",
    "start",
    "end",
    "duration",
    "closed_by",
    "buffered",
)
PERSONAL_FIELDS = ("member_id", "member_name", "card", "trainer_id", "trainer_name")


def _anonymize(entry: dict[str, Any]) -> bool:
    """Blank an entry's personal fields; True if anything changed."""
    changed = False
    for key in PERSONAL_FIELDS:
        if entry.get(key) is not None:
            entry[key] = None
            changed = True
    if changed:
        entry["anonymized"] = True
    return changed


def purge(history: AccessHistory, now: float) -> dict[str, int]:
    """Apply the retention settings; return how many entries were touched."""
    settings = history.data["settings"]
    usage_cutoff = now - settings["usage_retention_days"] * DAY
    card_cutoff = now - settings["unknown_card_retention_days"] * DAY
    anonymized = sum(
        _anonymize(session)
        for session in history.data["sessions"]
        if session["end"] is not None and session["end"] < usage_cutoff
    )
    anonymized += sum(
        _anonymize(entry)
        for entry in history.data["audit"]
        if entry["ts"] < usage_cutoff
    )
    before = len(history.data["unknown_cards"])
    history.data["unknown_cards"] = [
        c for c in history.data["unknown_cards"] if c["ts"] >= card_cutoff
    ]
    deleted = before - len(history.data["unknown_cards"])
    history.async_changed()
    return {"anonymized": anonymized, "unknown_cards_deleted": deleted}


def forget_member(history: AccessHistory, member_id: str, cards: list[str]) -> None:
    """Remove a deleted member's personal data from the history."""
    for entry in (*history.data["sessions"], *history.data["audit"]):
        if entry.get("member_id") == member_id or (
            entry.get("card") is not None and entry["card"] in cards
        ):
            _anonymize(entry)
    history.data["interest"] = [
        s for s in history.data["interest"] if s["member_id"] != member_id
    ]
    history.async_changed()


def member_export(
    member: dict[str, Any],
    authorizations: list[dict[str, Any]],
    history: AccessHistory,
) -> dict[str, Any]:
    """Return everything held about one member (the PIN hash is named, not shown)."""
    profile = {k: v for k, v in member.items() if k != "credentials"}
    profile["credentials"] = public_credentials(member)
    profile["has_pin"] = member_pin_hash(member, active_only=False) is not None
    member_id = member["id"]
    return {
        "member": profile,
        "authorizations": authorizations,
        "sessions": [
            s for s in history.data["sessions"] if s["member_id"] == member_id
        ],
        "audit": [a for a in history.data["audit"] if a.get("member_id") == member_id],
        "checked_in": history.data["checked_in"].get(member_id),
        "interest": [
            s for s in history.data["interest"] if s["member_id"] == member_id
        ],
    }


def usage_export(
    history: AccessHistory,
    *,
    member_id: str | None,
    device_id: str | None,
    start: float | None,
    end: float | None,
) -> dict[str, Any]:
    """Return closed and open sessions matching the filters, as JSON rows and CSV."""
    rows = [
        dict(session)
        for session in history.data["sessions"]
        if (member_id is None or session["member_id"] == member_id)
        and (device_id is None or session["device_id"] == device_id)
        and (start is None or session["start"] >= start)
        and (end is None or session["start"] < end)
    ]
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer,
        fieldnames=SESSION_CSV_FIELDS,
        extrasaction="ignore",
        lineterminator="\n",
    )
    writer.writeheader()
    writer.writerows(rows)
    return {"sessions": rows, "csv": buffer.getvalue()}
