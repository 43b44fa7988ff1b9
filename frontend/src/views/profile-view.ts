// My profile: the member, their cards (report lost), authorizations and lapses,
// notifications, recent sessions and the form to change their own PIN.
import { html, nothing } from "lit";
import type { TemplateResult } from "lit";
import { state } from "lit/decorators.js";
import { customElement } from "../define";
import { credentialsTable } from "../components/credentials-table";
import { offlineMark } from "../components/offline-mark";
import { busy, ViewElement, text } from "../context";
import { Localizer } from "../localize/localize";
import { cardName } from "../credentials";
import { phoneName } from "../phones";
import type { LapseItem, LapseList, NotifyOwn, Profile } from "../types";

/** Which field of the PIN form a backend refusal belongs to. */
const PIN_FIELDS: Record<string, string> = {
  wrong_pin: "current_pin",
  pin_change_locked: "current_pin",
  no_pin: "current_pin",
  pin_too_short: "new_pin",
  pin_too_long: "new_pin",
  pin_unchanged: "new_pin",
};

@customElement("fluxilab-profile-view")
export class ProfileView extends ViewElement {
  @state() private profile: Profile | null = null;
  @state() private lapses: LapseList | null = null;
  @state() private notify: NotifyOwn | null = null;
  @state() private errors: Record<string, string> = {};
  busyKeys = new Set<string>();

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  async load(): Promise<void> {
    try {
      const [profile, lapses, notify] = await Promise.all([
        this.ctx.client.profile(),
        this.ctx.client.lapsingMine().catch(() => null),
        this.ctx.client.notifyGet().catch(() => null),
      ]);
      this.profile = profile;
      this.lapses = lapses;
      this.notify = notify;
    } catch (err) {
      this.ctx.fail(err);
    }
  }

  private async reportLost(id: string, label: string): Promise<void> {
    const yes = await this.ctx.confirm({ text: this.t("confirm_lost", { label }), action: this.t("report_lost"), danger: true });
    if (!yes) return;
    const ok = await busy(this, id, () => this.ctx.client.credentialUpdate(id, false));
    if (ok !== undefined) this.ctx.done();
    await this.load();
  }

  private async changePin(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    const data = new FormData(form);
    const current = text(data, "current_pin");
    const next = text(data, "new_pin");
    const errors: Record<string, string> = {};
    if (!current) errors.current_pin = this.t("field_required");
    if (next.length < 6) errors.new_pin = this.t("pin_short");
    else if (next !== data.get("repeat_pin")) errors.repeat_pin = this.t("pin_mismatch");
    this.errors = errors;
    if (Object.keys(errors).length) return;
    try {
      await busy(this, "pin", () => this.ctx.client.changePin(next, current), { quiet: true });
    } catch (err) {
      // The typed fields stay: only the refused one is marked.
      const key = (err as { translation_key?: string }).translation_key ?? "";
      const field = PIN_FIELDS[key] ?? Localizer.errorField(err) ?? "current_pin";
      this.errors = { [field]: this.ctx.i18n.error(err) };
      return;
    }
    form.reset();
    this.ctx.done("pin_changed");
    await this.load();
  }

  private async saveNotify(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const value = text(new FormData(ev.target as HTMLFormElement), "notify_service").trim();
    try {
      await busy(this, "notify", () => this.ctx.client.notifySet(value || null), { quiet: true });
      this.errors = {};
      this.ctx.done();
    } catch (err) {
      this.errors = { notify_service: this.ctx.i18n.error(err) };
    }
  }

  private field(name: string): TemplateResult | typeof nothing {
    const error = this.errors[name];
    return error ? html`<span class="field-error" role="alert" data-error=${name}>${error}</span>` : nothing;
  }

  protected override render(): TemplateResult {
    const p = this.profile;
    const i18n = this.ctx.i18n;
    if (!p) return html`<p class="muted">${this.t("loading")}</p>`;
    const m = p.member;
    if (!m) return html`<p class="muted">${this.t("not_linked")}</p>`;
    return html`
      ${m.pin_must_change
        ? html`<div class="message error" data-pin="must-change">${this.t("pin_must_change")}</div>`
        : nothing}
      <div class="card">
        <h3>${m.name}</h3>
        <dl>
          <dt>${this.t("role")}</dt>
          <dd>${i18n.maybe(`role_${m.role}`) ?? m.role}</dd>
          <dt>${this.t("status")}</dt>
          <dd>${m.active ? this.t("active") : this.t("inactive")}</dd>
          ${m.email ? html`<dt>${this.t("email")}</dt><dd>${m.email}</dd>` : nothing}
        </dl>
      </div>
      <h2>${this.t("credentials")}</h2>
      ${credentialsTable(i18n, m.credentials || [], {
        admin: false,
        busy: (id) => this.busyKeys.has(id),
        lost: (c) => void this.reportLost(c.id, cardName(c, this.t("card"))),
      })}
      <h2>${this.t("authorizations")}</h2>
      ${this.authorizationsTable(p)} ${this.notifyForm()}
      <h2>${this.t("sessions")}</h2>
      ${p.sessions.length
        ? html`<div class="table-wrap">
            <table>
              <tr>
                <th>${this.t("device")}</th>
                <th>${this.t("start")}</th>
                <th>${this.t("duration")}</th>
              </tr>
              ${p.sessions.map(
                (s) => html`<tr>
                  <td>${this.deviceLabel(s.device_id)}</td>
                  <td>${i18n.when(s.start)}${offlineMark(i18n, s)}</td>
                  <td>${s.end ? i18n.duration(s.duration) : this.t("open_session")}</td>
                </tr>`,
              )}
            </table>
          </div>`
        : html`<p class="muted">${this.t("none")}</p>`}
      ${this.pinForm(m.has_pin, m.pin_must_change)}
    `;
  }

