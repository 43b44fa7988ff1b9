// Admin → Authorizations: search, filter, sort and page them; revoke; grant machine
// types or devices to many members at once, picking both by typing.
import { html, nothing } from "lit";
import type { TemplateResult } from "lit";
import { state } from "lit/decorators.js";
import { customElement } from "../../define";
import type { Column } from "../../components/data-table";
import "../../components/data-table";
import type { Picker, PickerItem } from "../../components/picker";
import "../../components/picker";
import { busy, memberName, ViewElement, text } from "../../context";
import type { AdminState, Authorization } from "../../types";

export function targetName(admin: AdminState, auth: Authorization): string {
  if (auth.machine_type_id) {
    return admin.machine_types.find((t) => t.id === auth.machine_type_id)?.name ?? auth.machine_type_id;
  }
  return admin.devices.find((d) => d.device_id === auth.device_id)?.name ?? auth.device_id ?? "—";
}

export function targetKey(auth: Authorization): string {
  return auth.machine_type_id ? `type:${auth.machine_type_id}` : `device:${auth.device_id}`;
}

export function targetItems(admin: AdminState, t: (key: "machine_type" | "device") => string): PickerItem[] {
  return [
    ...admin.machine_types.map((m) => ({ id: `type:${m.id}`, label: m.name, sub: t("machine_type") })),
    ...admin.devices.map((d) => ({ id: `device:${d.device_id}`, label: d.name, sub: `${t("device")} · ${d.device_id}` })),
  ];
}

@customElement("fluxilab-authorizations-view")
export class AuthorizationsView extends ViewElement {
  @state() private members: string[] = [];
  @state() private targets: string[] = [];
  @state() private targetFilter = "";
  @state() private errors: Record<string, string> = {};
  @state() private fresh = new Set<string>();
  busyKeys = new Set<string>();

  private async revoke(auth: Authorization, admin: AdminState): Promise<void> {
    const yes = await this.ctx.confirm({
      text: this.t("confirm_revoke", { name: memberName(admin, auth.member_id), target: targetName(admin, auth) }),
      action: this.t("revoke"),
      danger: true,
    });
    if (!yes) return;
    const ok = await busy(this, `revoke:${auth.id}`, () => this.ctx.client.revoke(auth.id));
    if (ok === undefined) return;
    this.ctx.done("revoked");
    await this.ctx.reloadAdmin();
  }

  private async grant(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    const data = new FormData(form);
    const errors: Record<string, string> = {};
    if (!this.members.length) errors.member_ids = this.t("pick_members");
    if (!this.targets.length) errors.target = this.t("pick_targets");
    this.errors = errors;
    if (Object.keys(errors).length) return;
    const expires = text(data, "expires");
    const trainer = data.has("trainer");
    const created: string[] = [];
    try {
      await busy(
        this,
        "grant",
        async () => {
          // One grant per machine: the hub checks each whole before writing any of it.
          for (const target of this.targets) {
            const [kind, id] = target.split(/:(.*)/s);
            const reply = await this.ctx.client.grant({
              member_ids: this.members,
              ...(kind === "type" ? { machine_type_id: id } : { device_id: id }),
              ...(expires ? { expires: `${expires}T23:59:59` } : {}),
              ...(trainer ? { trainer: true } : {}),
            });
            created.push(...reply.authorization_ids);
          }
        },
        { quiet: true },
      );
    } catch (err) {
      // What was picked stays; the refusal is shown at Grant.
      this.errors = { form: this.ctx.i18n.error(err) };
      if (created.length) await this.ctx.reloadAdmin();
      return;
    }
    this.fresh = new Set(created);
    this.members = [];
    this.targets = [];
    form.reset();
    this.ctx.done("granted", { count: created.length });
    await this.ctx.reloadAdmin();
  }

  private error(name: string): TemplateResult | typeof nothing {
    const error = this.errors[name];
    return error ? html`<span class="field-error" role="alert" data-error=${name}>${error}</span>` : nothing;
  }

