// Admin → Audit log: every admin change (who, what, before → after, through which
// door), decisions, routings, maintenance and training; filtered by kind, member and
// device in the hub's database, a page at a time ("More" follows the cursor), with
// reasons in words.
import { html, nothing } from "lit";
import type { TemplateResult } from "lit";
import { state } from "lit/decorators.js";
import { customElement } from "../../define";
import type { Column } from "../../components/data-table";
import "../../components/data-table";
import { offlineMark } from "../../components/offline-mark";
import type { Picker } from "../../components/picker";
import "../../components/picker";
import { busy, deviceName, memberName, ViewElement } from "../../context";
import type { AuditEntry } from "../../types";
import { sessionsKey } from "../../usage";
import { actor, AUDIT_KINDS, changes, door, subject } from "./audit-format";

const PAGE = 100;

@customElement("fluxilab-audit-view")
export class AuditView extends ViewElement {
  @state() private entries: AuditEntry[] | null = null;
  @state() private next: number | null = null;
  @state() private member = "";
  @state() private device = "";
  @state() private kind = "";
  @state() private offlineOnly = false;
  busyKeys = new Set<string>();
  /** The lab's sessions when last fetched (usage.ts sessionsKey). */
  private sessions: string | null = null;

  override connectedCallback(): void {
    super.connectedCallback();
    this.sessions = null;
    void this.load();
  }

  protected override updated(): void {
    // Live: a session started or ended (a decision, an admin change behind it), so the
    // first page is fetched again, unless the user has paged on ("More").
    const now = sessionsKey(this.ctx.lab);
    const paged = (this.entries?.length ?? 0) > PAGE;
    if (this.sessions !== null && now !== this.sessions && !paged && !this.busyKeys.has("audit")) void this.load();
    this.sessions = now;
  }

  /** The first page for the filters (``more``: the next page, appended). */
  private async load(more = false): Promise<void> {
    const before = more ? this.next : null;
    const reply = await busy(this, "audit", () =>
      this.ctx.client.audit({
        limit: PAGE,
        ...(this.member ? { member_id: this.member } : {}),
        ...(this.device ? { device_id: this.device } : {}),
        ...(this.kind ? { kind: this.kind } : {}),
        ...(this.offlineOnly ? { buffered: true } : {}),
        ...(before !== null ? { before } : {}),
      }),
    );
    if (!reply) return;
    this.entries = more ? [...(this.entries ?? []), ...reply.audit] : reply.audit;
    this.next = reply.next;
  }

  protected override render(): TemplateResult {
    const admin = this.ctx.admin;
    if (!admin) return html`<p class="muted">${this.t("loading")}</p>`;
    const i18n = this.ctx.i18n;
    const entries = this.entries ?? [];
    const named = (id: string) => admin.members.find((m) => m.id === id)?.name;
    const whom = (e: AuditEntry) =>
      e.member_name ??
      (e.member_id ? memberName(admin, e.member_id) : (admin.users.find((u) => u.id === e.user_id)?.name ?? "—"));
    const by = (e: AuditEntry) => (e.kind === "admin" ? actor(i18n, e, named) : "");
    const what = (e: AuditEntry) => (e.kind === "admin" ? subject(i18n, e) : i18n.reason(e.reason));
    const columns: Column<AuditEntry>[] = [
      { key: "ts", title: this.t("time"), sort: (e) => e.ts, render: (e) => html`${i18n.when(e.ts)}${offlineMark(i18n, e)}` },
      { key: "kind", title: this.t("kind"), sort: (e) => i18n.kind(e.kind), render: (e) => i18n.kind(e.kind) },
      { key: "by", title: this.t("audit_by"), sort: by, render: (e) => html`<span class="actor">${by(e)}</span>` },
      { key: "device", title: this.t("device"), sort: (e) => deviceName(admin, e.device_id), render: (e) => deviceName(admin, e.device_id) },
      { key: "member", title: this.t("member"), sort: whom, render: whom },
      { key: "what", title: this.t("audit_what"), sort: what, render: what },
      {
        key: "change",
        title: this.t("audit_change"),
        render: (e) =>
          e.kind === "admin" ? html`${changes(i18n, e).map((line) => html`<div class="change">${line}</div>`)}` : nothing,
      },
      {
        key: "door",
        title: this.t("audit_door"),
        sort: (e) => (e.kind === "admin" ? door(i18n, e) : ""),
        render: (e) => (e.kind === "admin" ? html`<span title=${e.operation ?? ""}>${door(i18n, e)}</span>` : nothing),
      },
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
        <label>
          ${this.t("kind")}
          <select
            name="kind_filter"
            @change=${(ev: Event) => {
              this.kind = (ev.target as HTMLSelectElement).value;
              reload();
            }}
          >
            <option value="" ?selected=${!this.kind}>${this.t("all_kinds")}</option>
            ${AUDIT_KINDS.map((k) => html`<option value=${k} ?selected=${this.kind === k}>${i18n.kind(k)}</option>`)}
          </select>
        </label>
        <label class="check"
          ><input
            type="checkbox"
            name="offline_only"
            .checked=${this.offlineOnly}
            @change=${(ev: Event) => {
              this.offlineOnly = (ev.target as HTMLInputElement).checked;
              reload();
            }}
          />
          ${this.t("recorded_offline_only")}</label
        >
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
              .rows=${entries}
              .columns=${columns}
              sortKey="ts"
              sortDescending
              .rowKey=${(e: AuditEntry) => String(e.entry_id)}
              .searchText=${(e: AuditEntry) =>
                `${by(e)} ${whom(e)} ${deviceName(admin, e.device_id)} ${i18n.kind(e.kind)} ${what(e)} ${changes(i18n, e).join(" ")}`}
            ></fluxilab-data-table>
            <div class="actions">
              <span class="muted">${this.t("audit_shown", { count: entries.length })}</span>
              ${this.next !== null
                ? html`<button
                    class="secondary"
                    data-action="audit-more"
                    ?disabled=${this.busyKeys.has("audit")}
                    @click=${() => void this.load(true)}
                  >
                    ${this.t("audit_more")}
                  </button>`
                : nothing}
            </div>`
        : html`<p class="muted">${this.t("loading")}</p>`}
    `;
  }
}
