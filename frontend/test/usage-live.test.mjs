// The usage history and the audit log are live: they re-fetch when a session starts
// or ends, and only then (live telemetry updates the lab every moment).
import assert from "node:assert/strict";
import { test } from "node:test";
import { sessionsKey } from "../src/usage.ts";

const lab = (devices) => ({ areas: [{ area: null, devices }] });
const device = (id, in_use, member_name = null, value = 0) => ({
  device_id: id,
  in_use,
  member_name,
  telemetry: [{ key: "t", value }],
});

test("a session starting or ending changes the key", () => {
  const idle = sessionsKey(lab([device("a", false), device("b", false)]));
  const started = sessionsKey(lab([device("a", true, "Ada"), device("b", false)]));
  const next = sessionsKey(lab([device("a", true, "Bob"), device("b", false)]));
  assert.notEqual(idle, started);
  assert.notEqual(started, next); // Ada's session ended and Bob's began between two updates
  assert.equal(sessionsKey(lab([device("a", false), device("b", false)])), idle);
});

test("live telemetry and the order of the devices do not change it", () => {
  const one = sessionsKey(lab([device("a", true, "Ada", 1), device("b", true, null, 1)]));
  const other = sessionsKey({ areas: [{ devices: [device("b", true, null, 7)] }, { devices: [device("a", true, "Ada", 9)] }] });
  assert.equal(one, other);
  assert.equal(sessionsKey(null), "");
});
