// Money in the panel (charge-back): what people type becomes cents exactly, and
// cents read as amounts; the default statement month is the one just over.
import assert from "node:assert/strict";
import { test } from "node:test";
import { amountText, formatAmount, lastMonth, parseAmount } from "../src/money.ts";

test("amounts typed become integer cents, with no float in between", () => {
  assert.equal(parseAmount("12.50"), 1250);
  assert.equal(parseAmount("12,5"), 1250);
  assert.equal(parseAmount("12"), 1200);
  assert.equal(parseAmount(" 0.07 "), 7);
  assert.equal(parseAmount("0.29"), 29); // 0.29 * 100 is 28.999999999999996 in floats
  assert.equal(parseAmount("1.005"), null); // no fractions of a cent
  assert.equal(parseAmount("-1"), null);
  assert.equal(parseAmount("abc"), null);
  assert.equal(parseAmount(""), null);
});

test("cents read as amounts", () => {
  assert.equal(formatAmount(3575, "en"), "35.75");
  assert.equal(formatAmount(3575, "it"), "35,75");
  assert.equal(formatAmount(123456, "en"), "1,234.56");
  assert.equal(amountText(1250), "12.50");
  assert.equal(amountText(5), "0.05");
  assert.equal(amountText(null), "");
  assert.equal(parseAmount(amountText(99999)), 99999);
});

test("the default month is the one just over", () => {
  assert.equal(lastMonth(new Date(2026, 11, 2)), "2026-11");
  assert.equal(lastMonth(new Date(2026, 0, 15)), "2025-12");
});
