// custom:fluxilab-device-card: one FluxiLab device on a dashboard. Its status, who
// uses it (as the "current user" sensor shows it: a name only where the lab's
// show_member_names setting allows it), the live telemetry with a sparkline of the
// last hour from the recorder, maintenance, and Open (the panel's one-minute token
// flow) and Book (the panel's device; bookings live there).
//
//   type: custom:fluxilab-device-card
//   device: laser-1          # the FluxiLab device id
//   show_telemetry: true     # optional
import { css, html, LitElement, nothing } from "lit";
import type { PropertyValues, TemplateResult } from "lit";
import { property, state } from "lit/decorators.js";
import { FluxiLabClient } from "../client";
import "../components/sparkline";
import { limitOf, limitText, outside } from "../limits";
import { Localizer } from "../localize/localize";
import type { StringKey } from "../localize/localize";
import { SeriesStore } from "../series";
import type { DeviceStatus, HomeAssistant, LabView } from "../types";
import { followLab, navigate } from "./lab-source";

export const CARD_TYPE = "fluxilab-device-card";
export const EDITOR_TYPE = "fluxilab-device-card-editor";

export interface DeviceCardConfig {
  type: string;
  device: string;
  show_telemetry?: boolean;
}

/** What the "current user" sensor says when the lab keeps names out of states. */
const ROLE_STATES = new Set(["user", "staff", "admin"]);
const NO_STATE = new Set(["unknown", "unavailable", "in_use", ""]);

export function findDevice(lab: LabView | null, deviceId: string): DeviceStatus | null {
  for (const area of lab?.areas ?? []) {
    const found = area.devices.find((d) => d.device_id === deviceId);
    if (found) return found;
  }
  return null;
}

export class FluxiLabDeviceCard extends LitElement {
  static override styles = css`
    ha-card, .card { padding: 16px; display: block; height: 100%; box-sizing: border-box; }
    .head { display: flex; justify-content: space-between; gap: 8px; align-items: baseline; }
    h2 { margin: 0; font-size: 18px; font-weight: 500; }
    .sub { color: var(--secondary-text-color); font-size: 13px; }
    .chips { display: flex; flex-wrap: wrap; gap: 6px; margin: 10px 0; }
    .chip { font-size: 12px; padding: 3px 10px; border-radius: 12px; background: var(--secondary-background-color, rgba(127, 127, 127, 0.15)); }
    .chip.ok { background: var(--success-color, #43a047); color: #fff; }
    .chip.bad { background: var(--error-color, #db4437); color: #fff; }
    .chip.warn { background: var(--warning-color, #ffa600); color: #000; }
    .chip.info { background: var(--info-color, #039be5); color: #fff; }
    .telemetry { display: grid; grid-template-columns: minmax(0, max-content) minmax(48px, 1fr) max-content; gap: 4px 12px; align-items: center; font-size: 14px; margin: 8px 0; }
    .telemetry .v { font-variant-numeric: tabular-nums; text-align: right; }
    .telemetry .v.outside { color: var(--error-color, #db4437); font-weight: 500; }
    fluxilab-sparkline { justify-self: end; width: 100%; max-width: 120px; height: 24px; }
    .muted { color: var(--secondary-text-color); font-size: 13px; }
    .actions { display: flex; gap: 8px; flex-wrap: wrap; margin-top: 12px; }
    button, a.button { font: inherit; font-size: 14px; padding: 8px 16px; min-height: 40px; border-radius: 20px; cursor: pointer; border: 1px solid var(--primary-color, #03a9f4); text-decoration: none; display: inline-flex; align-items: center; box-sizing: border-box; }
    button.primary { background: var(--primary-color, #03a9f4); color: var(--text-primary-color, #fff); }
    .secondary { background: none; color: var(--primary-color, #03a9f4); }
    button:disabled { opacity: 0.6; cursor: default; }
    .error { color: var(--error-color, #db4437); font-size: 13px; }
  `;

