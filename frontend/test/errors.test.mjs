// Issue 18: every reason code and error code that can reach the panel, found in the
// sources that send them (not a list kept by hand), reads as words of its own in
// English and in Italian. The reasons come from the hub's decisions (protocol/access.py
// Reason), the agent's offline decisions (fluxilab_agent/mirror.py), which the hub
// audits as the device sent them, and every audit entry's "reason" the hub writes;
// the error codes from Home Assistant's websocket and our send_error calls.
// (tests/integration/test_panel_error_texts.py checks the exceptions' translations.)
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { Localizer } from "../src/localize/localize.ts";

const repo = process.env.FLUXILAB_REPO;
const read = (path) => readFileSync(`${repo}/${path}`, "utf8");
const RAW = /\b[a-z]+_[a-z_]+\b|length of value|at '|Got \[|expected /;

function pythonFiles(dir) {
  return readdirSync(`${repo}/${dir}`).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(`${repo}/${path}`).isDirectory()) return pythonFiles(path);
    return name.endsWith(".py") ? [path] : [];
  });
}

/** The values of a Python StrEnum class in ``source`` (NAME -> "value"). */
function strEnum(source, name) {
  const block = source.split(`class ${name}(StrEnum):`)[1].split("\nclass ")[0];
  return Object.fromEntries([...block.matchAll(/^ {4}([A-Z_]+) = "([a-z_]+)"/gm)].map((m) => [m[1], m[2]]));
}

const constants = read("custom_components/fluxilab/access/const.py");
// The decision's reasons are the wire protocol's (protocol/access.py).
const protocol = read("custom_components/fluxilab/protocol/access.py");
const enums = { Reason: strEnum(protocol, "Reason"), AccessEventType: strEnum(constants, "AccessEventType") };

/** Every reason code, with where it comes from. */
function reasons() {
  const found = new Map();
  const add = (code, where) => found.set(code, [...(found.get(code) ?? []), where]);
  for (const code of Object.values(enums.Reason)) add(code, "protocol/access.py Reason");
  // The agent's offline decisions: offline_decision() returns its reason.
  const mirror = read("fluxilab_agent/mirror.py").split("def offline_decision(")[1].split("\ndef ")[0];
  for (const m of mirror.matchAll(/return "([a-z_]+)"/g)) add(m[1], "fluxilab_agent/mirror.py");
  // What the agent's access records say themselves ("reason": "blocked", ...).
  for (const m of read("fluxilab_agent/access.py").matchAll(/"reason": "([a-z_]+)"/g)) add(m[1], "fluxilab_agent/access.py");
  // Every "reason" the hub writes into an audit entry or a reply.
  for (const path of pythonFiles("custom_components/fluxilab")) {
    const source = read(path);
    for (const m of source.matchAll(/"reason": (?:"([a-z_]+)"|(Reason|AccessEventType)\.([A-Z_]+)\.value)/g)) {
      const code = m[1] ?? enums[m[2]][m[3]];
      assert.ok(code, `${path}: ${m[0]}`);
      add(code, path);
    }
  }
  return found;
}

/** Websocket error codes: Home Assistant's for what our commands raise, and ours. */
function errorCodes() {
  const codes = new Set(["unauthorized", "invalid_format", "unknown_command", "timeout"]);
  const names = { ERR_NOT_FOUND: "not_found", ERR_UNAUTHORIZED: "unauthorized", ERR_INVALID_FORMAT: "invalid_format" };
  for (const path of pythonFiles("custom_components/fluxilab")) {
    for (const m of read(path).matchAll(/send_error\(\s*[^,]+,\s*(?:websocket_api\.)?(ERR_[A-Z_]+|"[a-z_]+")/g)) {
      const code = m[1].startsWith('"') ? m[1].slice(1, -1) : names[m[1]];
      assert.ok(code, `${path}: ${m[1]} is not a code this test knows`);
      codes.add(code);
    }
  }
  return codes;
}

test("the walk finds the reasons of every source", () => {
  const found = reasons();
  for (const code of ["not_authorized", "mirror_stale", "offline_denied", "authorization_granted", "session_ended"]) {
    assert.ok(found.has(code), code);
  }
  assert.ok(errorCodes().has("not_found"));
});

for (const language of ["en", "it"]) {
  const i18n = new Localizer({ language });

  test(`${language}: every reason code has words of its own`, () => {
    for (const [code, where] of reasons()) {
      const text = i18n.reason(code);
      assert.notEqual(text, i18n.t("reason_other"), `${code} (${where.join(", ")}) has no words`);
      assert.doesNotMatch(text, RAW, code);
    }
  });

  test(`${language}: every websocket error code has words of its own`, () => {
    for (const code of errorCodes()) {
      const text = i18n.error({ code, message: `raw ${code} at 'member_ids'` });
      assert.notEqual(text, i18n.t("error_failed"), `${code} has no words of its own`);
      assert.doesNotMatch(text, RAW, code);
      assert.ok(!text.includes("raw"), code);
    }
  });

  test(`${language}: a maintenance condition reads as words, not as its rule`, () => {
    const hours = i18n.condition({ kind: "channel_hours", value: 0.0004, target: 0.001 }, "Fan");
    assert.ok(hours.startsWith("Fan "), hours);
    assert.match(hours, /0[.,]0004/);
    assert.match(hours, /0[.,]001/);
    const days = i18n.condition({ kind: "below_baseline", value: 2, target: 7 }, "Airflow");
    assert.match(days, /^Airflow .*2.*7/);
    for (const text of [hours, days]) assert.doesNotMatch(text, RAW);
  });

  test(`${language}: the Link broken chip has words`, () => {
    assert.doesNotMatch(i18n.t("link_broken"), RAW);
    assert.notEqual(i18n.t("link_broken"), "link_broken");
    assert.doesNotMatch(i18n.t("link_broken_hint"), RAW);
  });
}
