// Admin → Members → Import and export: members, cards and authorizations as CSV.
// A chosen file is first read by a dry run (nothing written): every row is shown
// with what it would do, or why it is rejected; only then may the admin apply it.
import { html, nothing } from "lit";
import type { TemplateResult } from "lit";
import { state } from "lit/decorators.js";
import { customElement } from "../../define";
import { busy, download, ViewElement } from "../../context";
import type { StringKey } from "../../localize/localize";
import type { ImportReport, ImportRow } from "../../types";

/** The hub refuses larger files (member_import.MAX_IMPORT_BYTES); say so before sending. */
export const MAX_IMPORT_BYTES = 1024 * 1024;

@customElement("fluxilab-member-import")
export class MemberImport extends ViewElement {
  @state() private csvText = "";
  @state() private fileName = "";
  @state() private strict = true;
  @state() private report: ImportReport | null = null;
  @state() private error = "";
  busyKeys = new Set<string>();

  private async exportCsv(): Promise<void> {
    const result = await busy(this, "export", () => this.ctx.client.exportMembers());
    if (result) download(result.csv_text, "fluxilab-members.csv", "text/csv");
  }

  private async pick(ev: Event): Promise<void> {
    const file = (ev.target as HTMLInputElement).files?.[0];
    this.report = null;
    this.error = "";
    if (!file) return;
    if (file.size > MAX_IMPORT_BYTES) {
      this.error = this.t("import_too_large", { max: MAX_IMPORT_BYTES });
      return;
    }
    this.fileName = file.name;
    this.csvText = await file.text();
    await this.run(true);
  }

  private async run(dryRun: boolean): Promise<void> {
    try {
      const report = await busy(
        this,
        dryRun ? "dry-run" : "import",
        () => this.ctx.client.importMembers(this.csvText, dryRun, this.strict),
        { quiet: true },
      );
      if (!report) return;
      this.error = "";
      this.report = report;
      if (report.applied) {
        this.ctx.done("import_done", { ...report.summary });
        await this.ctx.reloadAdmin();
      }
    } catch (err) {
      this.report = null;
      this.error = this.ctx.i18n.error(err);
    }
  }

  private detail(row: ImportRow): string {
    if (row.reason) return this.ctx.i18n.error(row.reason);
    // The fields by the panel's own words for them (name, email, role, ...).
    const parts = row.changes.map((change) => this.ctx.i18n.maybe(change) ?? change);
    for (const grant of row.authorizations) parts.push(`${grant.target} (${this.action(grant.action)})`);
    return parts.join(", ");
  }

  private action(action: string): string {
    return this.ctx.i18n.maybe(`import_action_${action}`) ?? action;
  }

  private canApply(report: ImportReport): boolean {
    const writes = report.summary.create + report.summary.update;
    return !report.applied && writes > 0 && !(this.strict && report.summary.reject > 0);
  }

  private table(report: ImportReport): TemplateResult {
    const rows = report.rows.filter((r) => r.action !== "unchanged");
    return html`<p data-import-summary>${this.t("import_summary", { ...report.summary })}</p>
      ${rows.length
        ? html`<div class="table-wrap">
            <table data-import-report>
              <thead>
                <tr>
                  <th>${this.t("import_line")}</th>
                  <th>${this.t("name")}</th>
                  <th>${this.t("import_action")}</th>
                  <th>${this.t("import_details")}</th>
                </tr>
              </thead>
              <tbody>
                ${rows.map(
                  (r) => html`<tr data-line=${r.line} data-action=${r.action}>
                    <td>${r.line}</td>
                    <td>${r.name ?? "—"}</td>
                    <td>${this.action(r.action)}</td>
                    <td>${this.detail(r)}</td>
                  </tr>`,
                )}
              </tbody>
            </table>
          </div>`
        : nothing}`;
  }

  protected override render(): TemplateResult {
    const report = this.report;
    const key: StringKey = report?.applied ? "import_applied" : "import_dry_run";
    return html`<h2>${this.t("import_title")}</h2>
      <div class="card" data-form="member-import">
        <p class="muted">${this.t("import_help")}</p>
        <div class="actions">
          <button class="secondary" data-action="members-export" ?disabled=${this.busyKeys.has("export")} @click=${() => void this.exportCsv()}>
            ${this.t("download_csv")}
          </button>
        </div>
        <label>${this.t("import_file")}<input name="import_file" type="file" accept=".csv,text/csv" @change=${(ev: Event) => void this.pick(ev)} /></label>
        <label class="inline"
          ><input
            name="import_strict"
            type="checkbox"
            .checked=${this.strict}
            @change=${(ev: Event) => {
              this.strict = (ev.target as HTMLInputElement).checked;
              if (this.csvText) void this.run(true);
            }}
          />${this.t("import_strict")}</label
        >
        ${this.error ? html`<div class="message error" role="alert" data-import-error>${this.error}</div>` : nothing}
        ${report
          ? html`<h3>${this.t(key, { file: this.fileName })}</h3>
              ${this.table(report)}
              ${this.canApply(report)
                ? html`<div class="actions">
                    <button class="primary" data-action="members-import" ?disabled=${this.busyKeys.has("import")} @click=${() => void this.run(false)}>
                      ${this.t("import_apply")}
                    </button>
                  </div>`
                : nothing}`
          : nothing}
      </div>`;
  }
}
