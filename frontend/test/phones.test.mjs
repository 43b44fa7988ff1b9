// The profile's notification picker names a member's phones as they named them.
import assert from "node:assert/strict";
import { test } from "node:test";
import { phoneName } from "../src/phones.ts";

test("a phone reads as its name in the Home Assistant app", () => {
  const notify = { phone_names: { "notify.mobile_app_ada_s_phone": "Ada's Phone" } };
  assert.equal(phoneName(notify, "notify.mobile_app_ada_s_phone"), "Ada's Phone");
});

test("a target with no phone name reads as words, not as a service id", () => {
  assert.equal(phoneName({ phone_names: {} }, "notify.mobile_app_lab_tablet"), "lab tablet");
  assert.equal(phoneName({}, "notify.mobile_app_lab_tablet"), "lab tablet");
});
