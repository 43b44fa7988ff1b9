// Admin → Machine types: the list, and one form to add or edit a type (session,
// maintenance, lapsing, supervision, safety interlock, busy channel, offline policy).
import { html, nothing } from "lit";
import type { TemplateResult } from "lit";
import { state } from "lit/decorators.js";
import { customElement } from "../../define";
import { keyed } from "lit/directives/keyed.js";
import type { MachineTypeSave } from "../../client";
import { busy, ViewElement, text } from "../../context";
import type { StringKey } from "../../localize/localize";
import { amountText, parseAmount } from "../../money";
import type { MachineType, SafetyLimit } from "../../types";

@customElement("fluxilab-machine-types-view")
export class MachineTypesView extends ViewElement {
  @state() private editType: string | null = null;
  @state() private formError = "";
  busyKeys = new Set<string>();

  private async removeType(t: MachineType): Promise<void> {
    const yes = await this.ctx.confirm({ text: this.t("confirm_delete_type", { name: t.name }), action: this.t("delete"), danger: true });
    if (!yes) return;
    const ok = await busy(this, `type-delete:${t.id}`, () => this.ctx.client.machineTypeDelete(t.id));
    if (ok === undefined) return;
    this.ctx.done();
    await this.ctx.reloadAdmin();
  }

  private async save(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    const data = new FormData(form);
    const num = (name: string): number | null => (data.get(name) === "" || data.get(name) === null ? null : Number(data.get(name)));
    const name = text(data, "name").trim();
    if (!name) {
      this.formError = this.t("field_required");
      return;
    }
    const start = text(data, "supervised_hours_start") || null;
    const end = text(data, "supervised_hours_end") || null;
    const payload: MachineTypeSave = {
      name,
      session_timeout: num("session_timeout") ?? 900,
      grace_period: num("grace_period") ?? 60,
      requires_authorization: data.has("requires_authorization"),
      maintenance_interval: num("maintenance_interval"),
      maintenance_message: text(data, "maintenance_message") || null,
      maintenance_description: text(data, "maintenance_description").trim() || null,
      maintenance_url: text(data, "maintenance_url").trim() || null,
      block_when_maintenance_due: data.has("block_when_maintenance_due"),
      require_pin: data.has("require_pin"),
      lapse_after_months: num("lapse_after_months") || null,
      offline_max_age: num("offline_max_age") ?? 24,
      safety_limits: [],
      busy_channel: text(data, "busy_channel") || null,
      requires_supervisor: data.has("requires_supervisor"),
      supervisor_minutes: num("supervisor_minutes") || 30,
      supervised_hours_start: start && end ? start : null,
      supervised_hours_end: start && end ? end : null,
      training_expiry_days: num("training_expiry_days") || null,
    };
    // Left at its default, the hub picks deny for a type with safety limits.
    if (data.get("offline_policy")) payload.offline_policy = text(data, "offline_policy");
    if (data.get("safety_channel")) {
      const limit: SafetyLimit = { channel: text(data, "safety_channel") };
      const min = num("safety_min");
      const max = num("safety_max");
      if (min !== null) limit.min = min;
      if (max !== null) limit.max = max;
      payload.safety_limits = [limit];
    }
    const above = num("busy_above");
    const delay = num("busy_delay");
    if (above !== null) payload.busy_above = above;
    if (delay !== null) payload.busy_delay = delay;
    // Rates: amounts typed as 12.50, kept in cents (docs/BILLING.md).
    const amounts: Record<string, number | null> = {};
    for (const name of ["billing_hourly", "billing_idle_hourly", "billing_minimum"]) {
      const typed = text(data, name).trim();
      const cents = typed ? parseAmount(typed) : null;
      if (typed && cents === null) {
        this.formError = this.t("error_amount");
        return;
      }
      amounts[name] = cents;
    }
    payload.billing_hourly_cents = amounts.billing_hourly ?? 0;
    payload.billing_idle_hourly_cents = amounts.billing_idle_hourly;
    payload.billing_minimum_cents = amounts.billing_minimum ?? 0;
    payload.billing_round_minutes = num("billing_round_minutes") ?? 1;
    const conditions = text(data, "maintenance_conditions").trim();
    try {
      payload.maintenance_conditions = conditions ? (JSON.parse(conditions) as unknown[]) : [];
    } catch {
      this.formError = this.t("error_conditions_json");
      return;
    }
    if (this.editType) payload.machine_type_id = this.editType;
    try {
      await busy(this, "type", () => this.ctx.client.machineTypeSave(payload), { quiet: true });
    } catch (err) {
      // The form keeps what was typed.
      this.formError = this.ctx.i18n.error(err);
      return;
    }
    this.formError = "";
    this.editType = null;
    form.reset();
    this.ctx.done("saved_type", { name });
    await this.ctx.reloadAdmin();
  }

