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

from collections.abc import Mapping
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

from .const import DEFAULT_LAPSE_NOTICE_DAYS, AccessEventType
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

SETTING_LAPSE_NOTICE_DAYS: Final = "lapse_notice_days"
ISSUE_LAPSING: Final = "authorizations_lapsing"
CHECK_HOUR: Final = 9
"""Local hour of the daily look for lapsing authorizations (members are awake)."""
MAX_ISSUE_LINES: Final = 20


def fire_lab_event(
    hass: HomeAssistant,
    event_type: str,
    member: Member | None,
    **data: Any,
) -> dict[str, Any]:
    """Fire ``fluxilab_lab`` about a member (not about one device); return the data."""
    privacy = privacy_of(hass)
    person = privacy.person_fields(member)
    payload: dict[str, Any] = privacy.event_data(
        {ATTR_TYPE: event_type, **person, **data}
    )
    hass.bus.async_fire(EVENT_LAB, payload, context=Context(user_id=person["user_id"]))
    return payload


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
        return int(
            self.engine.history.data["settings"].get(
                SETTING_LAPSE_NOTICE_DAYS, DEFAULT_LAPSE_NOTICE_DAYS
            )
        )

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
        self, _change_type: str, _item_id: str, _item: dict[str, Any]
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

    def lapsing(self, now: datetime, days: int | None = None) -> list[dict[str, Any]]:
        """Return authorizations that lapsed or lapse within ``days``, soonest first."""
        horizon = now + timedelta(days=self.notice_days if days is None else days)
        found: list[dict[str, Any]] = []
        for auth in self.engine.authorizations.async_items():
            if (typed := self.engine.authorizations.authorization(auth["id"])) is None:
                continue
            machine_type = self.machine_type_for(typed)
            if (stop := lapse_date(typed, machine_type)) is None:
                continue
            moment, cause = stop
            if moment > horizon:
                continue
            member = self.engine.members.data.get(auth["member_id"], {})
            found.append(
                {
                    "authorization_id": auth["id"],
                    "member_id": auth["member_id"],
                    "member_name": member.get("name"),
                    "user_id": member.get("user_id"),
                    "machine_type_id": auth.get("machine_type_id"),
                    "device_id": auth.get("device_id"),
                    "machine_type_name": machine_type.name if machine_type else None,
                    "last_used": auth.get("last_used"),
                    "granted": auth.get("granted"),
                    "lapse_date": moment.isoformat(),
                    "cause": cause,
                    "lapsed": moment <= now,
                }
            )
        found.sort(key=lambda item: item["lapse_date"])
        return found

    def of_member(self, member_id: str) -> list[dict[str, Any]]:
        """Return a member's authorizations with their lapse dates (for the profile)."""
        now = dt_util.utcnow()
        shown: list[dict[str, Any]] = []
        authorizations = self.engine.authorizations
        for auth in authorizations.of_member(member_id):
            if (typed := authorizations.authorization(auth["id"])) is None:
                continue
            machine_type = self.machine_type_for(typed)
            stop = lapse_date(typed, machine_type)
            shown.append(
                {
                    "authorization_id": auth["id"],
                    "machine_type_id": auth.get("machine_type_id"),
                    "device_id": auth.get("device_id"),
                    "machine_type_name": machine_type.name if machine_type else None,
                    "last_used": auth.get("last_used"),
                    "expires": auth.get("expires"),
                    "lapse_date": stop[0].isoformat() if stop else None,
                    "cause": stop[1] if stop else None,
                    "lapsed": stop is not None and stop[0] <= now,
                }
            )
        return shown

    async def async_renew(self, auth_id: str) -> dict[str, Any]:
        """Renew an authorization: its use time starts again now."""
        return await self.engine.authorizations.async_update_item(auth_id, {})

    async def async_check(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Tell members and admins what lapses soon; refresh the issue and mirrors."""
        now = now or dt_util.utcnow()
        found = self.lapsing(now)
        new = [
            item
            for item in found
            if not item["lapsed"]
            and self.notices.get(item["authorization_id"]) != item["lapse_date"]
        ]
        for item in new:
            self.notices[item["authorization_id"]] = item["lapse_date"]
            member = self.engine.members.member(item["member_id"])
            if member is None:
                continue
            fire_lab_event(
                self.hass,
                AccessEventType.AUTHORIZATION_LAPSING,
                member,
                authorization_id=item["authorization_id"],
                machine_type_id=item["machine_type_id"],
                fluxilab_device=item["device_id"],
                lapse_date=item["lapse_date"],
                cause=item["cause"],
            )
            title, message = await async_notification_text(
                self.hass,
                "authorization_lapsing",
                machine=self._target_name(item),
                date=self._local_date(item["lapse_date"]),
            )
            await async_notify_member(
                self.hass,
                member,
                title=title,
                message=message,
                tag=f"{DOMAIN}_lapsing_{item['authorization_id']}",
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
        lapsed = {item["authorization_id"] for item in found if item["lapsed"]}
        if lapsed != self._lapsed:
            # Devices decide offline from their mirror: drop lapsed members there.
            self._lapsed = lapsed
            await self.engine.async_sync_all()
        return found

    # Presentation -------------------------------------------------------------------------

    def _target_name(self, item: Mapping[str, Any]) -> str:
        return str(
            item.get("machine_type_name")
            or item.get("machine_type_id")
            or item.get("device_id")
        )

    @staticmethod
    def _local_date(text: str) -> str:
        moment = dt_util.parse_datetime(text)
        return dt_util.as_local(moment).date().isoformat() if moment else text

    def _lines(self, items: list[dict[str, Any]]) -> str:
        lines = [
            f"- {item['member_name'] or item['member_id']}: {self._target_name(item)}"
            f" ({self._local_date(item['lapse_date'])})"
            for item in items[:MAX_ISSUE_LINES]
        ]
        if len(items) > MAX_ISSUE_LINES:
            lines.append(f"- … (+{len(items) - MAX_ISSUE_LINES})")
        return "\n".join(lines)

    @callback
    def _async_update_issue(
        self, now: datetime, found: list[dict[str, Any]] | None = None
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
                "lapsed": str(sum(1 for item in found if item["lapsed"])),
                "authorizations": self._lines(found),
            },
        )
