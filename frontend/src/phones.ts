// A member's phones, as the profile's notification picker names them.
import type { NotifyOwn } from "./types";

/**
 * The phone behind a notify service as its owner named it in the Home Assistant app
 * ("Ada's Phone"); a service the hub names no phone for (a target an admin set, an
 * older hub) reads as its slug's words (``notify.mobile_app_ada_s_phone`` → "ada s phone").
 */
export function phoneName(notify: Pick<NotifyOwn, "phone_names">, service: string): string {
  return notify.phone_names?.[service] ?? service.replace(/^notify\.mobile_app_/, "").replace(/_/g, " ");
}
