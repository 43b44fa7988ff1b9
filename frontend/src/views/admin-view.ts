// Admin: the lab managers' console, one sub-view per tab (kept in the address).
import { html } from "lit";
import type { TemplateResult } from "lit";
import { property } from "lit/decorators.js";
import { customElement } from "../define";
import { ViewElement } from "../context";
import type { StringKey } from "../localize/localize";
import "./admin/audit-view";
import "./admin/authorizations-view";
import "./admin/billing-view";
import "./admin/devices-view";
import "./admin/history-view";
import "./admin/lapsing-view";
import "./admin/machine-types-view";
import "./admin/maintenance-view";
import "./admin/members-view";
import "./admin/roles-view";
import "./admin/settings-view";
import "./admin/unknown-cards-view";

export const ADMIN_TABS = [
  "members",
  "roles",
  "authorizations",
  "machine_types",
  "devices",
  "maintenance",
  "unknown_cards",
  "history",
  "billing",
  "audit",
  "lapsing",
  "settings",
] as const satisfies readonly StringKey[];

export type AdminTab = (typeof ADMIN_TABS)[number];

@customElement("fluxilab-admin-view")
export class AdminView extends ViewElement {
  @property() sub: AdminTab = "members";

  protected override updated(): void {
    // On a phone the tabs scroll: keep the chosen one in sight.
    this.querySelector('nav.sub button[aria-selected="true"]')?.scrollIntoView({ block: "nearest", inline: "center" });
  }

  private body(): TemplateResult {
    const ctx = this.ctx;
    switch (this.sub) {
      case "roles":
        return html`<fluxilab-roles-view .ctx=${ctx}></fluxilab-roles-view>`;
      case "authorizations":
        return html`<fluxilab-authorizations-view .ctx=${ctx}></fluxilab-authorizations-view>`;
      case "machine_types":
        return html`<fluxilab-machine-types-view .ctx=${ctx}></fluxilab-machine-types-view>`;
      case "devices":
        return html`<fluxilab-devices-view .ctx=${ctx}></fluxilab-devices-view>`;
      case "maintenance":
        return html`<fluxilab-maintenance-view .ctx=${ctx}></fluxilab-maintenance-view>`;
      case "unknown_cards":
        return html`<fluxilab-unknown-cards-view .ctx=${ctx}></fluxilab-unknown-cards-view>`;
      case "history":
        return html`<fluxilab-history-view .ctx=${ctx}></fluxilab-history-view>`;
      case "billing":
        return html`<fluxilab-billing-view .ctx=${ctx}></fluxilab-billing-view>`;
      case "audit":
        return html`<fluxilab-audit-view .ctx=${ctx}></fluxilab-audit-view>`;
      case "lapsing":
        return html`<fluxilab-lapsing-view .ctx=${ctx}></fluxilab-lapsing-view>`;
      case "settings":
        return html`<fluxilab-settings-view .ctx=${ctx}></fluxilab-settings-view>`;
      default:
        return html`<fluxilab-members-view .ctx=${ctx}></fluxilab-members-view>`;
    }
  }

  protected override render(): TemplateResult {
    return html`<nav class="sub tabs" role="tablist">
        ${ADMIN_TABS.map(
          (tab) => html`<button
            role="tab"
            data-action="admin-tab"
            data-tab=${tab}
            aria-selected=${String(this.sub === tab)}
            @click=${() => this.ctx.navigate(`admin/${tab}`)}
          >
            ${this.t(tab)}
          </button>`,
        )}
      </nav>
      ${this.body()}`;
  }
}
