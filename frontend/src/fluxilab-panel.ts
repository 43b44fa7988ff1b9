/**
 * The FluxiLab sidebar panel.
 *
 * Home Assistant creates <fluxilab-panel> and sets `hass`, `narrow`, `route` and
 * `panel` on it. Every piece of data comes from the integration's websocket commands
 * (custom_components/fluxilab/panel_api.py and friends, through ./client.ts), which
 * check the caller's lab role on every call: what this module hides is a
 * convenience, never the security.
 *
 * Views: Lab (devices the user may use, live, with Open), Bookings (a device's week,
 * my bookings), In the lab (presence),
 * My profile, Admin (members, authorizations, machine types, devices, unknown cards,
 * usage history, audit log, lapsing, settings). The view is in the address
 * (/fluxilab/admin/members), so a reload stays and a link can be shared.
 */
import { html, LitElement, nothing } from "lit";
import type { PropertyValues, TemplateResult } from "lit";
import { property, state } from "lit/decorators.js";
import { FluxiLabClient } from "./client";
import type { ConfirmOptions, PanelContext } from "./context";
import { loadExceptions, Localizer } from "./localize/localize";
import type { StringKey } from "./localize/localize";
import { panelStyles } from "./styles";
import type { AdminState, HomeAssistant, LabView, Localize, Route } from "./types";
import { ADMIN_TABS } from "./views/admin-view";
import type { AdminTab } from "./views/admin-view";
import "./views/admin-view";
import type { LabViewElement } from "./views/lab-view";
import "./views/lab-view";
import "./views/bookings-view";
import "./views/presence-view";
import "./views/profile-view";
import { defineOnce } from "./define";

type Tab = "lab" | "bookings" | "presence" | "profile" | "admin";
const TABS: Tab[] = ["lab", "bookings", "presence", "profile", "admin"];
const TOAST_SECONDS = { success: 5, error: 10 };
/** Live admin data: the admin state is reloaded this long after a lab change. */
const ADMIN_RELOAD_DELAY = 2000;

const MENU_ICON = html`<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M3,6H21V8H3V6M3,11H21V13H3V11M3,16H21V18H3V16Z" /></svg>`;

interface Toast {
  kind: "success" | "error";
  text: string;
  id: number;
}

export class FluxiLabPanel extends LitElement {
  static override styles = panelStyles;

  @property({ attribute: false }) hass!: HomeAssistant;
  @property({ type: Boolean }) narrow = false;
  @property({ attribute: false }) route?: Route;
  @property({ attribute: false }) panel?: unknown;

  @state() lab: LabView | null = null;
  @state() admin: AdminState | null = null;
  @state() toast: Toast | null = null;
  @state() private asking: (ConfirmOptions & { resolve: (yes: boolean) => void }) | null = null;
  @state() path = "";

