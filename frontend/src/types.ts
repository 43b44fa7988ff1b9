// The shapes the panel receives: Home Assistant's `hass` (the part used here) and
// the replies of the integration's websocket commands (panel_api.py and friends).

export interface HassConnection {
  sendMessagePromise<T>(message: Record<string, unknown>): Promise<T>;
  subscribeMessage<T>(
    callback: (message: T) => void,
    message: Record<string, unknown>,
  ): Promise<() => Promise<void>>;
}

export type Localize = (key: string, values?: Record<string, unknown>) => string;

export interface HomeAssistant {
  connection: HassConnection;
  language: string;
  /** The user's profile: ``time_zone`` "server" shows times in the lab's zone, "local" in the browser's. */
  locale?: { language: string; time_zone?: string };
  /** The lab's (Home Assistant's) configuration: its time zone. */
  config?: { time_zone?: string };
  user?: { id: string; name: string; is_admin: boolean };
  /** Entity states (a dashboard card reads who uses a device from its sensor). */
  states?: Record<string, { state: string; entity_id: string } | undefined>;
  callService(domain: string, service: string, data?: Record<string, unknown>): Promise<unknown>;
  /** A GET of Home Assistant's API with the user's token (the streamed CSVs). */
  fetchWithAuth?(path: string, init?: Record<string, unknown>): Promise<Response>;
  /** The frontend's loader of an integration's translations (exceptions here). */
  loadBackendTranslation?(category: string, integration?: string): Promise<Localize>;
}

export interface Route {
  prefix: string;
  path: string;
}

export interface Channel {
  key: string;
  name: string;
  unit: string | null;
  value: number | boolean | string | null;
  /** The channel's sensor, whose recorded history the sparklines plot. */
  entity_id?: string | null;
}

export interface Condition {
  kind: string;
  channel: string;
  key: string;
  value: number;
  target: number;
  due: boolean;
  text?: string;
}

export interface DeviceStatus {
  device_id: string;
  name: string;
  kind: string | null;
  area: string | null;
  machine_type: string | null;
  machine_type_id?: string | null;
  online: boolean;
  in_use: boolean;
  member_name: string | null;
  maintenance_due: boolean;
  hours_to_maintenance: number | null;
  usage_hours: number | null;
  blocked: boolean;
  paired: boolean;
  /** The secure link as the hub sees it (link.py): "broken" while its sealed messages are refused. */
  link?: "unknown" | "ok" | "broken";
  /** A Fab-O-Matic board: it never pairs. */
  board?: boolean;
  has_ui: boolean;
  gateway_fingerprint: string | null;
  telemetry: Channel[];
  safety_limits?: SafetyLimit[];
  busy: boolean;
  /** The "current user" sensor: who uses it as every Home Assistant user may see it. */
  current_user_entity_id?: string | null;
  maintenance_conditions: Condition[];
}

export interface LabView {
  user: { name: string; is_admin: boolean };
  member: { id: string; name: string; role: Role } | null;
  manager: boolean;
  /** The caller has lab staff's permissions (a built-in or lab role's level). */
  staff?: boolean;
  areas: { area: string | null; devices: DeviceStatus[] }[];
}

/** A built-in role's id. */
export type BuiltInRole = "user" | "staff" | "admin";

/** A member's role: a built-in one or a lab role's id (LabRole). */
export type Role = BuiltInRole | (string & {});

/** What a role lets its members do (docs/ACCESS.md "Roles and permissions"). */
export type RoleFlag = "authorize_all" | "maintenance" | "supervisor" | "manage" | "book_for_others";

/** A role the lab named itself (fluxilab/role/*). */
export type LabRole = { id: string; name: string } & Record<RoleFlag, boolean>;

export interface Credential {
  id: string;
  type: "card" | "pin";
  label: string;
  card?: string | null;
  active: boolean;
  must_change?: boolean;
  last_used?: number | string | null;
  /** When it was added (ISO). */
  created?: string | null;
}

export interface Member {
  id: string;
  name: string;
  email?: string | null;
  role: Role;
  active: boolean;
  user_id?: string | null;
  cards: string[];
  credentials: Credential[];
  has_pin: boolean;
  supervise?: boolean;
  /** Deactivating or removing the member deactivates their Home Assistant login. */
  deactivate_login?: boolean;
  /** The linked Home Assistant login is one FluxiLab created with the member. */
  login_created_by_fluxilab?: boolean;
}