  protected override render(): TemplateResult {
    const admin = this.ctx.admin;
    if (!admin) return html`<p class="muted">${this.t("loading")}</p>`;
    const i18n = this.ctx.i18n;
    const t = admin.machine_types.find((x) => x.id === this.editType) ?? ({} as Partial<MachineType>);
    const limit: Partial<SafetyLimit> = (t.safety_limits ?? [])[0] ?? {};
    const channels = [...new Set(admin.devices.flatMap((d) => d.telemetry.map((c) => c.key)))];
    const number = (name: StringKey, value: number | null | undefined, step = "any") =>
      html`<label>${this.t(name)}<input type="number" name=${name} step=${step} min="0" value=${value ?? ""} /></label>`;
    const check = (name: StringKey, value: boolean | undefined) =>
      html`<label class="check"><input type="checkbox" name=${name} ?checked=${Boolean(value)} /> ${this.t(name)}</label>`;
    const time = (name: StringKey, value: string | null | undefined) =>
      html`<label>${this.t(name)}<input type="time" name=${name} value=${value ?? ""} /></label>`;
    const channelSelect = (name: string, selected: string | null | undefined) => html`<select name=${name}>
      <option value="" ?selected=${!selected}>${this.t("none")}</option>
      ${channels.map((c) => html`<option value=${c} ?selected=${c === selected}>${c}</option>`)}
    </select>`;
    return html`
      <div class="table-wrap">
        <table>
          <tr>
            <th>${this.t("name")}</th>
            <th>${this.t("requires_authorization")}</th>
            <th>${this.t("safety")}</th>
            <th>${this.t("maintenance_interval")}</th>
            <th></th>
          </tr>
          ${admin.machine_types.map(
            (m) => html`<tr data-type=${m.id}>
              <td data-label=${this.t("name")}>${m.name}</td>
              <td data-label=${this.t("requires_authorization")}>${m.requires_authorization ? "✔" : "✘"}</td>
              <td data-label=${this.t("safety")}>
                ${(m.safety_limits ?? [])
                  .map((l) => `${l.channel} ${l.min !== undefined ? `≥ ${l.min}` : ""} ${l.max !== undefined ? `≤ ${l.max}` : ""}`)
                  .join(", ") || "—"}
              </td>
              <td data-label=${this.t("maintenance_interval")}>
                ${m.maintenance_interval ? `${i18n.number(m.maintenance_interval)} h` : "—"}
              </td>
              <td class="actions">
                <button class="secondary" data-action="type-edit" data-type=${m.id} @click=${() => {
                  this.editType = m.id;
                  this.formError = "";
                }}>
                  ${this.t("edit")}
                </button>
                <button
                  class="danger"
                  data-action="type-delete"
                  data-type=${m.id}
                  ?disabled=${this.busyKeys.has(`type-delete:${m.id}`)}
                  @click=${() => void this.removeType(m)}
                >
                  ${this.t("delete")}
                </button>
              </td>
            </tr>`,
          )}
        </table>
      </div>
      <h2>${t.id ? `${this.t("edit")}: ${t.name}` : this.t("new_type")}</h2>
      ${keyed(
        this.editType ?? "",
        html`<form data-form="type" class="card" data-type=${t.id ?? ""} novalidate @submit=${(ev: SubmitEvent) => void this.save(ev)}>
          <label>${this.t("name")}<input name="name" maxlength="100" value=${t.name ?? ""} /></label>
          ${number("session_timeout", t.session_timeout ?? 900, "1")} ${number("grace_period", t.grace_period ?? 60, "1")}
          ${check("requires_authorization", t.requires_authorization ?? true)}
          ${number("maintenance_interval", t.maintenance_interval)}
          <label
            >${this.t("maintenance_message")}<input
              name="maintenance_message"
              maxlength="32"
              value=${t.maintenance_message ?? ""}
          /></label>
          <label
            >${this.t("maintenance_description")}<textarea
              name="maintenance_description"
              maxlength="500"
              rows="2"
              .value=${t.maintenance_description ?? ""}
            ></textarea
            ></label>
          <label
            >${this.t("maintenance_url")}<input
              name="maintenance_url"
              type="url"
              maxlength="2048"
              placeholder="https://"
              value=${t.maintenance_url ?? ""}
          /></label>
          ${check("block_when_maintenance_due", t.block_when_maintenance_due)}
          ${check("require_pin", t.require_pin)}
          ${number("lapse_after_months", t.lapse_after_months, "1")}
          <div class="actions">
            ${check("requires_supervisor", t.requires_supervisor)} ${number("supervisor_minutes", t.supervisor_minutes ?? 30, "1")}
            ${time("supervised_hours_start", t.supervised_hours_start)} ${time("supervised_hours_end", t.supervised_hours_end)}
            ${number("training_expiry_days", t.training_expiry_days, "1")}
          </div>
          <label>${this.t("safety_channel")}${channelSelect("safety_channel", limit.channel)}</label>
          <div class="actions">
            <label>${this.t("busy_channel")}${channelSelect("busy_channel", t.busy_channel)}</label>
            <label>${this.t("busy_above")}<input type="number" name="busy_above" step="any" value=${t.busy_above ?? ""} /></label>
            ${number("busy_delay", t.busy_delay ?? 30, "1")}
          </div>
          <div class="actions" data-group="rates">
            ${(["billing_hourly", "billing_idle_hourly", "billing_minimum"] as const).map(
              (name) =>
                html`<label
                  >${this.t(name)}<input
                    name=${name}
                    inputmode="decimal"
                    value=${amountText(name === "billing_hourly" ? t.billing_hourly_cents : name === "billing_idle_hourly" ? t.billing_idle_hourly_cents : t.billing_minimum_cents)}
                /></label>`,
            )}
            ${number("billing_round_minutes", t.billing_round_minutes ?? 1, "1")}
          </div>
          <label
            >${this.t("maintenance_conditions")}<textarea
              name="maintenance_conditions"
              rows="3"
              placeholder='[{"kind": "channel_hours", "channel": "fan_running", "hours": 500}]'
              .value=${t.maintenance_conditions?.length ? JSON.stringify(t.maintenance_conditions) : ""}
            ></textarea></label
          >
          <div class="actions">${number("safety_min", limit.min)}${number("safety_max", limit.max)}</div>
          <div class="actions">
            <label
              >${this.t("offline_policy")}<select name="offline_policy">
                <option value="" ?selected=${!t.offline_policy}>${this.t("offline_default")}</option>
                <option value="allow_mirrored" ?selected=${t.offline_policy === "allow_mirrored"}>
                  ${this.t("offline_allow_mirrored")}
                </option>
                <option value="deny" ?selected=${t.offline_policy === "deny"}>${this.t("offline_deny")}</option>
              </select></label
            >
            ${number("offline_max_age", t.offline_max_age ?? 24)}
          </div>
          <div class="actions">
            <button class="primary" type="submit" ?disabled=${this.busyKeys.has("type")}>${this.t("save")}</button>
            ${t.id
              ? html`<button class="secondary" type="button" data-action="type-new" @click=${() => (this.editType = null)}>
                  ${this.t("cancel")}
                </button>`
              : nothing}
            ${this.formError ? html`<span class="field-error" role="alert" data-error="form">${this.formError}</span>` : nothing}
          </div>
        </form>`,
      )}
    `;
  }
}
