// The words of an audit entry: who made an admin change, what it changed from and to,
// through which door. Pure (no lit), so the unit tests read it as the view does.
import type { Localizer } from "../../localize/localize";
import type { AuditEntry } from "../../types";

/** The audit kinds the hub writes (the kind filter offers these). */
export const AUDIT_KINDS = ["admin", "decision", "routing", "maintenance", "training"];

/** A code (``session_timeout``) as words when the panel has none of its own. */
function words(i18n: Localizer, code: string): string {
  const text = code.replace(/_/g, " ");
  return text.charAt(0).toLocaleUpperCase(i18n.language) + text.slice(1);
}

/** A changed field's name. */
export function fieldName(i18n: Localizer, field: string): string {
  // The audit's own words, else the machine type form's label of the field.
  return i18n.maybe(`field_${field}`) ?? i18n.maybe(field) ?? words(i18n, field);
}

/** One value before or after a change. */
export function value(i18n: Localizer, field: string, raw: unknown): string {
  if (raw === null || raw === undefined || raw === "") return "—";
  if (typeof raw === "string") {
    if (field === "role") return i18n.maybe(`role_${raw}`) ?? raw;
    if (field === "offline_policy") return i18n.maybe(`offline_${raw}`) ?? raw;
    if (/^\d{4}-\d\d-\d\dT/.test(raw)) return i18n.when(raw);
    return raw;
  }
  if (typeof raw === "number" || typeof raw === "boolean") return i18n.number(raw);
  if (Array.isArray(raw)) return raw.length ? raw.map((item) => value(i18n, field, item)).join(", ") : "—";
  return JSON.stringify(raw);
}

type Change = { before?: unknown; after?: unknown; masked?: boolean; changed?: boolean; action?: string };

/** The changed fields, one line each: "Role: User → Admin"; hidden ones say so. */
export function changes(i18n: Localizer, entry: AuditEntry): string[] {
  const lines: string[] = [];
  for (const [field, raw] of Object.entries(entry.changes ?? {})) {
    const change = raw as Change & Record<string, unknown>;
    if (field === "credentials") {
      for (const [label, nested] of Object.entries(change as Record<string, Change>)) {
        lines.push(`${label === "pin" ? i18n.t("field_pin") : label}: ${action(i18n, nested.action ?? "updated")}`);
      }
    } else if (change.masked) {
      lines.push(`${fieldName(i18n, field)}: ${i18n.t("audit_masked")}`);
    } else if (change.changed) {
      lines.push(`${fieldName(i18n, field)}: ${i18n.t("audit_changed")}`);
    } else {
      lines.push(`${fieldName(i18n, field)}: ${value(i18n, field, change.before)} → ${value(i18n, field, change.after)}`);
    }
  }
  return lines;
}

/** An admin change's action in words (created, updated, deleted, maintenance). */
export function action(i18n: Localizer, code: string): string {
  return i18n.maybe(`action_${code}`) ?? words(i18n, code);
}

/** What an admin change was about: "Authorization granted: Laser". */
export function subject(i18n: Localizer, entry: AuditEntry): string {
  const target = i18n.maybe(`target_${entry.target ?? ""}`) ?? words(i18n, entry.target ?? "");
  const label = entry.target === "credential" && entry.label === "pin" ? i18n.t("field_pin") : entry.label;
  return `${target} ${action(i18n, entry.action ?? "updated").toLocaleLowerCase(i18n.language)}${label ? `: ${label}` : ""}`;
}

/** The door a change came through, in words (its exact name is the view's tooltip). */
export function door(i18n: Localizer, entry: AuditEntry): string {
  return i18n.maybe(`door_${entry.door ?? "system"}`) ?? words(i18n, entry.door ?? "");
}

/** Who made an admin change: their name, their member's, or who a door without one means. */
export function actor(i18n: Localizer, entry: AuditEntry, memberName: (id: string) => string | undefined): string {
  if (entry.actor_name) return entry.actor_name;
  if (entry.actor_member_id) return memberName(entry.actor_member_id) ?? "—";
  if (entry.anonymized) return i18n.t("audit_anonymized");
  if (entry.door === "options_flow") return i18n.t("audit_ha_admin");
  if (!entry.door || entry.door === "system") return i18n.t("audit_system");
  return "—";
}
