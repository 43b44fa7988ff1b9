// Maintenance in the panel: the plan a machine type has, what a device's plan says
// now, and the interventions' cells. Pure, so the unit tests read it without a page.
import type { DeviceStatus, Intervention, MachineType } from "./types";

/** An instructions address the panel may link to: http(s) with a host, else null. */
export function safeUrl(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    if ((parsed.protocol === "http:" || parsed.protocol === "https:") && parsed.hostname && !parsed.username) return url;
  } catch {
    return null;
  }
  return null;
}

export interface DevicePlan {
  /** Usage hours between two maintenances (the device's option or its type's). */
  interval: number | null;
  description: string | null;
  url: string | null;
  message: string | null;
  hoursToMaintenance: number | null;
  due: boolean;
}

/** What a device's maintenance plan says now (its machine type's texts). */
export function devicePlan(device: DeviceStatus, types: MachineType[]): DevicePlan {
  const type = types.find((t) => t.id === device.machine_type_id) ?? null;
  return {
    // The hub counts hours to maintenance from the device's own interval too.
    interval: type?.maintenance_interval ?? null,
    description: type?.maintenance_description || null,
    url: safeUrl(type?.maintenance_url),
    message: type?.maintenance_message || null,
    hoursToMaintenance: device.hours_to_maintenance,
    due: device.maintenance_due,
  };
}

/** Who registered an intervention: their name now, else their id, else "—". */
export function interventionWho(row: Intervention): string {
  return row.member ?? row.member_id ?? "—";
}

/** Hours as "12.5 h" ("—" when the entry predates hours being kept). */
export function hoursText(hours: number | null | undefined, number: (n: number) => string): string {
  return hours === null || hours === undefined ? "—" : `${number(hours)} h`;
}
