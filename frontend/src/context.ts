// What every view gets from the panel: the client, the strings, and the panel's
// ways to tell the user something (a toast) or ask them (a confirmation dialog).
import { LitElement } from "lit";
import { property } from "lit/decorators.js";
import type { FluxiLabClient } from "./client";
import type { Localizer, StringKey } from "./localize/localize";
import type { AdminState, LabView } from "./types";

export interface ConfirmOptions {
  text: string;
  action: string;
  danger?: boolean;
}

export interface PanelContext {
  client: FluxiLabClient;
  i18n: Localizer;
  lab: LabView | null;
  /** A success toast with one of the panel's strings. */
  done(key?: StringKey, params?: Record<string, string | number>): void;
  /** An error toast in the user's language (never the backend's raw text). */
  fail(err: unknown): void;
  confirm(options: ConfirmOptions): Promise<boolean>;
  /** Reload the admin data (after a change, and on every live update). */
  reloadAdmin(): Promise<void>;
  admin: AdminState | null;
  /** Go to a view: ``admin/members``, ``profile`` (kept in the address bar). */
  navigate(path: string): void;
}

/**
 * A view: a lit element rendered into the panel's shadow root (no shadow root of its
 * own), so the panel's one stylesheet styles every view and dialog.
 */
export class ViewElement extends LitElement {
  @property({ attribute: false }) ctx!: PanelContext;

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  protected t(key: StringKey, params?: Record<string, string | number>): string {
    return this.ctx.i18n.t(key, params);
  }
}

/** Run ``action`` with ``key`` marked busy on ``view``; errors become a toast. */
export async function busy<T>(
  view: { busyKeys: Set<string>; requestUpdate(): void; ctx: PanelContext },
  key: string,
  action: () => Promise<T>,
  { quiet = false }: { quiet?: boolean } = {},
): Promise<T | undefined> {
  view.busyKeys.add(key);
  view.requestUpdate();
  try {
    return await action();
  } catch (err) {
    if (!quiet) view.ctx.fail(err);
    if (quiet) throw err;
    return undefined;
  } finally {
    view.busyKeys.delete(key);
    view.requestUpdate();
  }
}

export function download(text: string, filename: string, type: string): void {
  const blob = new Blob([text], { type });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

export function memberName(admin: AdminState | null, id: string | null | undefined): string {
  if (!id) return "—";
  return admin?.members.find((m) => m.id === id)?.name ?? id;
}

export function deviceName(admin: AdminState | null, id: string | null | undefined): string {
  if (!id) return "—";
  return admin?.devices.find((d) => d.device_id === id)?.name ?? id;
}

/** A text field of a submitted form ("" when absent). */
export function text(data: FormData, name: string): string {
  const value = data.get(name);
  return typeof value === "string" ? value : "";
}
