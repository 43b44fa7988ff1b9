// A channel's safety limit beside its value: the words, and outside or not.
import assert from "node:assert/strict";
import { test } from "node:test";
import { limitOf, limitText, outside } from "../src/limits.ts";
import { Localizer } from "../src/localize/localize.ts";

const limits = [
  { channel: "face_velocity", min: 0.4 },
  { channel: "temperature", min: 10, max: 30 },
];

test("the limit of a channel, none for another", () => {
  assert.deepEqual(limitOf(limits, "face_velocity"), limits[0]);
  assert.equal(limitOf(limits, "sash_height"), undefined);
  assert.equal(limitOf(undefined, "face_velocity"), undefined);
});

test("outside: below a minimum or above a maximum, never without a number", () => {
  assert.equal(outside(limits[0], 0.39), true);
  assert.equal(outside(limits[0], 0.4), false);
  assert.equal(outside(limits[1], 31), true);
  assert.equal(outside(limits[1], 20), false);
  assert.equal(outside(limits[0], null), false);
  assert.equal(outside(undefined, 0), false);
});

test("the words, in the user's number format", () => {
  assert.equal(limitText(new Localizer({ language: "en" }), limits[0]), "(≥ 0.4)");
  assert.equal(limitText(new Localizer({ language: "it" }), limits[0]), "(≥ 0,4)");
  assert.equal(limitText(new Localizer({ language: "en" }), limits[1]), "(≥ 10 ≤ 30)");
});
