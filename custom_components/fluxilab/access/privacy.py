"""What the lab shows of a person outside the access engine.

Card uids never leave the engine in clear: states, attributes, bus events (which the
recorder keeps), the logbook, HA's tag registry, diagnostics and logs name a card by
its pseudonym, ``card_`` and ten hex digits of an HMAC-SHA256 of the uid under a
secret of this hub. The pseudonym is stable, so automations can compare it and the
services that take a card resolve it back inside the engine (``resolve``); without
the secret it cannot be turned back into the uid, short as uids are.

Members' names reach entities, the logbook and the bus events only when the lab
opts in (the ``show_member_names`` access setting, off by default). Off, the event
entity names a member by pseudonym (``member_…``), the current user sensor by role.

Home Assistant fires a ``call_service`` bus event with every service call's data,
and the recorder keeps it: a FluxiLab service's data is rewritten before the
recorder sees it (``service_call_data``): secrets (PINs, passwords) and free text
that names people (names, e-mail addresses, notes, CSV) are redacted, cards and
members become their pseudonyms, and only fields known to name nobody stay as given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
import hashlib
import hmac
import re
from typing import TYPE_CHECKING, Any, Final, TypedDict

from homeassistant.const import ATTR_DOMAIN, ATTR_SERVICE_DATA, EVENT_CALL_SERVICE
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.util.hass_dict import HassKey

from custom_components.fluxilab.const import DOMAIN

from .member_models import Member
from .settings_models import LabSettings

if TYPE_CHECKING:
    from .history import AccessHistory

CARD_PREFIX: Final = "card_"
MEMBER_PREFIX: Final = "member_"
PSEUDONYM_DIGITS: Final = 10
"""Hex digits of a pseudonym: 40 bits, no collision among a lab's cards."""
CARD_PSEUDONYM = re.compile(rf"{CARD_PREFIX}[0-9a-f]{{{PSEUDONYM_DIGITS}}}")
MAX_CACHED_PSEUDONYMS: Final = 4096
"""Pseudonyms kept computed (cards and members of a large lab, and some strangers)."""
IN_USE: Final = "in_use"
"""Current user sensor state for a user it does not name (nor knows the role of)."""

PERSON_FIELDS: Final = ("member_id", "member_name", "user_id", "trainer_id")
"""Event fields the event entity drops while names are off (ids are name slugs)."""
NAME_FIELDS: Final = ("member_name", "trainer_name")

REDACTED: Final = "**REDACTED**"
"""What a recorded service call shows of a secret or of text that names someone."""
SERVICE_CARD_FIELDS: Final = frozenset({"card", "cards"})
"""Service fields holding card uids (or pseudonyms): recorded as pseudonyms."""
SERVICE_MEMBER_FIELDS: Final = frozenset({"member_id", "trainer"})
"""Service fields holding member ids (slugs of names): recorded as pseudonyms."""
SERVICE_SECRET_FIELDS: Final = frozenset(
    {"pin", "current_pin", "password", "login_password"}
)
"""Service fields holding secrets: redacted."""
SERVICE_PERSONAL_FIELDS: Final = frozenset(
    {"name", "email", "note", "label", "csv_text", "notify_service", "login_username"}
)
"""Service fields of free text that may name a person: redacted."""
SERVICE_PLAIN_FIELDS: Final = frozenset(
    {
        # Home Assistant's targets and FluxiLab's ids that are not names.
        "entity_id",
        "device_id",
        "area_id",
        "floor_id",
        "label_id",
        "user_id",
        "session_id",
        "project_id",
        "credential_id",
        "authorization_id",
        "machine_type_id",
        # Settings, switches, numbers and times.
        "active",
        "role",
        "supervise",
        "strict",
        "dry_run",
        "allow_same_name",
        "credential_type",
        "expires",
        "last_used",
        "window_start",
        "window_end",
        "start",
        "end",
        "days",
        "month",
        "non_billable",
        "usage_retention_days",
        "unknown_card_retention_days",
        "telemetry_periods",
        "access_timeout",
        "path",
        "folder",
        "deactivate_login",
        # The site bridge (generate_broker_config), its password aside.
        "bridge_host",
        "bridge_port",
        "bridge_site",
        "bridge_tls",
        "bridge_cafile",
        "bridge_certfile",
        "bridge_keyfile",
        "bridge_devices",
        "remove_bridge",
    }
)
"""Service fields that name nobody: recorded as given. A field in none of these
sets is redacted (tests/integration/access/test_privacy_service_calls.py makes
every registered service's fields be in one of them)."""


