// A typed client for the integration's websocket commands: one method per command
// the panel uses, so a renamed field fails `tsc` instead of the user.
import type {
  AdminState,
  AuditEntry,
  Booking,
  BookingList,
  HistoryResult,
  HomeAssistant,
  ImportReport,
  InterestSubscription,
  Intervention,
  LabView,
  LabRole,
  LapseList,
  MachineType,
  NotifyOwn,
  OpsSettings,
  PresenceList,
  ProblemList,
  ProblemReport,
  Project,
  Statement,
  PresenceSettings,
  Profile,
  Role,
  Settings,
} from "./types";
import type { CompressedState } from "./series";

export interface MemberCreate {
  name: string;
  role: Role;
  email?: string;
  user_id?: string;
  cards?: string[];
  pin?: string;
  /** A Home Assistant login to create and link (both or neither; not with user_id). */
  login_username?: string;
  login_password?: string;
  /** Deactivating or removing the member deactivates their Home Assistant login. */
  deactivate_login?: boolean;
  /** The admin confirmed a name another member has already (else member_name_taken). */
  allow_same_name?: boolean;
}

export interface MemberUpdate {
  role?: Role;
  active?: boolean;
  user_id?: string | null;
  supervise?: boolean;
  deactivate_login?: boolean;
}

export interface GrantRequest {
  member_ids: string[];
  machine_type_id?: string;
  device_id?: string;
  expires?: string;
  trainer?: boolean;
}

export interface HistoryFilter {
  member_id?: string;
  device_id?: string;
  start?: string;
  end?: string;
}

export type MachineTypeSave = Omit<MachineType, "id"> & { machine_type_id?: string };

export class FluxiLabClient {
  constructor(private readonly hass: () => HomeAssistant) {}

  private send<T>(type: string, data: Record<string, unknown> = {}): Promise<T> {
    return this.hass().connection.sendMessagePromise<T>({ type: `fluxilab/${type}`, ...data });
  }

  /** What Home Assistant's recorder kept of ``entityIds`` since ``start`` (numbers as text). */
  recorded(entityIds: string[], start: Date): Promise<Record<string, CompressedState[]>> {
    return this.hass().connection.sendMessagePromise({
      type: "history/history_during_period",
      start_time: start.toISOString(),
      entity_ids: entityIds,
      minimal_response: true,
      no_attributes: true,
      significant_changes_only: false,
    });
  }

  /** The lab once (the dashboard strategy builds from it). */
  lab(): Promise<LabView> {
    return this.send("panel/lab");
  }

  subscribeLab(callback: (lab: LabView) => void): Promise<() => Promise<void>> {
    return this.hass().connection.subscribeMessage<LabView>(callback, {
      type: "fluxilab/panel/subscribe",
    });
  }

  /** A one-minute signed link into a device's UI, whose page links back here. */
  open(deviceId: string): Promise<{ url: string; expires: number }> {
    const back = backAddress();
    return this.send("panel/open", { device_id: deviceId, ...(back ? { back } : {}) });
  }

  profile(): Promise<Profile> {
    return this.send("panel/profile");
  }

  changePin(newPin: string, currentPin: string): Promise<null> {
    return this.send("panel/change_pin", { new_pin: newPin, current_pin: currentPin });
  }

  adminState(): Promise<AdminState> {
    return this.send("panel/admin/state");
  }

  memberCreate(data: MemberCreate): Promise<{ member_id: string }> {
    return this.send("panel/admin/member_create", { ...data });
  }

  memberUpdate(memberId: string, data: MemberUpdate): Promise<null> {
    return this.send("panel/admin/member_update", { member_id: memberId, ...data });
  }

  memberDelete(memberId: string): Promise<null> {
    return this.send("panel/admin/member_delete", { member_id: memberId });
  }

  assignCard(memberId: string, card: string): Promise<null> {
    return this.send("panel/admin/assign_card", { member_id: memberId, card });
  }

  /** A new member holding a card seen as unknown. */
  /** ``allowSameName``: the admin confirmed a second member of a name someone has. */
  memberFromCard(card: string, name: string, allowSameName = false): Promise<{ member_id: string }> {
    return this.send("panel/admin/member_from_card", { card, name, ...(allowSameName ? { allow_same_name: true } : {}) });
  }

  /** Plan (dry run) or apply a CSV import of members, cards and authorizations. */
  importMembers(csvText: string, dryRun: boolean, strict: boolean): Promise<ImportReport> {
    return this.send("members/import", { csv_text: csvText, dry_run: dryRun, strict });
  }

  exportMembers(): Promise<{ csv_text: string; members: number }> {
    return this.send("members/export");
  }

