// Admin → Billing (charge-back, docs/BILLING.md): a project's statement of a month,
// each session with its amount, the totals per machine type, a printable page and
// the hub's CSV; a session can be charged to another project or marked
// non-billable from its line. Below: the projects and each member's default.
import { html, nothing } from "lit";
import type { TemplateResult } from "lit";
import { state } from "lit/decorators.js";
import { customElement } from "../../define";
import { busy, download, memberName, ViewElement, text } from "../../context";
import { Localizer } from "../../localize/localize";
import { formatAmount, lastMonth } from "../../money";
import type { NonBillable, Project, Statement, StatementLine } from "../../types";

const PRINT_STYLE_ID = "fluxilab-print-statement";
const NON_BILLABLE: NonBillable[] = ["training", "maintenance", "staff"];

@customElement("fluxilab-billing-view")
export class BillingView extends ViewElement {
  @state() private projects: Project[] = [];
  @state() private project = "";
  @state() private month = lastMonth();
  @state() private statement: Statement | null = null;
  @state() private printing = false;
  @state() private error = "";
  /** The project form's refusals, at their field (the typed name and code stay). */
  @state() private errors: Record<string, string> = {};
  busyKeys = new Set<string>();

  override connectedCallback(): void {
    super.connectedCallback();
    void this.loadProjects();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.closePrint();
  }

  private async loadProjects(): Promise<void> {
    const projects = await busy(this, "projects", () => this.ctx.client.projects());
    if (projects === undefined) return;
    this.projects = projects;
    if (!this.project && projects.length) this.project = projects[0].id;
  }

  private async show(): Promise<void> {
    try {
      this.statement =
        (await busy(this, "statement", () => this.ctx.client.statement(this.project || null, this.month), { quiet: true })) ??
        null;
      this.error = "";
    } catch (err) {
      this.statement = null;
      this.error = this.ctx.i18n.error(err);
    }
  }

  private async charge(line: StatementLine, change: { project_id?: string | null; non_billable?: string | null }): Promise<void> {
    const ok = await busy(this, `line:${line.session_id}`, () => this.ctx.client.setSessionCharge(line.session_id, change));
    if (ok === undefined) return;
    this.ctx.done();
    await this.show();
  }

  private async csv(): Promise<void> {
    const body = await busy(this, "csv", () => this.ctx.client.statementCsv(this.project || null, this.month));
    if (body !== undefined) download(body, `fluxilab-statement-${this.project || "none"}-${this.month}.csv`, "text/csv");
  }

  private async createProject(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    const data = new FormData(form);
    const name = text(data, "name").trim();
    if (!name) {
      this.errors = { name: this.t("field_required") };
      return;
    }
    let made: Project | undefined;
    try {
      made = await busy(this, "project", () => this.ctx.client.projectCreate({ name, code: text(data, "code").trim() }), {
        quiet: true,
      });
    } catch (err) {
      const field = Localizer.errorField(err);
      this.errors = { [field === "name" || field === "code" ? field : "project"]: this.ctx.i18n.error(err) };
      return;
    }
    this.errors = {};
    if (made === undefined) return;
    form.reset();
    this.ctx.done();
    this.project = made.id;
    await this.loadProjects();
  }

  private fieldError(key: string): TemplateResult | typeof nothing {
    const error = this.errors[key];
    return error ? html`<span class="field-error" role="alert" data-error=${key}>${error}</span>` : nothing;
  }

  private async removeProject(p: Project): Promise<void> {
    const yes = await this.ctx.confirm({ text: this.t("confirm_delete_project", { name: p.name }), action: this.t("delete"), danger: true });
    if (!yes) return;
    if ((await busy(this, `project-delete:${p.id}`, () => this.ctx.client.projectDelete(p.id))) === undefined) return;
    if (this.project === p.id) this.project = "";
    this.ctx.done();
    await this.loadProjects();
  }

  private async setDefault(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const data = new FormData(ev.target as HTMLFormElement);
    const member = text(data, "member_id");
    if (!member) return;
    const ok = await busy(this, "default", () => this.ctx.client.setDefaultProject(member, text(data, "project_id") || null));
    if (ok === undefined) return;
    this.ctx.done();
    await this.loadProjects();
  }