class PersonFields(TypedDict):
    """The fields naming a person in FluxiLab's bus events (docs/EVENTS.md)."""

    member_id: str | None
    member_name: str | None
    """Only while the lab shows names."""
    user_id: str | None
    """The member's linked Home Assistant user."""
    card: str | None
    """The card's pseudonym, never its uid."""


PRIVACY: HassKey[Privacy] = HassKey(f"{DOMAIN}_privacy")
"""The engine's privacy rules, for the writers of events that hold no engine."""


def privacy_of(hass: HomeAssistant) -> Privacy:
    """Return the privacy rules (the engine registers them when it is made)."""
    return hass.data[PRIVACY]


@callback
def async_redact_service_calls(hass: HomeAssistant) -> CALLBACK_TYPE:
    """Rewrite FluxiLab's ``call_service`` events before the recorder keeps them.

    Home Assistant calls an event's listeners of its own type before those of
    every event (the recorder's), with one event object: the data this listener
    leaves is what the recorder, the logbook and other listeners see. The service
    handler has its own copy (the validated data), untouched.
    """

    @callback
    def _ours(event_data: Mapping[str, Any]) -> bool:
        return event_data.get(ATTR_DOMAIN) == DOMAIN and bool(
            event_data.get(ATTR_SERVICE_DATA)
        )

    @callback
    def _redact(event: Event[Any]) -> None:
        data = event.data
        try:
            data[ATTR_SERVICE_DATA] = privacy_of(hass).service_call_data(
                data[ATTR_SERVICE_DATA]
            )
        except Exception:  # whatever failed, the data is never kept in clear
            data[ATTR_SERVICE_DATA] = dict.fromkeys(data[ATTR_SERVICE_DATA], REDACTED)

    return hass.bus.async_listen(EVENT_CALL_SERVICE, _redact, event_filter=_ours)


