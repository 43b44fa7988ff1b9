// The panel's import view speaks the hub's words: every action a row of the CSV
// import report can have (access/member_import.py RowAction) reads as a word of
// its own in English and Italian, and the panel's size cap is the hub's.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import en from "../src/localize/languages/en.json" with { type: "json" };
import it from "../src/localize/languages/it.json" with { type: "json" };

const repo = process.env.FLUXILAB_REPO;
const read = (path) => readFileSync(`${repo}/${path}`, "utf8");
const hub = read("custom_components/fluxilab/access/member_import.py");

test("every row action of the import report has words in both languages", () => {
  const block = hub.split("class RowAction(StrEnum):")[1].split("\nclass ")[0];
  const actions = [...block.matchAll(/^ {4}[A-Z_]+ = "([a-z_]+)"/gm)].map((m) => m[1]);
  assert.deepEqual(actions.sort(), ["create", "reject", "unchanged", "update"]);
  for (const action of actions) {
    for (const [name, table] of Object.entries({ en, it })) {
      const words = table[`import_action_${action}`];
      assert.ok(words && !/_/.test(words), `${name}: import_action_${action}`);
    }
  }
});

test("the panel refuses files above the hub's cap, not some other size", () => {
  const bytes = (source, pattern) => {
    const m = pattern.exec(source);
    assert.ok(m, String(pattern));
    return m[1].split("*").reduce((n, f) => n * Number(f.trim()), 1);
  };
  const panel = read("frontend/src/views/admin/member-import.ts");
  assert.equal(
    bytes(panel, /MAX_IMPORT_BYTES = ([\d\s*]+);/),
    bytes(hub, /MAX_IMPORT_BYTES: Final = ([\d\s*]+)\n/),
  );
});
