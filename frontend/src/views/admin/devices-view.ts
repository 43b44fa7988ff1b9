// Admin → Devices: status, usage hours; block and record maintenance (both asked first).
import { html, nothing } from "lit";
import type { TemplateResult } from "lit";
import { state } from "lit/decorators.js";
import { customElement } from "../../define";
import type { Column } from "../../components/data-table";
import "../../components/data-table";
import { busy, ViewElement } from "../../context";
import type { DeviceStatus } from "../../types";

@customElement("fluxilab-devices-view")
export class DevicesView extends ViewElement {
  @state() private statusFilter = "";
  busyKeys = new Set<string>();

  private async block(d: DeviceStatus): Promise<void> {
    const blocked = !d.blocked;
    if (blocked) {
      const yes = await this.ctx.confirm({ text: this.t("confirm_block", { name: d.name }), action: this.t("block"), danger: true });
      if (!yes) return;
    }
    const ok = await busy(this, `block:${d.device_id}`, () => this.ctx.client.block(d.device_id, blocked));
    if (ok === undefined) return;
    this.ctx.done(blocked ? "blocked_device" : "unblocked_device", { name: d.name });
    await this.ctx.reloadAdmin();
  }

  private async maintenance(d: DeviceStatus): Promise<void> {
    const yes = await this.ctx.confirm({ text: this.t("confirm_maintenance", { name: d.name }), action: this.t("record_maintenance") });
    if (!yes) return;
    const ok = await busy(this, `maint:${d.device_id}`, () => this.ctx.client.recordMaintenance(d.device_id));
    if (ok === undefined) return;
    this.ctx.done("maintenance_recorded", { name: d.name });
    await this.ctx.reloadAdmin();
  }

  private shows(d: DeviceStatus): boolean {
    switch (this.statusFilter) {
      case "online":
        return d.online;
      case "offline":
        return !d.online;
      case "link_broken":
        return d.link === "broken";
      case "blocked":
        return d.blocked;
      case "maintenance_due":
        return d.maintenance_due;
      default:
        return true;
    }
  }

  protected override render(): TemplateResult {
    const admin = this.ctx.admin;
    if (!admin) return html`<p class="muted">${this.t("loading")}</p>`;
    const i18n = this.ctx.i18n;
    const columns: Column<DeviceStatus>[] = [
      {
        key: "name",
        title: this.t("device"),
        sort: (d) => d.name,
        render: (d) => html`${d.name}<div class="muted">${d.device_id}${d.machine_type ? ` · ${d.machine_type}` : ""}</div>`,
      },
      {
        key: "status",
        title: this.t("status"),
        sort: (d) =>
          Number(d.online) * 8 + Number(d.link !== "broken") * 4 + Number(!d.blocked) * 2 + Number(!d.maintenance_due),
        render: (d) => html`<span class="chip ${d.online ? "ok" : "bad"}">${d.online ? this.t("online") : this.t("offline")}</span>
          ${d.link === "broken"
            ? html`<span class="chip bad" data-status="link_broken" title=${this.t("link_broken_hint")}>${this.t("link_broken")}</span>`
            : nothing}
          ${d.blocked ? html`<span class="chip bad">${this.t("blocked")}</span>` : nothing}
          ${d.maintenance_due ? html`<span class="chip warn">${this.t("maintenance_due")}</span>` : nothing}`,
      },
      {
        key: "usage",
        title: this.t("usage_hours"),
        sort: (d) => d.usage_hours ?? 0,
        render: (d) => html`${i18n.number(d.usage_hours)}${typeof d.hours_to_maintenance === "number"
          ? html` <span class="muted">(${this.t("hours_left", { hours: i18n.number(d.hours_to_maintenance) })})</span>`
          : nothing}`,
      },
      {
        key: "actions",
        title: "",
        className: "actions",
        render: (d) => html`<button
            class=${d.blocked ? "secondary" : "danger"}
            data-action="block"
            data-device=${d.device_id}
            data-blocked=${String(!d.blocked)}
            ?disabled=${this.busyKeys.has(`block:${d.device_id}`)}
            @click=${() => void this.block(d)}
          >
            ${d.blocked ? this.t("unblock") : this.t("block")}
          </button>
          <button
            class="secondary"
            data-action="maintenance"
            data-device=${d.device_id}
            ?disabled=${this.busyKeys.has(`maint:${d.device_id}`)}
            @click=${() => void this.maintenance(d)}
          >
            ${this.t("record_maintenance")}
          </button>`,
      },
    ];
    return html`<fluxilab-data-table
      name="devices"
      .i18n=${i18n}
      .rows=${admin.devices.filter((d) => this.shows(d))}
      .columns=${columns}
      sortKey="name"
      .rowKey=${(d: DeviceStatus) => d.device_id}
      .searchText=${(d: DeviceStatus) => `${d.name} ${d.device_id} ${d.machine_type ?? ""} ${d.area ?? ""}`}
      .filters=${html`<select
        name="status_filter"
        aria-label=${this.t("status")}
        @change=${(ev: Event) => (this.statusFilter = (ev.target as HTMLSelectElement).value)}
      >
        <option value="">${this.t("all_statuses")}</option>
        ${(["online", "offline", "link_broken", "blocked", "maintenance_due"] as const).map(
          (s) => html`<option value=${s}>${this.t(s)}</option>`,
        )}
      </select>`}
    ></fluxilab-data-table>`;
  }
}