class Privacy:
    """Pseudonyms under the hub's secret and the names setting, read from history."""

    def __init__(self, history: AccessHistory) -> None:
        """Read the secret and the setting from the history store when asked."""
        self._history = history
        self._key_hex: str | None = None
        self._digests: dict[str, str] = {}
        """Pseudonyms made under ``_key_hex``: a lab's cards and members, bounded."""

    @property
    def settings(self) -> LabSettings:
        """The lab's settings (kept in the history store).

        For writers without the history (notify.py's admin services).
        """
        return self._history.data["settings"]

    @property
    def show_names(self) -> bool:
        """True if the lab chose to show members' names on entities and events."""
        return bool(self._history.data["settings"].show_member_names)

    def _digest(self, kind: str, value: str) -> str:
        # Every swipe names its card and member several times (event, entity, tag):
        # each pseudonym is computed once per secret, then looked up.
        key_hex = self._history.data["pseudonym_key"]
        if key_hex != self._key_hex:
            self._key_hex, self._digests = key_hex, {}
        text = f"{kind}:{value}"
        if (digest := self._digests.get(text)) is not None:
            return digest
        mac = hmac.new(bytes.fromhex(key_hex), text.encode(), hashlib.sha256)
        digest = mac.hexdigest()[:PSEUDONYM_DIGITS]
        if len(self._digests) >= MAX_CACHED_PSEUDONYMS:
            self._digests.clear()
        self._digests[text] = digest
        return digest

    def card(self, card: str) -> str:
        """Return the pseudonym of a card uid (the one way a card is shown)."""
        return CARD_PREFIX + self._digest("card", card)

    def card_or_none(self, card: str | None) -> str | None:
        """Return a card's pseudonym, None for no card."""
        return None if card is None else self.card(card)

    def member(self, member_id: str) -> str:
        """Return the pseudonym of a member id (ids are slugs of names)."""
        return MEMBER_PREFIX + self._digest("member", member_id)

    def name(self, member: Member | None) -> str | None:
        """Return a member's name if names are shown, else None (no name: None)."""
        if member is None or not self.show_names:
            return None
        return member.name or None

    def person_fields(
        self, member: Member | None, card: str | None = None
    ) -> PersonFields:
        """Return the fields naming a person in FluxiLab's bus events.

        ``member_id`` and the linked ``user_id`` stay (automations and services act
        on them; the purge anonymizes them in the recorder); the name only if names
        are shown, the card as its pseudonym.
        """
        return {
            "member_id": None if member is None else member.id,
            "member_name": self.name(member),
            "user_id": None if member is None else member.user_id,
            "card": self.card_or_none(card),
        }

    # edge: the bus event data, as fired
    def event_data(self, event_data: dict[str, Any]) -> dict[str, Any]:
        """Blank the names in a bus event's extra fields (a trainer's) if hidden."""
        if not self.show_names:
            for field in NAME_FIELDS:
                if event_data.get(field) is not None:
                    event_data[field] = None
        return event_data

    def _card_shown(self, value: Any) -> Any:
        if isinstance(value, str):
            return value if CARD_PSEUDONYM.fullmatch(value) else self.card(value)
        if isinstance(value, list):
            return [self._card_shown(item) for item in value]
        return REDACTED

    def _member_shown(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.member(value)
        if isinstance(value, list):
            return [self._member_shown(item) for item in value]
        return REDACTED

    # edge: a service call's data, as the bus and recorder keep it
    def service_call_data(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Return a FluxiLab service call's data as the bus and the recorder keep it.

        Only fields known to name nobody stay as given; cards and members become
        their pseudonyms; secrets, free text and any field not known are redacted.
        """
        # edge: a service call's data, as the bus and recorder keep it
        shown: dict[str, Any] = {}
        for key, value in data.items():
            if key in SERVICE_PLAIN_FIELDS:
                shown[key] = value
            elif key in SERVICE_CARD_FIELDS:
                shown[key] = self._card_shown(value)
            elif key in SERVICE_MEMBER_FIELDS:
                shown[key] = self._member_shown(value)
            else:
                shown[key] = REDACTED
        return shown

    def resolve(self, value: str, cards: Iterable[str]) -> str | None:
        """Return the uid among ``cards`` that ``value`` (uid or pseudonym) names."""
        if not CARD_PSEUDONYM.fullmatch(value):
            return value
        return next((card for card in cards if self.card(card) == value), None)

    # edge: the bus event data, as the event entity shows it
    def entity_event(self, event_data: Mapping[str, Any]) -> dict[str, Any]:
        """Return an access event as the device's event entity shows it.

        Every Home Assistant user reads entity states: the card is its pseudonym
        already (the bus event carries no uid); the member and the trainer appear
        as pseudonyms, and by id, name and linked user only if names are shown.
        """
        shown = dict(event_data)
        card = event_data.get("card")
        if isinstance(card, str) and not CARD_PSEUDONYM.fullmatch(card):
            shown["card"] = self.card(card)  # whoever handed a uid: never shown
        member_id = event_data.get("member_id")
        shown["member"] = self.member(member_id) if member_id else None
        if "trainer_id" in event_data:
            trainer = event_data["trainer_id"]
            shown["trainer"] = self.member(trainer) if trainer else None
        if not self.show_names:
            for field in (*PERSON_FIELDS, *NAME_FIELDS):
                shown.pop(field, None)
        return shown