export interface SafetyLimit {
  channel: string;
  min?: number;
  max?: number;
}

export interface MachineType {
  id: string;
  name: string;
  session_timeout?: number;
  grace_period?: number;
  requires_authorization?: boolean;
  maintenance_interval?: number | null;
  maintenance_message?: string | null;
  /** The plan: what to do, and where the instructions are (http/https only). */
  maintenance_description?: string | null;
  maintenance_url?: string | null;
  block_when_maintenance_due?: boolean;
  /** A second factor: a session needs the card and the member's PIN at the device. */
  require_pin?: boolean;
  lapse_after_months?: number | null;
  offline_policy?: string | null;
  offline_max_age?: number;
  safety_limits?: SafetyLimit[];
  busy_channel?: string | null;
  busy_above?: number | null;
  busy_delay?: number | null;
  maintenance_conditions?: unknown[];
  requires_supervisor?: boolean;
  supervisor_minutes?: number;
  supervised_hours_start?: string | null;
  supervised_hours_end?: string | null;
  training_expiry_days?: number | null;
  /** Charge-back rates (docs/BILLING.md), in cents. */
  billing_hourly_cents?: number;
  billing_idle_hourly_cents?: number | null;
  billing_minimum_cents?: number;
  billing_round_minutes?: number;
}

export interface Project {
  id: string;
  name: string;
  code: string;
  active: boolean;
  members: string[];
  default_members: string[];
}

export type NonBillable = "training" | "maintenance" | "staff";

export interface StatementTotals {
  sessions: number;
  seconds: number;
  billed_seconds: number;
  busy_seconds: number;
  idle_seconds: number;
  non_billable: number;
  cents: number;
  amount: string;
}

export interface StatementLine {
  session_id: string;
  start: string;
  end: string;
  member_id: string | null;
  member_name: string | null;
  device_id: string;
  device_name: string;
  machine_type_id: string | null;
  seconds: number;
  billed_seconds: number;
  busy_seconds: number;
  idle_seconds: number;
  non_billable: NonBillable | null;
  minimum_applied: boolean;
  cents: number;
  amount: string;
}

export interface Statement {
  project: { id: string; name: string; code: string } | null;
  month: string;
  lines: StatementLine[];
  by_machine_type: (StatementTotals & { machine_type_id: string | null; name: string | null })[];
  total: StatementTotals;
}

export interface Authorization {
  id: string;
  member_id: string;
  machine_type_id?: string | null;
  device_id?: string | null;
  expires?: string | null;
  trainer?: boolean;
  granted_by?: string | null;
}

export interface UnknownCard {
  card: string;
  device_id: string;
  ts: number;
}

export interface HaUser {
  id: string;
  name: string;
  is_admin: boolean;
}

export interface Settings {
  usage_retention_days: number;
  unknown_card_retention_days: number;
  show_member_names?: boolean;
}

export interface AdminState {
  members: Member[];
  roles: LabRole[];
  machine_types: MachineType[];
  authorizations: Authorization[];
  devices: DeviceStatus[];
  unknown_cards: UnknownCard[];
  users: HaUser[];
  settings: Settings;
}

export interface Session {
  session_id?: string;
  member_id?: string | null;
  member_name?: string | null;
  device_id: string;
  start: number | string;
  end?: number | string | null;
  duration?: number | null;
  /** Recorded at the device while the hub was unreachable, sent later. */
  buffered?: boolean | null;
}

export interface HistoryResult {
  sessions: Session[];
  csv: string;
}

export interface AuditEntry {
  entry_id: number;
  ts: number;
  kind: string;
  device_id?: string | null;
  member_id?: string | null;
  member_name?: string | null;
  reason?: string | null;
  user_id?: string | null;
  anonymized?: boolean;
  /** Recorded at the device while the hub was unreachable, sent later. */
  buffered?: boolean | null;
  /** Admin changes (kind "admin", access/admin_audit.py). */
  target?: string;
  action?: string;
  target_id?: string | null;
  label?: string | null;
  changes?: Record<string, unknown>;
  door?: string;
  operation?: string;
  actor_user_id?: string | null;
  actor_name?: string | null;
  actor_member_id?: string | null;
}

