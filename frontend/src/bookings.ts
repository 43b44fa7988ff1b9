// The week view's arithmetic (no lit, no DOM: unit-tested in test/bookings.test.mjs).
import type { Booking, LabView } from "./types";

export const DAY_MS = 86_400_000;

/** Monday 00:00 (local) of the week ``offset`` weeks from this one. */
export function weekStart(now: Date, offset: number): Date {
  const start = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const fromMonday = (start.getDay() + 6) % 7;
  start.setDate(start.getDate() - fromMonday + 7 * offset);
  return start;
}

/** The seven days of a week, each with the bookings that start on it. */
export function byDay(start: Date, bookings: Booking[]): { day: Date; bookings: Booking[] }[] {
  return Array.from({ length: 7 }, (_, i) => {
    const day = new Date(start.getFullYear(), start.getMonth(), start.getDate() + i);
    const next = new Date(start.getFullYear(), start.getMonth(), start.getDate() + i + 1);
    return {
      day,
      bookings: bookings.filter((b) => {
        const at = new Date(b.start);
        return at >= day && at < next;
      }),
    };
  });
}

/** True if the caller schedules outages and resolves problem reports (lab staff). */
export function isStaff(lab: LabView | null | undefined): boolean {
  if (!lab) return false;
  return lab.manager || lab.user.is_admin || Boolean(lab.staff);
}