  @property({ attribute: false }) hass?: HomeAssistant;
  @state() private config?: DeviceCardConfig;
  @state() private lab: LabView | null = null;
  @state() private error = "";
  @state() private opening = false;
  @state() private openLink = "";
  private stop?: () => void;
  private i18n?: Localizer;
  private readonly series = new SeriesStore(() => this.requestUpdate());
  private readonly client = new FluxiLabClient(() => this.hass as HomeAssistant);

  static getConfigElement(): HTMLElement {
    return document.createElement(EDITOR_TYPE);
  }

  /** The card picker's preview: the first device the user may see. */
  static async getStubConfig(hass: HomeAssistant): Promise<DeviceCardConfig> {
    let device = "";
    try {
      const lab = await new FluxiLabClient(() => hass).lab();
      device = lab.areas.flatMap((a) => a.devices)[0]?.device_id ?? "";
    } catch {
      // No access: the editor shows the choice.
    }
    return { type: `custom:${CARD_TYPE}`, device };
  }

  setConfig(config: DeviceCardConfig): void {
    if (!config || typeof config.device !== "string") {
      throw new Error("fluxilab-device-card: set `device` to a FluxiLab device id");
    }
    this.config = { show_telemetry: true, ...config };
  }

  getCardSize(): number {
    return 2 + (this.config?.show_telemetry ? (this.device()?.telemetry.length ?? 0) : 0);
  }

  /** In a sections view: half a section wide, as tall as what it shows (its telemetry comes later). */
  getGridOptions(): Record<string, number | string> {
    return { columns: 6, min_columns: 6, rows: "auto" };
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.follow();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.stop?.();
    this.stop = undefined;
  }

  private follow(): void {
    if (this.stop || !this.hass || !this.isConnected) return;
    this.stop = followLab(this.hass, (lab, error) => {
      this.lab = lab;
      this.error = error ? (this.i18n?.error(error) ?? "") : "";
      const device = this.device();
      if (!device || !this.config?.show_telemetry) return;
      for (const c of device.telemetry) this.series.push(c.entity_id, c.value);
      void this.series.load(this.client, device.telemetry.map((c) => c.entity_id));
    });
  }