export interface ProfileAuthorization {
  id: string;
  machine_type_id: string | null;
  device_id: string | null;
  target: string;
  expires: string | null;
  expired: boolean;
  window_start: string | null;
  window_end: string | null;
}

export interface Profile {
  user: { name: string; is_admin: boolean };
  manager: boolean;
  member: {
    id: string;
    name: string;
    email: string | null;
    role: Role;
    active: boolean;
    cards: string[];
    credentials: Credential[];
    has_pin: boolean;
    pin_must_change: boolean;
  } | null;
  authorizations: ProfileAuthorization[];
  sessions: Session[];
}

export interface LapseItem {
  authorization_id: string;
  member_id?: string;
  member_name?: string | null;
  machine_type_id?: string | null;
  machine_type_name?: string | null;
  device_id?: string | null;
  last_used?: string | number | null;
  lapse_date?: string | null;
  lapsed?: boolean;
  cause?: string;
}

export interface LapseList {
  notice_days: number;
  authorizations: LapseItem[];
}

export interface NotifyOwn {
  notify_service: string | null;
  phones: string[];
  /** Each phone's name in the Home Assistant app, by its notify service. */
  phone_names?: Record<string, string>;
}

export interface OpsSettings {
  admin_notify_services: string[];
  lapse_notice_days: number;
  interest_expiry_hours: number;
}

export interface InterestSubscription {
  device_id: string;
  position: number;
}

export interface PresenceList {
  count: number;
  members?: { member_id: string; name: string; since: string | number; where: string[] }[];
}

export interface PresenceSettings {
  checkin_expiry_hours: number;
}

/** An error as Home Assistant's websocket sends it. */
export interface WsError {
  code?: string;
  message?: string;
  translation_key?: string;
  translation_domain?: string;
  translation_placeholders?: Record<string, string>;
}

/** A booking as fluxilab/booking/list and /create answer it (access/booking_websocket.py). */
export interface Booking {
  id: string;
  device_id: string;
  start: string;
  end: string;
  released: boolean;
  no_show: boolean;
  /** A member's booking, or staff's outage (nobody is granted during it). */
  kind: "booking" | "outage";
  /** An outage's note (what the device shows); null for a booking. */
  note: string | null;
  /** Null unless the booking is the caller's own or the caller is staff. */
  member_id: string | null;
  member_name: string | null;
}

export interface ProblemReport {
  id: string;
  device_id: string;
  description: string;
  unsafe: boolean;
  reported: string;
  resolved: string | null;
  resolution: string | null;
  member_id: string | null;
  member_name: string | null;
  resolved_by: string | null;
}

export interface ProblemList {
  reports: ProblemReport[];
  /** Devices reported unsafe, not cleared yet: nobody is granted them. */
  unsafe: string[];
}

export interface BookingList {
  mine: Booking[];
  /** The caller's bookings released because nobody came (the last 90 days). */
  no_shows: number;
  device?: {
    device_id: string;
    mode: "off" | "optional" | "required";
    min_minutes: number;
    max_minutes: number;
    ahead_days: number;
    bookings: Booking[];
  };
}

/** What a CSV member import did, or would do, with one row (access/member_import.py). */
export interface ImportRow {
  line: number;
  action: "create" | "update" | "unchanged" | "reject";
  name: string | null;
  member_id: string | null;
  changes: string[];
  authorizations: { target: string; action: string }[];
  cards?: number;
  reason?: WsError;
}

export interface ImportReport {
  dry_run: boolean;
  strict: boolean;
  applied: boolean;
  summary: Record<ImportRow["action"], number>;
  rows: ImportRow[];
}

/** A maintenance registered on a device (fluxilab/panel/admin/maintenance_log). */
export interface Intervention {
  entry_id: number;
  ts: number;
  device_id: string;
  device: string;
  member_id: string | null;
  /** The member's name as they are named now (null once gone). */
  member: string | null;
  /** Usage hours then, hours since the one before, the plan's interval then. */
  hours: number | null;
  since_maintenance: number | null;
  interval: number | null;
  note: string | null;
  buffered: boolean;
}
