// A telemetry channel's safety limit (the interlock's, from its machine type): the
// words shown beside the live value and whether the value is outside it. Shared by
// the panel's Lab view and the dashboard's device card.
import type { Localizer } from "./localize/localize";
import type { SafetyLimit } from "./types";

/** The limit on ``channel`` among a device's limits, if it has one. */
export function limitOf(limits: SafetyLimit[] | undefined, channel: string): SafetyLimit | undefined {
  return (limits ?? []).find((l) => l.channel === channel);
}

/** True if ``value`` is a number outside ``limit``. */
export function outside(limit: SafetyLimit | undefined, value: unknown): boolean {
  if (limit === undefined || typeof value !== "number") return false;
  return (limit.min !== undefined && value < limit.min) || (limit.max !== undefined && value > limit.max);
}

/** The limit in words: "(≥ 0.4)", "(≤ 2)", "(≥ 0.4 ≤ 0.6)". */
export function limitText(i18n: Localizer, limit: SafetyLimit): string {
  const parts = [
    limit.min !== undefined ? `≥ ${i18n.number(limit.min)}` : "",
    limit.max !== undefined ? `≤ ${i18n.number(limit.max)}` : "",
  ].filter(Boolean);
  return `(${parts.join(" ")})`;
}
