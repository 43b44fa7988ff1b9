// Strings, numbers, dates and errors in the user's language (hass.language).
//
// Errors never reach the user as the backend's raw text: a translated exception of
// the integration is shown from its own translations (translations/<lang>.json,
// loaded through the frontend's loadBackendTranslation), anything else is named by
// a word of ours, and a validation error names the field it belongs to.
import en from "./languages/en.json";
import it from "./languages/it.json";
import type { HomeAssistant, Localize, WsError } from "../types";

export type StringKey = keyof typeof en;

const LANGUAGES: Record<string, Partial<Record<StringKey, string>>> = { en, it };

/** An error the panel itself raises, named by one of its string keys. */
export class PanelError extends Error {
  constructor(
    readonly key: StringKey,
    readonly field?: string,
  ) {
    super(key);
  }
}

const CODES: Record<string, StringKey> = {
  unauthorized: "error_unauthorized",
  invalid_format: "error_invalid",
  not_found: "error_not_found",
  unknown_command: "error_unavailable",
  not_allowed: "error_unauthorized",
  timeout: "error_timeout",
};

/** A zone ``Intl`` knows, or undefined (the browser's). */
function knownZone(zone: string | undefined): string | undefined {
  if (!zone) return undefined;
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return zone;
  } catch {
    return undefined;
  }
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

export class Localizer {
  readonly language: string;
  private readonly table: Partial<Record<StringKey, string>>;
  /** The lab's time zone: a day chosen in the lab is that day there. */
  private readonly labZone: string | undefined;
  /** Where moments are shown: the browser's zone, or the lab's if the profile says "server". */
  private readonly zone: string | undefined;

  constructor(
    hass: HomeAssistant,
    private readonly exceptions: Localize | null = null,
  ) {
    this.language = hass.locale?.language || hass.language || "en";
    this.table = LANGUAGES[this.language.split("-")[0]] ?? en;
    this.labZone = knownZone(hass.config?.time_zone);
    this.zone = hass.locale?.time_zone === "server" ? this.labZone : undefined;
  }

  t(key: StringKey, params: Record<string, string | number> = {}): string {
    let text: string = this.table[key] ?? en[key] ?? key;
    for (const [name, value] of Object.entries(params)) {
      text = text.split(`{${name}}`).join(String(value));
    }
    return text;
  }

  /** A string key that is only known at run time (role_*, reason_*, kind_*). */
  maybe(key: string): string | null {
    return key in en ? this.t(key as StringKey) : null;
  }

  when(value: string | number | null | undefined): string {
    if (value === null || value === undefined || value === "") return "";
    const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
    return Number.isNaN(date.getTime())
      ? String(value)
      : date.toLocaleString(this.language, { dateStyle: "short", timeStyle: "short", timeZone: this.zone });
  }

  /**
   * A day, as a date. An authorization's expiry is the end of the day chosen, in the
   * lab's time zone (stored in UTC: 2027-06-30 in Rome is 21:59:59Z), so it is shown
   * in that zone, wherever the browser is; a bare date is that date. A ``Date`` is a
   * day of the browser's own calendar (the bookings' week).
   */
  day(value: string | Date | null | undefined): string {
    if (value instanceof Date) return value.toLocaleDateString(this.language, { dateStyle: "medium" });
    if (!value) return "";
    const bare = DATE_ONLY.test(value);
    const date = new Date(bare ? `${value}T12:00:00Z` : value);
    return Number.isNaN(date.getTime())
      ? value
      : date.toLocaleDateString(this.language, { dateStyle: "medium", timeZone: bare ? "UTC" : this.labZone });
  }

  number(value: unknown): string {
    if (typeof value === "boolean") return value ? "✔" : "✘";
    if (typeof value === "string") return value;
    if (typeof value !== "number") return "—";
    return value.toLocaleString(this.language, { maximumFractionDigits: 2 });
  }

  /** A small quantity with its leading digits (0.001 h is not "0"). */
  private amount(value: number): string {
    return value !== 0 && Math.abs(value) < 0.01
      ? value.toLocaleString(this.language, { maximumSignificantDigits: 2 })
      : this.number(value);
  }

  /**
   * A maintenance condition's progress in words, the channel by its name
   * ("Fan running active: 12.5 of 200 h"), never the rule's raw text.
   */
  condition(c: { kind: string; value: number; target: number }, channel: string): string {
    const params = { channel, value: this.amount(c.value), target: this.amount(c.target) };
    if (c.kind === "channel_hours") return this.t("condition_channel_hours", params);
    if (c.kind === "below_baseline") return this.t("condition_below_baseline", params);
    return this.t("condition_progress", { text: channel, value: params.value, target: params.target });
  }

  duration(seconds: number | null | undefined): string {
    if (typeof seconds !== "number") return "";
    const minutes = Math.round(seconds / 60);
    return minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  }

  /** The words for an audit entry's reason code (``not_authorized`` → "No authorization"). */
  reason(code: string | null | undefined): string {
    if (!code) return "";
    return this.maybe(`reason_${code}`) ?? this.t("reason_other");
  }

  /** The words for an audit entry's kind; one the panel does not know yet reads as words too. */
  kind(code: string): string {
    const words = code.replace(/_/g, " ");
    return this.maybe(`kind_${code}`) ?? words.charAt(0).toLocaleUpperCase(this.language) + words.slice(1);
  }

  /** The field a backend validation error is about (``... at 'member_ids'``), if any. */
  static errorField(err: unknown): string | undefined {
    if (err instanceof PanelError) return err.field;
    const message = (err as WsError | null)?.message;
    const match = typeof message === "string" ? /at '([a-z_]+)'/.exec(message) : null;
    return match ? match[1] : undefined;
  }

  /** A sentence for the user, never the backend's raw text. */
  error(err: unknown): string {
    if (err instanceof PanelError) return this.t(err.key);
    const ws = (err ?? {}) as WsError;
    if (ws.translation_key && ws.translation_domain === "fluxilab") {
      const own = this.maybe(`error_${ws.translation_key}`);
      const key = `component.fluxilab.exceptions.${ws.translation_key}.message`;
      const translated = this.exceptions?.(key, ws.translation_placeholders ?? {});
      if (translated && translated !== key) return translated;
      if (own) return own;
    }
    return this.t(CODES[ws.code ?? ""] ?? "error_failed");
  }
}

/** Load the integration's translated exceptions for the user's language, if the frontend can. */
export async function loadExceptions(hass: HomeAssistant): Promise<Localize | null> {
  if (!hass.loadBackendTranslation) return null;
  try {
    return await hass.loadBackendTranslation("exceptions", "fluxilab");
  } catch {
    return null;
  }
}