  grant(request: GrantRequest): Promise<{ authorization_ids: string[] }> {
    return this.send("panel/admin/grant", { ...request });
  }

  revoke(authorizationId: string): Promise<null> {
    return this.send("panel/admin/revoke", { authorization_id: authorizationId });
  }

  block(deviceId: string, blocked: boolean): Promise<null> {
    return this.send("panel/admin/block", { device_id: deviceId, blocked });
  }

  recordMaintenance(deviceId: string, note?: string): Promise<null> {
    return this.send("panel/admin/record_maintenance", note ? { device_id: deviceId, note } : { device_id: deviceId });
  }

  /** A device's maintenance interventions, newest first; ``next`` is the next page's cursor. */
  maintenanceLog(deviceId: string, before?: number | null): Promise<{ interventions: Intervention[]; next: number | null }> {
    return this.send("panel/admin/maintenance_log", before ? { device_id: deviceId, before } : { device_id: deviceId });
  }

  /** Every intervention of a device as the hub's streamed CSV (formulas neutralized). */
  async maintenanceCsv(deviceId: string): Promise<string> {
    const hass = this.hass();
    if (!hass.fetchWithAuth) throw new Error("no_fetch");
    const query = new URLSearchParams({ device_id: deviceId });
    const response = await hass.fetchWithAuth(`/api/fluxilab/maintenance.csv?${query.toString()}`);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return response.text();
  }

  roles(): Promise<LabRole[]> {
    return this.send("role/list");
  }

  roleCreate(data: Omit<LabRole, "id">): Promise<LabRole> {
    return this.send("role/create", { ...data });
  }

  roleUpdate(roleId: string, data: Partial<Omit<LabRole, "id">>): Promise<LabRole> {
    return this.send("role/update", { role_id: roleId, ...data });
  }

  roleDelete(roleId: string): Promise<null> {
    return this.send("role/delete", { role_id: roleId });
  }

  projects(): Promise<Project[]> {
    return this.send("project/list");
  }

  projectCreate(data: { name: string; code?: string }): Promise<Project> {
    return this.send("project/create", { ...data });
  }

  projectDelete(projectId: string): Promise<null> {
    return this.send("project/delete", { project_id: projectId });
  }

  /** A member's default project (null: none). */
  setDefaultProject(memberId: string, projectId: string | null): Promise<{ project_id: string | null }> {
    return this.send("billing/set_default", { member_id: memberId, project_id: projectId });
  }

  /** A project's statement of a month ("YYYY-MM"); no project: sessions charged to none. */
  statement(projectId: string | null, month: string): Promise<Statement> {
    return this.send("billing/statement", { project_id: projectId, month });
  }

  /** Charge a session to another project, or mark it (non-)billable. */
  setSessionCharge(
    sessionId: string,
    change: { project_id?: string | null; non_billable?: string | null },
  ): Promise<{ session_id: string; project_id: string | null; non_billable: string | null }> {
    return this.send("billing/set_session", { session_id: sessionId, ...change });
  }

  /** The statement as the hub's streamed CSV (the same lines and a total line). */
  async statementCsv(projectId: string | null, month: string): Promise<string> {
    const hass = this.hass();
    if (!hass.fetchWithAuth) throw new Error("no_fetch");
    const query = new URLSearchParams({ project_id: projectId ?? "", month });
    const response = await hass.fetchWithAuth(`/api/fluxilab/statement.csv?${query.toString()}`);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return response.text();
  }

  history(filter: HistoryFilter): Promise<HistoryResult> {
    return this.send("panel/admin/history", { ...filter });
  }

  /** One page of the audit log, newest first; ``next`` is the cursor of the next page. */
  audit(filter: {
    member_id?: string;
    device_id?: string;
    kind?: string;
    /** Only what devices recorded offline and sent later. */
    buffered?: boolean;
    before?: number;
    limit: number;
  }): Promise<{
    audit: AuditEntry[];
    next: number | null;
  }> {
    return this.send("panel/admin/audit", { ...filter });
  }

  machineTypeSave(data: MachineTypeSave): Promise<{ machine_type_id: string }> {
    return this.send("panel/admin/machine_type_save", { ...data });
  }

  machineTypeDelete(machineTypeId: string): Promise<null> {
    return this.send("panel/admin/machine_type_delete", { machine_type_id: machineTypeId });
  }

  retention(
    data: Settings,
  ): Promise<{ settings: Settings; anonymized: number; unknown_cards_deleted: number }> {
    return this.send("panel/admin/retention", { ...data });
  }

