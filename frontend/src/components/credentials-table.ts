// A member's cards and PIN: the admin's editor (toggle, remove) and the member's own
// list (report lost). Both confirm before they change anything.
import { html, nothing } from "lit";
import type { TemplateResult } from "lit";
import type { Localizer } from "../localize/localize";
import { credentialLabel, twins } from "../credentials";
import type { Credential } from "../types";

export interface CredentialActions {
  admin: boolean;
  busy: (id: string) => boolean;
  toggle?: (c: Credential) => void;
  remove?: (c: Credential) => void;
  lost?: (c: Credential) => void;
}

export function credentialsTable(
  i18n: Localizer,
  credentials: Credential[],
  actions: CredentialActions,
): TemplateResult {
  const t = i18n.t.bind(i18n);
  if (!credentials.length) return html`<p class="muted">${t("none")}</p>`;
  const alike = twins(credentials);
  return html`<div class="table-wrap">
    <table class="credentials">
      <tr>
        <th>${t("credential_label")}</th>
        <th>${t("credential_type")}</th>
        <th>${t("card")}</th>
        <th>${t("status")}</th>
        <th>${t("last_used")}</th>
        <th></th>
      </tr>
      ${credentials.map(
        (c) => html`<tr data-credential=${c.id}>
          <td data-label=${t("credential_label")}>${credentialLabel(c, t("card"))}</td>
          <td data-label=${t("credential_type")}>${c.type === "pin" ? t("type_pin") : t("type_card")}</td>
          <td data-label=${t("card")}>
            ${c.card ?? ""}${alike.has(c.id) && c.created
              ? html`<div class="muted" data-added=${c.id}>${t("card_added", { date: i18n.when(c.created) })}</div>`
              : nothing}
          </td>
          <td data-label=${t("status")}>
            <span class="chip ${c.active ? "" : "bad"}">${c.active ? t("active") : t("inactive")}</span>
            ${c.must_change ? html`<span class="chip warn">${t("must_change")}</span>` : nothing}
          </td>
          <td data-label=${t("last_used")}>${c.last_used ? i18n.when(c.last_used) : t("never_used")}</td>
          <td class="actions">
            ${actions.admin
              ? html`<button
                    class="secondary"
                    data-action="credential-toggle"
                    data-credential=${c.id}
                    data-active=${String(!c.active)}
                    ?disabled=${actions.busy(c.id)}
                    @click=${() => actions.toggle?.(c)}
                  >
                    ${c.active ? t("deactivate") : t("activate")}
                  </button>
                  <button
                    class="danger"
                    data-action="credential-remove"
                    data-credential=${c.id}
                    ?disabled=${actions.busy(c.id)}
                    @click=${() => actions.remove?.(c)}
                  >
                    ${t("delete")}
                  </button>`
              : c.active && c.type === "card"
                ? html`<button
                    class="danger"
                    data-action="credential-lost"
                    data-credential=${c.id}
                    ?disabled=${actions.busy(c.id)}
                    @click=${() => actions.lost?.(c)}
                  >
                    ${t("report_lost")}
                  </button>`
                : nothing}
          </td>
        </tr>`,
      )}
    </table>
  </div>`;
}
