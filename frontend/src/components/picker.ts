// Pick members or machines by typing: a search box that lists the matches as you
// type (a few at a time), the picked ones as removable chips. One for a single
// choice, several with ``multiple``. Fires ``change`` with ``detail: string[]``.
import { html, LitElement, nothing } from "lit";
import type { TemplateResult } from "lit";
import { property, state } from "lit/decorators.js";
import { customElement } from "../define";
import type { Localizer } from "../localize/localize";

export interface PickerItem {
  id: string;
  label: string;
  sub?: string;
}

const SHOWN = 8;

@customElement("fluxilab-picker")
export class Picker extends LitElement {
  @property({ attribute: false }) items: PickerItem[] = [];
  @property({ attribute: false }) value: string[] = [];
  @property({ attribute: false }) i18n!: Localizer;
  @property({ type: Boolean }) multiple = false;
  @property() label = "";
  @property() name = "";
  @property() placeholder = "";
  /** A translated error shown under the field. */
  @property() error = "";

  @state() private query = "";
  @state() private focused = false;

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  private found(): PickerItem[] {
    const words = this.query.toLocaleLowerCase().split(/\s+/).filter(Boolean);
    const chosen = new Set(this.value);
    return this.items
      .filter((item) => !chosen.has(item.id))
      .filter((item) => {
        const text = `${item.label} ${item.sub ?? ""} ${item.id}`.toLocaleLowerCase();
        return words.every((word) => text.includes(word));
      })
      .slice(0, SHOWN);
  }

  private set(value: string[]): void {
    this.value = value;
    this.dispatchEvent(new CustomEvent<string[]>("change", { detail: value, bubbles: true }));
  }

  private pick(item: PickerItem): void {
    this.set(this.multiple ? [...this.value, item.id] : [item.id]);
    this.query = "";
    if (!this.multiple) this.focused = false;
    this.querySelector<HTMLInputElement>("input")?.focus();
  }

  clear(): void {
    this.query = "";
    this.set([]);
  }

  protected override render(): TemplateResult {
    const t = this.i18n.t.bind(this.i18n);
    const byId = new Map(this.items.map((item) => [item.id, item]));
    const matches = this.focused || this.query ? this.found() : [];
    return html`<div class="picker ${this.error ? "invalid" : ""}" data-picker=${this.name}>
      <label class="field-label" for="picker-${this.name}">${this.label}</label>
      ${this.value.length
        ? html`<div class="chips picked">
            ${this.value.map(
              (id) => html`<span class="chip pick" data-picked=${id}
                >${byId.get(id)?.label ?? id}
                <button
                  type="button"
                  class="chip-remove"
                  aria-label=${t("remove_pick", { name: byId.get(id)?.label ?? id })}
                  @click=${() => this.set(this.value.filter((v) => v !== id))}
                >
                  ×
                </button></span
              >`,
            )}
          </div>`
        : nothing}
      <input
        id="picker-${this.name}"
        type="search"
        name=${this.name}
        autocomplete="off"
        role="combobox"
        aria-expanded=${matches.length > 0}
        aria-invalid=${this.error ? "true" : "false"}
        placeholder=${this.placeholder || t("type_to_search")}
        .value=${this.query}
        @input=${(ev: InputEvent) => (this.query = (ev.target as HTMLInputElement).value)}
        @focus=${() => (this.focused = true)}
        @blur=${() => setTimeout(() => (this.focused = false), 200)}
        @keydown=${(ev: KeyboardEvent) => {
          if (ev.key === "Enter") {
            ev.preventDefault();
            const [first] = this.found();
            if (first) this.pick(first);
          }
        }}
      />
      ${matches.length
        ? html`<ul class="options" role="listbox">
            ${matches.map(
              (item) => html`<li
                role="option"
                data-option=${item.id}
                @mousedown=${(ev: Event) => ev.preventDefault()}
                @click=${() => this.pick(item)}
              >
                ${item.label}${item.sub ? html` <span class="muted">${item.sub}</span>` : nothing}
              </li>`,
            )}
          </ul>`
        : this.query
          ? html`<div class="muted options-empty">${t("no_match")}</div>`
          : nothing}
      ${this.error ? html`<div class="field-error" role="alert">${this.error}</div>` : nothing}
    </div>`;
  }
}
