// An admin change reads as words in both languages: who, what, before → after, the
// door; personal fields say they changed without showing a value.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Localizer } from "../src/localize/localize.ts";
import { actor, changes, door, subject } from "../src/views/admin/audit-format.ts";

const RAW = /\b[a-z]+_[a-z_]+\b/;
const grant = {
  entry_id: 7,
  ts: 1,
  kind: "admin",
  target: "authorization",
  action: "created",
  label: "Laser",
  member_name: "Ada",
  changes: { expires: { before: null, after: "2030-01-01T00:00:00+00:00" }, granted_by: { masked: true } },
  door: "websocket",
  operation: "fluxilab/panel/admin/grant",
  actor_user_id: "u1",
  actor_name: "Grace",
  actor_member_id: null,
};
const role = {
  ...grant,
  target: "member",
  action: "updated",
  label: null,
  changes: { role: { before: "user", after: "admin" }, session_timeout: { before: 300, after: 900 } },
  door: "service",
};

for (const language of ["en", "it"]) {
  const i18n = new Localizer({ language });

  test(`${language}: an admin change names who, what, before → after and the door`, () => {
    assert.equal(actor(i18n, grant, () => undefined), "Grace");
    assert.equal(subject(i18n, grant), `${i18n.t("target_authorization")} ${i18n.t("action_created").toLocaleLowerCase(language)}: Laser`);
    const lines = changes(i18n, grant);
    assert.equal(lines.length, 2);
    assert.ok(lines[0].startsWith(`${i18n.t("field_expires")}: — → `));
    assert.equal(lines[1], `${i18n.t("field_granted_by")}: ${i18n.t("audit_masked")}`);
    assert.equal(door(i18n, grant), i18n.t("door_websocket"));
    assert.deepEqual(changes(i18n, role), [
      `${i18n.t("field_role")}: ${i18n.t("role_user")} → ${i18n.t("role_admin")}`,
      `${i18n.t("field_session_timeout")}: 300 → 900`,
    ]);
    for (const text of [subject(i18n, role), door(i18n, role), ...changes(i18n, role), ...lines]) {
      assert.doesNotMatch(text, RAW, text);
    }
  });

  test(`${language}: a change without a named caller says who it was`, () => {
    const member = { ...grant, actor_name: null, actor_member_id: "m1" };
    assert.equal(actor(i18n, member, (id) => (id === "m1" ? "Boss" : undefined)), "Boss");
    assert.equal(actor(i18n, { ...grant, actor_name: null, door: "system" }, () => undefined), i18n.t("audit_system"));
    assert.equal(actor(i18n, { ...grant, actor_name: null, door: "options_flow" }, () => undefined), i18n.t("audit_ha_admin"));
    assert.equal(actor(i18n, { ...grant, actor_name: null, anonymized: true }, () => undefined), i18n.t("audit_anonymized"));
    const pin = { ...grant, target: "credential", action: "updated", label: "pin", changes: { pin: { changed: true } } };
    assert.equal(changes(i18n, pin)[0], `${i18n.t("field_pin")}: ${i18n.t("audit_changed")}`);
    assert.doesNotMatch(subject(i18n, pin), RAW);
  });
}

for (const language of ["en", "it"]) {
  const i18n = new Localizer({ language });

  test(`${language}: outages and problem reports read as words in the device's history`, () => {
    const outage = {
      ...grant,
      target: "outage",
      action: "created",
      label: "Laser",
      changes: {
        start: { before: null, after: "2030-01-01T09:00:00+00:00" },
        note: { before: null, after: "New tube" },
        cancelled_bookings: { before: null, after: 2 },
      },
    };
    const report = {
      ...grant,
      target: "problem",
      action: "updated",
      changes: { resolved: { before: null, after: "2030-01-01T10:00:00+00:00" }, resolution: { before: null, after: "Fixed" } },
      door: "repair_flow",
    };
    const unsafe = { ...grant, target: "problem", changes: { unsafe: { before: null, after: true } }, door: "device" };
    for (const entry of [outage, report, unsafe]) {
      const text = [subject(i18n, entry), door(i18n, entry), ...changes(i18n, entry)].join("\n");
      assert.doesNotMatch(text, RAW, text);
      assert.doesNotMatch(text, /undefined|\[object/, text);
    }
    assert.ok(changes(i18n, outage).some((line) => line.includes("New tube")));
  });
}
