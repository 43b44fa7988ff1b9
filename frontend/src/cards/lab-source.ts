// One live subscription to the lab per Home Assistant connection, shared by every
// FluxiLab card on the page (a dashboard of 30 cards opens one, not 30).
import { FluxiLabClient } from "../client";
import type { HassConnection, HomeAssistant, LabView } from "../types";

type Listener = (lab: LabView | null, error?: unknown) => void;

interface Source {
  listeners: Set<Listener>;
  lab: LabView | null;
  error?: unknown;
  unsubscribe: Promise<() => Promise<void>> | null;
}

const SOURCES = new WeakMap<HassConnection, Source>();

/** Follow the lab; the returned function stops (the last card out ends the subscription). */
export function followLab(hass: HomeAssistant, listener: Listener): () => void {
  let source = SOURCES.get(hass.connection);
  if (!source) {
    const created: Source = { listeners: new Set(), lab: null, unsubscribe: null };
    SOURCES.set(hass.connection, created);
    created.unsubscribe = new FluxiLabClient(() => hass).subscribeLab((lab) => {
      created.lab = lab;
      created.listeners.forEach((l) => l(lab));
    });
    created.unsubscribe.catch((err: unknown) => {
      created.error = err;
      created.listeners.forEach((l) => l(null, err));
      SOURCES.delete(hass.connection);
    });
    source = created;
  }
  const current = source;
  current.listeners.add(listener);
  if (current.lab || current.error) listener(current.lab, current.error);
  return () => {
    current.listeners.delete(listener);
    if (current.listeners.size || SOURCES.get(hass.connection) !== current) return;
    SOURCES.delete(hass.connection);
    void current.unsubscribe?.then((stop) => stop()).catch(() => undefined);
  };
}

/** Go to a Home Assistant page the way its own links do (no reload). */
export function navigate(path: string): void {
  history.pushState(null, "", path);
  window.dispatchEvent(new CustomEvent("location-changed", { detail: { replace: false } }));
}
