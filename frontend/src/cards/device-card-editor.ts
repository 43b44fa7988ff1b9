// The device card's visual editor: which device (the ones the user may see, by
// area) and whether to show the telemetry. Plain form elements, so it does not wait
// for Home Assistant's lazily loaded form components.
import { css, html, LitElement } from "lit";
import type { TemplateResult } from "lit";
import { property, state } from "lit/decorators.js";
import { FluxiLabClient } from "../client";
import { Localizer } from "../localize/localize";
import type { HomeAssistant, LabView } from "../types";
import type { DeviceCardConfig } from "./device-card";

export class FluxiLabDeviceCardEditor extends LitElement {
  static override styles = css`
    label { display: flex; flex-direction: column; gap: 4px; margin-bottom: 12px; font-size: 14px; }
    label.check { flex-direction: row; align-items: center; gap: 8px; }
    select { font: inherit; padding: 8px; min-height: 40px; }
  `;

  @property({ attribute: false }) hass?: HomeAssistant;
  @state() private config?: DeviceCardConfig;
  @state() private lab: LabView | null = null;
  private asked = false;

  setConfig(config: DeviceCardConfig): void {
    this.config = config;
  }

  protected override willUpdate(): void {
    if (this.hass && !this.asked) {
      this.asked = true;
      void new FluxiLabClient(() => this.hass as HomeAssistant)
        .lab()
        .then((lab) => (this.lab = lab))
        .catch(() => (this.lab = { user: { name: "", is_admin: false }, member: null, manager: false, areas: [] }));
    }
  }

  private changed(change: Partial<DeviceCardConfig>): void {
    if (!this.config) return;
    this.config = { ...this.config, ...change };
    this.dispatchEvent(new CustomEvent("config-changed", { detail: { config: this.config }, bubbles: true, composed: true }));
  }

  protected override render(): TemplateResult {
    if (!this.hass || !this.config) return html``;
    const i18n = new Localizer(this.hass);
    const current = this.config.device;
    const known = this.lab?.areas.some((a) => a.devices.some((d) => d.device_id === current));
    return html`<label
        >${i18n.t("device")}
        <select name="device" @change=${(ev: Event) => this.changed({ device: (ev.target as HTMLSelectElement).value })}>
          ${!current || !known ? html`<option value=${current} selected>${current || i18n.t("card_pick_device")}</option>` : ""}
          ${(this.lab?.areas ?? []).map(
            (area) => html`<optgroup label=${area.area ?? i18n.t("no_area")}>
              ${area.devices.map(
                (d) => html`<option value=${d.device_id} ?selected=${d.device_id === current}>${d.name} (${d.device_id})</option>`,
              )}
            </optgroup>`,
          )}
        </select>
      </label>
      <label class="check"
        ><input
          type="checkbox"
          name="show_telemetry"
          .checked=${this.config.show_telemetry !== false}
          @change=${(ev: Event) => this.changed({ show_telemetry: (ev.target as HTMLInputElement).checked })}
        />${i18n.t("card_show_telemetry")}</label
      >`;
  }
}
