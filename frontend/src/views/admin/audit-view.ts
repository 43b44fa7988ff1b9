// Admin → Audit log: decisions, routings, maintenance and training, filtered by member
// and device, paged, with reasons in words.
//
// The hub answers the newest entries up to its limit (500); this view pages those.
// Paging further back belongs to the history database (issue 16), in SQL.
import { html, nothing } from "lit";
import type { TemplateResult } from "lit";
import { state } from "lit/decorators.js";
import { customElement } from "../../define";
import type { Column } from "../../components/data-table";
import "../../components/data-table";
import type { Picker } from "../../components/picker";
import "../../components/picker";
import { busy, deviceName, memberName, ViewElement } from "../../context";
import type { AuditEntry } from "../../types";

const AUDIT_LIMIT = 500;

@customElement("fluxilab-audit-view")
export class AuditView extends ViewElement {
  @state() private entries: (AuditEntry & { n: number })[] | null = null;
  @state() private member = "";
  @state() private device = "";
  @state() private kind = "";
  busyKeys = new Set<string>();

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    const reply = await busy(this, "audit", () =>
      this.ctx.client.audit({
        limit: AUDIT_LIMIT,
        ...(this.member ? { member_id: this.member } : {}),
        ...(this.device ? { device_id: this.device } : {}),
      }),
    );
    // Entries have no id of their own: their place in the reply keys the rows.
    if (reply) this.entries = reply.audit.map((e, n) => ({ ...e, n }));
  }

  protected override render(): TemplateResult {
    const admin = this.ctx.admin;
    if (!admin) return html`<p class="muted">${this.t("loading")}</p>`;
    const i18n = this.ctx.i18n;
    const entries = this.entries ?? [];
    const kinds = [...new Set(entries.map((e) => e.kind))];
    const who = (e: AuditEntry) =>
      e.member_id ? memberName(admin, e.member_id) : (admin.users.find((u) => u.id === e.user_id)?.name ?? "—");
    const columns: Column<AuditEntry>[] = [
      { key: "ts", title: this.t("time"), sort: (e) => e.ts, render: (e) => i18n.when(e.ts) },
      { key: "kind", title: this.t("kind"), sort: (e) => i18n.kind(e.kind), render: (e) => i18n.kind(e.kind) },
      { key: "device", title: this.t("device"), sort: (e) => deviceName(admin, e.device_id), render: (e) => deviceName(admin, e.device_id) },
      { key: "member", title: this.t("member"), sort: who, render: who },
      { key: "reason", title: this.t("reason"), sort: (e) => i18n.reason(e.reason), render: (e) => i18n.reason(e.reason) },
    ];
    const reload = () => void this.load();
    return html`
      <div class="inline filters">
        <fluxilab-picker
          name="member_id"
          .i18n=${i18n}
          label=${this.t("member")}
          placeholder=${this.t("all")}
          .items=${admin.members.map((m) => ({ id: m.id, label: m.name }))}
          .value=${this.member ? [this.member] : []}
          @change=${(ev: CustomEvent<string[]>) => {
            this.member = (ev.target as Picker).value[0] ?? "";
            reload();
          }}
        ></fluxilab-picker>
        <fluxilab-picker
          name="device_id"
          .i18n=${i18n}
          label=${this.t("device")}
          placeholder=${this.t("all")}
          .items=${admin.devices.map((d) => ({ id: d.device_id, label: d.name, sub: d.device_id }))}
          .value=${this.device ? [this.device] : []}
          @change=${(ev: CustomEvent<string[]>) => {
            this.device = (ev.target as Picker).value[0] ?? "";
            reload();
          }}
        ></fluxilab-picker>
        <div class="actions">
          <button class="secondary" data-action="audit-refresh" ?disabled=${this.busyKeys.has("audit")} @click=${reload}>
            ${this.t("refresh")}
          </button>
        </div>
      </div>
      ${this.entries
        ? html`<fluxilab-data-table
            name="audit"
            .i18n=${i18n}
            .rows=${entries.filter((e) => !this.kind || e.kind === this.kind)}
            .columns=${columns}
            sortKey="ts"
            sortDescending
            .rowKey=${(e: AuditEntry & { n: number }) => String(e.n)}
            .searchText=${(e: AuditEntry) => `${who(e)} ${deviceName(admin, e.device_id)} ${i18n.kind(e.kind)} ${i18n.reason(e.reason)}`}
            .filters=${html`<select
              name="kind_filter"
              aria-label=${this.t("kind")}
              @change=${(ev: Event) => (this.kind = (ev.target as HTMLSelectElement).value)}
            >
              <option value="">${this.t("all_kinds")}</option>
              ${kinds.map((k) => html`<option value=${k}>${i18n.kind(k)}</option>`)}
            </select>`}
          ></fluxilab-data-table>
          ${entries.length >= AUDIT_LIMIT ? html`<p class="muted">${this.t("audit_limit", { count: AUDIT_LIMIT })}</p>` : nothing}`
        : html`<p class="muted">${this.t("loading")}</p>`}
    `;
  }
}
