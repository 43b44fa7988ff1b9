// Lab: the devices the user may use, by area (equipment in no area by machine type),
// live, with Open and "tell me when it's free".
import { html, nothing } from "lit";
import type { TemplateResult } from "lit";
import { state } from "lit/decorators.js";
import { customElement } from "../define";
import { busy, ViewElement } from "../context";
import "../components/sparkline";
import { limitOf, limitText, outside } from "../limits";
import { PanelError } from "../localize/localize";
import { SeriesStore } from "../series";
import type { DeviceStatus, InterestSubscription } from "../types";

/** Above this many devices the Lab view offers a search box. */
const SEARCH_FROM = 6;

@customElement("fluxilab-lab-view")
export class LabViewElement extends ViewElement {
  @state() private interest: InterestSubscription[] = [];
  @state() private query = "";
  /** A device's UI whose window the browser blocked: a link the user taps instead. */
  @state() private blocked: { deviceId: string; url: string } | null = null;
  busyKeys = new Set<string>();
  private interestLoaded = false;
  private timer?: number;
  /** The last hour of every telemetry channel shown, for the sparklines. */
  private readonly series = new SeriesStore(() => this.requestUpdate());

  override connectedCallback(): void {
    super.connectedCallback();
    void this.loadInterest();
    this.follow();
  }

