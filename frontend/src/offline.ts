// Records a device kept while the hub was unreachable and sent later (``buffered`` in
// the history). Pure (no lit), so the unit tests read it as the views do.
import type { Localizer } from "./localize/localize";

/** The icon Home Assistant draws beside such a record (its ha-icon). */
export const OFFLINE_ICON = "mdi:clock-outline";

/** The words of the mark (its tooltip and label); null for a live record. */
export function offlineWords(i18n: Localizer, record: { buffered?: boolean | null }): string | null {
  return record.buffered ? i18n.t("recorded_offline") : null;
}