  private print(): void {
    this.printing = true;
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

  private money(cents: number): string {
    return formatAmount(cents, this.ctx.i18n.language);
  }

  private minutes(seconds: number): string {
    return this.ctx.i18n.number(Math.round(seconds / 60));
  }

  private heading(s: Statement): string {
    const name = s.project ? `${s.project.name}${s.project.code ? ` (${s.project.code})` : ""}` : this.t("no_project");
    return this.t("statement_title", { project: name, month: s.month });
  }

  /** The statement: totals per machine type, then every line; ``editable``: with its changes. */
  private body(s: Statement, editable: boolean): TemplateResult {
    const i18n = this.ctx.i18n;
    return html`
      <table data-table="statement-types">
        <tr>
          <th>${this.t("machine_type")}</th>
          <th>${this.t("statement_sessions")}</th>
          <th>${this.t("billed_minutes")}</th>
          <th>${this.t("amount")}</th>
        </tr>
        ${s.by_machine_type.map(
          (t) => html`<tr>
            <td>${t.name ?? "—"}</td>
            <td>${t.sessions}</td>
            <td>${this.minutes(t.billed_seconds)}</td>
            <td class="amount">${this.money(t.cents)}</td>
          </tr>`,
        )}
        <tr class="total" data-total=${s.total.cents}>
          <th>${this.t("total")}</th>
          <th>${s.total.sessions}</th>
          <th>${this.minutes(s.total.billed_seconds)}</th>
          <th class="amount">${this.money(s.total.cents)}</th>
        </tr>
      </table>
      <div class="table-wrap">
        <table data-table="statement-lines">
          <tr>
            <th>${this.t("start")}</th>
            <th>${this.t("member")}</th>
            <th>${this.t("device")}</th>
            <th>${this.t("duration")}</th>
            <th>${this.t("billed_minutes")}</th>
            <th>${this.t("busy_idle_minutes")}</th>
            <th>${this.t("amount")}</th>
            ${editable ? html`<th>${this.t("charge_to")}</th><th>${this.t("non_billable")}</th>` : html`<th>${this.t("non_billable")}</th>`}
          </tr>
          ${s.lines.map(
            (line) => html`<tr data-session=${line.session_id}>
              <td data-label=${this.t("start")}>${i18n.when(line.start)}</td>
              <td data-label=${this.t("member")}>${line.member_name ?? memberName(this.ctx.admin, line.member_id)}</td>
              <td data-label=${this.t("device")}>${line.device_name}</td>
              <td data-label=${this.t("duration")}>${i18n.duration(line.seconds)}</td>
              <td data-label=${this.t("billed_minutes")}>${this.minutes(line.billed_seconds)}</td>
              <td data-label=${this.t("busy_idle_minutes")}>${this.minutes(line.busy_seconds)} / ${this.minutes(line.idle_seconds)}</td>
              <td data-label=${this.t("amount")} class="amount">
                ${this.money(line.cents)}${line.minimum_applied ? html` <span class="muted">(${this.t("minimum")})</span>` : nothing}
              </td>
              ${editable
                ? html`<td data-label=${this.t("charge_to")}>
                      <select
                        data-action="charge-project"
                        ?disabled=${this.busyKeys.has(`line:${line.session_id}`)}
                        @change=${(ev: Event) => void this.charge(line, { project_id: (ev.target as HTMLSelectElement).value || null })}
                      >
                        <option value="" ?selected=${!s.project}>${this.t("no_project")}</option>
                        ${this.projects.map((p) => html`<option value=${p.id} ?selected=${p.id === s.project?.id}>${p.name}</option>`)}
                      </select>
                    </td>
                    <td data-label=${this.t("non_billable")}>
                      <select
                        data-action="charge-non-billable"
                        ?disabled=${this.busyKeys.has(`line:${line.session_id}`)}
                        @change=${(ev: Event) => void this.charge(line, { non_billable: (ev.target as HTMLSelectElement).value || null })}
                      >
                        <option value="" ?selected=${!line.non_billable}>${this.t("billable")}</option>
                        ${NON_BILLABLE.map(
                          (reason) => html`<option value=${reason} ?selected=${line.non_billable === reason}>${this.t(`non_billable_${reason}`)}</option>`,
                        )}
                      </select>
                    </td>`
                : html`<td>${line.non_billable ? this.t(`non_billable_${line.non_billable}`) : ""}</td>`}
            </tr>`,
          )}
        </table>
      </div>
      ${s.lines.length ? nothing : html`<p class="muted">${this.t("no_sessions")}</p>`}
    `;
  }

  private printable(s: Statement): TemplateResult {
    return html`<section class="printable" role="dialog" aria-modal="true" aria-label=${this.t("print_list")}>
      <div class="actions no-print">
        <button class="primary" data-action="print-now" @click=${() => window.print()}>${this.t("print_list")}</button>
        <button class="secondary" data-action="print-close" @click=${() => this.closePrint()}>${this.t("close")}</button>
      </div>
      <h1>${this.heading(s)}</h1>
      <p>${this.ctx.i18n.when(new Date().toISOString())}</p>
      ${this.body(s, false)}
    </section>`;
  }

  private projectsSection(): TemplateResult {
    const admin = this.ctx.admin;
    const defaultOf = (memberId: string) => this.projects.find((p) => p.default_members.includes(memberId));
    return html`<h2>${this.t("projects")}</h2>
      <div class="table-wrap">
        <table data-table="projects">
          <tr>
            <th>${this.t("name")}</th>
            <th>${this.t("project_code")}</th>
            <th>${this.t("project_members")}</th>
            <th>${this.t("project_defaults")}</th>
            <th></th>
          </tr>
          ${this.projects.map(
            (p) => html`<tr data-project=${p.id}>
              <td data-label=${this.t("name")}>${p.name}</td>
              <td data-label=${this.t("project_code")}>${p.code || "—"}</td>
              <td data-label=${this.t("project_members")}>${p.members.map((m) => memberName(admin, m)).join(", ") || "—"}</td>
              <td data-label=${this.t("project_defaults")}>${p.default_members.map((m) => memberName(admin, m)).join(", ") || "—"}</td>
              <td class="actions">
                <button
                  class="danger"
                  data-action="project-delete"
                  ?disabled=${this.busyKeys.has(`project-delete:${p.id}`)}
                  @click=${() => void this.removeProject(p)}
                >
                  ${this.t("delete")}
                </button>
              </td>
            </tr>`,
          )}
        </table>
      </div>
      <form data-form="project" class="inline" novalidate @submit=${(ev: SubmitEvent) => void this.createProject(ev)}>
        <label>${this.t("name")}<input name="name" maxlength="100" required />${this.fieldError("name")}</label>
        <label>${this.t("project_code")}<input name="code" maxlength="64" />${this.fieldError("code")}</label>
        <div class="actions">
          <button class="primary" type="submit" ?disabled=${this.busyKeys.has("project")}>${this.t("new_project")}</button>
          ${this.fieldError("project")}
        </div>
      </form>
      <form data-form="default-project" class="inline" novalidate @submit=${(ev: SubmitEvent) => void this.setDefault(ev)}>
        <label
          >${this.t("member")}<select name="member_id">
            ${(admin?.members ?? []).map(
              (m) => html`<option value=${m.id}>${m.name}${defaultOf(m.id) ? ` (${defaultOf(m.id)?.name})` : ""}</option>`,
            )}
          </select></label
        >
        <label
          >${this.t("default_project")}<select name="project_id">
            <option value="">${this.t("no_project")}</option>
            ${this.projects.map((p) => html`<option value=${p.id}>${p.name}</option>`)}
          </select></label
        >
        <div class="actions">
          <button class="secondary" type="submit" ?disabled=${this.busyKeys.has("default")}>${this.t("set_default_project")}</button>
        </div>
      </form>`;
  }

  protected override render(): TemplateResult {
    const s = this.statement;
    return html`
      <form
        data-form="statement"
        class="inline filters"
        novalidate
        @submit=${(ev: SubmitEvent) => {
          ev.preventDefault();
          void this.show();
        }}
      >
        <label
          >${this.t("project")}<select name="project_id" @change=${(ev: Event) => (this.project = (ev.target as HTMLSelectElement).value)}>
            ${this.projects.map((p) => html`<option value=${p.id} ?selected=${p.id === this.project}>${p.name}</option>`)}
            <option value="" ?selected=${!this.project}>${this.t("no_project")}</option>
          </select></label
        >
        <label
          >${this.t("month")}<input
            type="month"
            name="month"
            .value=${this.month}
            @change=${(ev: Event) => (this.month = (ev.target as HTMLInputElement).value)}
        /></label>
        <div class="actions">
          <button class="primary" type="submit" data-action="statement" ?disabled=${this.busyKeys.has("statement")}>
            ${this.t("show_statement")}
          </button>
          ${s
            ? html`<button class="secondary" type="button" data-action="statement-print" @click=${() => this.print()}>
                  ${this.t("print_list")}
                </button>
                <button class="secondary" type="button" data-action="statement-csv" ?disabled=${this.busyKeys.has("csv")} @click=${() => void this.csv()}>
                  ${this.t("download_csv")}
                </button>`
            : nothing}
          ${this.error ? html`<span class="field-error" role="alert">${this.error}</span>` : nothing}
        </div>
      </form>
      ${s ? html`<h2>${this.heading(s)}</h2>${this.body(s, true)}` : nothing}
      ${s && this.printing ? this.printable(s) : nothing}
      ${this.projectsSection()}
    `;
  }
}
