// A table that searches, sorts, filters and pages on the client, with Home
// Assistant's data-table behaviour: a search box, sortable headers, a page bar. On a
// phone each row becomes a card (labels beside the values), so nothing scrolls
// sideways.
import { html, LitElement, nothing } from "lit";
import type { TemplateResult } from "lit";
import { property, state } from "lit/decorators.js";
import { customElement } from "../define";
import { repeat } from "lit/directives/repeat.js";
import type { Localizer } from "../localize/localize";

export interface Column<T> {
  key: string;
  title: string;
  render: (row: T) => unknown;
  /** The value the column sorts by; without it the column does not sort. */
  sort?: (row: T) => string | number;
  className?: string;
}

const PAGE_SIZES = [10, 25, 50, 100];

@customElement("fluxilab-data-table")
export class DataTable<T = unknown> extends LitElement {
  @property({ attribute: false }) rows: T[] = [];
  @property({ attribute: false }) columns: Column<T>[] = [];
  @property({ attribute: false }) rowKey: (row: T) => string = (row) => String(row);
  /** The text a row is found by when searching. */
  @property({ attribute: false }) searchText: (row: T) => string = () => "";
  /** Extra content under a row (an editor opened at its row). */
  @property({ attribute: false }) expanded?: (row: T) => TemplateResult | typeof nothing;
  /** Filters (selects) shown beside the search box; the caller filters ``rows``. */
  @property({ attribute: false }) filters?: TemplateResult;
  @property({ attribute: false }) i18n!: Localizer;
  @property() name = "";
  @property() empty = "";
  @property({ type: Number }) pageSize = 25;
  @property() sortKey = "";
  @property({ type: Boolean }) sortDescending = false;

  @state() private query = "";
  @state() private page = 0;

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  /** Show the page holding ``key`` (a row just added or edited). */
  showRow(key: string): void {
    const index = this.visible().findIndex((row) => this.rowKey(row) === key);
    if (index >= 0) this.page = Math.floor(index / this.pageSize);
  }

  private visible(): T[] {
    const words = this.query.toLocaleLowerCase().split(/\s+/).filter(Boolean);
    let rows = words.length
      ? this.rows.filter((row) => {
          const text = this.searchText(row).toLocaleLowerCase();
          return words.every((word) => text.includes(word));
        })
      : this.rows.slice();
    const column = this.columns.find((c) => c.key === this.sortKey && c.sort);
    if (column?.sort) {
      const value = column.sort;
      const collator = new Intl.Collator(this.i18n.language, { numeric: true, sensitivity: "base" });
      rows = rows.sort((a, b) => {
        const x = value(a);
        const y = value(b);
        const order =
          typeof x === "number" && typeof y === "number" ? x - y : collator.compare(String(x), String(y));
        return this.sortDescending ? -order : order;
      });
    }
    return rows;
  }

  private sortBy(key: string): void {
    if (this.sortKey === key) this.sortDescending = !this.sortDescending;
    else {
      this.sortKey = key;
      this.sortDescending = false;
    }
  }

  protected override render(): TemplateResult {
    const t = this.i18n.t.bind(this.i18n);
    const rows = this.visible();
    const pages = Math.max(1, Math.ceil(rows.length / this.pageSize));
    const page = Math.min(this.page, pages - 1);
    const shown = rows.slice(page * this.pageSize, (page + 1) * this.pageSize);
    const first = rows.length ? page * this.pageSize + 1 : 0;
    const last = page * this.pageSize + shown.length;
    return html`
      <div class="table-toolbar">
        <input
          class="search"
          type="search"
          name="search"
          aria-label=${t("search")}
          placeholder=${t("search")}
          .value=${this.query}
          @input=${(ev: InputEvent) => {
            this.query = (ev.target as HTMLInputElement).value;
            this.page = 0;
          }}
        />
        ${this.filters ?? nothing}
        <span class="muted count" data-count=${rows.length}
          >${t("rows_of", { first, last, total: rows.length })}</span
        >
      </div>
      ${rows.length
        ? html`<table class="data-table" data-table=${this.name}>
            <thead>
              <tr>
                ${this.columns.map((c) =>
                  c.sort
                    ? html`<th
                        aria-sort=${this.sortKey === c.key
                          ? this.sortDescending
                            ? "descending"
                            : "ascending"
                          : "none"}
                      >
                        <button class="sort" data-sort=${c.key} @click=${() => this.sortBy(c.key)}>
                          ${c.title}${this.sortKey === c.key ? (this.sortDescending ? " ▼" : " ▲") : ""}
                        </button>
                      </th>`
                    : html`<th>${c.title}</th>`,
                )}
              </tr>
            </thead>
            <tbody>
              ${repeat(
                shown,
                (row) => this.rowKey(row),
                (row) => html`<tr data-key=${this.rowKey(row)}>
                    ${this.columns.map(
                      (c) => html`<td class=${c.className ?? ""} data-label=${c.title}>${c.render(row)}</td>`,
                    )}
                  </tr>
                  ${this.expanded ? this.expanded(row) : nothing}`,
              )}
            </tbody>
          </table>`
        : html`<p class="muted empty">${this.query ? t("no_match") : this.empty || t("none")}</p>`}
      ${pages > 1 || rows.length > PAGE_SIZES[0]
        ? html`<div class="pager">
            <label class="inline-label"
              >${t("rows_per_page")}
              <select
                name="page_size"
                @change=${(ev: Event) => {
                  this.pageSize = Number((ev.target as HTMLSelectElement).value);
                  this.page = 0;
                }}
              >
                ${PAGE_SIZES.map(
                  (size) => html`<option value=${size} ?selected=${size === this.pageSize}>${size}</option>`,
                )}
              </select></label
            >
            <button class="secondary" data-page="previous" ?disabled=${page === 0} @click=${() => (this.page = page - 1)}>
              ‹ ${t("previous")}
            </button>
            <span class="muted">${t("page_of", { page: page + 1, pages })}</span>
            <button
              class="secondary"
              data-page="next"
              ?disabled=${page >= pages - 1}
              @click=${() => (this.page = page + 1)}
            >
              ${t("next")} ›
            </button>
          </div>`
        : nothing}
    `;
  }
}
