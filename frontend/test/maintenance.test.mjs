// Maintenance in the panel: only http(s) instructions are linked, a device's plan
// comes from its machine type, and interventions read as who and hours.
import assert from "node:assert/strict";
import { test } from "node:test";
import { devicePlan, hoursText, interventionWho, safeUrl } from "../src/maintenance.ts";

test("only http and https instructions with a host are linked", () => {
  assert.equal(safeUrl("https://lab.example/hood"), "https://lab.example/hood");
  assert.equal(safeUrl("http://10.0.0.2:8080/x"), "http://10.0.0.2:8080/x");
  assert.equal(safeUrl("javascript:alert(1)"), null);
  assert.equal(safeUrl("data:text/html,<b>x</b>"), null);
  assert.equal(safeUrl("https://someone@lab.example/"), null);
  assert.equal(safeUrl("not a url"), null);
  assert.equal(safeUrl(""), null);
  assert.equal(safeUrl(null), null);
});

const device = {
  device_id: "hood-1",
  name: "Hood",
  machine_type: "Fumehood",
  machine_type_id: "fumehood",
  maintenance_due: true,
  hours_to_maintenance: -1.5,
  usage_hours: 12,
};

test("a device's plan is its machine type's, with the hub's hours", () => {
  const types = [
    {
      id: "fumehood",
      name: "Fumehood",
      maintenance_interval: 50,
      maintenance_description: "Change the filter",
      maintenance_url: "javascript:alert(1)",
      maintenance_message: "",
    },
  ];
  assert.deepEqual(devicePlan(device, types), {
    interval: 50,
    description: "Change the filter",
    url: null,
    message: null,
    hoursToMaintenance: -1.5,
    due: true,
  });
  const none = devicePlan({ ...device, machine_type_id: null, maintenance_due: false }, types);
  assert.equal(none.interval, null);
  assert.equal(none.description, null);
  assert.equal(none.due, false);
});

test("interventions read as who and hours", () => {
  assert.equal(interventionWho({ member: "Tech", member_id: "tech" }), "Tech");
  assert.equal(interventionWho({ member: null, member_id: "gone" }), "gone");
  assert.equal(interventionWho({ member: null, member_id: null }), "—");
  const number = (n) => n.toFixed(1);
  assert.equal(hoursText(2.5, number), "2.5 h");
  assert.equal(hoursText(0, number), "0.0 h");
  assert.equal(hoursText(null, number), "—");
  assert.equal(hoursText(undefined, number), "—");
});