  memberExport(memberId: string): Promise<unknown> {
    return this.send("panel/admin/member_export", { member_id: memberId });
  }

  // Cards and PIN (access/credentials_websocket.py)

  credentialAdd(memberId: string, card: string, label?: string): Promise<unknown> {
    return this.send("credentials/add", {
      member_id: memberId,
      credential_type: "card",
      card,
      ...(label ? { label } : {}),
    });
  }

  credentialUpdate(credentialId: string, active: boolean, memberId?: string): Promise<unknown> {
    return this.send("credentials/update", {
      credential_id: credentialId,
      active,
      ...(memberId ? { member_id: memberId } : {}),
    });
  }

  credentialRemove(memberId: string, credentialId: string): Promise<null> {
    return this.send("credentials/remove", { member_id: memberId, credential_id: credentialId });
  }

  resetPin(memberId: string): Promise<{ member_id: string; pin: string }> {
    return this.send("credentials/reset_pin", { member_id: memberId });
  }

  // Bookings (access/booking_websocket.py)

  bookings(deviceId?: string, start?: string, end?: string): Promise<BookingList> {
    const data: Record<string, unknown> = {};
    if (deviceId) data.fluxilab_device = deviceId;
    if (start) data.start = start;
    if (end) data.end = end;
    return this.send("booking/list", data);
  }

  book(deviceId: string, start: string, end: string): Promise<Booking> {
    return this.send("booking/create", { fluxilab_device: deviceId, start, end });
  }

  cancelBooking(bookingId: string): Promise<Booking> {
    return this.send("booking/delete", { booking_id: bookingId });
  }

  // Outages and problem reports (api/bookings.py, api/problems.py)

  scheduleOutage(deviceId: string, start: string, end: string, note: string): Promise<Booking> {
    return this.send("outage/create", { fluxilab_device: deviceId, start, end, note });
  }

  endOutage(outageId: string): Promise<Booking> {
    return this.send("outage/delete", { outage_id: outageId });
  }

  problems(deviceId?: string, openOnly = true): Promise<ProblemList> {
    const data: Record<string, unknown> = { open_only: openOnly };
    if (deviceId) data.fluxilab_device = deviceId;
    return this.send("problem/list", data);
  }

  reportProblem(deviceId: string, description: string, unsafe: boolean): Promise<ProblemReport> {
    return this.send("problem/report", { fluxilab_device: deviceId, description, unsafe });
  }

  resolveProblem(reportId: string, resolution: string): Promise<ProblemReport> {
    return this.send("problem/resolve", { report_id: reportId, resolution });
  }

  // Lab operations (access/interest.py, lapsing.py, notify.py, presence.py)

  interestList(): Promise<{ subscriptions: InterestSubscription[] }> {
    return this.send("interest/list");
  }

  interest(deviceId: string, wait: boolean): Promise<unknown> {
    return this.send(wait ? "interest/subscribe" : "interest/cancel", {
      fluxilab_device: deviceId,
    });
  }

  lapsingMine(): Promise<LapseList> {
    return this.send("lapsing/mine");
  }

  lapsingList(): Promise<LapseList> {
    return this.send("lapsing/list");
  }

  lapsingRenew(authorizationId: string): Promise<unknown> {
    return this.send("lapsing/renew", { authorization_id: authorizationId });
  }

  notifyGet(): Promise<NotifyOwn> {
    return this.send("notify/get");
  }

  notifySet(service: string | null): Promise<unknown> {
    return this.send("notify/set", { notify_service: service });
  }

  notifySettings(data?: OpsSettings): Promise<OpsSettings> {
    return this.send("notify/settings", { ...(data ?? {}) });
  }

  occupancy(): Promise<PresenceList> {
    return this.send("occupancy/list");
  }

  occupancySettings(data?: PresenceSettings): Promise<PresenceSettings> {
    return this.send("occupancy/settings", { ...(data ?? {}) });
  }

  check(verb: "check_in" | "check_out"): Promise<unknown> {
    return this.hass().callService("fluxilab", verb, {});
  }
}

/** The longest address the hub signs into a token as "Back to Home Assistant". */
export const MAX_BACK_URL = 512;

/**
 * Where the device's page sends the person back to: this page (its view and tab in
 * the address), or the panel's own path if the whole address is too long.
 */
export function backAddress(where: Pick<Location, "href" | "origin" | "pathname"> | undefined =
  typeof location === "undefined" ? undefined : location): string | undefined {
  if (!where) return undefined;
  if (where.href.length <= MAX_BACK_URL) return where.href;
  const short = where.origin + where.pathname;
  return short.length <= MAX_BACK_URL ? short : undefined;
}
