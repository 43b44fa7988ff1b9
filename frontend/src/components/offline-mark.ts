// The mark beside a record a device kept while the hub was unreachable and sent later:
// a clock icon whose tooltip says so. Usage history, the audit, a device's
// maintenance log and the profile's sessions show it.
import { html, nothing } from "lit";
import type { TemplateResult } from "lit";
import type { Localizer } from "../localize/localize";
import { OFFLINE_ICON, offlineWords } from "../offline";

/** The clock mark of a buffered record; nothing for a live one. */
export function offlineMark(
  i18n: Localizer,
  record: { buffered?: boolean | null },
): TemplateResult | typeof nothing {
  const words = offlineWords(i18n, record);
  if (words === null) return nothing;
  return html`<span class="offline-mark" data-buffered title=${words} role="img" aria-label=${words}
    ><ha-icon icon=${OFFLINE_ICON}></ha-icon
  ></span>`;
}
