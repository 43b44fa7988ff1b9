// In the lab: who is checked in (the evacuation list, printable in the panel itself),
// one's own check-in.
import { html, nothing } from "lit";
import type { TemplateResult } from "lit";
import { state } from "lit/decorators.js";
import { customElement } from "../define";
import { busy, download, ViewElement } from "../context";
import type { PresenceList, PresenceSettings } from "../types";

const PRINT_STYLE_ID = "fluxilab-print-style";

@customElement("fluxilab-presence-view")
export class PresenceView extends ViewElement {
  @state() private presence: PresenceList | null = null;
  @state() private settings: PresenceSettings | null = null;
  @state() private printing = false;
  busyKeys = new Set<string>();

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      const [list, settings] = await Promise.all([
        this.ctx.client.occupancy(),
        this.ctx.lab?.manager ? this.ctx.client.occupancySettings() : Promise.resolve(null),
      ]);
      this.presence = list;
      this.settings = settings;
    } catch (err) {
      this.ctx.fail(err);
    }
  }

  private where(where: string[]): string {
    return where.map((w) => (w === "entrance" ? this.t("entrance") : w)).join(", ");
  }

  private async check(verb: "check_in" | "check_out"): Promise<void> {
    const ok = await busy(this, verb, () => this.ctx.client.check(verb));
    if (ok !== undefined) this.ctx.done();
    await this.load();
  }

  /**
   * The evacuation list as a printable view inside the panel: a pop-up would be
   * blocked in the companion app's webview, which has no windows. The view has its
   * own Print (the browser's print, styled by the print CSS: only the list on paper)
   * and a CSV download, for where printing is not offered either.
   */
  private print(): void {
    if (!this.presence?.members) return;
    this.printing = true;
    // Home Assistant's own page (sidebar, toolbar) prints as nothing; the list is
    // made visible again from inside the panel (visibility is inherited).
    if (!document.getElementById(PRINT_STYLE_ID)) {
      const style = document.createElement("style");
      style.id = PRINT_STYLE_ID;
      style.textContent = "@media print { body * { visibility: hidden !important; } }";
      document.head.appendChild(style);
    }
  }

  private closePrint(): void {
    this.printing = false;
    document.getElementById(PRINT_STYLE_ID)?.remove();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.closePrint();
  }

  private printable(): TemplateResult {
    const p = this.presence;
    const members = p?.members ?? [];
    return html`<section class="printable" role="dialog" aria-modal="true" aria-label=${this.t("print_list")}>
      <div class="actions no-print">
        <button class="primary" data-action="print-now" @click=${() => window.print()}>${this.t("print_list")}</button>
        <button class="secondary" data-action="presence-csv" @click=${() => this.csv()}>
          ${this.t("download_csv")}
        </button>
        <button class="secondary" data-action="print-close" @click=${() => this.closePrint()}>${this.t("close")}</button>
      </div>
      <h1>${this.t("people_in_lab", { count: p?.count ?? 0 })}</h1>
      <p>${this.ctx.i18n.when(new Date().toISOString())}</p>
      <table>
        <tr>
          <th>${this.t("name")}</th>
          <th>${this.t("since")}</th>
          <th>${this.t("where")}</th>
          <th>✔</th>
        </tr>
        ${members.map(
          (m) =>
            html`<tr>
              <td>${m.name}</td>
              <td>${this.ctx.i18n.when(m.since)}</td>
              <td>${this.where(m.where)}</td>
              <td>☐</td>
            </tr>`,
        )}
      </table>
    </section>`;
  }

  private csv(): void {
    const quote = (v: string | number) => `"${String(v).replace(/"/g, '""')}"`;
    const lines = [["member_id", "name", "since", "where"].join(",")];
    for (const m of this.presence?.members ?? []) {
      lines.push([m.member_id, m.name, m.since, m.where.join("; ")].map(quote).join(","));
    }
    download(`${lines.join("\n")}\n`, "fluxilab-in-the-lab.csv", "text/csv");
  }

  private async saveSettings(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const data = new FormData(ev.target as HTMLFormElement);
    const saved = await busy(this, "settings", () =>
      this.ctx.client.occupancySettings({ checkin_expiry_hours: Number(data.get("checkin_expiry_hours")) }),
    );
    if (saved) {
      this.settings = saved;
      this.ctx.done();
    }
  }

  protected override render(): TemplateResult {
    const p = this.presence;
    if (!p) return html`<p class="muted">${this.t("loading")}</p>`;
    const own = Boolean(this.ctx.lab?.member);
    if (this.printing) return this.printable();
    return html`<h2>${this.t("people_in_lab", { count: p.count })}</h2>
      <div class="actions">
        <button class="secondary" data-action="presence-refresh" @click=${() => void this.load()}>
          ${this.t("refresh")}
        </button>
        ${own
          ? html`<button
                class="secondary"
                data-action="presence-check"
                data-verb="check_in"
                ?disabled=${this.busyKeys.has("check_in")}
                @click=${() => void this.check("check_in")}
              >
                ${this.t("check_in")}
              </button>
              <button
                class="secondary"
                data-action="presence-check"
                data-verb="check_out"
                ?disabled=${this.busyKeys.has("check_out")}
                @click=${() => void this.check("check_out")}
              >
                ${this.t("check_out")}
              </button>`
          : nothing}
        ${p.members
          ? html`<button class="primary" data-action="presence-print" @click=${() => this.print()}>
                ${this.t("print_list")}
              </button>
              <button class="secondary" data-action="presence-csv" @click=${() => this.csv()}>
                ${this.t("download_csv")}
              </button>`
          : nothing}
      </div>
      ${p.members
        ? p.members.length
          ? html`<div class="table-wrap">
              <table>
                <tr>
                  <th>${this.t("name")}</th>
                  <th>${this.t("since")}</th>
                  <th>${this.t("where")}</th>
                </tr>
                ${p.members.map(
                  (m) =>
                    html`<tr>
                      <td>${m.name}</td>
                      <td>${this.ctx.i18n.when(m.since)}</td>
                      <td>${this.where(m.where)}</td>
                    </tr>`,
                )}
              </table>
            </div>`
          : html`<p class="muted">${this.t("nobody_in_lab")}</p>`
        : nothing}
      ${this.settings
        ? html`<form data-form="presence-settings" class="card" @submit=${(ev: SubmitEvent) => void this.saveSettings(ev)}>
            <label
              >${this.t("checkin_expiry_hours")}<input
                type="number"
                min="1"
                max="168"
                step="1"
                name="checkin_expiry_hours"
                required
                value=${this.settings.checkin_expiry_hours}
            /></label>
            <div class="actions">
              <button class="primary" type="submit" ?disabled=${this.busyKeys.has("settings")}>${this.t("save")}</button>
            </div>
          </form>`
        : nothing}`;
  }
}
