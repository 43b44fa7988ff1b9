// The bookings week view: weeks start on Monday (local), a booking lands on the day
// it starts.
import assert from "node:assert/strict";
import { test } from "node:test";
import { byDay, isStaff, weekStart } from "../src/bookings.ts";

const booking = (id, start, end) => ({
  id,
  device_id: "laser",
  start: start.toISOString(),
  end: end.toISOString(),
  released: false,
  no_show: false,
  member_id: null,
  member_name: null,
});

test("a week starts on Monday at midnight, any day of it", () => {
  const wednesday = new Date(2026, 11, 2, 15, 30);
  assert.deepEqual(weekStart(wednesday, 0), new Date(2026, 10, 30));
  assert.deepEqual(weekStart(new Date(2026, 10, 30, 0, 1), 0), new Date(2026, 10, 30));
  const sunday = new Date(2026, 11, 6, 23, 59);
  assert.deepEqual(weekStart(sunday, 0), new Date(2026, 10, 30));
  assert.deepEqual(weekStart(wednesday, 1), new Date(2026, 11, 7));
  assert.deepEqual(weekStart(wednesday, -1), new Date(2026, 10, 23));
});

test("bookings fall on the day they start", () => {
  const monday = new Date(2026, 10, 30);
  const late = booking("late", new Date(2026, 11, 1, 23, 0), new Date(2026, 11, 2, 1, 0));
  const early = booking("early", new Date(2026, 11, 2, 0, 0), new Date(2026, 11, 2, 1, 0));
  const nextWeek = booking("next", new Date(2026, 11, 7, 9, 0), new Date(2026, 11, 7, 10, 0));
  const days = byDay(monday, [late, early, nextWeek]);
  assert.equal(days.length, 7);
  assert.deepEqual(
    days.map((d) => d.bookings.map((b) => b.id)),
    [[], ["late"], ["early"], [], [], [], []],
  );
  assert.deepEqual(days[6].day, new Date(2026, 11, 6));
});

test("staff schedule outages and resolve reports; members do not", () => {
  // The hub says who has staff's permissions (a built-in or lab role's level).
  const lab = (role, extra = {}) => ({
    user: { name: "x", is_admin: false },
    member: role ? { id: "m", name: "M", role } : null,
    manager: false,
    staff: role === "staff" || role === "technician",
    areas: [],
    ...extra,
  });
  assert.equal(isStaff(lab("user")), false);
  assert.equal(isStaff(lab(null)), false);
  assert.equal(isStaff(null), false);
  assert.equal(isStaff(lab("staff")), true);
  assert.equal(isStaff(lab("technician")), true);
  // A role named staff the hub does not give staff's permissions is not staff.
  assert.equal(isStaff(lab("staff", { staff: false })), false);
  assert.equal(isStaff(lab("admin", { manager: true })), true);
  assert.equal(isStaff(lab(null, { manager: true })), true);
  assert.equal(isStaff(lab(null, { user: { name: "x", is_admin: true } })), true);
});

test("an outage lands on the day it starts, beside the bookings", () => {
  const monday = new Date(2026, 10, 30);
  const down = {
    ...booking("down", new Date(2026, 11, 1, 9, 0), new Date(2026, 11, 3, 9, 0)),
    kind: "outage",
    note: "Filter",
  };
  const days = byDay(monday, [down]);
  assert.deepEqual(
    days.map((d) => d.bookings.map((b) => b.id)),
    [[], ["down"], [], [], [], [], []],
  );
});
