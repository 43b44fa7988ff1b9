// The mark beside a record a device kept while the hub was unreachable and sent later
// (``buffered`` in the history): a clock icon whose tooltip says so. Usage history,
// the audit, a device's maintenance log and the profile's sessions show it.
import { html, nothing } from "lit";
import type { TemplateResult } from "lit";
import type { Localizer } from "../localize/localize";

/** The icon Home Assistant draws (its ha-icon), with the words as tooltip and label. */
export const OFFLINE_ICON = "mdi:clock-outline";

/** The clock mark of a buffered record; nothing for a live one. */
export function offlineMark(
  i18n: Localizer,
  record: { buffered?: boolean | null },
): TemplateResult | typeof nothing {
  if (!record.buffered) return nothing;
  const words = i18n.t("recorded_offline");
  return html`<span class="offline-mark" data-buffered title=${words} role="img" aria-label=${words}
    ><ha-icon icon=${OFFLINE_ICON}></ha-icon
  ></span>`;
}
