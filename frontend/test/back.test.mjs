// The address the device's page links "Back to Home Assistant" to.
import assert from "node:assert/strict";
import { test } from "node:test";
import { MAX_BACK_URL, backAddress } from "../src/client.ts";

const at = (href) => {
  const url = new URL(href);
  return { href: url.href, origin: url.origin, pathname: url.pathname };
};

test("this page, view and tab included", () => {
  const page = "https://ha.lab.example/fluxilab?view=admin&tab=members";
  assert.equal(backAddress(at(page)), page);
});

test("the panel's path when the whole address is too long", () => {
  const long = at("https://ha.lab.example/fluxilab?q=" + "x".repeat(MAX_BACK_URL));
  assert.equal(backAddress(long), "https://ha.lab.example/fluxilab");
});

test("nothing outside a browser, or when even the path is too long", () => {
  assert.equal(backAddress(undefined), undefined);
  assert.equal(backAddress(at("https://ha/" + "p".repeat(MAX_BACK_URL))), undefined);
});