  readonly client = new FluxiLabClient(() => this.hass);
  private i18n?: Localizer;
  private exceptions: Localize | null = null;
  private language = "";
  private unsubscribe: Promise<() => Promise<void>> | null = null;
  private toastTimer?: number;
  private adminTimer: number | undefined;
  private toastId = 0;

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.hass) this.subscribe();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = null;
    void unsubscribe?.then((stop) => stop()).catch(() => undefined);
    clearTimeout(this.adminTimer);
    this.adminTimer = undefined;
    clearTimeout(this.toastTimer);
  }

  protected override shouldUpdate(changed: PropertyValues<this>): boolean {
    // Home Assistant sets a new `hass` on every state change in the house: only a new
    // language (or the first one) concerns the panel, whose data come by websocket.
    if (changed.size === 1 && changed.has("hass") && this.i18n && this.unsubscribe) {
      return (this.hass.locale?.language || this.hass.language || "en") !== this.language;
    }
    return true;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has("hass") && this.hass) {
      const language = this.hass.locale?.language || this.hass.language || "en";
      if (language !== this.language) {
        this.language = language;
        this.i18n = new Localizer(this.hass, this.exceptions);
        void loadExceptions(this.hass).then((exceptions) => {
          this.exceptions = exceptions;
          this.i18n = new Localizer(this.hass, exceptions);
          this.requestUpdate();
        });
      }
      if (!this.unsubscribe) this.subscribe();
    }
    if (changed.has("route") && this.route) this.path = this.route.path.replace(/^\//, "");
  }

  private subscribe(): void {
    if (this.unsubscribe || !this.hass || !this.isConnected) return;
    this.unsubscribe = this.client.subscribeLab((lab) => {
      this.lab = lab;
      this.querySelectorLab()?.labUpdated();
      // At most one reload per delay: live telemetry sends an update every moment.
      if (this.tab === "admin" && lab.manager && this.adminTimer === undefined) {
        this.adminTimer = window.setTimeout(() => {
          this.adminTimer = undefined;
          void this.reloadAdmin();
        }, ADMIN_RELOAD_DELAY);
      }
    });
    this.unsubscribe.catch((err: unknown) => {
      this.unsubscribe = null;
      this.fail(err);
    });
  }

  private querySelectorLab(): LabViewElement | null {
    return this.renderRoot?.querySelector<LabViewElement>("fluxilab-lab-view") ?? null;
  }

  // Where we are ---------------------------------------------------------------

  get tab(): Tab {
    const first = this.path.split("/")[0] as Tab;
    if (first === "admin" && this.lab && !this.lab.manager) return "lab";
    return TABS.includes(first) ? first : "lab";
  }

  get sub(): AdminTab {
    const second = this.path.split("/")[1] as AdminTab;
    return ADMIN_TABS.includes(second) ? second : "members";
  }

  /** Go to ``path`` inside the panel, as Home Assistant's own navigation does. */
  navigate(path: string): void {
    const prefix = this.route?.prefix ?? "/fluxilab";
    const wasAdmin = this.tab === "admin";
    this.path = path;
    window.history.pushState(null, "", `${prefix}/${path}`);
    window.dispatchEvent(new CustomEvent("location-changed", { detail: { replace: false } }));
    if (this.tab === "admin" && !wasAdmin) void this.reloadAdmin();
  }

  // What views use -------------------------------------------------------------

  async reloadAdmin(): Promise<void> {
    try {
      this.admin = await this.client.adminState();
    } catch (err) {
      this.fail(err);
    }
  }

  private show(kind: Toast["kind"], text: string): void {
    clearTimeout(this.toastTimer);
    this.toast = { kind, text, id: ++this.toastId };
    this.toastTimer = window.setTimeout(() => (this.toast = null), TOAST_SECONDS[kind] * 1000);
  }

  done(key: StringKey = "done", params?: Record<string, string | number>): void {
    if (this.i18n) this.show("success", this.i18n.t(key, params));
  }

  fail(err: unknown): void {
    if (this.i18n) this.show("error", this.i18n.error(err));
  }

  confirm(options: ConfirmOptions): Promise<boolean> {
    this.asking?.resolve(false);
    return new Promise((resolve) => {
      this.asking = { ...options, resolve };
      void this.updateComplete.then(() => {
        const dialog = this.renderRoot.querySelector<HTMLDialogElement>("dialog.confirm");
        if (dialog && !dialog.open) dialog.showModal();
      });
    });
  }

  private answer(yes: boolean): void {
    const asking = this.asking;
    this.asking = null;
    this.renderRoot.querySelector<HTMLDialogElement>("dialog.confirm")?.close();
    asking?.resolve(yes);
  }

  private context(i18n: Localizer): PanelContext {
    return {
      client: this.client,
      i18n,
      lab: this.lab,
      admin: this.admin,
      done: (key, params) => this.done(key, params),
      fail: (err) => this.fail(err),
      confirm: (options) => this.confirm(options),
      reloadAdmin: () => this.reloadAdmin(),
      navigate: (path) => this.navigate(path),
    };
  }

  protected override firstUpdated(): void {
    if (this.tab === "admin") void this.reloadAdmin();
  }

  protected override updated(changed: PropertyValues<this>): void {
    // Arriving at the admin console by address (a reload, a shared link).
    if ((changed.has("lab") || changed.has("path")) && this.tab === "admin" && !this.admin && this.lab?.manager) {
      void this.reloadAdmin();
    }
  }

  // Rendering ------------------------------------------------------------------

  protected override render(): TemplateResult {
    const i18n = this.i18n;
    if (!i18n) return html``;
    const t = i18n.t.bind(i18n);
    const ctx = this.context(i18n);
    const tabs = TABS.filter((tab) => tab !== "admin" || this.lab?.manager);
    const tab = this.tab;
    return html`
      <header>
        ${this.narrow
          ? html`<button
              class="menu"
              aria-label=${t("menu")}
              @click=${() => this.dispatchEvent(new Event("hass-toggle-menu", { bubbles: true, composed: true }))}
            >
              ${MENU_ICON}
            </button>`
          : nothing}
        <h1>${t("title")}</h1>
      </header>
      <nav class="tabs" role="tablist">
        ${tabs.map(
          (name) => html`<button
            role="tab"
            data-tab=${name}
            aria-selected=${String(tab === name)}
            @click=${() => this.navigate(name === "admin" ? `admin/${this.sub}` : name)}
          >
            ${t(name)}
          </button>`,
        )}
      </nav>
      <main id="content">
        ${tab === "bookings"
          ? html`<fluxilab-bookings-view .ctx=${ctx}></fluxilab-bookings-view>`
          : tab === "presence"
          ? html`<fluxilab-presence-view .ctx=${ctx}></fluxilab-presence-view>`
          : tab === "profile"
            ? html`<fluxilab-profile-view .ctx=${ctx}></fluxilab-profile-view>`
            : tab === "admin"
              ? html`<fluxilab-admin-view .ctx=${ctx} .sub=${this.sub}></fluxilab-admin-view>`
              : html`<fluxilab-lab-view .ctx=${ctx}></fluxilab-lab-view>`}
      </main>
      ${this.toast
        ? html`<div class="toast ${this.toast.kind}" role=${this.toast.kind === "error" ? "alert" : "status"} data-toast=${this.toast.kind}>
            <span class="toast-text">${this.toast.text}</span>
            <button @click=${() => (this.toast = null)}>${t("close")}</button>
          </div>`
        : nothing}
      <dialog class="confirm" @cancel=${() => this.answer(false)}>
        ${this.asking
          ? html`<p>${this.asking.text}</p>
              <div class="actions">
                <button class="secondary" data-confirm="no" @click=${() => this.answer(false)}>${t("cancel")}</button>
                <button
                  class=${this.asking.danger ? "danger filled" : "primary"}
                  data-confirm="yes"
                  @click=${() => this.answer(true)}
                >
                  ${this.asking.action}
                </button>
              </div>`
          : nothing}
      </dialog>
    `;
  }
}

defineOnce("fluxilab-panel", FluxiLabPanel);
