// No raw validation text, exception key or reason code reaches the user, in either
// language: every exception the integration can raise, every decision reason and
// every audit kind reads as words, and the panel's strings exist in both languages.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { Localizer, PanelError } from "../src/localize/localize.ts";
import en from "../src/localize/languages/en.json";
import it from "../src/localize/languages/it.json";

// The repository, from scripts/unit.mjs (this file runs bundled, from a temporary folder).
const repo = process.env.FLUXILAB_REPO;
const integration = (path) => readFileSync(`${repo}/custom_components/fluxilab/${path}`, "utf8");
const translations = {
  en: JSON.parse(integration("translations/en.json")).exceptions,
  it: JSON.parse(integration("translations/it.json")).exceptions,
};
const reasonBlock = integration("protocol/access.py").split("class Reason(StrEnum):")[1].split("\nclass ")[0];
const reasonCodes = [...reasonBlock.matchAll(/= "([a-z_]+)"/g)].map((m) => m[1]);

/** What Home Assistant's frontend localize gives for the integration's exceptions. */
function frontendLocalize(language) {
  return (key, values = {}) => {
    const match = /^component\.fluxilab\.exceptions\.([a-z_]+)\.message$/.exec(key);
    let text = match ? translations[language][match[1]]?.message ?? "" : "";
    for (const [name, value] of Object.entries(values)) text = text.split(`{${name}}`).join(value);
    return text;
  };
}

const hass = (language) => ({ language });
const RAW = /\b[a-z]+_[a-z_]+\b|length of value|at '|Got \[|expected /;

test("both languages have the same strings", () => {
  assert.deepEqual(Object.keys(it).sort(), Object.keys(en).sort());
});

for (const language of ["en", "it"]) {
  const loaded = new Localizer(hass(language), frontendLocalize(language));
  const offline = new Localizer(hass(language));

  test(`${language}: every exception of the integration reads as its translation`, () => {
    const keys = Object.keys(translations[language]);
    assert.ok(keys.length > 30);
    for (const key of keys) {
      const err = {
        code: "home_assistant_error",
        message: `raw ${key}`,
        translation_domain: "fluxilab",
        translation_key: key,
        translation_placeholders: {},
      };
      assert.equal(loaded.error(err), translations[language][key].message, key);
      // Without the frontend's translations: the panel's own words, never the key.
      const text = offline.error(err);
      assert.ok(!text.includes(key) && !text.includes("raw"), `${key}: ${text}`);
      assert.ok(text.length > 10, key);
    }
  });

  test(`${language}: a validation error names no field and shows no raw text`, () => {
    const err = { code: "invalid_format", message: "length of value must be at least 1 at 'member_ids'. Got []" };
    for (const localizer of [loaded, offline]) {
      const text = localizer.error(err);
      assert.equal(text, localizer.t("error_invalid"));
      assert.doesNotMatch(text, RAW);
    }
    assert.equal(Localizer.errorField(err), "member_ids");
  });

  test(`${language}: websocket error codes read as words`, () => {
    for (const code of ["unauthorized", "not_found", "unknown_command", "home_assistant_error", "unknown_error", undefined]) {
      const text = offline.error({ code, message: `raw ${code}` });
      assert.doesNotMatch(text, RAW, String(code));
      assert.ok(!text.includes("raw"), String(code));
    }
    assert.equal(offline.error(new PanelError("open_refused")), offline.t("open_refused"));
  });

  test(`${language}: every decision reason and audit kind reads as words`, () => {
    assert.ok(reasonCodes.includes("not_authorized"));
    for (const code of reasonCodes) {
      const text = offline.reason(code);
      assert.notEqual(text, offline.t("reason_other"), `${code} has no words of its own`);
      assert.doesNotMatch(text, RAW, code);
    }
    assert.equal(offline.reason("something_new"), offline.t("reason_other"));
    for (const kind of ["admin", "decision", "routing", "maintenance", "training"]) {
      assert.doesNotMatch(offline.kind(kind), RAW, kind);
      assert.notEqual(offline.kind(kind), kind);
    }
    assert.equal(new Localizer(hass("en")).kind("member_deleted"), "Member deleted");
  });
}
