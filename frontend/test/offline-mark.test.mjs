// A record a device kept offline and sent later carries the clock mark, with its
// words as tooltip in either language; a live record carries none; every history
// view puts the mark beside its rows.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { Localizer } from "../src/localize/localize.ts";
import { OFFLINE_ICON, offlineWords } from "../src/offline.ts";

const repo = process.env.FLUXILAB_REPO;
const words = {
  en: "Recorded offline at the device, sent later",
  it: "Registrato offline sul dispositivo, inviato in seguito",
};

for (const [language, text] of Object.entries(words)) {
  test(`a buffered record's mark says so (${language})`, () => {
    assert.equal(offlineWords(new Localizer({ language }), { buffered: true }), text);
  });
}

test("a live record, or one without the field, has no mark", () => {
  const i18n = new Localizer({ language: "en" });
  for (const record of [{ buffered: false }, { buffered: null }, {}]) {
    assert.equal(offlineWords(i18n, record), null);
  }
});

test("the mark is Home Assistant's clock icon, beside the rows of every history view", () => {
  assert.equal(OFFLINE_ICON, "mdi:clock-outline");
  const mark = readFileSync(`${repo}/frontend/src/components/offline-mark.ts`, "utf8");
  assert.match(mark, /<ha-icon icon=\$\{OFFLINE_ICON\}>/);
  for (const view of [
    "views/admin/history-view.ts",
    "views/admin/audit-view.ts",
    "views/admin/maintenance-view.ts",
    "views/profile-view.ts",
  ]) {
    assert.match(readFileSync(`${repo}/frontend/src/${view}`, "utf8"), /offlineMark\(i18n, [a-z]\)/, view);
  }
});
