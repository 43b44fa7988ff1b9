// Admin → Maintenance: one device's plan (hours, what to do, the instructions), a
// form to register maintenance done with a note, and its interventions (who, when,
// the hours then) a page at a time, with the hub's CSV of them all.
import { html, nothing } from "lit";
import type { TemplateResult } from "lit";
import { state } from "lit/decorators.js";
import { customElement } from "../../define";
import { offlineMark } from "../../components/offline-mark";
import { busy, download, text, ViewElement } from "../../context";
import { devicePlan, hoursText, interventionWho } from "../../maintenance";
import type { Intervention } from "../../types";

/** Longest note the hub keeps (access/maintenance.py MAX_NOTE). */
const MAX_NOTE = 500;

@customElement("fluxilab-maintenance-view")
export class MaintenanceView extends ViewElement {
  @state() private device = "";
  @state() private rows: Intervention[] | null = null;
  @state() private next: number | null = null;
  busyKeys = new Set<string>();

  override connectedCallback(): void {
    super.connectedCallback();
    const first = this.ctx.admin?.devices[0]?.device_id;
    if (first && !this.device) {
      this.device = first;
      void this.load();
    }
  }

  private async load(more = false): Promise<void> {
    if (!this.device) return;
    const device = this.device;
    const reply = await busy(this, "log", () => this.ctx.client.maintenanceLog(device, more ? this.next : null));
    if (!reply || device !== this.device) return;
    this.rows = more ? [...(this.rows ?? []), ...reply.interventions] : reply.interventions;
    this.next = reply.next;
  }

  private async record(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    const d = this.ctx.admin?.devices.find((x) => x.device_id === this.device);
    if (!d) return;
    const yes = await this.ctx.confirm({ text: this.t("confirm_maintenance", { name: d.name }), action: this.t("record_maintenance") });
    if (!yes) return;
    const note = text(new FormData(form), "note").trim();
    const ok = await busy(this, "record", () => this.ctx.client.recordMaintenance(d.device_id, note || undefined));
    if (ok === undefined) return;
    form.reset();
    this.ctx.done("maintenance_recorded", { name: d.name });
    await this.ctx.reloadAdmin();
    await this.load();
  }

  private async csv(): Promise<void> {
    const device = this.device;
    const body = await busy(this, "csv", () => this.ctx.client.maintenanceCsv(device));
    if (body !== undefined) download(body, `fluxilab-maintenance-${device}.csv`, "text/csv");
  }

  protected override render(): TemplateResult {
    const admin = this.ctx.admin;
    if (!admin) return html`<p class="muted">${this.t("loading")}</p>`;
    const i18n = this.ctx.i18n;
    const number = (n: number) => i18n.number(n);
    const d = admin.devices.find((x) => x.device_id === this.device);
    const plan = d ? devicePlan(d, admin.machine_types) : null;
    return html`
      <div class="actions">
        <label
          >${this.t("device")}
          <select
            data-field="maintenance-device"
            @change=${(ev: Event) => {
              this.device = (ev.target as HTMLSelectElement).value;
              this.rows = null;
              this.next = null;
              void this.load();
            }}
          >
            ${admin.devices.map((x) => html`<option value=${x.device_id} ?selected=${x.device_id === this.device}>${x.name}</option>`)}
          </select></label
        >
      </div>
      ${d && plan
        ? html`<section class="card" data-plan=${d.device_id}>
              <h2>${this.t("maintenance_plan")}${d.machine_type ? html` · ${d.machine_type}` : nothing}</h2>
              ${plan.due ? html`<p><span class="chip warn">${this.t("maintenance_due")}</span></p>` : nothing}
              <p>
                ${this.t("maintenance_interval")}: ${hoursText(plan.interval, number)} ·
                ${this.t("hours_to_maintenance")}: ${hoursText(plan.hoursToMaintenance, number)}
              </p>
              ${plan.description ? html`<p data-field="maintenance-description">${plan.description}</p>` : nothing}
              ${plan.url
                ? html`<p>
                    <a href=${plan.url} target="_blank" rel="noopener noreferrer" data-field="maintenance-url">${this.t("maintenance_instructions")}</a>
                  </p>`
                : nothing}
              ${!plan.interval && !plan.description ? html`<p class="muted">${this.t("maintenance_no_plan")}</p>` : nothing}
            </section>
            <form class="card" data-form="maintenance" @submit=${(ev: SubmitEvent) => void this.record(ev)}>
              <label>${this.t("maintenance_note")}<textarea name="note" maxlength=${MAX_NOTE} rows="2"></textarea></label>
              <div class="actions">
                <button type="submit" data-action="maintenance-record" ?disabled=${this.busyKeys.has("record")}>
                  ${this.t("record_maintenance")}
                </button>
              </div>
            </form>
            <h2>${this.t("maintenance_interventions")}</h2>
            <div class="actions">
              <button class="secondary" type="button" data-action="maintenance-csv" ?disabled=${this.busyKeys.has("csv")} @click=${() => void this.csv()}>
                ${this.t("download_csv")}
              </button>
            </div>
            ${this.rows === null
              ? html`<p class="muted">${this.t("loading")}</p>`
              : this.rows.length === 0
                ? html`<p class="muted">${this.t("maintenance_none_yet")}</p>`
                : html`<div class="table-wrap">
                    <table data-table="interventions">
                      <tr>
                        <th>${this.t("time")}</th>
                        <th>${this.t("member")}</th>
                        <th>${this.t("usage_hours")}</th>
                        <th>${this.t("maintenance_since_previous")}</th>
                        <th>${this.t("maintenance_note")}</th>
                      </tr>
                      ${this.rows.map(
                        (r) => html`<tr data-entry=${r.entry_id}>
                          <td data-label=${this.t("time")}>${i18n.when(r.ts)}${offlineMark(i18n, r)}</td>
                          <td data-label=${this.t("member")}>${interventionWho(r)}</td>
                          <td data-label=${this.t("usage_hours")}>${hoursText(r.hours, number)}</td>
                          <td data-label=${this.t("maintenance_since_previous")}>${hoursText(r.since_maintenance, number)}</td>
                          <td data-label=${this.t("maintenance_note")}>${r.note ?? ""}</td>
                        </tr>`,
                      )}
                    </table>
                  </div>`}
            ${this.next !== null
              ? html`<button class="secondary" data-action="maintenance-more" ?disabled=${this.busyKeys.has("log")} @click=${() => void this.load(true)}>
                  ${this.t("audit_more")}
                </button>`
              : nothing}`
        : html`<p class="muted">${this.t("no_devices")}</p>`}
    `;
  }
}
