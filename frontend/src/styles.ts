// The panel's one stylesheet (views render into the panel's shadow root). Colours
// come from Home Assistant's theme variables, so light and dark work.
import { css } from "lit";

export const panelStyles = css`
  :host {
    display: block;
    min-height: 100%;
    background: var(--primary-background-color);
    color: var(--primary-text-color);
    font-family: var(--ha-font-family-body, Roboto, sans-serif);
  }
  header {
    display: flex;
    align-items: center;
    gap: 8px;
    height: var(--header-height, 56px);
    padding: 0 12px;
    padding-top: env(safe-area-inset-top);
    background: var(--app-header-background-color, var(--primary-color));
    color: var(--app-header-text-color, var(--text-primary-color, #fff));
    position: sticky;
    top: 0;
    z-index: 2;
  }
  header h1 { font-size: 20px; font-weight: 400; margin: 0; flex: 1; }
  .menu { background: none; border: none; color: inherit; width: 48px; height: 48px; padding: 12px; cursor: pointer; }
  .menu svg { width: 24px; height: 24px; fill: currentColor; }
  nav.tabs {
    display: flex;
    overflow-x: auto;
    gap: 4px;
    padding: 0 8px;
    background: var(--app-header-background-color, var(--primary-color));
    color: var(--app-header-text-color, var(--text-primary-color, #fff));
    scrollbar-width: thin;
  }
  nav.sub { background: none; color: var(--primary-text-color); border-bottom: 1px solid var(--divider-color); margin-bottom: 12px; }
  nav button {
    background: none; border: none; color: inherit; opacity: 0.75; font: inherit;
    padding: 12px 14px; min-height: 48px; cursor: pointer; white-space: nowrap;
    border-bottom: 2px solid transparent;
  }
  nav button[aria-selected="true"] { opacity: 1; border-bottom-color: currentColor; }
  nav.sub button[aria-selected="true"] { color: var(--primary-color); }
  main { padding: 16px; max-width: 1200px; margin: 0 auto; box-sizing: border-box; }
  h2 { font-size: 18px; font-weight: 500; margin: 20px 0 8px; color: var(--secondary-text-color); }
  .grid { display: grid; gap: 12px; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); }
  .card {
    background: var(--ha-card-background, var(--card-background-color, #fff));
    border-radius: var(--ha-card-border-radius, 12px);
    border: 1px solid var(--ha-card-border-color, var(--divider-color, #e0e0e0));
    box-shadow: var(--ha-card-box-shadow, none);
    padding: 16px;
    box-sizing: border-box;
  }
  .card h3, .editor-row h3 { margin: 0 0 4px; font-size: 16px; font-weight: 500; }
  .sub-title { color: var(--secondary-text-color); font-size: 13px; margin-bottom: 8px; }
  .chips { display: flex; flex-wrap: wrap; gap: 6px; margin: 8px 0; }
  .chip { font-size: 12px; padding: 3px 10px; border-radius: 12px; background: var(--secondary-background-color, rgba(127, 127, 127, 0.15)); display: inline-flex; align-items: center; gap: 4px; }
  .chip.ok { background: var(--success-color, #43a047); color: #fff; }
  .chip.bad { background: var(--error-color, #db4437); color: #fff; }
  .chip.warn { background: var(--warning-color, #ffa600); color: #000; }
  .chip.info { background: var(--info-color, #039be5); color: #fff; }
  .chip-remove { background: none; border: none; font: inherit; font-size: 16px; line-height: 1; cursor: pointer; color: inherit; padding: 0 2px; min-height: 24px; min-width: 24px; }
  .telemetry { display: grid; grid-template-columns: auto 1fr auto; gap: 2px 12px; align-items: center; font-size: 14px; margin: 8px 0 12px; }
  .telemetry fluxilab-sparkline { justify-self: end; max-width: 120px; height: 24px; }
  .telemetry .v { font-variant-numeric: tabular-nums; text-align: right; }
  .telemetry .v.outside { color: var(--error-color, #db4437); font-weight: 500; }
  .actions { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
  .certificate { margin-top: 8px; font-size: 13px; }
  .certificate code { display: block; word-break: break-all; font-size: 12px; }
  button.primary, button.secondary, button.danger {
    font: inherit; font-weight: 500; border-radius: 8px; min-height: 40px; padding: 0 16px; cursor: pointer;
    border: 1px solid var(--primary-color); background: var(--primary-color); color: var(--text-primary-color, #fff);
  }
  button.secondary { background: transparent; color: var(--primary-color); }
  button.danger { background: transparent; color: var(--error-color, #db4437); border-color: var(--error-color, #db4437); }
  button.danger.filled { background: var(--error-color, #db4437); color: #fff; }
  button:disabled { opacity: 0.5; cursor: default; }
  .message { padding: 12px; border-radius: 8px; margin-bottom: 12px; background: var(--secondary-background-color); }
  .message.error { background: var(--error-color, #db4437); color: #fff; }
  .message.success { background: var(--success-color, #43a047); color: #fff; }
  .muted { color: var(--secondary-text-color); }
  .offline-mark { display: inline-flex; vertical-align: middle; margin-inline-start: 4px; color: var(--secondary-text-color); cursor: help; }
  .offline-mark ha-icon { --mdc-icon-size: 16px; }
  .warning { color: var(--error-color, #db4437); font-weight: 500; }
  .booking.outage { color: var(--warning-color, #ff9800); }
  /* One column that shrinks with the screen: a long option never widens the form. */
  form, .form { display: grid; grid-template-columns: minmax(0, 1fr); gap: 10px; max-width: 560px; }
  form.inline, .inline { display: flex; flex-wrap: wrap; align-items: end; gap: 10px; max-width: none; }
  label, .field-label {
    display: grid; grid-template-columns: minmax(0, 1fr); gap: 4px; font-size: 13px;
    color: var(--secondary-text-color); max-width: 100%;
  }
  label.inline-label { display: inline-flex; align-items: center; gap: 6px; }
  input, select, textarea {
    font: inherit; font-size: 16px; min-height: 40px; padding: 6px 10px; box-sizing: border-box;
    border-radius: 6px; border: 1px solid var(--divider-color);
    background: var(--input-fill-color, var(--card-background-color)); color: var(--primary-text-color);
    max-width: 100%;
  }
  input[aria-invalid="true"], .picker.invalid input { border-color: var(--error-color, #db4437); }
  .field-error { color: var(--error-color, #db4437); font-size: 13px; }
  label.check { display: flex; align-items: center; gap: 8px; font-size: 15px; color: var(--primary-text-color); min-height: 40px; }
  input[type="checkbox"] { min-height: auto; width: 20px; height: 20px; }
  .table-wrap { overflow-x: auto; }
  table { width: 100%; border-collapse: collapse; font-size: 14px; }
  th, td { text-align: left; padding: 8px; border-bottom: 1px solid var(--divider-color); vertical-align: middle; }
  th { color: var(--secondary-text-color); font-weight: 500; }
  th button.sort { background: none; border: none; font: inherit; color: inherit; cursor: pointer; padding: 4px 0; min-height: 32px; }
  th[aria-sort="ascending"], th[aria-sort="descending"] { color: var(--primary-text-color); }
  tr.editor-row > td { background: var(--secondary-background-color, rgba(127, 127, 127, 0.08)); padding: 12px; }
  .table-toolbar { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin-bottom: 8px; }
  .table-toolbar .search { flex: 1 1 220px; }
  .table-toolbar .count { margin-left: auto; }
  .pager { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; justify-content: flex-end; margin: 8px 0; }
  .picker { position: relative; display: grid; gap: 4px; min-width: 220px; }
  .picker ul.options {
    position: absolute; top: 100%; left: 0; right: 0; z-index: 5; margin: 2px 0 0; padding: 4px 0; list-style: none;
    background: var(--card-background-color, #fff); border: 1px solid var(--divider-color); border-radius: 6px;
    box-shadow: 0 4px 12px rgba(0, 0, 0, 0.2); max-height: 320px; overflow-y: auto;
  }
  .picker li { padding: 10px 12px; cursor: pointer; min-height: 24px; }
  .picker li:hover { background: var(--secondary-background-color, rgba(127, 127, 127, 0.15)); }
  .picker .picked { margin: 0; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 6px 16px; margin: 0; }
  dt { color: var(--secondary-text-color); }
  dd { margin: 0; }
  .toast {
    position: fixed; left: 50%; bottom: calc(16px + env(safe-area-inset-bottom)); transform: translateX(-50%);
    z-index: 10; display: flex; gap: 12px; align-items: center; max-width: min(560px, calc(100vw - 32px));
    padding: 12px 16px; border-radius: 8px; box-shadow: 0 4px 16px rgba(0, 0, 0, 0.3);
    background: var(--success-color, #43a047); color: #fff; box-sizing: border-box;
  }
  .toast.error { background: var(--error-color, #db4437); }
  .toast button { background: none; border: none; color: inherit; font: inherit; font-weight: 500; cursor: pointer; min-height: 32px; }
  dialog.confirm {
    border: none; border-radius: var(--ha-dialog-border-radius, 24px); padding: 24px; max-width: min(480px, calc(100vw - 32px));
    background: var(--card-background-color, #fff); color: var(--primary-text-color);
    box-shadow: 0 8px 32px rgba(0, 0, 0, 0.4);
  }
  dialog.confirm::backdrop { background: rgba(0, 0, 0, 0.4); }
  dialog.confirm p { margin: 0 0 20px; line-height: 1.5; }
  dialog.confirm .actions { justify-content: flex-end; }
  /* A phone: rows become cards with their labels, nothing scrolls sideways. */
  .printable { position: fixed; inset: 0; z-index: 10; overflow: auto; padding: 16px; background: var(--primary-background-color, #fff); color: var(--primary-text-color, #000); }
  .printable h1 { font-size: 20px; margin: 12px 0 4px; }
  .printable table { border-collapse: collapse; width: 100%; }
  .printable td, .printable th { border: 1px solid currentColor; padding: 6px; text-align: left; }
  @media print {
    .printable, .printable * { visibility: visible !important; }
    .printable { position: absolute; background: #fff; color: #000; padding: 0; }
    .printable .no-print { display: none; }
  }
  .usage-chart td { vertical-align: bottom; text-align: center; font-size: 12px; min-width: 36px; }
  .usage-chart td:first-child { text-align: left; font-size: 14px; }
  .usage-chart .bar { width: 16px; margin: 0 auto 2px; border-radius: 3px 3px 0 0; background: var(--primary-color, #03a9f4); }
  @media (max-width: 700px) {
    main { padding: 12px 8px; }
    table.data-table thead, table.credentials tr:first-child { display: none; }
    table.data-table, table.data-table tbody, table.data-table tr, table.data-table td,
    table.credentials, table.credentials tbody, table.credentials tr, table.credentials td { display: block; width: 100%; box-sizing: border-box; }
    table.data-table tr, table.credentials tr { border: 1px solid var(--divider-color); border-radius: 8px; margin-bottom: 8px; padding: 4px 0; }
    table.data-table td, table.credentials td { border: none; padding: 4px 12px; }
    table.data-table td[data-label]:not([data-label=""])::before, table.credentials td[data-label]::before {
      content: attr(data-label); display: block; font-size: 12px; color: var(--secondary-text-color);
    }
    .table-toolbar .count { margin-left: 0; }
    .picker { min-width: 0; width: 100%; }
    form.inline > *, .inline > * { flex: 1 1 100%; }
  }
`;
