// The sparklines' data: recorded history parsed, live values appended, the hour kept.
import assert from "node:assert/strict";
import { test } from "node:test";
import { pointsOf, SeriesStore, sparkPath } from "../src/series.ts";

test("recorded states become numbers; unknown and unavailable are left out", () => {
  assert.deepEqual(
    pointsOf([
      { s: "20.5", lu: 100 },
      { s: "unavailable", lu: 110 },
      { s: "", lu: 115 },
      { s: "21", lc: 120 },
    ]),
    [
      [100, 20.5],
      [120, 21],
    ],
  );
  assert.deepEqual(pointsOf(undefined), []);
});

test("history and live values merge; the series keeps one hour", async () => {
  let changed = 0;
  const asked = [];
  const client = {
    recorded: async (ids, start) => {
      asked.push([ids, start.getTime() / 1000]);
      return { "sensor.t": [{ s: "1", lu: 1000 }, { s: "2", lu: 2000 }] };
    },
  };
  const store = new SeriesStore(() => changed++);
  store.push("sensor.t", 3, 2500); // arrived while the history loads
  await store.load(client, ["sensor.t", "sensor.t", null], 4600);
  assert.deepEqual(asked, [[["sensor.t"], 1000]]);
  assert.equal(changed, 1);
  assert.deepEqual(store.get("sensor.t"), [
    [1000, 1],
    [2000, 2],
    [2500, 3],
  ]);
  await store.load(client, ["sensor.t"], 4600);
  assert.equal(asked.length, 1, "a loaded series is not asked for again");
  store.push("sensor.t", "text", 4700);
  store.push("sensor.t", 4, 4700);
  assert.deepEqual(store.get("sensor.t")[0], [2000, 2], "older than an hour is dropped");
  assert.deepEqual(store.get("sensor.t").at(-1), [4700, 4]);
});

test("no recorder: the series starts empty and follows live values", async () => {
  const store = new SeriesStore(() => undefined);
  await store.load({ recorded: async () => Promise.reject(new Error("unknown_command")) }, ["sensor.x"], 10);
  assert.deepEqual(store.get("sensor.x"), []);
});

test("the path steps through the hour and holds the last value until now", () => {
  assert.equal(sparkPath([], 100, 20, 3600), "");
  assert.equal(sparkPath([[0, 1], [1800, 3]], 100, 20, 3600), "M0.0,19.0H50.0V1.0H100");
  assert.equal(sparkPath([[900, 5]], 100, 20, 3600), "M25.0,10.0H100");
});
