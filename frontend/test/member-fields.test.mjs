// A refused new member is said at the field the refusal is about.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fieldOf } from "../src/member-fields.ts";

test("a name someone has is said at the name", () => {
  assert.equal(fieldOf({ translation_domain: "fluxilab", translation_key: "member_name_taken" }), "name");
});

test("cards, the linked user and the PIN have their fields; a validation error names its own", () => {
  assert.equal(fieldOf({ translation_key: "card_in_use" }), "cards");
  assert.equal(fieldOf({ translation_key: "user_linked" }), "user_id");
  assert.equal(fieldOf({ translation_key: "pin_too_short" }), "pin");
  assert.equal(fieldOf({ code: "invalid_format", message: "expected str at 'email'" }), "email");
  assert.equal(fieldOf({ code: "unknown_error", message: "boom" }), undefined);
});
