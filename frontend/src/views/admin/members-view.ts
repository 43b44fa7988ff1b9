// Admin → Members: search, filter, sort and page the members; change role (with a
// confirmation to admin), linked user, supervisor, active; delete; the cards-and-PIN
// editor opens under the member's own row.
import { html, nothing } from "lit";
import type { TemplateResult } from "lit";
import { state } from "lit/decorators.js";
import { customElement } from "../../define";
import type { MemberCreate, MemberUpdate } from "../../client";
import { credentialsTable } from "../../components/credentials-table";
import { cardName } from "../../credentials";
import type { Column, DataTable } from "../../components/data-table";
import "../../components/data-table";
import { busy, ViewElement, text } from "../../context";
import { fieldOf } from "../../member-fields";
import "./member-import";
import type { BuiltInRole, Member, Role, WsError } from "../../types";

const ROLES: BuiltInRole[] = ["user", "staff", "admin"];

@customElement("fluxilab-members-view")
export class MembersView extends ViewElement {
  @state() private editing: string | null = null;
  @state() private roleFilter = "";
  @state() private statusFilter = "";
  @state() private errors: Record<string, string> = {};
  @state() private issued: { member: string; text: string } | null = null;
  /** The create form makes the member a Home Assistant login. */
  @state() private newLogin = false;
  busyKeys = new Set<string>();

  /** The built-in roles, then the lab's own (Admin → Roles). */
  private roles(): Role[] {
    return [...ROLES, ...(this.ctx.admin?.roles ?? []).map((r) => r.id)];
  }

  private roleName(role: string): string {
    if ((ROLES as string[]).includes(role)) return this.ctx.i18n.maybe(`role_${role}`) ?? role;
    return this.ctx.admin?.roles.find((r) => r.id === role)?.name ?? role;
  }

  /** Whether a role manages the lab (asked first when given). */
  private manages(role: string): boolean {
    return role === "admin" || Boolean(this.ctx.admin?.roles.find((r) => r.id === role)?.manage);
  }

  private async updateMember(member: Member, data: MemberUpdate, key: string): Promise<boolean> {
    const ok = await busy(this, key, () => this.ctx.client.memberUpdate(member.id, data));
    if (ok === undefined) return false;
    this.ctx.done("saved_member", { name: member.name });
    await this.ctx.reloadAdmin();
    return true;
  }

  private async changeRole(member: Member, select: HTMLSelectElement): Promise<void> {
    const role = select.value;
    // A role that manages the lab is privileged: asked first (and audited by the hub).
    if (this.manages(role)) {
      const yes = await this.ctx.confirm({
        text: this.t("confirm_role_admin", { name: member.name }),
        action: this.t("make_admin"),
      });
      if (!yes) {
        select.value = member.role;
        return;
      }
    }
    if (!(await this.updateMember(member, { role }, `role:${member.id}`))) select.value = member.role;
  }

  private async removeMember(member: Member): Promise<void> {
    const yes = await this.ctx.confirm({
      text: this.t("confirm_delete", { name: member.name }),
      action: this.t("delete"),
      danger: true,
    });
    if (!yes) return;
    const ok = await busy(this, `delete:${member.id}`, () => this.ctx.client.memberDelete(member.id));
    if (ok === undefined) return;
    this.ctx.done("deleted_member", { name: member.name });
    await this.ctx.reloadAdmin();
  }

