// Admin → Roles: the built-in roles (fixed) and the roles the lab names itself, each
// a set of flags (docs/ACCESS.md "Roles and permissions"): add one, change its flags,
// delete one no member has (the hub refuses a role in use).
import { html } from "lit";
import type { TemplateResult } from "lit";
import { state } from "lit/decorators.js";
import { customElement } from "../../define";
import { busy, text, ViewElement } from "../../context";
import type { BuiltInRole, LabRole, RoleFlag } from "../../types";

export const ROLE_FLAGS: readonly RoleFlag[] = ["authorize_all", "maintenance", "supervisor", "manage", "book_for_others"];

/** The built-in roles' flags (access/roles.py ROLE_FLAGS): shown, never changed. */
const BUILT_IN: Record<BuiltInRole, Record<RoleFlag, boolean>> = {
  admin: { authorize_all: true, maintenance: true, supervisor: true, manage: true, book_for_others: true },
  staff: { authorize_all: false, maintenance: true, supervisor: true, manage: false, book_for_others: true },
  user: { authorize_all: false, maintenance: false, supervisor: false, manage: false, book_for_others: false },
};

@customElement("fluxilab-roles-view")
export class RolesView extends ViewElement {
  @state() private error = "";
  busyKeys = new Set<string>();

  private roles(): LabRole[] {
    return this.ctx.admin?.roles ?? [];
  }

  private async create(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    const data = new FormData(form);
    const name = text(data, "name").trim();
    if (!name) {
      this.error = this.t("field_required");
      return;
    }
    this.error = "";
    const flags = Object.fromEntries(ROLE_FLAGS.map((f) => [f, data.get(f) === "on"])) as Record<RoleFlag, boolean>;
    const made = await busy(this, "create", () => this.ctx.client.roleCreate({ name, ...flags }));
    if (made === undefined) return;
    form.reset();
    this.ctx.done("role_saved", { name: made.name });
    await this.ctx.reloadAdmin();
  }

  private async toggle(role: LabRole, flag: RoleFlag, box: HTMLInputElement): Promise<void> {
    const ok = await busy(this, `flag:${role.id}`, () => this.ctx.client.roleUpdate(role.id, { [flag]: box.checked }));
    if (ok === undefined) {
      box.checked = role[flag];
      return;
    }
    this.ctx.done("role_saved", { name: role.name });
    await this.ctx.reloadAdmin();
  }

  private async removeRole(role: LabRole): Promise<void> {
    const yes = await this.ctx.confirm({ text: this.t("confirm_delete_role", { name: role.name }), action: this.t("delete"), danger: true });
    if (!yes) return;
    if ((await busy(this, `delete:${role.id}`, () => this.ctx.client.roleDelete(role.id))) === undefined) return;
    this.ctx.done();
    await this.ctx.reloadAdmin();
  }

  private flagCells(flags: Record<RoleFlag, boolean>, role?: LabRole): TemplateResult[] {
    return ROLE_FLAGS.map(
      (f) => html`<td data-label=${this.t(`role_flag_${f}`)}>
        <input
          type="checkbox"
          data-flag=${f}
          aria-label=${this.t(`role_flag_${f}`)}
          .checked=${flags[f]}
          ?disabled=${!role || this.busyKeys.has(`flag:${role.id}`)}
          @change=${(ev: Event) => role && void this.toggle(role, f, ev.target as HTMLInputElement)}
        />
      </td>`,
    );
  }

  protected override render(): TemplateResult {
    if (!this.ctx.admin) return html`<p class="muted">${this.t("loading")}</p>`;
    return html`<p class="muted">${this.t("roles_hint")}</p>
      <div class="table-wrap">
        <table data-table="roles">
          <tr>
            <th>${this.t("name")}</th>
            ${ROLE_FLAGS.map((f) => html`<th>${this.t(`role_flag_${f}`)}</th>`)}
            <th></th>
          </tr>
          ${(Object.keys(BUILT_IN) as BuiltInRole[]).map(
            (r) => html`<tr data-role=${r} class="muted">
              <td data-label=${this.t("name")}>${this.t(`role_${r}`)} <span class="chip">${this.t("role_built_in")}</span></td>
              ${this.flagCells(BUILT_IN[r])}
              <td></td>
            </tr>`,
          )}
          ${this.roles().map(
            (r) => html`<tr data-role=${r.id}>
              <td data-label=${this.t("name")}>${r.name}</td>
              ${this.flagCells(r, r)}
              <td class="actions">
                <button class="danger" data-action="role-delete" ?disabled=${this.busyKeys.has(`delete:${r.id}`)} @click=${() => void this.removeRole(r)}>
                  ${this.t("delete")}
                </button>
              </td>
            </tr>`,
          )}
        </table>
      </div>
      <form data-form="role" class="card" novalidate @submit=${(ev: SubmitEvent) => void this.create(ev)}>
        <h2>${this.t("new_role")}</h2>
        <label>${this.t("name")}<input name="name" maxlength="100" required /></label>
        ${this.error ? html`<span class="field-error" role="alert" data-error="name">${this.error}</span>` : ""}
        ${ROLE_FLAGS.map((f) => html`<label class="check"><input type="checkbox" name=${f} /> ${this.t(`role_flag_${f}`)}</label>`)}
        <div class="actions">
          <button class="primary" type="submit" data-action="role-create" ?disabled=${this.busyKeys.has("create")}>${this.t("new_role")}</button>
        </div>
      </form>`;
  }
}
