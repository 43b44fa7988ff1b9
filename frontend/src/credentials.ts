// Telling a member's cards apart when only their last four digits are shown.
import type { Credential } from "./types";

/** How a card reads in a sentence: its label and its masked number ("Card 2 (••••C3D4)"). */
export function cardName(c: Pick<Credential, "label" | "card">): string {
  return c.card ? `${c.label} (${c.card})` : c.label;
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