  private async create(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    const data = new FormData(form);
    const name = text(data, "name").trim();
    const pin = text(data, "pin");
    const errors: Record<string, string> = {};
    if (!name) errors.name = this.t("field_required");
    if (pin && pin.length < 6) errors.pin = this.t("pin_short");
    const username = this.newLogin ? text(data, "login_username").trim() : "";
    const password = this.newLogin ? text(data, "login_password") : "";
    if (this.newLogin && !username) errors.login_username = this.t("field_required");
    if (this.newLogin && !password) errors.login_password = this.t("field_required");
    this.errors = errors;
    if (Object.keys(errors).length) return;
    const sameName = () => this.ctx.confirm({ text: this.t("confirm_same_name", { name }), action: this.t("create") });
    const existing = this.ctx.admin?.members.find((m) => m.name.toLocaleLowerCase() === name.toLocaleLowerCase());
    if (existing && !(await sameName())) return;
    const payload: MemberCreate = {
      name,
      role: text(data, "role"),
    };
    // The hub refuses a name taken unless confirmed (member_name_taken): confirmed above.
    if (existing) payload.allow_same_name = true;
    if (data.get("email")) payload.email = text(data, "email");
    if (this.newLogin) {
      payload.login_username = username;
      payload.login_password = password;
    } else if (data.get("user_id")) payload.user_id = text(data, "user_id");
    payload.deactivate_login = data.get("deactivate_login") === "on";
    if (data.get("card")) payload.cards = [text(data, "card")];
    if (pin) payload.pin = pin;
    try {
      let created: { member_id: string } | undefined;
      try {
        created = await busy(this, "create", () => this.ctx.client.memberCreate(payload), { quiet: true });
      } catch (err) {
        // Someone added the name meanwhile (the list here was older): ask, then retry.
        if ((err as WsError | null)?.translation_key !== "member_name_taken" || !(await sameName())) throw err;
        payload.allow_same_name = true;
        created = await busy(this, "create", () => this.ctx.client.memberCreate(payload), { quiet: true });
      }
      form.reset();
      this.newLogin = false;
      this.ctx.done("added_member", { name });
      await this.ctx.reloadAdmin();
      if (created) this.querySelector<DataTable<Member>>("fluxilab-data-table")?.showRow(created.member_id);
    } catch (err) {
      // The typed fields stay; the refusal is shown at its field (or at Add).
      const field = fieldOf(err) ?? "form";
      this.errors = { [field]: this.ctx.i18n.error(err) };
    }
  }

  // Credentials editor ---------------------------------------------------------

  private async credential(key: string, action: () => Promise<unknown>): Promise<void> {
    const ok = await busy(this, key, action);
    if (ok !== undefined) this.ctx.done();
    await this.ctx.reloadAdmin();
  }

  private async addCard(ev: SubmitEvent, member: Member): Promise<void> {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    const data = new FormData(form);
    const secret = text(data, "secret").trim();
    if (!secret) {
      this.errors = { secret: this.t("field_required") };
      return;
    }
    try {
      await busy(this, "credential-add", () =>
        this.ctx.client.credentialAdd(member.id, secret, text(data, "label") || undefined),
        { quiet: true },
      );
      this.errors = {};
      form.reset();
      this.ctx.done();
      await this.ctx.reloadAdmin();
    } catch (err) {
      this.errors = { secret: this.ctx.i18n.error(err) };
    }
  }

  private async resetPin(member: Member): Promise<void> {
    const yes = await this.ctx.confirm({
      text: this.t("confirm_reset_pin", { name: member.name }),
      action: this.t("reset_pin"),
      danger: true,
    });
    if (!yes) return;
    // The reply holds the initial PIN: shown once, here, never stored.
    const issued = await busy(this, `reset-pin:${member.id}`, () => this.ctx.client.resetPin(member.id));
    if (issued) {
      this.issued = { member: member.id, text: this.t("pin_issued", { name: member.name, pin: issued.pin }) };
      this.ctx.done();
    }
    await this.ctx.reloadAdmin();
  }

  private editor(m: Member): TemplateResult | typeof nothing {
    if (this.editing !== m.id) return nothing;
    const busyKeys = this.busyKeys;
    return html`<tr class="editor-row" data-editor=${m.id}>
      <td colspan="6">
        <h3>${this.t("credentials_of", { name: m.name })}</h3>
        ${this.issued?.member === m.id
          ? html`<div class="message success" data-issued=${m.id}>${this.issued.text}</div>`
          : nothing}
        ${credentialsTable(this.ctx.i18n, m.credentials || [], {
          admin: true,
          busy: (id) => busyKeys.has(`credential:${id}`),
          toggle: (c) =>
            void this.credential(`credential:${c.id}`, () =>
              this.ctx.client.credentialUpdate(c.id, !c.active, m.id),
            ),
          remove: (c) =>
            void this.ctx
              .confirm({ text: this.t("confirm_delete", { name: cardName(c, this.t("card")) }), action: this.t("delete"), danger: true })
              .then((yes) =>
                yes
                  ? this.credential(`credential:${c.id}`, () => this.ctx.client.credentialRemove(m.id, c.id))
                  : undefined,
              ),
        })}
        <form
          data-form="credential-add"
          data-member=${m.id}
          class="inline"
          autocomplete="off"
          novalidate
          @submit=${(ev: SubmitEvent) => void this.addCard(ev, m)}
        >
          <label
            >${this.t("card")}<input name="secret" type="password" maxlength="64" autocomplete="off" />${this.error(
              "secret",
            )}</label
          >
          <label>${this.t("credential_label")}<input name="label" maxlength="64" /></label>
          <div class="actions">
            <button class="primary" type="submit" ?disabled=${busyKeys.has("credential-add")}>
              ${this.t("add_credential")}
            </button>
            <button
              class="secondary"
              type="button"
              data-action="credential-reset-pin"
              data-member=${m.id}
              ?disabled=${busyKeys.has(`reset-pin:${m.id}`)}
              @click=${() => void this.resetPin(m)}
            >
              ${this.t("reset_pin")}
            </button>
            <button
              class="secondary"
              type="button"
              data-action="credentials-close"
              @click=${() => {
                this.editing = null;
                this.issued = null;
              }}
            >
              ${this.t("close")}
            </button>
          </div>
        </form>
      </td>
    </tr>`;
  }

