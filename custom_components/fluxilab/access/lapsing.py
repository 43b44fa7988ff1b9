"""Lapsing qualifications (docs/ACCESS.md "Lapsing qualifications").

A machine type may say its authorizations lapse when unused for ``lapse_after_months``
months. Each authorization's last granted use (``last_used``) is recorded on every
granted swipe; an authorization never used counts from the day it was ``granted``.
A lapsed authorization denies with reason ``lapsed`` until an admin renews it
(``renew_authorization``, or any update of the authorization): a swipe never renews.

Where ``last_used`` lives: swipes are frequent and the authorization collection
writes its whole store on every change, so the use time is written into the history
store (``last_used``, keyed by authorization id, saved a few seconds later with the
rest of the history) and mirrored into the in-memory authorization, where the
decision and the panel read it. The collection persists it too whenever an admin
changes authorizations; at load the later of both wins.

A daily job (and one at startup) finds authorizations that lapse, by inactivity or by
their ``expires`` date, within ``lapse_notice_days``: each member is told once per
authorization and lapse date (remembered in the history store), the admins get a
summary, ``authorization_lapsing`` fires on ``fluxilab_lab``, and a repair issue lists
what is lapsing or lapsed until nothing is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
import logging
from typing import TYPE_CHECKING, Any, Final

from homeassistant.const import EVENT_HOMEASSISTANT_STARTED
from homeassistant.core import CALLBACK_TYPE, Context, Event, HomeAssistant, callback
from homeassistant.helpers import collection, issue_registry as ir
from homeassistant.helpers.event import async_track_time_change
from homeassistant.util import dt as dt_util

from custom_components.fluxilab.const import (
    ATTR_TYPE,
    DOMAIN,
    EVENT_LAB,
)

from .const import AccessEventType
from .decisions import applies, usable
from .lab_models import Authorization, MachineType
from .lapses import lapse_date, last_use
from .member_models import Member
from .notify import async_notification_text, async_notify_admins, async_notify_member
from .privacy import privacy_of

if TYPE_CHECKING:
    from custom_components.fluxilab.device.port import AccessDevice

    from .lab import Lab

_LOGGER = logging.getLogger(__name__)

ISSUE_LAPSING: Final = "authorizations_lapsing"
CHECK_HOUR: Final = 9
"""Local hour of the daily look for lapsing authorizations (members are awake)."""
MAX_ISSUE_LINES: Final = 20


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Lapse:
    """An authorization that lapsed, or lapses within the notice days."""

    authorization_id: str
    member_id: str
    member_name: str | None = field(default=None, repr=False)
    user_id: str | None = None
    machine_type_id: str | None = None
    device_id: str | None = None
    machine_type_name: str | None = None
    last_used: datetime | None = None
    granted: datetime | None = None
    lapse_date: datetime
    cause: str
    """``inactivity`` or ``expires`` (lapses.py)."""
    lapsed: bool

    @property
    def target_name(self) -> str:
        """The machine type's name (or id), or the device's id."""
        return str(self.machine_type_name or self.machine_type_id or self.device_id)

    def as_wire(self) -> dict[str, Any]:
        """Return the entry of the websocket and service lists (ISO dates)."""
        return {
            "authorization_id": self.authorization_id,
            "member_id": self.member_id,
            "member_name": self.member_name,
            "user_id": self.user_id,
            "machine_type_id": self.machine_type_id,
            "device_id": self.device_id,
            "machine_type_name": self.machine_type_name,
            "last_used": _iso(self.last_used),
            "granted": _iso(self.granted),
            "lapse_date": self.lapse_date.isoformat(),
            "cause": self.cause,
            "lapsed": self.lapsed,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class OwnAuthorization:
    """One of a member's authorizations with its lapse date (their profile)."""

    authorization_id: str
    machine_type_id: str | None = None
    device_id: str | None = None
    machine_type_name: str | None = None
    last_used: datetime | None = None
    expires: datetime | None = None
    lapse_date: datetime | None = None
    """None: it neither lapses nor expires."""
    cause: str | None = None
    lapsed: bool = False

    def as_wire(self) -> dict[str, Any]:
        """Return the entry of ``fluxilab/lapsing/mine`` (ISO dates)."""
        return {
            "authorization_id": self.authorization_id,
            "machine_type_id": self.machine_type_id,
            "device_id": self.device_id,
            "machine_type_name": self.machine_type_name,
            "last_used": _iso(self.last_used),
            "expires": _iso(self.expires),
            "lapse_date": _iso(self.lapse_date),
            "cause": self.cause,
            "lapsed": self.lapsed,
        }


def fire_lab_event(
    hass: HomeAssistant,
    event_type: str,
    member: Member | None,
    **data: Any,
) -> None:
    """Fire ``fluxilab_lab`` about a member (not about one device)."""
    privacy = privacy_of(hass)
    person = privacy.person_fields(member)
    hass.bus.async_fire(
        EVENT_LAB,
        privacy.event_data({ATTR_TYPE: event_type, **person, **data}),
        context=Context(user_id=person["user_id"]),
    )