  protected override shouldUpdate(changed: PropertyValues<this>): boolean {
    // A new `hass` comes with every state change in the house: only the current
    // user sensor and the language concern this card (the rest comes by websocket).
    if (changed.size === 1 && changed.has("hass") && this.i18n) {
      const old: HomeAssistant | undefined = changed.get("hass");
      const id = this.device()?.current_user_entity_id;
      return (
        !old ||
        old.language !== this.hass?.language ||
        (id ? old.states?.[id]?.state !== this.hass?.states?.[id]?.state : false)
      );
    }
    return true;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has("hass") && this.hass) {
      if (!this.i18n || this.i18n.language !== (this.hass.locale?.language || this.hass.language || "en")) {
        this.i18n = new Localizer(this.hass);
      }
      this.follow();
    }
  }

  private t(key: StringKey, params?: Record<string, string | number>): string {
    return this.i18n?.t(key, params) ?? key;
  }

  private device(): DeviceStatus | null {
    return this.config ? findDevice(this.lab, this.config.device) : null;
  }

  /** Who uses it, as far as the lab shows it to everyone (the sensor's state). */
  private who(d: DeviceStatus): string {
    const state = d.current_user_entity_id ? this.hass?.states?.[d.current_user_entity_id]?.state : undefined;
    if (state === undefined || NO_STATE.has(state)) return this.t("in_use");
    if (ROLE_STATES.has(state)) {
      return this.t("in_use_by", { name: this.i18n?.maybe(`role_${state}`) ?? state });
    }
    return this.t("in_use_by", { name: state });
  }

  private async open(d: DeviceStatus): Promise<void> {
    this.opening = true;
    this.error = "";
    this.openLink = "";
    try {
      const { url } = await this.client.open(d.device_id);
      const target = new URL(url);
      if (target.protocol !== "http:" && target.protocol !== "https:") throw new Error("refused");
      // The device UI outside Home Assistant: a tab, or the companion app's browser.
      const page = window.open(target.href, "_blank");
      if (page) page.opener = null;
      else this.openLink = target.href;
    } catch (err) {
      this.error = this.i18n?.error(err) ?? String(err);
    } finally {
      this.opening = false;
    }
  }

  protected override render(): TemplateResult {
    if (!this.config) return html``;
    const d = this.device();
    if (!d) {
      return html`<ha-card
        ><div class="muted" data-state="missing">
          ${this.error || (this.lab ? this.t("card_no_device", { device: this.config.device }) : this.t("loading"))}
        </div></ha-card
      >`;
    }
    const i18n = this.i18n;
    return html`<ha-card data-device=${d.device_id}>
      <div class="head">
        <h2>${d.name}</h2>
        <span class="sub">${d.area ?? ""}</span>
      </div>
      <div class="sub">${[d.machine_type, d.device_id].filter(Boolean).join(" · ")}</div>
      <div class="chips">
        ${d.online
          ? html`<span class="chip ok">${this.t("online")}</span>`
          : html`<span class="chip bad">${this.t("offline")}</span>`}
        ${d.in_use
          ? html`<span class="chip info" data-who>${this.who(d)}</span>`
          : html`<span class="chip">${this.t("free")}</span>`}
        ${d.link === "broken"
          ? html`<span class="chip bad" data-status="link_broken" title=${this.t("link_broken_hint")}
              >${this.t("link_broken")}</span
            >`
          : nothing}
        ${d.blocked ? html`<span class="chip bad">${this.t("blocked")}</span>` : nothing}
        ${d.maintenance_due ? html`<span class="chip warn">${this.t("maintenance_due")}</span>` : nothing}
      </div>
      ${this.config.show_telemetry && d.telemetry.length
        ? html`<div class="telemetry">
            ${d.telemetry.map((c) => {
              // The interlock's limit beside the value, red outside it (issue 18 item 10).
              const limit = limitOf(d.safety_limits, c.key);
              return html`<span>${c.name}</span>
                ${c.entity_id
                  ? html`<fluxilab-sparkline
                      data-channel=${c.key}
                      .points=${this.series.get(c.entity_id)}
                      label=${this.t("last_hour", { name: c.name })}
                    ></fluxilab-sparkline>`
                  : html`<span></span>`}
                <span class="v ${outside(limit, c.value) ? "outside" : ""}" data-channel=${c.key}
                  >${i18n?.number(c.value)}${c.unit && c.value !== null ? ` ${c.unit}` : ""}${limit && i18n
                    ? html` <span class="muted limit" data-limit=${c.key}>${limitText(i18n, limit)}</span>`
                    : nothing}</span
                >`;
            })}
          </div>`
        : nothing}
      ${typeof d.hours_to_maintenance === "number" && !d.maintenance_due
        ? html`<div class="muted">${this.t("hours_left", { hours: i18n?.number(d.hours_to_maintenance) ?? "" })}</div>`
        : nothing}
      <div class="actions">
        ${d.link === "broken"
          ? html`<span class="muted" data-hint="link_broken">${this.t("link_broken_hint")}</span>`
          : d.paired && d.has_ui
            ? html`<button class="primary" data-action="open" ?disabled=${this.opening} @click=${() => void this.open(d)}>
                ${this.opening ? this.t("opening") : this.t("open")}
              </button>`
            : nothing}
        <a
          class="button secondary"
          data-action="book"
          href="/fluxilab"
          @click=${(ev: MouseEvent) => {
            ev.preventDefault();
            navigate("/fluxilab");
          }}
          >${this.t("book")}</a
        >
      </div>
      ${this.openLink
        ? html`<p class="muted">
            ${this.t("open_blocked")}
            <a href=${this.openLink} target="_blank" rel="noopener noreferrer" data-action="open-link"
              >${this.t("open_link", { name: d.name })}</a
            >
          </p>`
        : nothing}
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
    </ha-card>`;
  }
}
