"""Cards as Home Assistant tags: each swipe fires ``tag_scanned``.

Members' cards (active or not) are registered in the tag integration, so a swipe
shows up under HA's tags; unknown cards appear there by being scanned. A tag's id is
the card's pseudonym (privacy.py), never its uid: the tag registry, the tag entity
and ``tag_scanned`` (which the recorder keeps) are open to every HA user. A tag is
named after the card's label, and after its member only if the lab shows names.
Removing a member, or purging an unknown card, removes the tags FluxiLab made.
"""

from __future__ import annotations

from collections.abc import Iterable

from homeassistant.components.tag import TAG_DATA, async_scan_tag
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from custom_components.fluxilab.const import LOGGER

from .member_models import Member
from .privacy import Privacy


async def async_card_scanned(
    hass: HomeAssistant, privacy: Privacy, card: str, device_id: str | None
) -> None:
    """Report a swipe to the tag integration (fires ``tag_scanned``)."""
    try:
        await async_scan_tag(hass, privacy.card(card), device_id)
    except Exception:  # a tag problem must never decide access
        LOGGER.exception("Could not report card swipe to the tag integration")


def tag_name(privacy: Privacy, member: Member, label: str) -> str:
    """Name a member's card tag: its label, with the member's name if shown."""
    if (name := privacy.name(member)) is not None:
        return f"{name} ({label})"
    return label


async def async_register_cards(
    hass: HomeAssistant, privacy: Privacy, member: Member, old_cards: set[str]
) -> None:
    """Make the tag list match a member's cards; remove tags of cards they lost."""
    tags = hass.data.get(TAG_DATA)
    if tags is None:
        return
    cards = {
        c.card: tag_name(privacy, member, c.label)
        for c in member.credentials
        if c.card is not None and c.is_card
    }
    registry = er.async_get(hass)
    for card, name in cards.items():
        tag_id = privacy.card(card)
        if card in tags.data:  # made before tags were pseudonymous
            await tags.async_delete_item(card)
        if tag_id not in tags.data:
            await tags.async_create_item({"tag_id": tag_id, "name": name})
            continue
        # The tag integration keeps names in the entity registry.
        entity_id = registry.async_get_entity_id("tag", "tag", tag_id)
        entry = registry.async_get(entity_id) if entity_id else None
        if entry is None or entry.name != name:
            await tags.async_update_item(tag_id, {"name": name})
    await async_forget_cards(hass, privacy, old_cards - set(cards))


async def async_forget_cards(
    hass: HomeAssistant, privacy: Privacy, cards: Iterable[str]
) -> None:
    """Remove the tags of cards (by uid): a member's removed, unknown ones purged."""
    tags = hass.data.get(TAG_DATA)
    if tags is None:
        return
    for card in cards:
        for tag_id in (privacy.card(card), card):  # the uid: tags made before
            if tag_id in tags.data:
                await tags.async_delete_item(tag_id)