class Lapsing:
    """Records authorization use and warns before authorizations lapse."""

    def __init__(self, engine: Lab) -> None:
        """Attach to the engine (nothing loaded yet)."""
        self.engine = engine
        self.hass = engine.hass
        self._unsubs: list[CALLBACK_TYPE] = []
        self._started_unsub: CALLBACK_TYPE | None = None
        self._lapsed: set[str] = set()

    # Stored state ---------------------------------------------------------------------

    @property
    def last_used(self) -> dict[str, str]:
        """Last granted use of each authorization (ISO time), in the history store."""
        return self.engine.history.data["last_used"]

    @property
    def notices(self) -> dict[str, str]:
        """Lapse date each authorization's member was last told about."""
        return self.engine.history.data["lapse_notices"]

    @property
    def notice_days(self) -> int:
        """Days ahead of a lapse that members and admins are told."""
        return int(self.engine.history.data["settings"].lapse_notice_days)

    # Setup ------------------------------------------------------------------------------

    async def async_load(self) -> None:
        """Mirror stored use times into the authorizations; start the daily job."""
        self.merge_stored_use()
        self.engine.authorizations.async_add_listener(self._async_changed)
        self.engine.machine_types.async_add_listener(self._async_type_changed)
        self._unsubs.append(
            async_track_time_change(
                self.hass, self._async_daily, hour=CHECK_HOUR, minute=0, second=0
            )
        )
        if self.hass.is_running:
            self.hass.async_create_task(self.async_check(), f"{DOMAIN} lapsing")
        else:
            self._started_unsub = self.hass.bus.async_listen_once(
                EVENT_HOMEASSISTANT_STARTED, self._async_started
            )

    @callback
    def merge_stored_use(self) -> None:
        """Give each authorization the later of its own and the history's use time.

        The history is saved seconds after a swipe, the collection only when an
        admin changes something: after a restart either may be the newer one.
        """
        authorizations = self.engine.authorizations
        for auth_id, auth in authorizations.data.items():
            stored = self.last_used.get(auth_id)
            mine = auth.get("last_used")
            if stored and (not mine or stored > mine):
                if (moment := dt_util.parse_datetime(stored)) is not None:
                    authorizations.note_use(auth_id, moment)
            elif mine and mine != stored:
                self.last_used[auth_id] = mine

    @callback
    def async_stop(self) -> None:
        """Stop the daily job."""
        while self._unsubs:
            self._unsubs.pop()()
        if self._started_unsub is not None:
            self._started_unsub()
            self._started_unsub = None

    async def _async_started(self, _event: Event) -> None:
        self._started_unsub = None
        await self.async_check()

    async def _async_daily(self, _now: datetime) -> None:
        await self.async_check()

    async def _async_changed(
        self, change_type: str, item_id: str, item: dict[str, Any]
    ) -> None:
        """Keep the stored use time in step with admin changes; refresh the issue."""
        if change_type == collection.CHANGE_REMOVED:
            self.last_used.pop(item_id, None)
            self.notices.pop(item_id, None)
        elif item.get("last_used"):
            self.last_used[item_id] = item["last_used"]
        self.engine.history.async_changed()
        self._async_update_issue(dt_util.utcnow())

    async def _async_type_changed(
        self, _change_type: str, _item_id: str, item: dict[str, Any]
    ) -> None:
        """Refresh the issue: a machine type's lapse rule may have changed."""
        self._async_update_issue(dt_util.utcnow())

    # Use --------------------------------------------------------------------------------

    def machine_type_for(self, auth: Authorization) -> MachineType | None:
        """Return the machine type whose lapse rule applies to an authorization."""
        if auth.machine_type_id is not None:
            return self.engine.machine_types.machine_type(auth.machine_type_id)
        if (device := self.engine.device(auth.device_id or "")) is not None:
            return self.engine.machine_type_of(device)
        return None

    @callback
    def async_record_use(self, member: Member, device: AccessDevice, ts: float) -> None:
        """Note a granted use of the device by the member at ``ts``.

        Only authorizations that still worked at ``ts`` count as used: a lapsed or
        expired one stays so (a swipe never renews). A late record never moves a
        use time backwards.
        """
        machine_type = self.engine.machine_type_of(device)
        type_id = machine_type.id if machine_type else None
        moment = dt_util.utc_from_timestamp(ts)
        authorizations = self.engine.authorizations
        changed = False
        for auth in authorizations.typed_of_member(member.id):
            if not applies(auth, device.device_id, type_id):
                continue
            if not usable(auth, machine_type, moment):
                continue
            previous = last_use(auth)
            if previous is not None and previous >= moment:
                continue
            authorizations.note_use(auth.id, moment)
            self.last_used[auth.id] = moment.isoformat()
            changed = True
        if changed:
            self.engine.history.async_changed()

    # Lapsing ------------------------------------------------------------------------------

    def lapsing(self, now: datetime, days: int | None = None) -> list[Lapse]:
        """Return authorizations that lapsed or lapse within ``days``, soonest first."""
        horizon = now + timedelta(days=self.notice_days if days is None else days)
        found: list[Lapse] = []
        authorizations = self.engine.authorizations
        for auth_id in list(authorizations.data):
            if (auth := authorizations.authorization(auth_id)) is None:
                continue
            machine_type = self.machine_type_for(auth)
            if (stop := lapse_date(auth, machine_type)) is None:
                continue
            moment, cause = stop
            if moment > horizon:
                continue
            member = self.engine.members.member(auth.member_id)
            found.append(
                Lapse(
                    authorization_id=auth.id,
                    member_id=auth.member_id,
                    member_name=member.name if member else None,
                    user_id=member.user_id if member else None,
                    machine_type_id=auth.machine_type_id,
                    device_id=auth.device_id,
                    machine_type_name=machine_type.name if machine_type else None,
                    last_used=auth.last_used,
                    granted=auth.granted,
                    lapse_date=moment,
                    cause=cause,
                    lapsed=moment <= now,
                )
            )
        # By the ISO text, as the list always was (stable for equal dates).
        found.sort(key=lambda lapse: lapse.lapse_date.isoformat())
        return found

    def of_member(self, member_id: str) -> list[OwnAuthorization]:
        """Return a member's authorizations with their lapse dates (for the profile)."""
        now = dt_util.utcnow()
        shown: list[OwnAuthorization] = []
        for auth in self.engine.authorizations.typed_of_member(member_id):
            machine_type = self.machine_type_for(auth)
            stop = lapse_date(auth, machine_type)
            shown.append(
                OwnAuthorization(
                    authorization_id=auth.id,
                    machine_type_id=auth.machine_type_id,
                    device_id=auth.device_id,
                    machine_type_name=machine_type.name if machine_type else None,
                    last_used=auth.last_used,
                    expires=auth.expires,
                    lapse_date=stop[0] if stop else None,
                    cause=stop[1] if stop else None,
                    lapsed=stop is not None and stop[0] <= now,
                )
            )
        return shown

    async def async_renew(self, auth_id: str) -> Authorization:
        """Renew an authorization: its use time starts again now."""
        return Authorization.from_storage(
            await self.engine.authorizations.async_update_item(auth_id, {})
        )

    async def async_check(self, now: datetime | None = None) -> list[Lapse]:
        """Tell members and admins what lapses soon; refresh the issue and mirrors."""
        now = now or dt_util.utcnow()
        found = self.lapsing(now)
        new = [
            lapse
            for lapse in found
            if not lapse.lapsed
            and self.notices.get(lapse.authorization_id) != lapse.lapse_date.isoformat()
        ]
        for lapse in new:
            self.notices[lapse.authorization_id] = lapse.lapse_date.isoformat()
            member = self.engine.members.member(lapse.member_id)
            if member is None:
                continue
            fire_lab_event(
                self.hass,
                AccessEventType.AUTHORIZATION_LAPSING,
                member,
                authorization_id=lapse.authorization_id,
                machine_type_id=lapse.machine_type_id,
                fluxilab_device=lapse.device_id,
                lapse_date=lapse.lapse_date.isoformat(),
                cause=lapse.cause,
            )
            title, message = await async_notification_text(
                self.hass,
                "authorization_lapsing",
                machine=lapse.target_name,
                date=self._local_date(lapse.lapse_date),
            )
            await async_notify_member(
                self.hass,
                member,
                title=title,
                message=message,
                tag=f"{DOMAIN}_lapsing_{lapse.authorization_id}",
            )
        if new:
            self.engine.history.async_changed()
            title, message = await async_notification_text(
                self.hass,
                "authorizations_lapsing_admins",
                count=str(len(new)),
                list=self._lines(new),
            )
            await async_notify_admins(
                self.hass, title=title, message=message, tag="lapsing"
            )
        self._async_update_issue(now, found)
        lapsed = {lapse.authorization_id for lapse in found if lapse.lapsed}
        if lapsed != self._lapsed:
            # Devices decide offline from their mirror: drop lapsed members there.
            self._lapsed = lapsed
            await self.engine.async_sync_all()
        return found

    # Presentation -------------------------------------------------------------------------

    @staticmethod
    def _local_date(moment: datetime) -> str:
        return dt_util.as_local(moment).date().isoformat()

    def _lines(self, found: list[Lapse]) -> str:
        lines = [
            f"- {lapse.member_name or lapse.member_id}: {lapse.target_name}"
            f" ({self._local_date(lapse.lapse_date)})"
            for lapse in found[:MAX_ISSUE_LINES]
        ]
        if len(found) > MAX_ISSUE_LINES:
            lines.append(f"- … (+{len(found) - MAX_ISSUE_LINES})")
        return "\n".join(lines)

    @callback
    def _async_update_issue(
        self, now: datetime, found: list[Lapse] | None = None
    ) -> None:
        """Show the repair issue while anything is lapsing or lapsed; withdraw it after."""
        if found is None:
            found = self.lapsing(now)
        if not found:
            ir.async_delete_issue(self.hass, DOMAIN, ISSUE_LAPSING)
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            ISSUE_LAPSING,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_LAPSING,
            translation_placeholders={
                "count": str(len(found)),
                "lapsed": str(sum(1 for lapse in found if lapse.lapsed)),
                "authorizations": self._lines(found),
            },
        )