  protected override render(): TemplateResult {
    const admin = this.ctx.admin;
    if (!admin) return html`<p class="muted">${this.t("loading")}</p>`;
    const i18n = this.ctx.i18n;
    const t = (key: "machine_type" | "device") => this.t(key);
    const targets = targetItems(admin, t);
    // Newest first: what was just granted is on the first page.
    const rows = admin.authorizations
      .filter((a) => !this.targetFilter || targetKey(a) === this.targetFilter)
      .slice()
      .reverse();
    const columns: Column<Authorization>[] = [
      {
        key: "member",
        title: this.t("member"),
        sort: (a) => memberName(admin, a.member_id),
        render: (a) =>
          html`${memberName(admin, a.member_id)}${this.fresh.has(a.id)
            ? html` <span class="chip ok">${this.t("new")}</span>`
            : nothing}`,
      },
      {
        key: "target",
        title: this.t("target"),
        sort: (a) => targetName(admin, a),
        render: (a) => html`${targetName(admin, a)}
          ${a.trainer ? html`<span class="chip info">${this.t("trainer")}</span>` : nothing}
          ${a.granted_by
            ? html`<span class="muted">${this.t("trained_by", { name: memberName(admin, a.granted_by) })}</span>`
            : nothing}`,
      },
      {
        key: "expires",
        title: this.t("expires"),
        sort: (a) => a.expires ?? "9999",
        render: (a) => (a.expires ? i18n.day(a.expires) : this.t("never")),
      },
      {
        key: "actions",
        title: "",
        className: "actions",
        render: (a) => html`<button
          class="danger"
          data-action="revoke"
          data-auth=${a.id}
          ?disabled=${this.busyKeys.has(`revoke:${a.id}`)}
          @click=${() => void this.revoke(a, admin)}
        >
          ${this.t("revoke")}
        </button>`,
      },
    ];
    return html`
      <fluxilab-data-table
        name="authorizations"
        .i18n=${i18n}
        .rows=${rows}
        .columns=${columns}
        .rowKey=${(a: Authorization) => a.id}
        .searchText=${(a: Authorization) => `${memberName(admin, a.member_id)} ${a.member_id} ${targetName(admin, a)}`}
        .filters=${html`<select
          name="target_filter"
          aria-label=${this.t("target")}
          @change=${(ev: Event) => (this.targetFilter = (ev.target as HTMLSelectElement).value)}
        >
          <option value="">${this.t("all_targets")}</option>
          ${targets.map((item) => html`<option value=${item.id}>${item.label} (${item.sub})</option>`)}
        </select>`}
      ></fluxilab-data-table>
      <h2>${this.t("grant_to")}</h2>
      <form data-form="grant" class="card" novalidate @submit=${(ev: SubmitEvent) => void this.grant(ev)}>
        <fluxilab-picker
          multiple
          name="member_ids"
          .i18n=${i18n}
          label=${this.t("members")}
          .items=${admin.members.map((m) => ({ id: m.id, label: m.name, sub: m.email ?? undefined }))}
          .value=${this.members}
          error=${this.errors.member_ids ?? ""}
          @change=${(ev: CustomEvent<string[]>) => {
            this.members = (ev.target as Picker).value;
            this.errors = { ...this.errors, member_ids: "" };
          }}
        ></fluxilab-picker>
        <fluxilab-picker
          multiple
          name="target"
          .i18n=${i18n}
          label=${this.t("machines")}
          .items=${targets}
          .value=${this.targets}
          error=${this.errors.target ?? ""}
          @change=${(ev: CustomEvent<string[]>) => {
            this.targets = (ev.target as Picker).value;
            this.errors = { ...this.errors, target: "" };
          }}
        ></fluxilab-picker>
        <label>${this.t("expires")}<input name="expires" type="date" /></label>
        <label class="check"><input type="checkbox" name="trainer" /> ${this.t("trainer")}</label>
        <div class="actions">
          <button class="primary" type="submit" ?disabled=${this.busyKeys.has("grant")}>
            ${this.members.length && this.targets.length
              ? this.t("grant_count", { count: this.members.length * this.targets.length })
              : this.t("grant")}
          </button>
          ${this.error("form")}
        </div>
      </form>
    `;
  }
}
