// custom:fluxilab: a dashboard strategy. A lab dashboard built from the devices the
// user may see: one section per area, a device card for each device in it.
//
//   strategy:
//     type: custom:fluxilab
import { FluxiLabClient } from "../client";
import { Localizer } from "../localize/localize";
import type { HomeAssistant, LabView } from "../types";
import { CARD_TYPE } from "./device-card";

export const STRATEGY_TYPE = "fluxilab";

/** The dashboard of ``lab``: what generate() returns, kept pure for the tests. */
export function labDashboard(lab: LabView, i18n: Localizer): Record<string, unknown> {
  const areas = [...lab.areas].sort((a, b) =>
    (a.area ?? "\uffff").localeCompare(b.area ?? "\uffff", i18n.language, { numeric: true }),
  );
  const sections = areas.map((area) => ({
    type: "grid",
    cards: [
      { type: "heading", heading: area.area ?? i18n.t("no_area"), heading_style: "title" },
      ...area.devices.map((d) => ({ type: `custom:${CARD_TYPE}`, device: d.device_id })),
    ],
  }));
  return {
    title: "FluxiLab",
    views: [
      {
        title: i18n.t("lab"),
        path: "lab",
        icon: "mdi:flask",
        type: "sections",
        max_columns: 4,
        sections: sections.length
          ? sections
          : [{ type: "grid", cards: [{ type: "markdown", content: i18n.t("no_devices") }] }],
      },
    ],
  };
}

export class FluxiLabDashboardStrategy extends HTMLElement {
  static async generate(_config: Record<string, unknown>, hass: HomeAssistant): Promise<Record<string, unknown>> {
    const i18n = new Localizer(hass);
    try {
      return labDashboard(await new FluxiLabClient(() => hass).lab(), i18n);
    } catch (err) {
      return {
        title: "FluxiLab",
        views: [{ title: "FluxiLab", cards: [{ type: "markdown", content: i18n.error(err) }] }],
      };
    }
  }
}
