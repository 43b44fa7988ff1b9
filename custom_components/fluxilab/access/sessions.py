"""Sessions: start, heartbeat, stop, and closing what a silent device left open.

A session is keyed by the id the device gives it, so a replayed (buffered) record of
the same session merges into it instead of adding a second one. Usage hours are
booked when a session closes; a later, more exact duration from the device corrects
the booking by the difference.
"""

from __future__ import annotations

from custom_components.fluxilab.history_db import LiveSession

from .const import SessionEnd
from .history import AccessHistory
from .member_models import Member


def start_session(
    history: AccessHistory,
    *,
    session_id: str,
    device_id: str,
    member: Member | None,
    card: str | None,
    ts: float,
    buffered: bool,
) -> tuple[LiveSession, bool]:
    """Open (or find the replayed) session; return it and whether it is new."""
    if (session := history.session(session_id)) is not None:
        return session, False
    session = LiveSession.new(
        session_id=session_id,
        device_id=device_id,
        member_id=member.id if member else None,
        member_name=member.name if member else None,
        card=card,
        start=ts,
        buffered=buffered,
    )
    history.data["sessions"].append(session)
    history.async_changed()
    return session, True


def heartbeat(
    history: AccessHistory, session_id: str, duration: float | None, ts: float
) -> LiveSession | None:
    """Note that a session is still running; None if it is unknown or closed."""
    session = history.session(session_id)
    if session is None or session.end is not None:
        return None
    session.last_seen = max(session.last_seen, ts)
    if duration is not None:
        session.duration = max(session.duration, duration)
    history.async_changed(session)
    return session


def stop_session(
    history: AccessHistory,
    session: LiveSession,
    *,
    duration: float | None,
    ts: float,
    closed_by: SessionEnd,
) -> float:
    """Close a session (or correct a closed one); return the hours to add to usage.

    The device's own duration wins over the hub's estimate: a stop replayed after
    the hub closed the session on timeout replaces the estimate.
    """
    before = session.duration if session.end is not None else 0.0
    if duration is None:
        duration = max(session.duration, ts - session.start)
    if session.end is not None and closed_by is not SessionEnd.DEVICE:
        return 0.0  # already closed: only the device's own record may correct it
    session.duration = duration
    session.end = session.start + duration
    session.closed_by = closed_by.value
    history.async_changed(session)
    return (duration - before) / 3600


def stop_unknown_session(
    history: AccessHistory,
    *,
    session_id: str,
    device_id: str,
    member: Member | None,
    card: str | None,
    duration: float,
    ts: float,
    buffered: bool,
) -> tuple[LiveSession, float]:
    """Record a session the hub only learns about from its stop record."""
    session, _ = start_session(
        history,
        session_id=session_id,
        device_id=device_id,
        member=member,
        card=card,
        ts=ts - duration,
        buffered=buffered,
    )
    hours = stop_session(
        history, session, duration=duration, ts=ts, closed_by=SessionEnd.DEVICE
    )
    return session, hours


def stale_sessions(
    history: AccessHistory, device_id: str, now: float, timeout: float
) -> list[LiveSession]:
    """Return a device's open sessions not heard of for longer than ``timeout``."""
    return [s for s in history.open_sessions(device_id) if now - s.last_seen > timeout]
