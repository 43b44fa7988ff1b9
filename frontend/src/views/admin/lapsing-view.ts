// Admin → Lapsing: authorizations about to lapse (unused or expiring), with Renew.
import { html } from "lit";
import type { TemplateResult } from "lit";
import { state } from "lit/decorators.js";
import { customElement } from "../../define";
import type { Column } from "../../components/data-table";
import "../../components/data-table";
import { busy, ViewElement } from "../../context";
import type { LapseItem, LapseList } from "../../types";
import { lapseCell } from "../profile-view";

@customElement("fluxilab-lapsing-view")
export class LapsingView extends ViewElement {
  @state() private list: LapseList | null = null;
  busyKeys = new Set<string>();

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    const list = await busy(this, "load", () => this.ctx.client.lapsingList());
    if (list) this.list = list;
  }

  private async renew(item: LapseItem): Promise<void> {
    const ok = await busy(this, `renew:${item.authorization_id}`, () => this.ctx.client.lapsingRenew(item.authorization_id));
    if (ok !== undefined) this.ctx.done("renewed");
    await this.load();
  }

  protected override render(): TemplateResult {
    const l = this.list;
    if (!l) return html`<p class="muted">${this.t("loading")}</p>`;
    const i18n = this.ctx.i18n;
    const target = (i: LapseItem) => i.machine_type_name || i.machine_type_id || i.device_id || "—";
    const columns: Column<LapseItem>[] = [
      { key: "member", title: this.t("member"), sort: (i) => i.member_name || i.member_id || "", render: (i) => i.member_name || i.member_id },
      { key: "target", title: this.t("target"), sort: target, render: target },
      {
        key: "last_used",
        title: this.t("last_used"),
        sort: (i) => String(i.last_used ?? ""),
        render: (i) => (i.last_used ? i18n.when(i.last_used) : this.t("never_used")),
      },
      { key: "lapse", title: this.t("lapse_date"), sort: (i) => i.lapse_date ?? "9999", render: (i) => lapseCell(i18n, i) },
      {
        key: "actions",
        title: "",
        className: "actions",
        render: (i) => html`<button
          class="primary"
          data-action="lapse-renew"
          data-auth=${i.authorization_id}
          ?disabled=${this.busyKeys.has(`renew:${i.authorization_id}`)}
          @click=${() => void this.renew(i)}
        >
          ${this.t("renew")}
        </button>`,
      },
    ];
    return html`<p class="muted">${this.t("lapsing_hint", { days: l.notice_days })}</p>
      <fluxilab-data-table
        name="lapsing"
        .i18n=${i18n}
        .rows=${l.authorizations}
        .columns=${columns}
        sortKey="lapse"
        empty=${this.t("lapsing_none", { days: l.notice_days })}
        .rowKey=${(i: LapseItem) => i.authorization_id}
        .searchText=${(i: LapseItem) => `${i.member_name ?? ""} ${i.member_id ?? ""} ${target(i)}`}
      ></fluxilab-data-table>`;
  }
}