  private error(name: string): TemplateResult | typeof nothing {
    const error = this.errors[name];
    return error ? html`<span class="field-error" role="alert" data-error=${name}>${error}</span>` : nothing;
  }

  protected override render(): TemplateResult {
    const admin = this.ctx.admin;
    if (!admin) return html`<p class="muted">${this.t("loading")}</p>`;
    const users = admin.users;
    const rows = admin.members.filter(
      (m) =>
        (!this.roleFilter || m.role === this.roleFilter) &&
        (!this.statusFilter || String(m.active) === this.statusFilter),
    );
    const columns: Column<Member>[] = [
      {
        key: "name",
        title: this.t("name"),
        sort: (m) => m.name,
        render: (m) => html`${m.name}<div class="muted">${m.email || ""}</div>`,
      },
      {
        key: "role",
        title: this.t("role"),
        sort: (m) => this.roles().indexOf(m.role),
        render: (m) => html`<select
          data-action="member-role"
          data-member=${m.id}
          aria-label=${this.t("role")}
          @change=${(ev: Event) => void this.changeRole(m, ev.target as HTMLSelectElement)}
        >
          ${this.roles().map((r) => html`<option value=${r} ?selected=${r === m.role}>${this.roleName(r)}</option>`)}
        </select>`,
      },
      {
        key: "user",
        title: this.t("linked_user"),
        sort: (m) => users.find((u) => u.id === m.user_id)?.name ?? "",
        render: (m) => html`<select
          data-action="member-user"
          data-member=${m.id}
          aria-label=${this.t("linked_user")}
          @change=${(ev: Event) =>
            void this.updateMember(m, { user_id: (ev.target as HTMLSelectElement).value || null }, `user:${m.id}`)}
        >
          <option value="" ?selected=${!m.user_id}>${this.t("no_user")}</option>
          ${users.map((u) => html`<option value=${u.id} ?selected=${u.id === m.user_id}>${u.name}</option>`)}
        </select>${m.user_id
          ? html`<label class="inline-label"
              ><input
                type="checkbox"
                data-action="member-deactivate-login"
                data-member=${m.id}
                .checked=${Boolean(m.deactivate_login)}
                ?disabled=${this.busyKeys.has(`login:${m.id}`)}
                title=${this.t("deactivate_login")}
                @change=${(ev: Event) => {
                  const box = ev.target as HTMLInputElement;
                  void this.updateMember(m, { deactivate_login: box.checked }, `login:${m.id}`).then((ok) => {
                    if (!ok) box.checked = Boolean(m.deactivate_login);
                  });
                }}
              />${this.t("deactivate_login_short")}</label
            >`
          : nothing}`,
      },
      {
        key: "cards",
        title: this.t("cards"),
        sort: (m) => m.cards.length,
        render: (m) => html`${m.cards.join(", ") || "—"}
          <button
            class="secondary"
            data-action="credentials-edit"
            data-member=${m.id}
            aria-expanded=${this.editing === m.id}
            @click=${() => {
              this.editing = this.editing === m.id ? null : m.id;
              this.issued = null;
              this.errors = {};
            }}
          >
            ${this.t("edit")}
          </button>`,
      },
      { key: "pin", title: "PIN", sort: (m) => Number(m.has_pin), render: (m) => (m.has_pin ? this.t("has_pin") : this.t("no_pin")) },
      {
        key: "actions",
        title: "",
        className: "actions",
        render: (m) => html`<button
            class="secondary"
            data-action="member-supervise"
            data-member=${m.id}
            data-supervise=${String(!m.supervise)}
            ?disabled=${this.busyKeys.has(`supervise:${m.id}`)}
            @click=${() => void this.updateMember(m, { supervise: !m.supervise }, `supervise:${m.id}`)}
          >
            ${this.t(m.supervise ? "remove_supervisor" : "make_supervisor")}
          </button>
          <button
            class="secondary"
            data-action="member-active"
            data-member=${m.id}
            data-active=${String(!m.active)}
            ?disabled=${this.busyKeys.has(`active:${m.id}`)}
            @click=${() => void this.updateMember(m, { active: !m.active }, `active:${m.id}`)}
          >
            ${m.active ? this.t("deactivate") : this.t("activate")}
          </button>
          <button
            class="danger"
            data-action="member-delete"
            data-member=${m.id}
            ?disabled=${this.busyKeys.has(`delete:${m.id}`)}
            @click=${() => void this.removeMember(m)}
          >
            ${this.t("delete")}
          </button>`,
      },
    ];
    return html`
      <fluxilab-data-table
        name="members"
        .i18n=${this.ctx.i18n}
        .rows=${rows}
        .columns=${columns}
        sortKey="name"
        .rowKey=${(m: Member) => m.id}
        .searchText=${(m: Member) => `${m.name} ${m.email ?? ""} ${m.id} ${m.cards.join(" ")}`}
        .expanded=${(m: Member) => this.editor(m)}
        .filters=${html`<select
            name="role_filter"
            aria-label=${this.t("role")}
            @change=${(ev: Event) => (this.roleFilter = (ev.target as HTMLSelectElement).value)}
          >
            <option value="">${this.t("all_roles")}</option>
            ${this.roles().map((r) => html`<option value=${r}>${this.roleName(r)}</option>`)}
          </select>
          <select
            name="status_filter"
            aria-label=${this.t("status")}
            @change=${(ev: Event) => (this.statusFilter = (ev.target as HTMLSelectElement).value)}
          >
            <option value="">${this.t("all_statuses")}</option>
            <option value="true">${this.t("active")}</option>
            <option value="false">${this.t("inactive")}</option>
          </select>`}
      ></fluxilab-data-table>
      <h2>${this.t("create_member")}</h2>
      <form data-form="member" class="card" autocomplete="off" novalidate @submit=${(ev: SubmitEvent) => void this.create(ev)}>
        <label>${this.t("name")}<input name="name" maxlength="100" />${this.error("name")}</label>
        <label>${this.t("email")}<input name="email" type="email" />${this.error("email")}</label>
        <label
          >${this.t("role")}<select name="role">
            ${this.roles().map((r) => html`<option value=${r} ?selected=${r === "user"}>${this.roleName(r)}</option>`)}
          </select></label
        >
        <label class="inline-label"
          ><input
            type="checkbox"
            name="create_login"
            data-action="member-create-login"
            .checked=${this.newLogin}
            @change=${(ev: Event) => (this.newLogin = (ev.target as HTMLInputElement).checked)}
          />${this.t("create_login")}</label
        >
        ${this.newLogin
          ? html`<label
                >${this.t("login_username")}<input
                  name="login_username"
                  maxlength="64"
                  autocomplete="off"
                  autocapitalize="none"
                />${this.error("login_username")}</label
              >
              <label
                >${this.t("login_password")}<input
                  name="login_password"
                  type="password"
                  autocomplete="new-password"
                />${this.error("login_password")}</label
              >
              <p class="muted">${this.t("login_hint")}</p>`
          : html`<label
              >${this.t("linked_user")}<select name="user_id">
                <option value="">${this.t("no_user")}</option>
                ${users.map((u) => html`<option value=${u.id}>${u.name}</option>`)}
              </select>${this.error("user_id")}</label
            >`}
        <label class="inline-label"
          ><input type="checkbox" name="deactivate_login" .checked=${this.newLogin} />${this.t("deactivate_login")}</label
        >
        <label>${this.t("card")}<input name="card" maxlength="64" />${this.error("cards")}</label>
        <label
          >${this.t("initial_pin")}<input name="pin" type="password" autocomplete="new-password" />${this.error(
            "pin",
          )}</label
        >
        <div class="actions">
          <button class="primary" type="submit" ?disabled=${this.busyKeys.has("create")}>${this.t("create")}</button>
          ${this.error("form")}
        </div>
      </form>
      <fluxilab-member-import .ctx=${this.ctx}></fluxilab-member-import>
    `;
  }
}
