// Admin → Usage history: the latest sessions at once, filtered by member, device and
// period (pickers that search as you type), with a CSV download, and above them the
// usage hours per machine per week of what is filtered, as bars.
//
// The hub answers a filter with every matching session; this view pages them. Paging
// in SQL belongs to the history database (issue 16), when the command takes a page.
import { html, nothing } from "lit";
import type { TemplateResult } from "lit";
import { state } from "lit/decorators.js";
import { customElement } from "../../define";
import type { HistoryFilter } from "../../client";
import type { Column } from "../../components/data-table";
import "../../components/data-table";
import { offlineMark } from "../../components/offline-mark";
import type { Picker } from "../../components/picker";
import "../../components/picker";
import { busy, deviceName, download, ViewElement, text } from "../../context";
import type { HistoryResult, Session } from "../../types";
import { sessionsKey, weeklyUsage } from "../../usage";

/** Weeks in the usage plot. */
const WEEKS = 8;

@customElement("fluxilab-history-view")
export class HistoryView extends ViewElement {
  @state() private result: HistoryResult | null = null;
  @state() private member = "";
  @state() private device = "";
  @state() private error = "";
  busyKeys = new Set<string>();
  /** The lab's sessions when last fetched (usage.ts sessionsKey). */
  private sessions: string | null = null;

  override connectedCallback(): void {
    super.connectedCallback();
    this.sessions = null;
    void this.load();
  }

  protected override updated(): void {
    // Live: a session started or ended in the lab, so the list is fetched again,
    // with the filter on screen (member, device, period).
    const now = sessionsKey(this.ctx.lab);
    if (this.sessions !== null && now !== this.sessions && !this.busyKeys.has("history")) {
      void this.load(this.querySelector<HTMLFormElement>('form[data-form="history"]') ?? undefined);
    }
    this.sessions = now;
  }

  private async load(form?: HTMLFormElement): Promise<void> {
    const data = form ? new FormData(form) : null;
    const filter: HistoryFilter = {};
    if (this.member) filter.member_id = this.member;
    if (this.device) filter.device_id = this.device;
    const start = (data ? text(data, "start") : "");
    const end = (data ? text(data, "end") : "");
    if (start) filter.start = `${start}T00:00:00`;
    if (end) filter.end = `${end}T23:59:59`;
    try {
      this.result = (await busy(this, "history", () => this.ctx.client.history(filter), { quiet: true })) ?? null;
      this.error = "";
    } catch (err) {
      this.error = this.ctx.i18n.error(err);
    }
  }

  /** Hours per machine per week: a row of bars per machine, the numbers beside them. */
  private usage(sessions: Session[]): TemplateResult | typeof nothing {
    const { weeks, rows } = weeklyUsage(sessions, WEEKS);
    if (!rows.length) return nothing;
    const i18n = this.ctx.i18n;
    const most = Math.max(...rows.flatMap((r) => r.hours), 1);
    const label = (w: Date) => w.toLocaleDateString(i18n.language, { day: "numeric", month: "short" });
    return html`<section class="card usage" data-chart="weekly-usage">
      <h3>${this.t("usage_per_week")}</h3>
      <div class="table-wrap">
        <table class="usage-chart">
          <tr>
            <th>${this.t("device")}</th>
            ${weeks.map((w) => html`<th>${label(w)}</th>`)}
          </tr>
          ${rows.map(
            (row) =>
              html`<tr data-device=${row.device_id}>
                <td>${deviceName(this.ctx.admin, row.device_id)}</td>
                ${row.hours.map(
                  (h, i) =>
                    html`<td
                      title=${this.t("usage_week_hours", { week: label(weeks[i]), hours: i18n.number(h) })}
                    >
                      <div class="bar" style="height: ${Math.round((h / most) * 40)}px"></div>
                      <span class="muted">${h ? i18n.number(Math.round(h * 10) / 10) : ""}</span>
                    </td>`,
                )}
              </tr>`,
          )}
        </table>
      </div>
    </section>`;
  }

  protected override render(): TemplateResult {
    const admin = this.ctx.admin;
    if (!admin) return html`<p class="muted">${this.t("loading")}</p>`;
    const i18n = this.ctx.i18n;
    const name = (s: Session) => s.member_name || admin.members.find((m) => m.id === s.member_id)?.name || s.member_id || "—";
    const columns: Column<Session>[] = [
      { key: "member", title: this.t("member"), sort: name, render: name },
      { key: "device", title: this.t("device"), sort: (s) => deviceName(admin, s.device_id), render: (s) => deviceName(admin, s.device_id) },
      { key: "start", title: this.t("start"), sort: (s) => new Date(s.start).getTime() || Number(s.start), render: (s) => html`${i18n.when(s.start)}${offlineMark(i18n, s)}` },
      { key: "end", title: this.t("end"), render: (s) => (s.end ? i18n.when(s.end) : this.t("open_session")) },
      { key: "duration", title: this.t("duration"), sort: (s) => s.duration ?? 0, render: (s) => i18n.duration(s.duration) },
    ];
    return html`
      <form
        data-form="history"
        class="inline filters"
        novalidate
        @submit=${(ev: SubmitEvent) => {
          ev.preventDefault();
          void this.load(ev.target as HTMLFormElement);
        }}
      >
        <fluxilab-picker
          name="member_id"
          .i18n=${i18n}
          label=${this.t("member")}
          placeholder=${this.t("all")}
          .items=${admin.members.map((m) => ({ id: m.id, label: m.name }))}
          .value=${this.member ? [this.member] : []}
          @change=${(ev: CustomEvent<string[]>) => (this.member = (ev.target as Picker).value[0] ?? "")}
        ></fluxilab-picker>
        <fluxilab-picker
          name="device_id"
          .i18n=${i18n}
          label=${this.t("device")}
          placeholder=${this.t("all")}
          .items=${admin.devices.map((d) => ({ id: d.device_id, label: d.name, sub: d.device_id }))}
          .value=${this.device ? [this.device] : []}
          @change=${(ev: CustomEvent<string[]>) => (this.device = (ev.target as Picker).value[0] ?? "")}
        ></fluxilab-picker>
        <label>${this.t("from")}<input type="date" name="start" /></label>
        <label>${this.t("to")}<input type="date" name="end" /></label>
        <div class="actions">
          <button class="primary" type="submit" ?disabled=${this.busyKeys.has("history")}>${this.t("filter")}</button>
          ${this.result
            ? html`<button
                class="secondary"
                type="button"
                data-action="csv"
                @click=${() => this.result && download(this.result.csv, "fluxilab-usage.csv", "text/csv")}
              >
                ${this.t("download_csv")}
              </button>`
            : nothing}
          ${this.error ? html`<span class="field-error" role="alert">${this.error}</span>` : nothing}
        </div>
      </form>
      ${this.result ? this.usage(this.result.sessions) : nothing}
      ${this.result
        ? html`<fluxilab-data-table
            name="history"
            .i18n=${i18n}
            .rows=${this.result.sessions}
            .columns=${columns}
            sortKey="start"
            sortDescending
            empty=${this.t("no_sessions")}
            .rowKey=${(s: Session) => s.session_id ?? `${s.device_id}:${s.start}`}
            .searchText=${(s: Session) => `${name(s)} ${deviceName(admin, s.device_id)} ${s.device_id}`}
          ></fluxilab-data-table>`
        : html`<p class="muted">${this.t("loading")}</p>`}
    `;
  }
}
