// Admin → Unknown cards: cards seen at a device that no member holds; assign one to
// a member picked by typing.
import { html } from "lit";
import type { TemplateResult } from "lit";
import { state } from "lit/decorators.js";
import { customElement } from "../../define";
import type { Column } from "../../components/data-table";
import "../../components/data-table";
import type { Picker } from "../../components/picker";
import "../../components/picker";
import { busy, deviceName, memberName, ViewElement } from "../../context";
import type { UnknownCard } from "../../types";

@customElement("fluxilab-unknown-cards-view")
export class UnknownCardsView extends ViewElement {
  @state() private picked: Record<string, string> = {};
  @state() private errors: Record<string, string> = {};
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
