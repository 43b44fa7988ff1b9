// Telling a member's cards apart when only their last four digits are shown.
import type { Credential } from "./types";

/** The hub's label for a card nobody named (access/credentials.py default_label). */
const DEFAULT_CARD_LABEL = /^Card (\d+)$/;

/**
 * A credential's label in the user's language: one the hub gave ("Card 2") reads as
 * "Tessera 2" in Italian; a label someone typed stays as typed.
 */
export function credentialLabel(c: Pick<Credential, "label">, card: string): string {
  const number = DEFAULT_CARD_LABEL.exec(c.label)?.[1];
  return number ? `${card} ${number}` : c.label;
}

/** How a card reads in a sentence: its label and its masked number ("Card 2 (••••C3D4)"). */
export function cardName(c: Pick<Credential, "label" | "card">, card = "Card"): string {
  const label = credentialLabel(c, card);
  return c.card ? `${label} (${c.card})` : label;
}

/**
 * The cards that label and masked number do not tell apart (two "Badge" cards both
 * ending C3D4): these also show the day they were added.
 */
export function twins(credentials: Pick<Credential, "id" | "type" | "label" | "card">[]): Set<string> {
  const seen = new Map<string, string[]>();
  for (const c of credentials) {
    if (c.type !== "card") continue;
    const key = `${c.label.trim().toLocaleLowerCase()}\u0000${c.card ?? ""}`;
    seen.set(key, [...(seen.get(key) ?? []), c.id]);
  }
  return new Set([...seen.values()].filter((ids) => ids.length > 1).flat());
}
