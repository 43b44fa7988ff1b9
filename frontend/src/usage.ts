// Usage hours per machine per week, from the sessions the usage history returns:
// each session counts in every week it overlaps, for the part inside that week.

export interface UsageSession {
  device_id: string;
  start: number | string;
  end?: number | string | null;
  duration?: number | null;
}

export interface WeeklyUsage {
  /** The Mondays (local midnight) the weeks start on, oldest first. */
  weeks: Date[];
  /** Hours per machine, one number per week; machines used most first. */
  rows: { device_id: string; hours: number[] }[];
}

const WEEK_MS = 7 * 24 * 3600 * 1000;

function millis(value: number | string | null | undefined): number | null {
  if (value === null || value === undefined || value === "") return null;
  // The hub sends seconds since the epoch or ISO text.
  const ms = typeof value === "number" ? value * 1000 : new Date(value).getTime();
  return Number.isFinite(ms) ? ms : null;
}

/** The local Monday 00:00 of the week ``when`` falls in. */
export function weekStart(when: Date): Date {
  const day = new Date(when.getFullYear(), when.getMonth(), when.getDate());
  day.setDate(day.getDate() - ((day.getDay() + 6) % 7));
  return day;
}

export function weeklyUsage(sessions: UsageSession[], weeks = 8, now = new Date()): WeeklyUsage {
  const first = weekStart(now);
  const starts: Date[] = [];
  for (let i = weeks - 1; i >= 0; i--) {
    const monday = new Date(first);
    monday.setDate(monday.getDate() - 7 * i);
    starts.push(monday);
  }
  const bounds = starts.map((monday, i) => [
    monday.getTime(),
    i + 1 < starts.length ? starts[i + 1].getTime() : monday.getTime() + WEEK_MS,
  ]);
  const byDevice = new Map<string, number[]>();
  for (const session of sessions) {
    const start = millis(session.start);
    if (start === null) continue;
    const end =
      millis(session.end) ??
      (typeof session.duration === "number" ? start + session.duration * 1000 : Math.max(start, now.getTime()));
    const hours = byDevice.get(session.device_id) ?? new Array<number>(weeks).fill(0);
    bounds.forEach(([from, to], i) => {
      const overlap = Math.min(end, to) - Math.max(start, from);
      if (overlap > 0) hours[i] += overlap / 3_600_000;
    });
    byDevice.set(session.device_id, hours);
  }
  const rows = [...byDevice.entries()]
    .map(([device_id, hours]) => ({ device_id, hours }))
    .filter((row) => row.hours.some((h) => h > 0))
    .sort((a, b) => b.hours.reduce((x, y) => x + y, 0) - a.hours.reduce((x, y) => x + y, 0));
  return { weeks: starts, rows };
}

/**
 * Which devices are in use, and by whom, as one text: it changes exactly when a
 * session starts or ends somewhere in the lab, so the usage history (and the audit
 * log) re-fetch then, not on every live telemetry update.
 */
export function sessionsKey(
  lab: { areas: { devices: { device_id: string; in_use: boolean; member_name: string | null }[] }[] } | null,
): string {
  if (!lab) return "";
  return lab.areas
    .flatMap((area) => area.devices)
    .filter((d) => d.in_use)
    .map((d) => `${d.device_id}\u0000${d.member_name ?? ""}`)
    .sort()
    .join("\u0001");
}
