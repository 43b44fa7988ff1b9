/**
 * FluxiLab on dashboards: the device card (custom:fluxilab-device-card, with its
 * visual editor) and the lab dashboard strategy (custom:fluxilab). The integration
 * loads this module on every Home Assistant page (frontend_resources.py), so both
 * are there without adding a resource by hand.
 */
import { CARD_TYPE, EDITOR_TYPE, FluxiLabDeviceCard } from "./cards/device-card";
import { FluxiLabDeviceCardEditor } from "./cards/device-card-editor";
import { FluxiLabDashboardStrategy, STRATEGY_TYPE } from "./cards/strategy";
import { defineOnce } from "./define";

interface CustomCardEntry {
  type: string;
  name: string;
  description: string;
  preview?: boolean;
  documentationURL?: string;
}

interface CustomStrategyEntry {
  type: string;
  strategyType: string;
  name: string;
  description: string;
}

declare global {
  interface Window {
    customCards?: CustomCardEntry[];
    customStrategies?: CustomStrategyEntry[];
  }
}

defineOnce(CARD_TYPE, FluxiLabDeviceCard);
defineOnce(EDITOR_TYPE, FluxiLabDeviceCardEditor);
defineOnce(`ll-strategy-dashboard-${STRATEGY_TYPE}`, FluxiLabDashboardStrategy);

window.customCards = window.customCards ?? [];
if (!window.customCards.some((c) => c.type === CARD_TYPE)) {
  window.customCards.push({
    type: CARD_TYPE,
    name: "FluxiLab device",
    description: "A lab device: status, who uses it, live telemetry with the last hour, maintenance, Open and Book.",
    preview: true,
    documentationURL: "https://github.com/fluxilab/fluxilab/blob/main/docs/DASHBOARD.md",
  });
}
window.customStrategies = window.customStrategies ?? [];
if (!window.customStrategies.some((s) => s.type === STRATEGY_TYPE)) {
  window.customStrategies.push({
    type: STRATEGY_TYPE,
    strategyType: "dashboard",
    name: "FluxiLab lab",
    description: "The lab's devices by area, a FluxiLab device card each.",
  });
}
