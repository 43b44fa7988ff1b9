// The last hour of a telemetry channel, for the sparklines: loaded once from Home
// Assistant's recorder (history/history_during_period) and extended with the live
// values the panel's subscription brings, so nothing is polled.
import type { FluxiLabClient } from "./client";

/** A point of a series: seconds since the epoch and the value. */
export type Point = [number, number];

/** How far back a sparkline looks. */
export const SERIES_SECONDS = 3600;

/** One entity's states as history/history_during_period answers (compressed). */
export interface CompressedState {
  s: string;
  lu?: number;
  lc?: number;
}

/** The numeric points of a recorded history, oldest first (unknown/unavailable dropped). */
export function pointsOf(states: CompressedState[] | undefined): Point[] {
  const points: Point[] = [];
  for (const state of states ?? []) {
    const value = Number(state.s);
    const when = state.lu ?? state.lc;
    if (state.s === "" || !Number.isFinite(value) || typeof when !== "number") continue;
    points.push([when, value]);
  }
  return points;
}

/** The series of many entities, each cut to the last hour as it grows. */
export class SeriesStore {
  private readonly series = new Map<string, Point[]>();
  private readonly loading = new Set<string>();
  /** Entities whose recorded hour was asked for (live points may come before it). */
  private readonly loaded = new Set<string>();

  constructor(private readonly changed: () => void) {}

  get(entityId: string | null | undefined): Point[] {
    return (entityId && this.series.get(entityId)) || [];
  }

  /** Load the recorded hour of the entities not loaded yet (one call for them all). */
  async load(client: FluxiLabClient, entityIds: (string | null | undefined)[], now = Date.now() / 1000): Promise<void> {
    const missing = [...new Set(entityIds)].filter(
      (id): id is string => Boolean(id) && !this.loaded.has(id as string) && !this.loading.has(id as string),
    );
    if (!missing.length) return;
    missing.forEach((id) => this.loading.add(id));
    try {
      const recorded = await client.recorded(missing, new Date((now - SERIES_SECONDS) * 1000));
      for (const id of missing) {
        // Live points that arrived while the history loaded come after it.
        const live = this.series.get(id) ?? [];
        const past = pointsOf(recorded[id]);
        const last = past.length ? past[past.length - 1][0] : -Infinity;
        this.series.set(id, [...past, ...live.filter(([t]) => t > last)]);
      }
    } catch {
      // No recorder (or no permission): the sparkline starts from the live values.
      for (const id of missing) if (!this.series.has(id)) this.series.set(id, []);
    } finally {
      missing.forEach((id) => this.loaded.add(id));
      missing.forEach((id) => this.loading.delete(id));
      this.changed();
    }
  }

  /** Add a live value (a number; anything else leaves the series as it is). */
  push(entityId: string | null | undefined, value: unknown, now = Date.now() / 1000): void {
    if (!entityId || typeof value !== "number" || !Number.isFinite(value)) return;
    const points = this.series.get(entityId) ?? [];
    const last = points[points.length - 1];
    if (last && last[1] === value && now - last[0] < 60) return;
    points.push([now, value]);
    while (points.length > 1 && points[0][0] < now - SERIES_SECONDS) points.shift();
    this.series.set(entityId, points);
  }
}

/** The SVG path of ``points`` in a ``width`` × ``height`` box over the last hour. */
export function sparkPath(points: Point[], width: number, height: number, now = Date.now() / 1000): string {
  if (!points.length) return "";
  const start = now - SERIES_SECONDS;
  const values = points.map(([, v]) => v);
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min || 1;
  const x = (t: number) => ((Math.max(t, start) - start) / SERIES_SECONDS) * width;
  const y = (v: number) => (max === min ? height / 2 : height - 1 - ((v - min) / span) * (height - 2));
  // A step line: a value holds until the next one, and the last holds until now.
  let path = `M${x(points[0][0]).toFixed(1)},${y(points[0][1]).toFixed(1)}`;
  for (let i = 1; i < points.length; i++) {
    path += `H${x(points[i][0]).toFixed(1)}V${y(points[i][1]).toFixed(1)}`;
  }
  return `${path}H${width}`;
}
