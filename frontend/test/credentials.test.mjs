// Masked cards told apart: by label and last four, and by the day added when both match.
import assert from "node:assert/strict";
import { test } from "node:test";
import { cardName, credentialLabel, twins } from "../src/credentials.ts";

const card = (id, label, masked) => ({ id, type: "card", label, card: masked });

test("a card reads as its label and its last four", () => {
  assert.equal(cardName(card("a", "Badge", "••••C3D4")), "Badge (••••C3D4)");
  assert.equal(cardName({ label: "PIN", card: null }), "PIN");
});

test("only cards with the same label and the same last four are twins", () => {
  const found = twins([
    card("a", "Badge", "••••C3D4"),
    card("b", "badge ", "••••C3D4"),
    card("c", "Badge", "••••9999"),
    card("d", "Card 2", "••••C3D4"),
    { id: "p", type: "pin", label: "Badge", card: null },
  ]);
  assert.deepEqual([...found].sort(), ["a", "b"]);
  assert.equal(twins([card("a", "Card 1", "••••C3D4"), card("b", "Card 2", "••••C3D4")]).size, 0);
});

test("a label the hub gave reads in the user's language; a typed one stays", () => {
  assert.equal(credentialLabel({ label: "Card 2" }, "Tessera"), "Tessera 2");
  assert.equal(credentialLabel({ label: "Badge" }, "Tessera"), "Badge");
  assert.equal(credentialLabel({ label: "Card 2 spare" }, "Tessera"), "Card 2 spare");
  assert.equal(cardName({ label: "Card 1", card: "••••C3D4" }, "Tessera"), "Tessera 1 (••••C3D4)");
});
