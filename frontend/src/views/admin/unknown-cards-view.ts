// Admin → Unknown cards: cards seen at a device that no member holds; assign one to
// a member picked by typing, or turn it into a new member.
import { html, nothing } from "lit";
import type { TemplateResult } from "lit";
import { state } from "lit/decorators.js";
import { customElement } from "../../define";
import type { Column } from "../../components/data-table";
import "../../components/data-table";
import type { Picker } from "../../components/picker";
import "../../components/picker";
import { busy, deviceName, memberName, ViewElement } from "../../context";
import type { UnknownCard, WsError } from "../../types";

@customElement("fluxilab-unknown-cards-view")
export class UnknownCardsView extends ViewElement {
  @state() private picked: Record<string, string> = {};
  @state() private errors: Record<string, string> = {};
  @state() private names: Record<string, string> = {};
  busyKeys = new Set<string>();

  private async assign(card: string): Promise<void> {
    const member = this.picked[card];
    if (!member) {
      this.errors = { [card]: this.t("pick_member") };
      return;
    }
    try {
      await busy(this, `assign:${card}`, () => this.ctx.client.assignCard(member, card), { quiet: true });
    } catch (err) {
      this.errors = { [card]: this.ctx.i18n.error(err) };
      return;
    }
    this.errors = {};
    this.ctx.done("assigned_card", { name: memberName(this.ctx.admin, member) });
    await this.ctx.reloadAdmin();
  }

  /** Swiped, unknown, and now a new member holding the card. */
  private async newMember(card: string): Promise<void> {
    const name = (this.names[card] ?? "").trim();
    if (!name) {
      this.errors = { [`new:${card}`]: this.t("field_required") };
      return;
    }
    // A second member of a name someone has: asked first, as in Members (the hub
    // refuses it unconfirmed, member_name_taken).
    const sameName = () => this.ctx.confirm({ text: this.t("confirm_same_name", { name }), action: this.t("create") });
    let allow = false;
    if (this.ctx.admin?.members.some((m) => m.name.toLocaleLowerCase() === name.toLocaleLowerCase())) {
      if (!(await sameName())) return;
      allow = true;
    }
    const create = () =>
      busy(this, `new:${card}`, () => this.ctx.client.memberFromCard(card, name, allow), { quiet: true });
    try {
      try {
        await create();
      } catch (err) {
        // Someone took the name after the list here was loaded: ask, then retry.
        if (allow || (err as WsError | null)?.translation_key !== "member_name_taken" || !(await sameName())) throw err;
        allow = true;
        await create();
      }
    } catch (err) {
      this.errors = { [`new:${card}`]: this.ctx.i18n.error(err) };
      return;
    }
    this.errors = {};
    this.names = { ...this.names, [card]: "" };
    this.ctx.done("added_member", { name });
    await this.ctx.reloadAdmin();
  }

  protected override render(): TemplateResult {
    const admin = this.ctx.admin;
    if (!admin) return html`<p class="muted">${this.t("loading")}</p>`;
    const members = admin.members.map((m) => ({ id: m.id, label: m.name, sub: m.email ?? undefined }));
    const columns: Column<UnknownCard>[] = [
      { key: "card", title: this.t("card"), sort: (c) => c.card, render: (c) => c.card },
      { key: "device", title: this.t("seen_at"), sort: (c) => deviceName(admin, c.device_id), render: (c) => deviceName(admin, c.device_id) },
      { key: "ts", title: this.t("seen"), sort: (c) => c.ts, render: (c) => this.ctx.i18n.when(c.ts) },
      {
        key: "assign",
        title: this.t("assign_to"),
        render: (c) => html`<div class="inline" data-form="assign" data-card=${c.card}>
          <fluxilab-picker
            name="member_id"
            .i18n=${this.ctx.i18n}
            .items=${members}
            .value=${this.picked[c.card] ? [this.picked[c.card]] : []}
            error=${this.errors[c.card] ?? ""}
            @change=${(ev: CustomEvent<string[]>) =>
              (this.picked = { ...this.picked, [c.card]: (ev.target as Picker).value[0] ?? "" })}
          ></fluxilab-picker>
          <button class="primary" ?disabled=${this.busyKeys.has(`assign:${c.card}`)} @click=${() => void this.assign(c.card)}>
            ${this.t("assign")}
          </button>
        </div>`,
      },
      {
        key: "new_member",
        title: this.t("create_member_from_card"),
        render: (c) => html`<div class="inline" data-form="member-from-card" data-card=${c.card}>
          <input
            name="new_member_name"
            maxlength="100"
            aria-label=${this.t("new_member_name")}
            placeholder=${this.t("new_member_name")}
            .value=${this.names[c.card] ?? ""}
            @input=${(ev: Event) => (this.names = { ...this.names, [c.card]: (ev.target as HTMLInputElement).value })}
          />
          <button class="secondary" ?disabled=${this.busyKeys.has(`new:${c.card}`)} @click=${() => void this.newMember(c.card)}>
            ${this.t("create")}
          </button>
          ${this.errors[`new:${c.card}`]
            ? html`<span class="field-error" role="alert" data-error="new_member_name">${this.errors[`new:${c.card}`]}</span>`
            : nothing}
        </div>`,
      },
    ];
    return html`<fluxilab-data-table
      name="unknown_cards"
      .i18n=${this.ctx.i18n}
      .rows=${admin.unknown_cards}
      .columns=${columns}
      sortKey="ts"
      sortDescending
      .rowKey=${(c: UnknownCard) => c.card}
      .searchText=${(c: UnknownCard) => `${c.card} ${c.device_id} ${deviceName(admin, c.device_id)}`}
    ></fluxilab-data-table>`;
  }
}