  /** Load the recorded hour of channels not seen yet, and add the live values. */
  private follow(): void {
    const channels = (this.ctx.lab?.areas ?? []).flatMap((a) => a.devices.flatMap((d) => d.telemetry));
    for (const c of channels) this.series.push(c.entity_id, c.value);
    void this.series.load(this.ctx.client, channels.map((c) => c.entity_id));
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.timer);
  }

  /** A live update of the lab: a device that became free ends its queue. */
  labUpdated(): void {
    this.follow();
    if (this.interestLoaded && !this.interest.length) return;
    clearTimeout(this.timer);
    this.timer = window.setTimeout(() => void this.loadInterest(), 300);
  }

  private async loadInterest(): Promise<void> {
    try {
      this.interest = (await this.ctx.client.interestList()).subscriptions;
    } catch {
      this.interest = [];
    }
    this.interestLoaded = true;
  }

  /** Go to the device's UI with a one-minute token (only ever to a web address). */
  async openDevice(deviceId: string): Promise<void> {
    await busy(this, `open:${deviceId}`, async () => {
      const { url } = await this.ctx.client.open(deviceId);
      // A javascript: or data: URL would run in Home Assistant's own origin (the hub
      // checks this too; this is the last door).
      const target = new URL(url);
      if (target.protocol !== "http:" && target.protocol !== "https:") {
        throw new PanelError("open_refused");
      }
      // A new tab on a desktop; the companion app opens a new window's address in the
      // system browser, so Home Assistant stays where it was. The device's page gets
      // no handle on this one (opener cut before it loads, no referrer).
      this.blocked = null;
      const page = window.open(target.href, "_blank");
      if (page) {
        page.opener = null;
      } else {
        // A blocked pop-up: the token is valid for a minute, a tap on a link will do.
        this.blocked = { deviceId, url: target.href };
      }
    });
  }

  private async wait(deviceId: string, wait: boolean): Promise<void> {
    await busy(this, `interest:${deviceId}`, () => this.ctx.client.interest(deviceId, wait));
    await this.loadInterest();
  }

  protected override render(): TemplateResult {
    const lab = this.ctx.lab;
    if (!lab) return html`<p class="muted">${this.t("loading")}</p>`;
    return html`
      ${!lab.member && !lab.manager ? html`<p class="muted">${this.t("not_linked")}</p>` : nothing}
      ${lab.areas.length
        ? this.areas()
        : html`<p class="muted">${this.t("no_devices")}</p>`}
    `;
  }

  private areas(): TemplateResult {
    const lab = this.ctx.lab;
    const count = lab?.areas.reduce((sum, area) => sum + area.devices.length, 0) ?? 0;
    const words = this.query.toLocaleLowerCase().split(/\s+/).filter(Boolean);
    // LASER2 before LASER10, as people count.
    const collator = new Intl.Collator(this.ctx.i18n.language, { numeric: true, sensitivity: "base" });
    const found = (d: DeviceStatus) => {
      const text = `${d.name} ${d.device_id} ${d.machine_type ?? ""}`.toLocaleLowerCase();
      return words.every((word) => text.includes(word));
    };
    const byName = (a: DeviceStatus, b: DeviceStatus) => collator.compare(a.name, b.name);
    // Rooms first; equipment in no room by machine type (a lab of 50 machines is
    // not one "Other equipment" heap), then what has neither.
    const groups: { title: string | null; devices: DeviceStatus[] }[] = [];
    for (const area of lab?.areas ?? []) {
      const devices = area.devices.filter(found).sort(byName);
      if (area.area) {
        groups.push({ title: area.area, devices });
        continue;
      }
      const types = [...new Set(devices.map((d) => d.machine_type ?? ""))].sort((a, b) =>
        a && b ? collator.compare(a, b) : a ? -1 : 1,
      );
      for (const type of types) {
        groups.push({ title: type || null, devices: devices.filter((d) => (d.machine_type ?? "") === type) });
      }
    }
    const areas = groups.filter((group) => group.devices.length);
    return html`${count > SEARCH_FROM
      ? html`<div class="table-toolbar">
          <input
            class="search"
            type="search"
            name="device_search"
            aria-label=${this.t("search")}
            placeholder=${this.t("search")}
            .value=${this.query}
            @input=${(ev: InputEvent) => (this.query = (ev.target as HTMLInputElement).value)}
          />
        </div>`
      : nothing}
    ${areas.length
      ? areas.map(
          (group) => html`<h2>${group.title || this.t("no_area")}</h2>
            <div class="grid" data-group=${group.title ?? ""}>${group.devices.map((d) => this.card(d))}</div>`,
        )
      : html`<p class="muted">${this.t("no_match")}</p>`}`;
  }

  private card(d: DeviceStatus): TemplateResult {
    const i18n = this.ctx.i18n;
    const opening = this.busyKeys.has(`open:${d.device_id}`);
    return html`<div class="card device" data-device=${d.device_id}>
      <h3>${d.name}</h3>
      <div class="sub-title">${[d.machine_type, d.device_id].filter(Boolean).join(" · ")}</div>
      <div class="chips">
        ${d.online
          ? html`<span class="chip ok">${this.t("online")}</span>`
          : html`<span class="chip bad">${this.t("offline")}</span>`}
        ${d.in_use
          ? html`<span class="chip info"
              >${d.member_name ? this.t("in_use_by", { name: d.member_name }) : this.t("in_use")}</span
            >`
          : html`<span class="chip">${this.t("free")}</span>`}
        ${d.link === "broken"
          ? html`<span class="chip bad" data-status="link_broken" title=${this.t("link_broken_hint")}
              >${this.t("link_broken")}</span
            >`
          : nothing}
        ${d.blocked ? html`<span class="chip bad">${this.t("blocked")}</span>` : nothing}
        ${d.maintenance_due ? html`<span class="chip warn">${this.t("maintenance_due")}</span>` : nothing}
        ${d.busy ? html`<span class="chip info">${this.t("busy")}</span>` : nothing}
        ${!d.paired && !d.board ? html`<span class="chip warn">${this.t("not_paired")}</span>` : nothing}
      </div>
      ${d.telemetry.length
        ? html`<div class="telemetry">
            ${d.telemetry.map((c) => {
              const limit = limitOf(d.safety_limits, c.key);
              const unit = c.unit && c.value !== null && c.value !== undefined ? ` ${c.unit}` : "";
              const points = this.series.get(c.entity_id);
              return html`<span>${c.name}</span
                >${c.entity_id
                  ? html`<fluxilab-sparkline
                      data-channel=${c.key}
                      .points=${points}
                      label=${this.t("last_hour", { name: c.name })}
                    ></fluxilab-sparkline>`
                  : html`<span></span>`}<span class="v ${outside(limit, c.value) ? "outside" : ""}" data-channel=${c.key}
                  >${i18n.number(c.value)}${unit}${limit
                    ? html` <span class="muted limit">${limitText(i18n, limit)}</span>`
                    : nothing}</span
                >`;
            })}
          </div>`
        : nothing}
      ${typeof d.hours_to_maintenance === "number" && !d.maintenance_due
        ? html`<div class="muted">${this.t("hours_left", { hours: i18n.number(d.hours_to_maintenance) })}</div>`
        : nothing}
      ${(d.maintenance_conditions || []).map(
        (c) => html`<div class="muted">
          ${c.due ? html`<span class="chip warn">${this.t("maintenance_due")}</span> ` : nothing}
          ${i18n.condition(c, d.telemetry.find((t) => t.key === c.channel)?.name ?? c.channel)}
        </div>`,
      )}
      <div class="actions">
        ${d.link === "broken"
          ? html`<span class="muted" data-hint="link_broken">${this.t("link_broken_hint")}</span>`
          : d.paired && d.has_ui
            ? html`<button
                class="primary"
                data-action="open"
                data-device=${d.device_id}
                ?disabled=${opening}
                @click=${() => void this.openDevice(d.device_id)}
              >
                ${opening ? this.t("opening") : this.t("open")}
              </button>`
            : d.paired || d.board
              ? html`<span class="muted">${this.t("no_ui")}</span>`
              : nothing}
        ${this.interestActions(d)}
      </div>
      ${this.blocked?.deviceId === d.device_id
        ? html`<p class="muted">
            ${this.t("open_blocked")}
            <a href=${this.blocked.url} target="_blank" rel="noopener noreferrer" data-action="open-link"
              >${this.t("open_link", { name: d.name })}</a
            >
          </p>`
        : nothing}
      ${d.has_ui && d.gateway_fingerprint
        ? html`<details class="certificate">
            <summary class="muted">${this.t("gateway_certificate")}</summary>
            <p class="muted">${this.t("gateway_certificate_hint")}</p>
            <code>${d.gateway_fingerprint}</code>
          </details>`
        : nothing}
    </div>`;
  }

  private interestActions(d: DeviceStatus): TemplateResult | typeof nothing {
    if (!this.ctx.lab?.member || !d.in_use) return nothing;
    const waiting = this.interest.find((s) => s.device_id === d.device_id);
    const disabled = this.busyKeys.has(`interest:${d.device_id}`);
    return waiting
      ? html`<span class="chip info">${this.t("waiting_position", { position: waiting.position })}</span>
          <button
            class="secondary"
            data-action="interest-cancel"
            data-device=${d.device_id}
            ?disabled=${disabled}
            @click=${() => void this.wait(d.device_id, false)}
          >
            ${this.t("stop_waiting")}
          </button>`
      : html`<button
          class="secondary"
          data-action="interest"
          data-device=${d.device_id}
          ?disabled=${disabled}
          @click=${() => void this.wait(d.device_id, true)}
        >
          ${this.t("notify_when_free")}
        </button>`;
  }
}