  private deviceLabel(id: string): string {
    for (const area of this.ctx.lab?.areas ?? []) {
      const device = area.devices.find((d) => d.device_id === id);
      if (device) return device.name;
    }
    return id;
  }

  /** One table: each authorization with its expiry, hours and when it lapses. */
  private authorizationsTable(p: Profile): TemplateResult {
    if (!p.authorizations.length) return html`<p class="muted">${this.t("none")}</p>`;
    const i18n = this.ctx.i18n;
    const lapses = new Map<string, LapseItem>(
      (this.lapses?.authorizations ?? []).map((item) => [item.authorization_id, item]),
    );
    return html`<div class="table-wrap">
      <table class="credentials">
        <tr>
          <th>${this.t("target")}</th>
          <th>${this.t("expires")}</th>
          <th>${this.t("hours")}</th>
          <th>${this.t("last_used")}</th>
          <th>${this.t("lapse_date")}</th>
        </tr>
        ${p.authorizations.map((a) => {
          const lapse = lapses.get(a.id);
          return html`<tr data-authorization=${a.id}>
            <td data-label=${this.t("target")}>${a.target}</td>
            <td data-label=${this.t("expires")}>
              ${a.expired ? html`<span class="chip bad">${this.t("expired")}</span> ` : nothing}
              ${a.expires ? i18n.day(a.expires) : this.t("never")}
            </td>
            <td data-label=${this.t("hours")}>${a.window_start ? `${a.window_start}–${a.window_end}` : "—"}</td>
            <td data-label=${this.t("last_used")}>
              ${lapse ? (lapse.last_used ? i18n.when(lapse.last_used) : this.t("never_used")) : "—"}
            </td>
            <td data-label=${this.t("lapse_date")}>${lapse ? lapseCell(i18n, lapse) : this.t("lapse_never")}</td>
          </tr>`;
        })}
      </table>
    </div>`;
  }

  private notifyForm(): TemplateResult | typeof nothing {
    const n = this.notify;
    if (!n) return nothing;
    const phones = n.phones.length ? n.phones.map((service) => phoneName(n, service)).join(", ") : this.t("no_phones");
    // One of their own phones; a target an admin set for them stays choosable.
    const choices = [...n.phones, ...(n.notify_service && !n.phones.includes(n.notify_service) ? [n.notify_service] : [])];
    return html`<h2>${this.t("notifications")}</h2>
      <form data-form="ops-notify" class="card" @submit=${(ev: SubmitEvent) => void this.saveNotify(ev)}>
        <label
          >${this.t("notify_phone")}<select name="notify_service">
            <option value="" ?selected=${!n.notify_service}>${this.t("notify_all_phones", { phones })}</option>
            ${choices.map(
              (service) =>
                html`<option value=${service} ?selected=${service === n.notify_service}>${phoneName(n, service)}</option>`,
            )}
          </select>${this.field("notify_service")}</label
        >
        <div class="actions">
          <button class="primary" type="submit" ?disabled=${this.busyKeys.has("notify")}>${this.t("save")}</button>
        </div>
      </form>`;
  }

  // The member's own PIN: an initial one (an admin's) only serves to be replaced, and
  // every change gives the current PIN.
  private pinForm(hasPin: boolean, mustChange: boolean): TemplateResult {
    if (!hasPin) {
      return html`<h2>${this.t("change_pin")}</h2>
        <p class="muted" data-pin="none">${this.t("no_pin_yet")}</p>`;
    }
    return html`<h2>${this.t("change_pin")}</h2>
      <form data-form="pin" class="card" autocomplete="off" novalidate @submit=${(ev: SubmitEvent) => void this.changePin(ev)}>
        <span class="muted">${this.t("pin_hint")}</span>
        <label
          >${this.t(mustChange ? "current_initial_pin" : "current_pin")}<input
            type="password"
            name="current_pin"
            autocomplete="current-password"
            aria-invalid=${this.errors.current_pin ? "true" : "false"}
          />${this.field("current_pin")}</label
        >
        <label
          >${this.t("new_pin")}<input
            type="password"
            name="new_pin"
            autocomplete="new-password"
            aria-invalid=${this.errors.new_pin ? "true" : "false"}
          />${this.field("new_pin")}</label
        >
        <label
          >${this.t("repeat_pin")}<input
            type="password"
            name="repeat_pin"
            autocomplete="new-password"
            aria-invalid=${this.errors.repeat_pin ? "true" : "false"}
          />${this.field("repeat_pin")}</label
        >
        <div class="actions">
          <button class="primary" type="submit" ?disabled=${this.busyKeys.has("pin")}>${this.t("save")}</button>
        </div>
      </form>`;
  }
}

/** When an authorization lapses: a day (an expiry's is the day chosen), and why. */
export function lapseCell(i18n: Localizer, item: LapseItem): TemplateResult | string {
  if (!item.lapse_date) return i18n.t("lapse_never");
  return html`${item.lapsed ? html`<span class="chip bad">${i18n.t("lapsed")}</span> ` : nothing}${i18n.day(item.lapse_date)}
    <span class="muted">(${i18n.maybe(`lapse_cause_${item.cause}`) ?? item.cause})</span>`;
}

