// An expiry is a date: the end of the day chosen in the lab's time zone, stored in UTC,
// shows as that day wherever the browser is, never as "7/1/27, 6:59 AM" or the day before.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Localizer } from "../src/localize/localize.ts";

// A browser far from the lab: Tokyo is seven hours ahead of Rome in June.
process.env.TZ = "Asia/Tokyo";

const ROME_END_OF_JUNE_30 = "2027-06-30T21:59:59+00:00";

test("an expiry stored in UTC is the chosen day in the lab's zone", () => {
  const en = new Localizer({ language: "en", config: { time_zone: "Europe/Rome" } });
  assert.equal(en.day(ROME_END_OF_JUNE_30), "Jun 30, 2027");
  const it = new Localizer({ language: "it", config: { time_zone: "Europe/Rome" } });
  assert.equal(it.day(ROME_END_OF_JUNE_30), "30 giu 2027");
});

test("a bare date is that date, in any browser zone", () => {
  for (const zone of ["America/Los_Angeles", "Asia/Tokyo", "UTC"]) {
    process.env.TZ = zone;
    const en = new Localizer({ language: "en", config: { time_zone: "Europe/Rome" } });
    assert.equal(en.day("2027-06-30"), "Jun 30, 2027", zone);
  }
  process.env.TZ = "Asia/Tokyo";
});

test("moments follow the profile's time zone: the browser's, or the lab's for 'server'", () => {
  const local = new Localizer({ language: "en", locale: { language: "en", time_zone: "local" }, config: { time_zone: "Europe/Rome" } });
  assert.match(local.when(ROME_END_OF_JUNE_30), /^7\/1\/27, 6:59\sAM$/);
  const server = new Localizer({ language: "en", locale: { language: "en", time_zone: "server" }, config: { time_zone: "Europe/Rome" } });
  assert.match(server.when(ROME_END_OF_JUNE_30), /^6\/30\/27, 11:59\sPM$/);
});

test("an unknown lab zone falls back to the browser's instead of failing", () => {
  const odd = new Localizer({ language: "en", config: { time_zone: "Not/AZone" } });
  assert.equal(odd.day(ROME_END_OF_JUNE_30), "Jul 1, 2027");
});

test("a day of the browser's calendar (the bookings' week) stays the browser's day", () => {
  const en = new Localizer({ language: "en", config: { time_zone: "Europe/Rome" } });
  // Monday midnight in Tokyo is still Sunday in Rome: the week's row is Monday.
  assert.equal(en.day(new Date(2027, 5, 28)), "Jun 28, 2027");
});
