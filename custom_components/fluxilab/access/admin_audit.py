"""The admin audit: who changed which admin data, from what to what, through which door.

Every change to the lab's admin data is one audit entry of kind ``admin``: members
(their role, active flag, profile), their cards and PINs, machine types,
authorizations, the lab settings, blocking a device and recording its maintenance.
An entry says

- *who*: the Home Assistant user (``actor_user_id``, ``actor_name``) and their member
  (``actor_member_id``), or nobody (the integration itself: ``door`` ``system``);
- *what*: ``target`` (member, credential, authorization, machine_type, role,
  settings, device, login: a member's Home Assistant login, logins.py), ``action`` (created, updated, deleted), the member it concerns
  (``member_id``/``member_name``), ``target_id`` and ``label`` where these name no
  person (a machine type, a device);
- *before -> after*: ``changes``, the changed fields only, ``{field: {"before": ..,
  "after": ..}}``. A field that names or reaches a person (name, email, Home
  Assistant user, notification target, who granted) is ``{"masked": true}``; a card
  is its pseudonym (privacy.py), a PIN only ``{"pin": {"changed": true}}``;
- *from which door*: ``door`` (service, websocket, entity, options_flow, system) and
  ``operation``, the door's name in the permission table (permissions.py).

How changes are caught: the doors (services.py, the websocket commands through
``require_permission``, the entities' actions, the options flow) run their handler
inside :func:`through`, which puts the door and the caller in a context variable;
the storage collections' change listeners compare each item with the copy kept here
and write the entry, whichever door the change came through. Settings, blocking and
maintenance are not collections: their writers call :func:`settings_changes`,
:meth:`AdminAudit.device_changed` and :meth:`AdminAudit.record`.

The entry goes the way of every audit entry (``AccessHistory.add_audit``: memory, the
journal, the history database). Who and whom are the personal columns of the history
database (history_db/schema.py), so the retention and a member's erasure blank them
like any other audit row's (gdpr.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
import copy
from dataclasses import dataclass, field, replace
import time
from typing import TYPE_CHECKING, Any, Final, Protocol

from homeassistant.core import callback
from homeassistant.helpers import collection

from custom_components.fluxilab.const import CONF_DEVICE_ID
from custom_components.fluxilab.history_db import LiveAudit

from .lab import Lab
from .lab_models import Authorization
from .member_models import Member

if TYPE_CHECKING:
    from homeassistant.auth.models import User
    from homeassistant.config_entries import ConfigEntry

    from custom_components.fluxilab.device.port import AccessDevice

    from .history import AccessHistory
    from .privacy import Privacy


class Caller(Protocol):
    """Who comes through a door (permissions.py's ``Caller`` is one)."""

    @property
    def user(self) -> User | None:
        """The Home Assistant user, if any."""

    @property
    def member_name(self) -> str | None:
        """The name of the member linked to the user, if any (and not empty)."""

    @property
    def member_id(self) -> str | None:
        """The id of that member."""


class AuditedLab(Lab, Protocol):
    """The engine as the audit sees it: the lab's data and its admin audit."""

    admin_audit: AdminAudit


KIND: Final = "admin"
"""The audit kind of admin changes."""

DOOR_SERVICE: Final = "service"
DOOR_WEBSOCKET: Final = "websocket"
DOOR_ENTITY: Final = "entity"
DOOR_OPTIONS_FLOW: Final = "options_flow"
DOOR_SYSTEM: Final = "system"
"""No door: the integration itself (a training, a lapse, a removed member's grants)."""

CREATED: Final = "created"
UPDATED: Final = "updated"
DELETED: Final = "deleted"

MASKED: Final = {"masked": True}

MEMBER_SHOWN: Final = frozenset(
    {"active", "deactivate_login", "login_created_by_fluxilab", "role", "supervise"}
)
"""Member fields shown before -> after; every other one is masked (credentials apart)."""
MEMBER_IGNORED: Final = frozenset({"id", "created", "updated", "credentials"})
CREDENTIAL_SHOWN: Final = ("type", "label", "active", "must_change")
AUTHORIZATION_MASKED: Final = frozenset({"granted_by"})
AUTHORIZATION_IGNORED: Final = frozenset(
    {"id", "member_id", "granted", "machine_type_id", "device_id"}
)
"""Who and what an authorization is for are the entry's member, label and device."""
MACHINE_TYPE_IGNORED: Final = frozenset({"id"})
SETTINGS_MASKED: Final = frozenset({"admin_notify_services"})
"""Settings naming people's phones."""


@dataclass(frozen=True, slots=True)
class Door:
    """The way a change came in, and who came through it."""

    kind: str
    operation: str
    user_id: str | None = None
    user_name: str | None = None
    member_id: str | None = None


_DOOR: ContextVar[Door | None] = ContextVar("fluxilab_admin_door", default=None)


@contextmanager
def through(caller: Caller, kind: str, operation: str) -> Iterator[Door]:
    """Run what follows as coming through a door, for the caller (the audit's who).

    Tasks started inside (an async websocket command's, the collections' listeners)
    keep the door; the door's own task forgets it on leaving.
    """
    user = caller.user
    name = user.name if user is not None and user.name else None
    if name is None:
        name = caller.member_name
    door = Door(
        kind=kind,
        operation=operation,
        user_id=user.id if user is not None else None,
        user_name=name,
        member_id=caller.member_id,
    )
    token = _DOOR.set(door)
    try:
        yield door
    finally:
        _DOOR.reset(token)


def current_door() -> Door:
    """Return the door the running code came through (the system if none)."""
    return _DOOR.get() or Door(kind=DOOR_SYSTEM, operation=DOOR_SYSTEM)


def change(before: object, after: object) -> FieldChange:
    """One field's change as the audit shows it: before -> after."""
    return FieldChange(before=before, after=after)


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldChange:
    """One field's change in an admin audit entry.

    Stored as ``{"before": .., "after": ..}``, or ``{"masked": true}`` for a field
    that names or reaches a person, or ``{"changed": true}`` for a PIN. The values
    may be personal (a problem's description, a setting): never in a repr.
    """

    before: object = field(default=None, repr=False)
    after: object = field(default=None, repr=False)
    masked: bool = False
    """The field names or reaches a person: only that it changed is stored."""
    changed_only: bool = False
    """A secret (a PIN's hash): the entry says only that it changed."""
    kept_because: str | None = None
    """Not changed on purpose, and why (a login FluxiLab must not deactivate)."""

    def as_dict(self) -> dict[str, Any]:
        """Return the change as the audit entry stores it."""
        if self.masked:
            return dict(MASKED)
        if self.changed_only:
            return {"changed": True}
        if self.kept_because is not None:
            return {"kept": True, "why": self.kept_because}
        return {"before": self.before, "after": self.after}


MASKED_CHANGE: Final = FieldChange(masked=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialChange:
    """A card or PIN added, removed or changed, inside a member's entry."""

    action: str
    label: str = field(repr=False)
    """The card's pseudonym, else the credential's type, else its id."""
    changes: Diff


@dataclass(frozen=True, slots=True, kw_only=True)
class Diff:
    """An admin audit entry's ``changes``: the changed fields only, in their order."""

    fields: Mapping[str, FieldChange] = field(default_factory=dict)
    credentials: tuple[CredentialChange, ...] = ()
    """A member's cards and PIN changed along with the member (stored last)."""

    def __bool__(self) -> bool:
        """Return True if anything changed."""
        return bool(self.fields) or bool(self.credentials)

    @classmethod
    def from_dict(
        cls,
        before: Mapping[str, Any],
        after: Mapping[str, Any],
        *,
        ignored: Iterable[str] = (),
        masked: Iterable[str] = (),
        shown: Iterable[str] | None = None,
    ) -> Diff:
        """Compare two stored forms: the changed fields, masked unless ``shown``.

        ``before`` and ``after`` are a storage collection's item, the lab settings
        or a config entry's options, before and after the change.
        """
        skip = frozenset(ignored)
        return cls(
            fields=_compare(
                (
                    (key, before.get(key), after.get(key))
                    for key in sorted({*before, *after} - skip)
                ),
                masked=masked,
                shown=shown,
            )
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the changes as the audit entry stores them."""
        stored = {name: change.as_dict() for name, change in self.fields.items()}
        if self.credentials:
            stored["credentials"] = {
                credential.label: {
                    "action": credential.action,
                    **credential.changes.as_dict(),
                }
                for credential in self.credentials
            }
        return stored


def _empty(value: object) -> bool:
    """None, "", [] and {} alike: nothing there (not 0, not False)."""
    return value is None or (isinstance(value, str | list | dict) and not value)


def _compare(
    values: Iterable[tuple[str, object, object]],
    *,
    masked: Iterable[str] = (),
    shown: Iterable[str] | None = None,
) -> dict[str, FieldChange]:
    """Return the changed ones of (field, before, after), masked unless ``shown``."""
    hide = frozenset(masked)
    visible = None if shown is None else frozenset(shown)
    changes: dict[str, FieldChange] = {}
    for key, old, new in values:
        if old == new or (_empty(old) and _empty(new)):
            continue
        if key in hide or (visible is not None and key not in visible):
            changes[key] = MASKED_CHANGE
        else:
            changes[key] = change(old, new)
    return changes


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialView:
    """What the audit compares of a card or PIN: its pseudonym, never its uid.

    The fields are the stored ones (``CREDENTIAL_SHOWN``), as stored; a PIN's hash
    is compared, never shown (the entry says only that the PIN changed).
    """

    id: str
    type: object = None
    label: object = field(default=None, repr=False)
    active: object = None
    must_change: object = None
    card: str | None = field(default=None, repr=False)
    """The card's pseudonym (privacy.py)."""
    pin: str | None = field(default=None, repr=False)
    """The PIN's hash."""

    @classmethod
    def from_storage(cls, item: Mapping[str, Any], privacy: Privacy) -> CredentialView:
        """Read a stored credential; its card becomes its pseudonym."""
        card = item.get("card")
        pin_hash = item.get("pin_hash")
        return cls(
            id=str(item.get("id")),
            type=item.get("type"),
            label=item.get("label"),
            active=item.get("active"),
            must_change=item.get("must_change"),
            card=None if card is None else privacy.card(str(card)),
            pin=None if pin_hash is None else str(pin_hash),
        )

    @property
    def shown_label(self) -> str:
        """How the entry names the credential: pseudonym, else type, else id."""
        return str(self.card or self.type or self.id)

    def _values(self) -> tuple[object, ...]:
        return (self.type, self.label, self.active, self.must_change, self.card)

    def same(self, other: CredentialView | None) -> bool:
        """Return True if nothing the audit compares differs."""
        return other is not None and (
            self._values() == other._values() and self.pin == other.pin
        )

    @staticmethod
    def diff(was: CredentialView | None, now: CredentialView | None) -> Diff:
        """Return the changed fields of a credential (a PIN: only that it changed)."""
        names = ("active", "card", "label", "must_change", "pin", "type")
        changes = _compare(
            (
                name,
                None if was is None else getattr(was, name),
                None if now is None else getattr(now, name),
            )
            for name in names
        )
        if "pin" in changes:
            changes["pin"] = FieldChange(changed_only=True)
        return Diff(fields=changes)


def _credential_changes(
    old: Iterable[CredentialView], new: Iterable[CredentialView]
) -> tuple[CredentialChange, ...]:
    """Return each card or PIN added, removed or changed."""
    before = {view.id: view for view in old}
    after = {view.id: view for view in new}
    found: list[CredentialChange] = []
    for credential_id in [*before, *(i for i in after if i not in before)]:
        was, now = before.get(credential_id), after.get(credential_id)
        if was is not None and was.same(now):
            continue
        action = CREATED if was is None else DELETED if now is None else UPDATED
        shown = now or was or CredentialView(id=credential_id)
        found.append(
            CredentialChange(
                action=action,
                label=shown.shown_label,
                changes=CredentialView.diff(was, now),
            )
        )
    return tuple(found)


class AdminAudit:
    """Writes the ``admin`` audit entries of one engine."""

    def __init__(self, engine: Lab) -> None:
        """Prepare; :meth:`async_setup` follows the collections."""
        self.engine = engine
        # edge: copies of the collections' stored items, to diff
        self._copies: dict[str, dict[str, dict[str, Any]]] = {}
        self._blocked: dict[str, bool] = {}

    @property
    def history(self) -> AccessHistory:
        """The history the entries go to."""
        return self.engine.history

    @callback
    def async_setup(self) -> None:
        """Keep a copy of every item and follow the collections' changes."""
        engine = self.engine
        for name, items in (
            ("member", engine.members),
            ("machine_type", engine.machine_types),
            ("authorization", engine.authorizations),
        ):
            self.follow_collection(name, items)

    @callback
    def follow_collection(
        self, name: str, items: collection.ObservableCollection[Any]
    ) -> None:
        """Audit a collection's changes as target ``name`` (projects: billing)."""
        self._copies[name] = copy.deepcopy(dict(items.data))
        items.async_add_change_set_listener(self._listener(name))

    def _listener(
        self, name: str
    ) -> Callable[[Iterable[collection.CollectionChange]], Awaitable[None]]:
        """Return the change listener of one collection (``name``: its target)."""

        async def _changed(changes: Iterable[collection.CollectionChange]) -> None:
            copies = self._copies[name]
            for change in changes:
                before = copies.pop(change.item_id, None)
                after = None
                if change.change_type != collection.CHANGE_REMOVED:
                    after = copies[change.item_id] = copy.deepcopy(change.item)
                self._item_changed(name, before, after)

        return _changed

    # What changed -------------------------------------------------------------------

    def _item_changed(
        self,
        name: str,
        # edge: the collection's stored item before the change
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,  # edge: the stored item after the change
    ) -> None:
        """Audit one stored item's change (the collections' storage edge)."""
        action = CREATED if before is None else DELETED if after is None else UPDATED
        old, new = before or {}, after or {}
        item = new or old
        if name == "member":
            privacy = self.engine.privacy
            credentials = (
                ()
                if action == DELETED
                else _credential_changes(
                    (
                        CredentialView.from_storage(c, privacy)
                        for c in old.get("credentials") or ()
                    ),
                    (
                        CredentialView.from_storage(c, privacy)
                        for c in new.get("credentials") or ()
                    ),
                )
            )
            changes = Diff.from_dict(
                old, new, ignored=MEMBER_IGNORED, shown=MEMBER_SHOWN
            )
            self._member_changed(
                action, Member.from_storage(item), changes, credentials
            )
        elif name == "authorization":
            self._authorization_changed(
                action,
                Authorization.from_storage(item),
                Diff.from_dict(
                    old, new, ignored=AUTHORIZATION_IGNORED, masked=AUTHORIZATION_MASKED
                ),
            )
        else:
            self.record(
                name,
                action,
                Diff.from_dict(old, new, ignored=MACHINE_TYPE_IGNORED),
                target_id=str(item.get("id")),
                label=str(item.get("name") or item.get("id")),
            )

    def _member_changed(
        self,
        action: str,
        member: Member,
        changes: Diff,
        credentials: tuple[CredentialChange, ...],
    ) -> None:
        if action == UPDATED and not changes and credentials:
            # Only cards or the PIN changed: one entry per credential.
            for credential in credentials:
                self.record(
                    "credential",
                    credential.action,
                    credential.changes,
                    member=member,
                    label=credential.label,
                )
            return
        if credentials:
            changes = replace(changes, credentials=credentials)
        # A deleted member's data are erased (gdpr.py): the entry names nobody.
        self.record(
            "member", action, changes, member=None if action == DELETED else member
        )

    def _authorization_changed(
        self, action: str, auth: Authorization, changes: Diff
    ) -> None:
        member = self.engine.members.member(auth.member_id)
        type_id = auth.machine_type_id
        device_id = auth.device_id
        # What the admin sees the machine called ("Laser 10"), not its id.
        device = self.engine.devices.get(str(device_id)) if device_id else None
        label = (device.entry.title or device_id) if device is not None else device_id
        if type_id is not None:
            machine_type = self.engine.machine_types.machine_type(type_id)
            label = (machine_type.name if machine_type else None) or type_id
        self.record(
            "authorization",
            action,
            changes,
            member=member,
            member_id=auth.member_id,
            device_id=device_id,
            target_id=type_id,
            label=None if label is None else str(label),
        )

    @callback
    def follow(self, device: AccessDevice) -> None:
        """Remember a device's blocked flag (a change of it is audited)."""
        self._blocked[device.device_id] = device.blocked

    @callback
    def device_changed(self, device: AccessDevice) -> None:
        """Audit a device's blocked flag if it changed (a device listener)."""
        was = self._blocked.get(device.device_id)
        now = self._blocked[device.device_id] = device.blocked
        if was is not None and was != now:
            self.record(
                "device",
                UPDATED,
                {"blocked": change(was, now)},
                device_id=device.device_id,
                target_id=device.device_id,
                label=device.entry.title or device.device_id,
            )

    @callback
    # edge: the config entry's options, as Home Assistant stores them
    def options_changed(self, entry: ConfigEntry, options: Mapping[str, Any]) -> None:
        """Audit a device's new options (its options flow, Home Assistant's admins)."""
        device_id = str(entry.data.get(CONF_DEVICE_ID) or entry.entry_id)
        self.record(
            "device",
            UPDATED,
            Diff.from_dict(entry.options, options),
            device_id=device_id,
            target_id=device_id,
            label=entry.title or device_id,
            door=_DOOR.get() or Door(kind=DOOR_OPTIONS_FLOW, operation="options_flow"),
        )

    # Writing ------------------------------------------------------------------------

    @callback
    def record(
        self,
        target: str,
        action: str,
        changes: Diff | Mapping[str, FieldChange],
        *,
        member: Member | None = None,
        member_id: str | None = None,
        device_id: str | None = None,
        target_id: str | None = None,
        label: str | None = None,
        door: Door | None = None,
    ) -> LiveAudit | None:
        """Write one admin audit entry; nothing for an update that changed nothing.

        ``member``: whom the entry concerns; ``member_id`` when only their id is
        known (the entry then names nobody).
        """
        if not isinstance(changes, Diff):
            changes = Diff(fields=changes)
        if action == UPDATED and not changes:
            return None
        door = door or current_door()
        entry = LiveAudit.from_entry(
            {
                "ts": time.time(),
                "kind": KIND,
                "device_id": device_id,
                "member_id": member_id if member is None else member.id,
                "member_name": None if member is None else member.name,
                "card": None,
                "reason": None,
                "target": target,
                "action": action,
                "target_id": target_id,
                "label": label,
                "changes": changes.as_dict(),
                "door": door.kind,
                "operation": door.operation,
                "actor_user_id": door.user_id,
                "actor_name": door.user_name,
                "actor_member_id": door.member_id,
            }
        )
        self.history.add_audit(entry)
        return entry


@contextmanager
def settings_changes(engine: AuditedLab) -> Iterator[None]:
    """Audit what the code inside changes in the lab settings (one entry)."""
    before = engine.history.data["settings"]  # immutable: writers replace it
    yield
    changes = Diff.from_dict(
        before.as_dict(),
        engine.history.data["settings"].as_dict(),
        masked=SETTINGS_MASKED,
    )
    engine.admin_audit.record("settings", UPDATED, changes, target_id="settings")
