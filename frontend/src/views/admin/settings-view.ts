// Admin → Settings: admins' notifications, retention (with the GDPR purge), names on
// entities, and a member's data export.
import { html, nothing } from "lit";
import type { TemplateResult } from "lit";
import { state } from "lit/decorators.js";
import { customElement } from "../../define";
import type { Picker } from "../../components/picker";
import "../../components/picker";
import { busy, download, ViewElement, text } from "../../context";
import type { OpsSettings } from "../../types";

@customElement("fluxilab-settings-view")
export class SettingsView extends ViewElement {
  @state() private ops: OpsSettings | null = null;
  @state() private exportMember = "";
  @state() private errors: Record<string, string> = {};
  busyKeys = new Set<string>();

  override connectedCallback(): void {
    super.connectedCallback();
    void busy(this, "load", () => this.ctx.client.notifySettings()).then((ops) => {
      if (ops) this.ops = ops;
    });
  }

  private async saveOps(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const data = new FormData(ev.target as HTMLFormElement);
    const services = text(data, "admin_notify_services")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    try {
      const saved = await busy(
        this,
        "ops",
        () =>
          this.ctx.client.notifySettings({
            admin_notify_services: services,
            lapse_notice_days: Number(data.get("lapse_notice_days")),
            interest_expiry_hours: Number(data.get("interest_expiry_hours")),
          }),
        { quiet: true },
      );
      if (saved) this.ops = saved;
      this.errors = {};
      this.ctx.done();
    } catch (err) {
      this.errors = { ops: this.ctx.i18n.error(err) };
    }
  }

  private async saveRetention(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const data = new FormData(ev.target as HTMLFormElement);
    try {
      const result = await busy(
        this,
        "retention",
        () =>
          this.ctx.client.retention({
            usage_retention_days: Number(data.get("usage_retention_days")),
            unknown_card_retention_days: Number(data.get("unknown_card_retention_days")),
            show_member_names: data.has("show_member_names"),
          }),
        { quiet: true },
      );
      this.errors = {};
      if (result) this.ctx.done("purged", { count: result.anonymized, cards: result.unknown_cards_deleted });
      await this.ctx.reloadAdmin();
    } catch (err) {
      this.errors = { retention: this.ctx.i18n.error(err) };
    }
  }

  private async export(): Promise<void> {
    if (!this.exportMember) {
      this.errors = { export: this.t("pick_member") };
      return;
    }
    const member = this.exportMember;
    const result = await busy(this, "export", () => this.ctx.client.memberExport(member));
    if (result) {
      this.errors = {};
      download(JSON.stringify(result, null, 2), `fluxilab-${member}.json`, "application/json");
    }
  }

  private error(name: string): TemplateResult | typeof nothing {
    const error = this.errors[name];
    return error ? html`<span class="field-error" role="alert" data-error=${name}>${error}</span>` : nothing;
  }

  protected override render(): TemplateResult {
    const admin = this.ctx.admin;
    if (!admin) return html`<p class="muted">${this.t("loading")}</p>`;
    const s = admin.settings;
    const o = this.ops;
    return html`
      ${o
        ? html`<h2>${this.t("notifications")}</h2>
            <form data-form="ops-settings" class="card" @submit=${(ev: SubmitEvent) => void this.saveOps(ev)}>
              <label
                >${this.t("admin_notify_services")}<input
                  name="admin_notify_services"
                  value=${(o.admin_notify_services || []).join(", ")}
              /></label>
              <label
                >${this.t("lapse_notice_days")}<input
                  type="number"
                  min="1"
                  max="365"
                  step="1"
                  name="lapse_notice_days"
                  required
                  value=${o.lapse_notice_days}
              /></label>
              <label
                >${this.t("interest_expiry_hours")}<input
                  type="number"
                  min="1"
                  max="168"
                  step="1"
                  name="interest_expiry_hours"
                  required
                  value=${o.interest_expiry_hours}
              /></label>
              <div class="actions">
                <button class="primary" type="submit" ?disabled=${this.busyKeys.has("ops")}>${this.t("save")}</button>
                ${this.error("ops")}
              </div>
            </form>`
        : nothing}
      <h2>${this.t("retention")}</h2>
      <form data-form="retention" class="card" @submit=${(ev: SubmitEvent) => void this.saveRetention(ev)}>
        <label
          >${this.t("usage_retention_days")}<input
            type="number"
            min="1"
            max="36500"
            step="1"
            name="usage_retention_days"
            required
            value=${s.usage_retention_days}
        /></label>
        <label
          >${this.t("unknown_card_retention_days")}<input
            type="number"
            min="1"
            max="36500"
            step="1"
            name="unknown_card_retention_days"
            required
            value=${s.unknown_card_retention_days}
        /></label>
        <label class="check"
          ><input type="checkbox" name="show_member_names" ?checked=${Boolean(s.show_member_names)} />
          ${this.t("show_member_names")}</label
        >
        <div class="actions">
          <button class="primary" type="submit" ?disabled=${this.busyKeys.has("retention")}>${this.t("apply_retention")}</button>
          ${this.error("retention")}
        </div>
      </form>
      <h2>${this.t("gdpr_export")}</h2>
      <div class="inline" data-form="export">
        <fluxilab-picker
          name="member_id"
          .i18n=${this.ctx.i18n}
          label=${this.t("member")}
          .items=${admin.members.map((m) => ({ id: m.id, label: m.name, sub: m.email ?? undefined }))}
          .value=${this.exportMember ? [this.exportMember] : []}
          error=${this.errors.export ?? ""}
          @change=${(ev: CustomEvent<string[]>) => (this.exportMember = (ev.target as Picker).value[0] ?? "")}
        ></fluxilab-picker>
        <div class="actions">
          <button class="primary" ?disabled=${this.busyKeys.has("export")} @click=${() => void this.export()}>
            ${this.t("export")}
          </button>
        </div>
      </div>
    `;
  }
}
