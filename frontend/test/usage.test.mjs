// Usage hours per machine per week (the admin's plot): a session counts in each week
// it overlaps, by the part inside it; an open session runs until now.
import assert from "node:assert/strict";
import { test } from "node:test";
import { weeklyUsage, weekStart } from "../src/usage.ts";

const at = (text) => new Date(text).getTime() / 1000;

test("weeks start on Monday and the current week is last", () => {
  const now = new Date(2026, 11, 2, 9); // Wednesday 2 December 2026
  const { weeks } = weeklyUsage([], 3, now);
  assert.deepEqual(
    weeks.map((w) => [w.getMonth(), w.getDate(), w.getDay()]),
    [
      [10, 16, 1],
      [10, 23, 1],
      [10, 30, 1],
    ],
  );
  assert.equal(weekStart(new Date(2026, 10, 30, 0, 0)).getDate(), 30);
});

test("a session across Sunday midnight is split between the two weeks", () => {
  const now = new Date(2026, 11, 2, 9);
  const start = new Date(2026, 10, 29, 22).getTime() / 1000; // Sunday 22:00
  const end = new Date(2026, 10, 30, 1).getTime() / 1000; // Monday 01:00
  const { rows } = weeklyUsage([{ device_id: "laser", start, end }], 2, now);
  assert.deepEqual(rows, [{ device_id: "laser", hours: [2, 1] }]);
});

test("ISO text, durations and open sessions; machines used most come first", () => {
  const now = new Date(2026, 11, 2, 12);
  const monday = new Date(2026, 10, 30, 8);
  const rows = weeklyUsage(
    [
      { device_id: "hood", start: monday.toISOString(), end: new Date(2026, 10, 30, 9, 30).toISOString() },
      { device_id: "laser", start: at(new Date(2026, 11, 1, 10)), duration: 3 * 3600 },
      { device_id: "laser", start: at(new Date(2026, 11, 2, 10)), end: null },
      { device_id: "old", start: at(new Date(2025, 0, 1)), duration: 3600 },
      { device_id: "bad", start: "not a date" },
    ],
    1,
    now,
  ).rows;
  assert.deepEqual(rows, [
    { device_id: "laser", hours: [5] },
    { device_id: "hood", hours: [1.5] },
  ]);
});
