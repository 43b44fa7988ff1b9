"""Cards as Home Assistant tags: each swipe fires ``tag_scanned``.

Members' cards (active or not) are registered in the tag integration, named after the
member and the card's label, so a swipe shows up under HA's tags; unknown cards appear
there by being scanned.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.tag import TAG_DATA, async_scan_tag
from homeassistant.core import HomeAssistant

from custom_components.fluxilab.const import LOGGER

from .credentials import CredentialType, credentials_of


async def async_card_scanned(
    hass: HomeAssistant, card: str, device_id: str | None
) -> None:
    """Report a swipe to the tag integration (fires ``tag_scanned``)."""
    try:
        await async_scan_tag(hass, card, device_id)
    except Exception:  # a tag problem must never decide access
        LOGGER.exception("Could not report card swipe to the tag integration")


async def async_register_cards(
    hass: HomeAssistant, member: dict[str, Any], old_cards: set[str]
) -> None:
    """Make the tag list match a member's cards; remove tags of cards they lost."""
    tags = hass.data.get(TAG_DATA)
    if tags is None:
        return
    cards = {
        c["card"]: f"{member['name']} ({c['label']})"
        for c in credentials_of(member)
        if c["type"] == CredentialType.CARD
    }
    for card, name in cards.items():
        if card not in tags.data:
            await tags.async_create_item({"tag_id": card, "name": name})
        elif tags.data[card].get("name") != name:
            await tags.async_update_item(card, {"name": name})
    for card in old_cards - set(cards):
        await async_forget_card(hass, card)


async def async_forget_card(hass: HomeAssistant, card: str) -> None:
    """Remove a card's tag (its name says whose it was)."""
    tags = hass.data.get(TAG_DATA)
    if tags is not None and card in tags.data:
        await tags.async_delete_item(card)
