/**
 * The FluxiLab sidebar panel.
 *
 * A plain ES module (no build step, no imports): Home Assistant creates
 * <fluxilab-panel> and sets `hass`, `narrow`, `route` and `panel` on it. Every
 * piece of data comes from the integration's websocket commands
 * (custom_components/fluxilab/panel_api.py), which check the caller's lab role on
 * every call; what this module hides is a convenience, never the security.
 *
 * Views: Lab (devices the user may use, live, with an Open action), My profile
 * (member, cards, authorizations, sessions, own PIN), Admin (members,
 * authorizations, devices, unknown cards, usage history with CSV, audit log).
 * Colours come from Home Assistant's theme variables, so light and dark work;
 * everything is a tap target (no hover-only controls) for the companion app.
 */

const STRINGS = {
  en: {
    title: "FluxiLab",
    // Lab operations: presence
    presence: "In the lab",
    people_in_lab: "People in the lab: {count}",
    nobody_in_lab: "Nobody is in the lab.",
    since: "Since",
    where: "Where",
    entrance: "checked in",
    print_list: "Print",
    check_in: "Check in",
    check_out: "Check out",
    checkin_expiry_hours: "Check-ins expire after (hours)",
    supervisor: "Supervisor",
    make_supervisor: "Make supervisor",
    remove_supervisor: "Not a supervisor",
    trainer: "Trainer",
    trained_by: "trained by {name}",
    requires_supervisor: "Requires a supervisor present",
    supervisor_minutes: "Supervisor counts for (minutes)",
    supervised_hours_start: "Unsupervised use from",
    supervised_hours_end: "Unsupervised use until",
    training_expiry_days: "Training authorizations last (days)",
    lab: "Lab",
    profile: "My profile",
    admin: "Admin",
    no_area: "Other equipment",
    no_devices: "There is no equipment you may use yet. Ask a lab admin for an authorization.",
    not_linked: "Your Home Assistant user is not linked to a lab member.",
    online: "Online",
    offline: "Offline",
    in_use: "In use",
    in_use_by: "In use by {name}",
    free: "Free",
    maintenance_due: "Maintenance due",
    blocked: "Blocked",
    not_paired: "Not paired",
    open: "Open",
    opening: "Opening…",
    open_refused: "The device's UI address is not a web address: ask an admin to check it.",
    no_ui: "No device UI",
    gateway_certificate: "Certificate fingerprint (SHA-256)",
    gateway_certificate_hint: "If your browser warns about this device's certificate, go on only if it shows this fingerprint.",
    hours_left: "{hours} h to maintenance",
    loading: "Loading…",
    member: "Member",
    role: "Role",
    role_admin: "Admin",
    role_staff: "Staff",
    role_user: "User",
    active: "Active",
    inactive: "Inactive",
    cards: "Cards",
    none: "None",
    authorizations: "Authorizations",
    expires: "Expires",
    never: "Never",
    expired: "Expired",
    hours: "Hours",
    sessions: "Recent sessions",
    device: "Device",
    start: "Start",
    end: "End",
    duration: "Duration",
    open_session: "open",
    change_pin: "Change device PIN / password",
    pin_hint: "At least 6 characters. Used at the devices' keypad and login page.",
    current_pin: "Current PIN",
    new_pin: "New PIN",
    repeat_pin: "Repeat new PIN",
    save: "Save",
    pin_mismatch: "The two new PINs differ.",
    pin_short: "A PIN needs at least 6 characters.",
    pin_changed: "Your PIN was changed.",
    pin_must_change: "Your PIN is an initial one from an admin: it does not work at the devices until you replace it here with one of your own.",
    current_initial_pin: "Current (initial) PIN",
    no_pin_yet: "You have no PIN yet: ask an admin to issue you one (Reset PIN), then replace it here.",
    members: "Members",
    devices: "Devices",
    unknown_cards: "Unknown cards",
    history: "Usage history",
    audit: "Audit log",
    name: "Name",
    email: "E-mail",
    linked_user: "Home Assistant user",
    no_user: "Not linked",
    card: "Card",
    initial_pin: "Initial PIN",
    create_member: "Add member",
    create: "Add",
    delete: "Delete",
    confirm_delete: "Delete {name}? Their history is anonymized.",
    activate: "Activate",
    deactivate: "Deactivate",
    grant: "Grant",
    grant_to: "Grant to members",
    machine_type: "Machine type",
    revoke: "Revoke",
    block: "Block",
    unblock: "Unblock",
    record_maintenance: "Maintenance done",
    usage_hours: "Usage hours",
    seen_at: "Seen at",
    seen: "Seen",
    assign_to: "Assign to",
    assign: "Assign",
    filter: "Filter",
    all: "All",
    from: "From",
    to: "To",
    download_csv: "Download CSV",
    time: "Time",
    kind: "Event",
    reason: "Reason",
    done: "Done.",
    refresh: "Refresh",
    has_pin: "PIN set",
    no_pin: "No PIN",
    target: "For",
    status: "Status",
    menu: "Menu",
    machine_types: "Machine types",
    settings: "Settings",
    new_type: "New machine type",
    edit: "Edit",
    session_timeout: "Session timeout (s)",
    grace_period: "Grace period (s)",
    requires_authorization: "Requires an authorization",
    maintenance_interval: "Maintenance every (usage hours)",
    maintenance_message: "Maintenance message on the device",
    block_when_maintenance_due: "Block when maintenance is due",
    offline_policy: "Without the hub (offline)",
    offline_default: "Default: deny if it has safety limits",
    offline_allow_mirrored: "Allow members in the device's mirror (their rules are checked there)",
    offline_deny: "Deny everyone",
    offline_max_age: "Offline for at most (hours without the hub)",
    busy_channel: "Busy while channel",
    busy_above: "is above",
    busy_delay: "Idle after (s) below it",
    maintenance_conditions: "Maintenance conditions (JSON list)",
    busy: "Working (telemetry)",
    condition_progress: "{text}: {value} of {target}",
    safety_channel: "Safety interlock: channel",
    safety_min: "minimum",
    safety_max: "maximum",
    safety: "Safety interlock",
    retention: "Retention",
    usage_retention_days: "Keep usage history (days)",
    unknown_card_retention_days: "Keep unknown cards (days)",
    show_member_names: "Show members' names on entities, in the logbook and in events (every Home Assistant user sees them; the recorder keeps them)",
    apply_retention: "Save and purge",
    purged: "{count} entries anonymized, {cards} unknown cards deleted.",
    gdpr_export: "Export a member's data (GDPR)",
    export: "Export",
    cancel: "Cancel",
    credentials: "Cards and PIN",
    credentials_of: "Cards and PIN of {name}",
    credential_label: "Label",
    credential_type: "Type",
    type_card: "Card",
    type_pin: "PIN",
    last_used: "Last used",
    never_used: "Never used",
    report_lost: "Report lost",
    confirm_lost: "Deactivate {label}? Devices refuse it at once; your other cards and PIN keep working. An admin can reactivate it.",
    add_credential: "Add card",
    reset_pin: "Reset PIN",
    confirm_reset_pin: "Issue {name} a new initial PIN? Their current PIN stops working at once; the new one is shown only now and works at no device until they replace it.",
    pin_issued: "Initial PIN for {name}: {pin} (shown only now). Give it to them: they replace it in their profile before using it at a device.",
    must_change: "must be changed",
    close: "Close",
    // Lab operations: notifications, lapsing qualifications, interest queue
    notify_when_free: "Tell me when it's free",
    waiting_position: "You'll be told (#{position})",
    stop_waiting: "Stop waiting",
    lapsing: "Lapsing",
    lapse_date: "Lapses",
    lapsed: "Lapsed",
    lapse_cause_inactivity: "unused",
    lapse_cause_expires: "expires",
    lapse_never: "Never",
    renew: "Renew",
    lapsing_none: "No authorization lapses within {days} days.",
    lapsing_hint: "Authorizations unused for their machine type's months, or expiring, within {days} days. Renewing starts the months again.",
    lapse_after_months: "Lapses after months unused",
    notifications: "Notifications",
    notify_service: "Notification service (notify.* or script.*)",
    notify_phones: "Empty: your phones with the Home Assistant app ({phones}).",
    no_phones: "none registered",
    admin_notify_services: "Admin notification services (comma separated)",
    lapse_notice_days: "Lapse notice (days ahead)",
    interest_expiry_hours: "\"Tell me when it's free\" waits at most (hours)",
  },
  it: {
    title: "FluxiLab",
    // Lab operations: presence
    presence: "Nel laboratorio",
    people_in_lab: "Persone nel laboratorio: {count}",
    nobody_in_lab: "Non c'è nessuno nel laboratorio.",
    since: "Da",
    where: "Dove",
    entrance: "entrato",
    print_list: "Stampa",
    check_in: "Registra ingresso",
    check_out: "Registra uscita",
    checkin_expiry_hours: "Gli ingressi scadono dopo (ore)",
    supervisor: "Supervisore",
    make_supervisor: "Rendi supervisore",
    remove_supervisor: "Non supervisore",
    trainer: "Formatore",
    trained_by: "formato da {name}",
    requires_supervisor: "Richiede un supervisore presente",
    supervisor_minutes: "Il supervisore vale per (minuti)",
    supervised_hours_start: "Uso senza supervisore dalle",
    supervised_hours_end: "Uso senza supervisore fino alle",
    training_expiry_days: "Le abilitazioni da formazione durano (giorni)",
    lab: "Laboratorio",
    profile: "Il mio profilo",
    admin: "Amministrazione",
    no_area: "Altre attrezzature",
    no_devices: "Non ci sono ancora attrezzature che puoi usare. Chiedi un'abilitazione a un amministratore del laboratorio.",
    not_linked: "Il tuo utente di Home Assistant non è collegato a un membro del laboratorio.",
    online: "In linea",
    offline: "Non in linea",
    in_use: "In uso",
    in_use_by: "In uso da {name}",
    free: "Libero",
    maintenance_due: "Manutenzione da fare",
    blocked: "Bloccato",
    not_paired: "Non abbinato",
    open: "Apri",
    opening: "Apertura…",
    open_refused: "L'indirizzo dell'interfaccia del dispositivo non è un indirizzo web: chiedi a un amministratore di verificarlo.",
    no_ui: "Nessuna interfaccia",
    gateway_certificate: "Impronta del certificato (SHA-256)",
    gateway_certificate_hint: "Se il browser avverte sul certificato di questo dispositivo, prosegui solo se mostra questa impronta.",
    hours_left: "{hours} h alla manutenzione",
    loading: "Caricamento…",
    member: "Membro",
    role: "Ruolo",
    role_admin: "Amministratore",
    role_staff: "Tecnico",
    role_user: "Utente",
    active: "Attivo",
    inactive: "Non attivo",
    cards: "Tessere",
    none: "Nessuna",
    authorizations: "Abilitazioni",
    expires: "Scadenza",
    never: "Mai",
    expired: "Scaduta",
    hours: "Orari",
    sessions: "Sessioni recenti",
    device: "Dispositivo",
    start: "Inizio",
    end: "Fine",
    duration: "Durata",
    open_session: "aperta",
    change_pin: "Cambia PIN / password dei dispositivi",
    pin_hint: "Almeno 6 caratteri. Si usa sul tastierino e nella pagina di accesso dei dispositivi.",
    current_pin: "PIN attuale",
    new_pin: "Nuovo PIN",
    repeat_pin: "Ripeti il nuovo PIN",
    save: "Salva",
    pin_mismatch: "I due nuovi PIN non coincidono.",
    pin_short: "Un PIN deve avere almeno 6 caratteri.",
    pin_changed: "Il PIN è stato cambiato.",
    pin_must_change: "Il tuo PIN è quello iniziale dato da un amministratore: non funziona sui dispositivi finché non lo sostituisci qui con uno tuo.",
    current_initial_pin: "PIN attuale (iniziale)",
    no_pin_yet: "Non hai ancora un PIN: chiedine uno a un amministratore (Ripristina PIN), poi sostituiscilo qui.",
    members: "Membri",
    devices: "Dispositivi",
    unknown_cards: "Tessere sconosciute",
    history: "Storico utilizzi",
    audit: "Registro eventi",
    name: "Nome",
    email: "E-mail",
    linked_user: "Utente Home Assistant",
    no_user: "Non collegato",
    card: "Tessera",
    initial_pin: "PIN iniziale",
    create_member: "Aggiungi membro",
    create: "Aggiungi",
    delete: "Elimina",
    confirm_delete: "Eliminare {name}? Il suo storico viene anonimizzato.",
    activate: "Attiva",
    deactivate: "Disattiva",
    grant: "Abilita",
    grant_to: "Abilita i membri",
    machine_type: "Tipo di macchina",
    revoke: "Revoca",
    block: "Blocca",
    unblock: "Sblocca",
    record_maintenance: "Manutenzione fatta",
    usage_hours: "Ore di utilizzo",
    seen_at: "Vista su",
    seen: "Vista",
    assign_to: "Assegna a",
    assign: "Assegna",
    filter: "Filtra",
    all: "Tutti",
    from: "Dal",
    to: "Al",
    download_csv: "Scarica CSV",
    time: "Ora",
    kind: "Evento",
    reason: "Motivo",
    done: "Fatto.",
    refresh: "Aggiorna",
    has_pin: "PIN impostato",
    no_pin: "Nessun PIN",
    target: "Per",
    status: "Stato",
    menu: "Menu",
    machine_types: "Tipi di macchina",
    settings: "Impostazioni",
    new_type: "Nuovo tipo di macchina",
    edit: "Modifica",
    session_timeout: "Scadenza sessione (s)",
    grace_period: "Tolleranza (s)",
    requires_authorization: "Richiede un'abilitazione",
    maintenance_interval: "Manutenzione ogni (ore di utilizzo)",
    maintenance_message: "Messaggio di manutenzione sul dispositivo",
    block_when_maintenance_due: "Blocca quando la manutenzione è da fare",
    offline_policy: "Senza l'hub (offline)",
    offline_default: "Predefinito: nega se ha limiti di sicurezza",
    offline_allow_mirrored: "Consenti i membri nella copia del dispositivo (le loro regole sono verificate lì)",
    offline_deny: "Nega a tutti",
    offline_max_age: "Offline al massimo per (ore senza l'hub)",
    busy_channel: "Occupata finché il canale",
    busy_above: "è sopra",
    busy_delay: "Libera dopo (s) sotto soglia",
    maintenance_conditions: "Condizioni di manutenzione (lista JSON)",
    busy: "In funzione (telemetria)",
    condition_progress: "{text}: {value} su {target}",
    safety_channel: "Interblocco di sicurezza: canale",
    safety_min: "minimo",
    safety_max: "massimo",
    safety: "Interblocco di sicurezza",
    retention: "Conservazione",
    usage_retention_days: "Conserva lo storico utilizzi (giorni)",
    unknown_card_retention_days: "Conserva le tessere sconosciute (giorni)",
    show_member_names: "Mostra i nomi dei membri nelle entità, nel registro e negli eventi (li vede ogni utente di Home Assistant; il registratore li conserva)",
    apply_retention: "Salva ed elimina",
    purged: "{count} voci anonimizzate, {cards} tessere sconosciute eliminate.",
    gdpr_export: "Esporta i dati di un membro (GDPR)",
    export: "Esporta",
    cancel: "Annulla",
    credentials: "Tessere e PIN",
    credentials_of: "Tessere e PIN di {name}",
    credential_label: "Etichetta",
    credential_type: "Tipo",
    type_card: "Tessera",
    type_pin: "PIN",
    last_used: "Ultimo uso",
    never_used: "Nessun uso",
    report_lost: "Segnala smarrimento",
    confirm_lost: "Disattivare {label}? I dispositivi la rifiutano subito; le altre tessere e il PIN continuano a funzionare. Un amministratore può riattivarla.",
    add_credential: "Aggiungi tessera",
    reset_pin: "Ripristina PIN",
    confirm_reset_pin: "Dare a {name} un nuovo PIN iniziale? Il PIN attuale smette subito di funzionare; quello nuovo è mostrato solo ora e non funziona su nessun dispositivo finché non viene sostituito.",
    pin_issued: "PIN iniziale di {name}: {pin} (mostrato solo ora). Consegnalo: va sostituito nel profilo prima di usarlo su un dispositivo.",
    must_change: "da cambiare",
    close: "Chiudi",
    // Lab operations: notifications, lapsing qualifications, interest queue
    notify_when_free: "Avvisami quando è libero",
    waiting_position: "Sarai avvisato (n. {position})",
    stop_waiting: "Non aspettare più",
    lapsing: "Decadenze",
    lapse_date: "Decade",
    lapsed: "Decaduta",
    lapse_cause_inactivity: "non usata",
    lapse_cause_expires: "scade",
    lapse_never: "Mai",
    renew: "Rinnova",
    lapsing_none: "Nessuna abilitazione decade entro {days} giorni.",
    lapsing_hint: "Abilitazioni non usate per i mesi del loro tipo di macchina, o in scadenza, entro {days} giorni. Rinnovare fa ripartire i mesi.",
    lapse_after_months: "Decade dopo mesi senza uso",
    notifications: "Notifiche",
    notify_service: "Servizio di notifica (notify.* o script.*)",
    notify_phones: "Vuoto: i tuoi telefoni con l'app di Home Assistant ({phones}).",
    no_phones: "nessuno registrato",
    admin_notify_services: "Servizi di notifica degli amministratori (separati da virgole)",
    lapse_notice_days: "Preavviso di decadenza (giorni)",
    interest_expiry_hours: "\"Avvisami quando è libero\" attende al massimo (ore)",
  },
};

const ADMIN_TABS = [
  "members",
  "authorizations",
  "machine_types",
  "devices",
  "unknown_cards",
  "history",
  "audit",
  "lapsing",
  "settings",
];

const esc = (value) =>
  String(value ?? "").replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c],
  );

const STYLE = `
  :host {
    display: block;
    min-height: 100%;
    background: var(--primary-background-color);
    color: var(--primary-text-color);
    font-family: var(--ha-font-family-body, var(--paper-font-body1_-_font-family, Roboto, sans-serif));
  }
  header {
    display: flex; align-items: center; gap: 8px;
    height: var(--header-height, 56px); padding: 0 12px;
    padding-top: env(safe-area-inset-top);
    background: var(--app-header-background-color, var(--primary-color));
    color: var(--app-header-text-color, var(--text-primary-color, #fff));
    position: sticky; top: 0; z-index: 2;
  }
  header h1 { font-size: 20px; font-weight: 400; margin: 0; flex: 1; }
  .menu { background: none; border: none; color: inherit; width: 48px; height: 48px; padding: 12px; cursor: pointer; }
  .menu svg { width: 24px; height: 24px; fill: currentColor; }
  nav.tabs {
    display: flex; overflow-x: auto; gap: 4px; padding: 0 8px;
    background: var(--app-header-background-color, var(--primary-color));
    color: var(--app-header-text-color, var(--text-primary-color, #fff));
  }
  nav.sub { background: none; color: var(--primary-text-color); border-bottom: 1px solid var(--divider-color); margin-bottom: 12px; }
  nav button {
    background: none; border: none; color: inherit; opacity: 0.75; font: inherit;
    padding: 12px 14px; min-height: 48px; cursor: pointer; white-space: nowrap;
    border-bottom: 2px solid transparent;
  }
  nav button[aria-selected="true"] { opacity: 1; border-bottom-color: currentColor; }
  nav.sub button[aria-selected="true"] { color: var(--primary-color); }
  main { padding: 16px; max-width: 1200px; margin: 0 auto; box-sizing: border-box; }
  h2 { font-size: 18px; font-weight: 500; margin: 20px 0 8px; color: var(--secondary-text-color); }
  .grid { display: grid; gap: 12px; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); }
  .card {
    background: var(--ha-card-background, var(--card-background-color, #fff));
    border-radius: var(--ha-card-border-radius, 12px);
    border: 1px solid var(--ha-card-border-color, var(--divider-color, #e0e0e0));
    box-shadow: var(--ha-card-box-shadow, none);
    padding: 16px; box-sizing: border-box;
  }
  .card h3 { margin: 0 0 4px; font-size: 16px; font-weight: 500; }
  .sub-title { color: var(--secondary-text-color); font-size: 13px; margin-bottom: 8px; }
  .chips { display: flex; flex-wrap: wrap; gap: 6px; margin: 8px 0; }
  .chip { font-size: 12px; padding: 3px 10px; border-radius: 12px; background: var(--secondary-background-color, rgba(127,127,127,.15)); }
  .chip.ok { background: var(--success-color, #43a047); color: #fff; }
  .chip.bad { background: var(--error-color, #db4437); color: #fff; }
  .chip.warn { background: var(--warning-color, #ffa600); color: #000; }
  .chip.info { background: var(--info-color, #039be5); color: #fff; }
  .telemetry { display: grid; grid-template-columns: 1fr auto; gap: 2px 12px; font-size: 14px; margin: 8px 0 12px; }
  .telemetry .v { font-variant-numeric: tabular-nums; text-align: right; }
  .actions { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
  .certificate { margin-top: 8px; font-size: 13px; }
  .certificate code { display: block; word-break: break-all; font-size: 12px; }
  button.primary, button.secondary, button.danger {
    font: inherit; font-weight: 500; border-radius: 8px; min-height: 40px; padding: 0 16px; cursor: pointer;
    border: 1px solid var(--primary-color); background: var(--primary-color); color: var(--text-primary-color, #fff);
  }
  button.secondary { background: transparent; color: var(--primary-color); }
  button.danger { background: transparent; color: var(--error-color, #db4437); border-color: var(--error-color, #db4437); }
  button:disabled { opacity: 0.5; cursor: default; }
  .message { padding: 12px; border-radius: 8px; margin-bottom: 12px; background: var(--secondary-background-color); }
  .message.error { background: var(--error-color, #db4437); color: #fff; }
  .message.success { background: var(--success-color, #43a047); color: #fff; }
  .muted { color: var(--secondary-text-color); }
  form { display: grid; gap: 10px; max-width: 520px; }
  form.inline { display: flex; flex-wrap: wrap; align-items: end; max-width: none; }
  label { display: grid; gap: 4px; font-size: 13px; color: var(--secondary-text-color); }
  input, select, textarea {
    font: inherit; font-size: 16px; min-height: 40px; padding: 6px 10px; box-sizing: border-box;
    border-radius: 6px; border: 1px solid var(--divider-color);
    background: var(--input-fill-color, var(--card-background-color)); color: var(--primary-text-color);
  }
  .checks { display: flex; flex-wrap: wrap; gap: 4px 16px; }
  .checks label { display: flex; align-items: center; gap: 6px; font-size: 15px; color: var(--primary-text-color); min-height: 40px; }
  label.check { display: flex; align-items: center; gap: 8px; font-size: 15px; color: var(--primary-text-color); min-height: 40px; }
  input[type="checkbox"] { min-height: auto; width: 20px; height: 20px; }
  .table-wrap { overflow-x: auto; }
  table { width: 100%; border-collapse: collapse; font-size: 14px; }
  th, td { text-align: left; padding: 8px; border-bottom: 1px solid var(--divider-color); vertical-align: middle; }
  th { color: var(--secondary-text-color); font-weight: 500; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 6px 16px; margin: 0; }
  dt { color: var(--secondary-text-color); }
  dd { margin: 0; }
`;

const MENU_ICON =
  '<svg viewBox="0 0 24 24"><path d="M3,6H21V8H3V6M3,11H21V13H3V11M3,16H21V18H3V16Z"/></svg>';

class FluxiLabPanel extends HTMLElement {
  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    this._tab = "lab";
    this._adminTab = "members";
    this._lab = null;
    this._profile = null;
    this._admin = null;
    this._rows = null;
    this._audit = null;
    this._historyFilter = null;
    this._editType = null;
    this._editCredentials = null;
    this._message = null;
    this._busy = new Set();
    this._ops = { interest: [], lapses: null, notify: null, lapsing: null, settings: null };
    this._unsubscribe = null;
    this._narrow = false;
    this.shadowRoot.addEventListener("click", (ev) => this._onClick(ev));
    this.shadowRoot.addEventListener("submit", (ev) => this._onSubmit(ev));
    this.shadowRoot.addEventListener("change", (ev) => this._onChange(ev));
  }

  set hass(hass) {
    const first = !this._hass;
    const langChanged = this._hass && this._hass.language !== hass.language;
    this._hass = hass;
    if (first) {
      this._renderShell();
      this._subscribe();
    } else if (langChanged) {
      this._renderShell();
    }
  }

  get hass() {
    return this._hass;
  }

  set narrow(value) {
    if (this._narrow !== Boolean(value)) {
      this._narrow = Boolean(value);
      if (this._hass) this._renderShell();
    }
  }

  get narrow() {
    return this._narrow;
  }

  set panel(_value) {}

  set route(_value) {}

  connectedCallback() {
    if (this._hass && !this._unsubscribe) this._subscribe();
  }

  disconnectedCallback() {
    this._stop();
  }

  _stop() {
    if (this._unsubscribe) {
      const unsub = this._unsubscribe;
      this._unsubscribe = null;
      Promise.resolve(unsub)
        .then((fn) => fn && fn())
        .catch(() => {});
    }
  }

  // Data -------------------------------------------------------------------------

  _subscribe() {
    if (this._unsubscribe || !this._hass) return;
    this._unsubscribe = this._hass.connection
      .subscribeMessage(
        (lab) => {
          const managerChanged = !this._lab || this._lab.manager !== lab.manager;
          this._lab = lab;
          this._labUpdated();
          if (managerChanged) {
            if (!lab.manager && this._tab === "admin") this._tab = "lab";
            this._renderTabs();
          }
          if (this._tab === "lab") this._renderContent();
        },
        { type: "fluxilab/panel/subscribe" },
      )
      .catch((err) => {
        this._unsubscribe = null;
        this._fail(err);
      });
  }

  _ws(type, data = {}) {
    return this._hass.connection.sendMessagePromise({ type: `fluxilab/panel/${type}`, ...data });
  }

  async _loadProfile() {
    try {
      this._profile = await this._ws("profile");
    } catch (err) {
      this._fail(err);
    }
    this._renderContent();
  }

  async _loadAdmin() {
    try {
      this._admin = await this._ws("admin/state");
    } catch (err) {
      this._fail(err);
    }
    this._renderContent();
  }

  async _run(key, type, data, { reload = true, success = true } = {}) {
    this._busy.add(key);
    this._renderContent();
    try {
      const result = await this._ws(type, data);
      if (success) this._message = { kind: "success", text: this._t("done") };
      if (reload) await this._loadAdmin();
      return result;
    } catch (err) {
      this._fail(err);
      return undefined;
    } finally {
      this._busy.delete(key);
      this._renderContent();
    }
  }

  _fail(err) {
    this._message = { kind: "error", text: (err && (err.message || err.code)) || String(err) };
    this._renderContent();
  }

  // Strings ----------------------------------------------------------------------

  _t(key, params = {}) {
    const lang = (this._hass && this._hass.language) || "en";
    const table = STRINGS[lang.split("-")[0]] || STRINGS.en;
    let text = table[key] ?? STRINGS.en[key] ?? key;
    for (const [name, value] of Object.entries(params)) text = text.replace(`{${name}}`, value);
    return text;
  }

  _locale() {
    return (this._hass && this._hass.language) || "en";
  }

  _when(value) {
    if (value === null || value === undefined || value === "") return "";
    const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
    return Number.isNaN(date.getTime())
      ? String(value)
      : date.toLocaleString(this._locale(), { dateStyle: "short", timeStyle: "short" });
  }

  _number(value) {
    if (typeof value === "boolean") return value ? "✔" : "✘";
    if (typeof value !== "number") return value ?? "—";
    return value.toLocaleString(this._locale(), { maximumFractionDigits: 2 });
  }

  _duration(seconds) {
    if (typeof seconds !== "number") return "";
    const minutes = Math.round(seconds / 60);
    return minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  }

  // Rendering --------------------------------------------------------------------

  _renderShell() {
    const menu = this._narrow
      ? `<button class="menu" data-action="menu" aria-label="${esc(this._t("menu"))}">${MENU_ICON}</button>`
      : "";
    this.shadowRoot.innerHTML = `
      <style>${STYLE}</style>
      <header>${menu}<h1>${esc(this._t("title"))}</h1></header>
      <nav class="tabs" role="tablist"></nav>
      <main id="content"></main>`;
    this._renderTabs();
    this._renderContent();
  }

  _renderTabs() {
    const nav = this.shadowRoot.querySelector("nav.tabs");
    if (!nav) return;
    const tabs = ["lab", "presence", "profile"];
    if (this._lab && this._lab.manager) tabs.push("admin");
    nav.innerHTML = tabs
      .map(
        (tab) =>
          `<button role="tab" data-action="tab" data-tab="${tab}" aria-selected="${this._tab === tab}">${esc(this._t(tab))}</button>`,
      )
      .join("");
  }

  _renderContent() {
    const main = this.shadowRoot.getElementById("content");
    if (!main) return;
    let html = "";
    if (this._message) {
      html += `<div class="message ${esc(this._message.kind)}" data-action="dismiss">${esc(this._message.text)}</div>`;
    }
    if (this._tab === "lab") html += this._labHtml();
    else if (this._tab === "presence") html += this._presenceHtml();
    else if (this._tab === "profile") html += this._profileHtml();
    else html += this._adminHtml();
    main.innerHTML = html;
  }

  _labHtml() {
    const lab = this._lab;
    if (!lab) return `<p class="muted">${esc(this._t("loading"))}</p>`;
    let html = "";
    if (!lab.member && !lab.manager) html += `<p class="muted">${esc(this._t("not_linked"))}</p>`;
    if (!lab.areas.length) return `${html}<p class="muted">${esc(this._t("no_devices"))}</p>`;
    for (const area of lab.areas) {
      html += `<h2>${esc(area.area || this._t("no_area"))}</h2><div class="grid">`;
      html += area.devices.map((device) => this._deviceCard(device)).join("");
      html += "</div>";
    }
    return html;
  }

  _deviceCard(d) {
    const chips = [
      d.online
        ? `<span class="chip ok">${esc(this._t("online"))}</span>`
        : `<span class="chip bad">${esc(this._t("offline"))}</span>`,
      d.in_use
        ? `<span class="chip info">${esc(d.member_name ? this._t("in_use_by", { name: d.member_name }) : this._t("in_use"))}</span>`
        : `<span class="chip">${esc(this._t("free"))}</span>`,
    ];
    if (d.blocked) chips.push(`<span class="chip bad">${esc(this._t("blocked"))}</span>`);
    if (d.maintenance_due) chips.push(`<span class="chip warn">${esc(this._t("maintenance_due"))}</span>`);
    if (d.busy) chips.push(`<span class="chip info">${esc(this._t("busy"))}</span>`);
    if (!d.paired) chips.push(`<span class="chip warn">${esc(this._t("not_paired"))}</span>`);
    const telemetry = d.telemetry
      .map(
        (c) =>
          `<span>${esc(c.name)}</span><span class="v">${esc(this._number(c.value))}${c.unit && c.value !== null && c.value !== undefined ? ` ${esc(c.unit)}` : ""}</span>`,
      )
      .join("");
    const hours =
      typeof d.hours_to_maintenance === "number" && !d.maintenance_due
        ? `<div class="muted">${esc(this._t("hours_left", { hours: this._number(d.hours_to_maintenance) }))}</div>`
        : "";
    const key = `open:${d.device_id}`;
    const canOpen = d.paired && d.has_ui;
    const button = canOpen
      ? `<button class="primary" data-action="open" data-device="${esc(d.device_id)}" ${this._busy.has(key) ? "disabled" : ""}>${esc(this._busy.has(key) ? this._t("opening") : this._t("open"))}</button>`
      : `<span class="muted">${esc(d.paired ? this._t("no_ui") : this._t("not_paired"))}</span>`;
    const certificate =
      d.has_ui && d.gateway_fingerprint
        ? `<details class="certificate"><summary class="muted">${esc(this._t("gateway_certificate"))}</summary><p class="muted">${esc(this._t("gateway_certificate_hint"))}</p><code>${esc(d.gateway_fingerprint)}</code></details>`
        : "";
    return `
      <div class="card device" data-device="${esc(d.device_id)}">
        <h3>${esc(d.name)}</h3>
        <div class="sub-title">${esc([d.machine_type, d.device_id].filter(Boolean).join(" · "))}</div>
        <div class="chips">${chips.join("")}</div>
        ${telemetry ? `<div class="telemetry">${telemetry}</div>` : ""}
        ${hours}
        ${this._conditionsHtml(d)}
        <div class="actions">${button}${this._interestHtml(d)}</div>
        ${certificate}
      </div>`;
  }

  _conditionsHtml(d) {
    // Telemetry maintenance conditions: progress, and which one is due.
    return (d.maintenance_conditions || [])
      .map(
        (c) =>
          `<div class="muted">${c.due ? `<span class="chip warn">${esc(this._t("maintenance_due"))}</span> ` : ""}${esc(
            this._t("condition_progress", {
              text: c.text,
              value: this._number(c.value),
              target: this._number(c.target),
            }),
          )}</div>`,
      )
      .join("");
  }

  _role(role) {
    return this._t(`role_${role}`);
  }

  _profileHtml() {
    const p = this._profile;
    if (!p) return `<p class="muted">${esc(this._t("loading"))}</p>`;
    if (!p.member) return `<p class="muted">${esc(this._t("not_linked"))}</p>`;
    const m = p.member;
    const auths = p.authorizations.length
      ? `<div class="table-wrap"><table><tr><th>${esc(this._t("target"))}</th><th>${esc(this._t("expires"))}</th><th>${esc(this._t("hours"))}</th></tr>${p.authorizations
          .map(
            (a) =>
              `<tr><td>${esc(a.target)}</td><td>${a.expired ? `<span class="chip bad">${esc(this._t("expired"))}</span> ` : ""}${esc(a.expires ? this._when(a.expires) : this._t("never"))}</td><td>${esc(a.window_start ? `${a.window_start}–${a.window_end}` : "")}</td></tr>`,
          )
          .join("")}</table></div>`
      : `<p class="muted">${esc(this._t("none"))}</p>`;
    const sessions = p.sessions.length
      ? `<div class="table-wrap"><table><tr><th>${esc(this._t("device"))}</th><th>${esc(this._t("start"))}</th><th>${esc(this._t("duration"))}</th></tr>${p.sessions
          .map(
            (s) =>
              `<tr><td>${esc(s.device_id)}</td><td>${esc(this._when(s.start))}</td><td>${esc(s.end ? this._duration(s.duration) : this._t("open_session"))}</td></tr>`,
          )
          .join("")}</table></div>`
      : `<p class="muted">${esc(this._t("none"))}</p>`;
    const mustChange = m.pin_must_change
      ? `<div class="message error" data-pin="must-change">${esc(this._t("pin_must_change"))}</div>`
      : "";
    return `${mustChange}
      <div class="card">
        <h3>${esc(m.name)}</h3>
        <dl>
          <dt>${esc(this._t("role"))}</dt><dd>${esc(this._role(m.role))}</dd>
          <dt>${esc(this._t("status"))}</dt><dd>${esc(m.active ? this._t("active") : this._t("inactive"))}</dd>
          ${m.email ? `<dt>${esc(this._t("email"))}</dt><dd>${esc(m.email)}</dd>` : ""}
        </dl>
      </div>
      <h2>${esc(this._t("credentials"))}</h2>${this._ownCredentialsHtml(m)}
      <h2>${esc(this._t("authorizations"))}</h2>${auths}${this._ownLapsesHtml()}
      ${this._ownNotifyHtml()}
      <h2>${esc(this._t("sessions"))}</h2>${sessions}
      ${this._pinFormHtml(m)}`;
  }

  // The member's own PIN: an initial one (an admin's) only serves to be replaced, and
  // every change gives the current PIN.
  _pinFormHtml(m) {
    if (!m.has_pin) {
      return `<h2>${esc(this._t("change_pin"))}</h2><p class="muted" data-pin="none">${esc(this._t("no_pin_yet"))}</p>`;
    }
    return `
      <h2>${esc(this._t("change_pin"))}</h2>
      <form data-form="pin" class="card" autocomplete="off">
        <span class="muted">${esc(this._t("pin_hint"))}</span>
        <label>${esc(this._t(m.pin_must_change ? "current_initial_pin" : "current_pin"))}<input type="password" name="current_pin" autocomplete="current-password" required></label>
        <label>${esc(this._t("new_pin"))}<input type="password" name="new_pin" autocomplete="new-password" minlength="6" required></label>
        <label>${esc(this._t("repeat_pin"))}<input type="password" name="repeat_pin" autocomplete="new-password" minlength="6" required></label>
        <div class="actions"><button class="primary" type="submit" ${this._busy.has("pin") ? "disabled" : ""}>${esc(this._t("save"))}</button></div>
      </form>`;
  }

  _adminHtml() {
    const a = this._admin;
    const tabs = `<nav class="sub tabs" role="tablist">${ADMIN_TABS.map(
      (tab) =>
        `<button role="tab" data-action="admin-tab" data-tab="${tab}" aria-selected="${this._adminTab === tab}">${esc(this._t(tab))}</button>`,
    ).join("")}</nav>`;
    if (!a) return `${tabs}<p class="muted">${esc(this._t("loading"))}</p>`;
    const body = {
      members: () => this._membersHtml(a),
      authorizations: () => this._authorizationsHtml(a),
      devices: () => this._devicesHtml(a),
      unknown_cards: () => this._cardsHtml(a),
      history: () => this._historyHtml(a),
      audit: () => this._auditHtml(a),
      machine_types: () => this._machineTypesHtml(a),
      lapsing: () => this._lapsingHtml(),
      settings: () => this._settingsHtml(a),
    }[this._adminTab]();
    return tabs + body;
  }

  _options(items, selected, { empty } = {}) {
    const first = empty !== undefined ? `<option value="">${esc(empty)}</option>` : "";
    return (
      first +
      items
        .map(
          ([value, label]) =>
            `<option value="${esc(value)}" ${value === selected ? "selected" : ""}>${esc(label)}</option>`,
        )
        .join("")
    );
  }

  _memberName(a, id) {
    const m = a.members.find((x) => x.id === id);
    return m ? m.name : id || "—";
  }

  _membersHtml(a) {
    const roles = ["user", "staff", "admin"].map((r) => [r, this._role(r)]);
    const users = a.users.map((u) => [u.id, u.name]);
    const rows = a.members
      .map(
        (m) => `<tr data-member="${esc(m.id)}">
          <td>${esc(m.name)}<div class="muted">${esc(m.email || "")}</div></td>
          <td><select data-action="member-role" data-member="${esc(m.id)}" aria-label="${esc(this._t("role"))}">${this._options(roles, m.role)}</select></td>
          <td><select data-action="member-user" data-member="${esc(m.id)}" aria-label="${esc(this._t("linked_user"))}">${this._options(users, m.user_id || "", { empty: this._t("no_user") })}</select></td>
          <td>${esc(m.cards.join(", ") || "—")} <button class="secondary" data-action="credentials-edit" data-member="${esc(m.id)}">${esc(this._t("edit"))}</button></td>
          <td>${esc(m.has_pin ? this._t("has_pin") : this._t("no_pin"))}</td>
          <td class="actions">
            ${this._superviseButtonHtml(m)}
            <button class="secondary" data-action="member-active" data-member="${esc(m.id)}" data-active="${!m.active}">${esc(m.active ? this._t("deactivate") : this._t("activate"))}</button>
            <button class="danger" data-action="member-delete" data-member="${esc(m.id)}" data-name="${esc(m.name)}">${esc(this._t("delete"))}</button>
          </td></tr>`,
      )
      .join("");
    return `
      <div class="table-wrap"><table>
        <tr><th>${esc(this._t("name"))}</th><th>${esc(this._t("role"))}</th><th>${esc(this._t("linked_user"))}</th><th>${esc(this._t("cards"))}</th><th>PIN</th><th></th></tr>
        ${rows}
      </table></div>
      ${this._credentialsEditorHtml(a)}
      <h2>${esc(this._t("create_member"))}</h2>
      <form data-form="member" class="card" autocomplete="off">
        <label>${esc(this._t("name"))}<input name="name" required maxlength="100"></label>
        <label>${esc(this._t("email"))}<input name="email" type="email"></label>
        <label>${esc(this._t("role"))}<select name="role">${this._options(roles, "user")}</select></label>
        <label>${esc(this._t("linked_user"))}<select name="user_id">${this._options(users, "", { empty: this._t("no_user") })}</select></label>
        <label>${esc(this._t("card"))}<input name="card" maxlength="64"></label>
        <label>${esc(this._t("initial_pin"))}<input name="pin" type="password" minlength="6" autocomplete="new-password"></label>
        <div class="actions"><button class="primary" type="submit">${esc(this._t("create"))}</button></div>
      </form>`;
  }

  // Credentials (several cards and a PIN per member) ----------------------------------

  _credentialRowHtml(c, { admin, memberId }) {
    const kind = c.type === "pin" ? this._t("type_pin") : this._t("type_card");
    const used = c.last_used ? this._when(c.last_used) : this._t("never_used");
    const key = `credential:${c.id}`;
    const busy = this._busy.has(key) ? "disabled" : "";
    const mustChange = c.must_change ? ` <span class="chip warn">${esc(this._t("must_change"))}</span>` : "";
    const state = `<span class="chip ${c.active ? "" : "bad"}">${esc(c.active ? this._t("active") : this._t("inactive"))}</span>${mustChange}`;
    const actions = admin
      ? `<button class="secondary" data-action="credential-toggle" data-member="${esc(memberId)}" data-credential="${esc(c.id)}" data-active="${!c.active}" ${busy}>${esc(c.active ? this._t("deactivate") : this._t("activate"))}</button>
         <button class="danger" data-action="credential-remove" data-member="${esc(memberId)}" data-credential="${esc(c.id)}" data-label="${esc(c.label)}" ${busy}>${esc(this._t("delete"))}</button>`
      : c.active
        ? `<button class="danger" data-action="credential-lost" data-credential="${esc(c.id)}" data-label="${esc(c.label)}" ${busy}>${esc(this._t("report_lost"))}</button>`
        : "";
    return `<tr><td>${esc(c.label)}</td><td>${esc(kind)}</td><td>${esc(c.card || "")}</td><td>${state}</td><td>${esc(used)}</td><td class="actions">${actions}</td></tr>`;
  }

  _credentialsTableHtml(credentials, options) {
    if (!credentials.length) return `<p class="muted">${esc(this._t("none"))}</p>`;
    return `<div class="table-wrap"><table>
      <tr><th>${esc(this._t("credential_label"))}</th><th>${esc(this._t("credential_type"))}</th><th>${esc(this._t("card"))}</th><th>${esc(this._t("status"))}</th><th>${esc(this._t("last_used"))}</th><th></th></tr>
      ${credentials.map((c) => this._credentialRowHtml(c, options)).join("")}
    </table></div>`;
  }

  _ownCredentialsHtml(m) {
    return this._credentialsTableHtml(m.credentials || [], { admin: false });
  }

  _credentialsEditorHtml(a) {
    const m = a.members.find((x) => x.id === this._editCredentials);
    if (!m) return "";
    // An admin never types a member's PIN: Reset PIN issues a random initial one.
    const resetKey = `reset-pin:${m.id}`;
    return `
      <h2>${esc(this._t("credentials_of", { name: m.name }))}</h2>
      ${this._credentialsTableHtml(m.credentials || [], { admin: true, memberId: m.id })}
      <form data-form="credential-add" data-member="${esc(m.id)}" class="card" autocomplete="off">
        <label>${esc(this._t("card"))}<input name="secret" type="password" maxlength="64" required autocomplete="off"></label>
        <label>${esc(this._t("credential_label"))}<input name="label" maxlength="64"></label>
        <div class="actions">
          <button class="primary" type="submit" ${this._busy.has("credential-add") ? "disabled" : ""}>${esc(this._t("add_credential"))}</button>
          <button class="secondary" type="button" data-action="credential-reset-pin" data-member="${esc(m.id)}" data-name="${esc(m.name)}" ${this._busy.has(resetKey) ? "disabled" : ""}>${esc(this._t("reset_pin"))}</button>
          <button class="secondary" type="button" data-action="credentials-close">${esc(this._t("close"))}</button>
        </div>
      </form>`;
  }

  async _credentialCommand(key, verb, data, { admin }) {
    this._busy.add(key);
    this._renderContent();
    try {
      await this._hass.connection.sendMessagePromise({
        type: `fluxilab/credentials/${verb}`,
        ...data,
      });
      this._message = { kind: "success", text: this._t("done") };
      return true;
    } catch (err) {
      this._fail(err);
      return false;
    } finally {
      this._busy.delete(key);
      if (admin) await this._loadAdmin();
      else await this._loadProfile();
    }
  }

  _credentialAction(target) {
    const { action, member, credential } = target.dataset;
    if (action === "credentials-edit") {
      this._editCredentials = member;
      this._renderContent();
    } else if (action === "credentials-close") {
      this._editCredentials = null;
      this._renderContent();
    } else if (action === "credential-toggle") {
      this._credentialCommand(
        `credential:${credential}`,
        "update",
        { member_id: member, credential_id: credential, active: target.dataset.active === "true" },
        { admin: true },
      );
    } else if (action === "credential-remove") {
      // eslint-disable-next-line no-alert
      if (window.confirm(this._t("confirm_delete", { name: target.dataset.label }))) {
        this._credentialCommand(
          `credential:${credential}`,
          "remove",
          { member_id: member, credential_id: credential },
          { admin: true },
        );
      }
    } else if (action === "credential-reset-pin") {
      // eslint-disable-next-line no-alert
      if (window.confirm(this._t("confirm_reset_pin", { name: target.dataset.name }))) {
        this._credentialResetPin(member, target.dataset.name);
      }
    } else if (action === "credential-lost") {
      // eslint-disable-next-line no-alert
      if (window.confirm(this._t("confirm_lost", { label: target.dataset.label }))) {
        this._credentialCommand(
          `credential:${credential}`,
          "update",
          { credential_id: credential, active: false },
          { admin: false },
        );
      }
    }
  }

  async _credentialAdd(form, data) {
    const payload = { member_id: form.dataset.member, credential_type: "card", card: data.get("secret") };
    if (data.get("label")) payload.label = data.get("label");
    await this._credentialCommand("credential-add", "add", payload, { admin: true });
  }

  // The reply holds the initial PIN: shown once, in the message, never stored here.
  async _credentialResetPin(memberId, name) {
    const key = `reset-pin:${memberId}`;
    this._busy.add(key);
    this._renderContent();
    let issued = null;
    try {
      issued = await this._hass.connection.sendMessagePromise({
        type: "fluxilab/credentials/reset_pin",
        member_id: memberId,
      });
    } catch (err) {
      this._fail(err);
    } finally {
      this._busy.delete(key);
      await this._loadAdmin();
    }
    if (issued) {
      this._message = { kind: "success", text: this._t("pin_issued", { name, pin: issued.pin }) };
      this._renderContent();
    }
  }

  _targetName(a, auth) {
    if (auth.machine_type_id) {
      const t = a.machine_types.find((x) => x.id === auth.machine_type_id);
      return t ? t.name : auth.machine_type_id;
    }
    return auth.device_id;
  }

  _authorizationsHtml(a) {
    const rows = a.authorizations
      .map(
        (auth) => `<tr>
          <td>${esc(this._memberName(a, auth.member_id))}</td>
          <td>${esc(this._targetName(a, auth))}${this._authPresenceHtml(a, auth)}</td>
          <td>${esc(auth.expires ? this._when(auth.expires) : this._t("never"))}</td>
          <td><button class="danger" data-action="revoke" data-auth="${esc(auth.id)}">${esc(this._t("revoke"))}</button></td>
        </tr>`,
      )
      .join("");
    const targets = [
      ...a.machine_types.map((t) => [`type:${t.id}`, `${this._t("machine_type")}: ${t.name}`]),
      ...a.devices.map((d) => [`device:${d.device_id}`, `${this._t("device")}: ${d.name}`]),
    ];
    const members = a.members
      .map(
        (m) => `<label><input type="checkbox" name="member_ids" value="${esc(m.id)}"> ${esc(m.name)}</label>`,
      )
      .join("");
    return `
      <div class="table-wrap"><table>
        <tr><th>${esc(this._t("member"))}</th><th>${esc(this._t("target"))}</th><th>${esc(this._t("expires"))}</th><th></th></tr>
        ${rows}
      </table></div>
      <h2>${esc(this._t("grant_to"))}</h2>
      <form data-form="grant" class="card">
        <div class="checks">${members}</div>
        <label>${esc(this._t("target"))}<select name="target" required>${this._options(targets, "")}</select></label>
        <label>${esc(this._t("expires"))}<input name="expires" type="date"></label>
        <label class="check"><input type="checkbox" name="trainer"> ${esc(this._t("trainer"))}</label>
        <div class="actions"><button class="primary" type="submit">${esc(this._t("grant"))}</button></div>
      </form>`;
  }

  _devicesHtml(a) {
    const rows = a.devices
      .map(
        (d) => `<tr data-device="${esc(d.device_id)}">
          <td>${esc(d.name)}<div class="muted">${esc(d.device_id)}</div></td>
          <td><span class="chip ${d.online ? "ok" : "bad"}">${esc(d.online ? this._t("online") : this._t("offline"))}</span>
              ${d.blocked ? `<span class="chip bad">${esc(this._t("blocked"))}</span>` : ""}
              ${d.maintenance_due ? `<span class="chip warn">${esc(this._t("maintenance_due"))}</span>` : ""}</td>
          <td>${esc(this._number(d.usage_hours))}${typeof d.hours_to_maintenance === "number" ? ` <span class="muted">(${esc(this._t("hours_left", { hours: this._number(d.hours_to_maintenance) }))})</span>` : ""}</td>
          <td class="actions">
            <button class="${d.blocked ? "secondary" : "danger"}" data-action="block" data-device="${esc(d.device_id)}" data-blocked="${!d.blocked}">${esc(d.blocked ? this._t("unblock") : this._t("block"))}</button>
            <button class="secondary" data-action="maintenance" data-device="${esc(d.device_id)}">${esc(this._t("record_maintenance"))}</button>
          </td></tr>`,
      )
      .join("");
    return `<div class="table-wrap"><table>
        <tr><th>${esc(this._t("device"))}</th><th>${esc(this._t("status"))}</th><th>${esc(this._t("usage_hours"))}</th><th></th></tr>
        ${rows}</table></div>`;
  }

  _machineTypesHtml(a) {
    const rows = a.machine_types
      .map((t) => {
        const safety = (t.safety_limits || [])
          .map((l) => `${l.channel} ${l.min !== undefined ? `≥ ${l.min}` : ""} ${l.max !== undefined ? `≤ ${l.max}` : ""}`)
          .join(", ");
        return `<tr data-type="${esc(t.id)}"><td>${esc(t.name)}</td>
          <td>${esc(t.requires_authorization ? "✔" : "✘")}</td>
          <td>${esc(safety || "—")}</td>
          <td>${esc(t.maintenance_interval ? `${this._number(t.maintenance_interval)} h` : "—")}</td>
          <td class="actions">
            <button class="secondary" data-action="type-edit" data-type="${esc(t.id)}">${esc(this._t("edit"))}</button>
            <button class="danger" data-action="type-delete" data-type="${esc(t.id)}">${esc(this._t("delete"))}</button>
          </td></tr>`;
      })
      .join("");
    const t = a.machine_types.find((x) => x.id === this._editType) || {};
    const limit = (t.safety_limits || [])[0] || {};
    const channels = [...new Set(a.devices.flatMap((d) => d.telemetry.map((c) => c.key)))];
    const channelOptions = this._options(
      channels.map((c) => [c, c]),
      limit.channel || "",
      { empty: this._t("none") },
    );
    const number = (name, value, step = "any") =>
      `<label>${esc(this._t(name))}<input type="number" name="${name}" step="${step}" min="0" value="${esc(value ?? "")}"></label>`;
    const check = (name, value) =>
      `<label class="check"><input type="checkbox" name="${name}" ${value ? "checked" : ""}> ${esc(this._t(name))}</label>`;
    return `
      <div class="table-wrap"><table>
        <tr><th>${esc(this._t("name"))}</th><th>${esc(this._t("requires_authorization"))}</th><th>${esc(this._t("safety"))}</th><th>${esc(this._t("maintenance_interval"))}</th><th></th></tr>
        ${rows}
      </table></div>
      <h2>${esc(t.id ? `${this._t("edit")}: ${t.name}` : this._t("new_type"))}</h2>
      <form data-form="type" class="card" data-type="${esc(t.id || "")}">
        <label>${esc(this._t("name"))}<input name="name" required maxlength="100" value="${esc(t.name || "")}"></label>
        ${number("session_timeout", t.session_timeout ?? 900, "1")}
        ${number("grace_period", t.grace_period ?? 60, "1")}
        ${check("requires_authorization", t.requires_authorization ?? true)}
        ${number("maintenance_interval", t.maintenance_interval)}
        <label>${esc(this._t("maintenance_message"))}<input name="maintenance_message" maxlength="32" value="${esc(t.maintenance_message || "")}"></label>
        ${check("block_when_maintenance_due", t.block_when_maintenance_due)}
        ${number("lapse_after_months", t.lapse_after_months, "1")}
        ${this._presenceTypeHtml(t, number, check)}
        <label>${esc(this._t("safety_channel"))}<select name="safety_channel">${channelOptions}</select></label>
        <div class="actions">
          <label>${esc(this._t("busy_channel"))}<select name="busy_channel">${this._options(
            channels.map((c) => [c, c]),
            t.busy_channel || "",
            { empty: this._t("none") },
          )}</select></label>
          <label>${esc(this._t("busy_above"))}<input type="number" name="busy_above" step="any" value="${esc(t.busy_above ?? "")}"></label>
          ${number("busy_delay", t.busy_delay ?? 30, "1")}
        </div>
        <label>${esc(this._t("maintenance_conditions"))}<textarea name="maintenance_conditions" rows="3" placeholder='[{"kind": "channel_hours", "channel": "fan_running", "hours": 500}]'>${esc(
          t.maintenance_conditions && t.maintenance_conditions.length ? JSON.stringify(t.maintenance_conditions) : "",
        )}</textarea></label>
        <div class="actions">${number("safety_min", limit.min)}${number("safety_max", limit.max)}</div>
        <div class="actions">
          <label>${esc(this._t("offline_policy"))}<select name="offline_policy">${this._options(
            [
              ["allow_mirrored", this._t("offline_allow_mirrored")],
              ["deny", this._t("offline_deny")],
            ],
            t.offline_policy || "",
            { empty: this._t("offline_default") },
          )}</select></label>
          ${number("offline_max_age", t.offline_max_age ?? 24)}
        </div>
        <div class="actions">
          <button class="primary" type="submit">${esc(this._t("save"))}</button>
          ${t.id ? `<button class="secondary" type="button" data-action="type-new">${esc(this._t("cancel"))}</button>` : ""}
        </div>
      </form>`;
  }

  _settingsHtml(a) {
    const members = a.members.map((m) => [m.id, m.name]);
    return `${this._notifySettingsHtml()}
      <h2>${esc(this._t("retention"))}</h2>
      <form data-form="retention" class="card">
        <label>${esc(this._t("usage_retention_days"))}<input type="number" min="1" max="36500" step="1" name="usage_retention_days" required value="${esc(a.settings.usage_retention_days)}"></label>
        <label>${esc(this._t("unknown_card_retention_days"))}<input type="number" min="1" max="36500" step="1" name="unknown_card_retention_days" required value="${esc(a.settings.unknown_card_retention_days)}"></label>
        <label class="check"><input type="checkbox" name="show_member_names"${a.settings.show_member_names ? " checked" : ""}> ${esc(this._t("show_member_names"))}</label>
        <div class="actions"><button class="primary" type="submit">${esc(this._t("apply_retention"))}</button></div>
      </form>
      <h2>${esc(this._t("gdpr_export"))}</h2>
      <form data-form="export" class="inline">
        <select name="member_id" required aria-label="${esc(this._t("member"))}">${this._options(members, "", { empty: "—" })}</select>
        <button class="primary" type="submit">${esc(this._t("export"))}</button>
      </form>`;
  }

  _cardsHtml(a) {
    if (!a.unknown_cards.length) return `<p class="muted">${esc(this._t("none"))}</p>`;
    const members = a.members.map((m) => [m.id, m.name]);
    return `<div class="table-wrap"><table>
      <tr><th>${esc(this._t("card"))}</th><th>${esc(this._t("seen_at"))}</th><th>${esc(this._t("seen"))}</th><th>${esc(this._t("assign_to"))}</th></tr>
      ${a.unknown_cards
        .map(
          (c) => `<tr><td>${esc(c.card)}</td><td>${esc(c.device_id)}</td><td>${esc(this._when(c.ts))}</td>
          <td><form data-form="assign" data-card="${esc(c.card)}" class="inline">
            <select name="member_id" required>${this._options(members, "", { empty: "—" })}</select>
            <button class="primary" type="submit">${esc(this._t("assign"))}</button></form></td></tr>`,
        )
        .join("")}</table></div>`;
  }

  _historyHtml(a) {
    const members = a.members.map((m) => [m.id, m.name]);
    const devices = a.devices.map((d) => [d.device_id, d.name]);
    const f = this._historyFilter || {};
    const rows = this._rows
      ? this._rows.sessions
          .slice()
          .reverse()
          .map(
            (s) => `<tr><td>${esc(s.member_name || s.member_id || "—")}</td><td>${esc(s.device_id)}</td>
            <td>${esc(this._when(s.start))}</td><td>${esc(s.end ? this._when(s.end) : this._t("open_session"))}</td>
            <td>${esc(this._duration(s.duration))}</td></tr>`,
          )
          .join("")
      : "";
    return `
      <form data-form="history" class="inline">
        <label>${esc(this._t("member"))}<select name="member_id">${this._options(members, f.member_id || "", { empty: this._t("all") })}</select></label>
        <label>${esc(this._t("device"))}<select name="device_id">${this._options(devices, f.device_id || "", { empty: this._t("all") })}</select></label>
        <label>${esc(this._t("from"))}<input type="date" name="start" value="${esc(f.start || "")}"></label>
        <label>${esc(this._t("to"))}<input type="date" name="end" value="${esc(f.end || "")}"></label>
        <button class="primary" type="submit">${esc(this._t("filter"))}</button>
        ${this._rows ? `<button class="secondary" type="button" data-action="csv">${esc(this._t("download_csv"))}</button>` : ""}
      </form>
      ${this._rows ? `<div class="table-wrap"><table><tr><th>${esc(this._t("member"))}</th><th>${esc(this._t("device"))}</th><th>${esc(this._t("start"))}</th><th>${esc(this._t("end"))}</th><th>${esc(this._t("duration"))}</th></tr>${rows}</table></div>` : ""}`;
  }

  _auditHtml(a) {
    if (!this._audit) return `<p class="muted">${esc(this._t("loading"))}</p>`;
    return `<div class="actions"><button class="secondary" data-action="audit-refresh">${esc(this._t("refresh"))}</button></div>
      <div class="table-wrap"><table>
      <tr><th>${esc(this._t("time"))}</th><th>${esc(this._t("kind"))}</th><th>${esc(this._t("device"))}</th><th>${esc(this._t("member"))}</th><th>${esc(this._t("reason"))}</th></tr>
      ${this._audit
        .map(
          (e) => `<tr><td>${esc(this._when(e.ts))}</td><td>${esc(e.kind)}</td><td>${esc(e.device_id)}</td>
          <td>${esc(this._memberName(a, e.member_id))}</td><td>${esc(e.reason || "")}</td></tr>`,
        )
        .join("")}</table></div>`;
  }

  // Events -----------------------------------------------------------------------

  // Lab operations: notifications, lapsing qualifications, interest queue ----------

  _opsWs(type, data = {}) {
    return this._hass.connection.sendMessagePromise({ type: `fluxilab/${type}`, ...data });
  }

  async _opsRun(key, type, data) {
    this._busy.add(key);
    this._renderContent();
    try {
      return await this._opsWs(type, data);
    } catch (err) {
      this._fail(err);
      return undefined;
    } finally {
      this._busy.delete(key);
      this._renderContent();
    }
  }

  _labUpdated() {
    // A device that became free ends its queue: refresh our own places.
    if (this._opsLoaded && !this._ops.interest.length) return;
    this._opsLoaded = true;
    clearTimeout(this._interestTimer);
    this._interestTimer = setTimeout(() => this._loadInterest(), 300);
  }

  async _loadInterest() {
    try {
      this._ops.interest = (await this._opsWs("interest/list")).subscriptions;
    } catch (_err) {
      this._ops.interest = [];
    }
    if (this._tab === "lab") this._renderContent();
  }

  async _loadOwnOps() {
    try {
      const [lapses, notify] = await Promise.all([
        this._opsWs("lapsing/mine"),
        this._opsWs("notify/get").catch(() => null),
      ]);
      this._ops.lapses = lapses;
      this._ops.notify = notify;
    } catch (err) {
      this._fail(err);
    }
    this._renderContent();
  }

  async _loadLapsing() {
    try {
      this._ops.lapsing = await this._opsWs("lapsing/list");
    } catch (err) {
      this._fail(err);
    }
    this._renderContent();
  }

  async _loadNotifySettings() {
    try {
      this._ops.settings = await this._opsWs("notify/settings");
    } catch (err) {
      this._fail(err);
    }
    this._renderContent();
  }

  _interestHtml(d) {
    if (!this._lab || !this._lab.member || !d.in_use) return "";
    const sub = this._ops.interest.find((s) => s.device_id === d.device_id);
    const key = `interest:${d.device_id}`;
    const disabled = this._busy.has(key) ? "disabled" : "";
    if (sub) {
      return `<span class="chip info">${esc(this._t("waiting_position", { position: sub.position }))}</span>
        <button class="secondary" data-action="interest-cancel" data-device="${esc(d.device_id)}" ${disabled}>${esc(this._t("stop_waiting"))}</button>`;
    }
    return `<button class="secondary" data-action="interest" data-device="${esc(d.device_id)}" ${disabled}>${esc(this._t("notify_when_free"))}</button>`;
  }

  _lapseCell(item) {
    if (!item.lapse_date) return esc(this._t("lapse_never"));
    const chip = item.lapsed ? `<span class="chip bad">${esc(this._t("lapsed"))}</span> ` : "";
    return `${chip}${esc(this._when(item.lapse_date))} <span class="muted">(${esc(this._t(`lapse_cause_${item.cause}`))})</span>`;
  }

  _ownLapsesHtml() {
    const items = (this._ops.lapses && this._ops.lapses.authorizations) || [];
    if (!items.length) return "";
    return `<div class="table-wrap"><table><tr><th>${esc(this._t("target"))}</th><th>${esc(this._t("last_used"))}</th><th>${esc(this._t("lapse_date"))}</th></tr>${items
      .map(
        (i) =>
          `<tr><td>${esc(i.machine_type_name || i.machine_type_id || i.device_id)}</td><td>${esc(i.last_used ? this._when(i.last_used) : this._t("never_used"))}</td><td>${this._lapseCell(i)}</td></tr>`,
      )
      .join("")}</table></div>`;
  }

  _ownNotifyHtml() {
    const n = this._ops.notify;
    if (!n) return "";
    const phones = n.phones.length ? n.phones.join(", ") : this._t("no_phones");
    return `<h2>${esc(this._t("notifications"))}</h2>
      <form data-form="ops-notify" class="card">
        <label>${esc(this._t("notify_service"))}<input name="notify_service" pattern="(notify|script)\\.[a-z0-9_]+" value="${esc(n.notify_service || "")}"></label>
        <span class="muted">${esc(this._t("notify_phones", { phones }))}</span>
        <div class="actions"><button class="primary" type="submit" ${this._busy.has("ops-notify") ? "disabled" : ""}>${esc(this._t("save"))}</button></div>
      </form>`;
  }

  _lapsingHtml() {
    const l = this._ops.lapsing;
    if (!l) return `<p class="muted">${esc(this._t("loading"))}</p>`;
    const days = l.notice_days;
    if (!l.authorizations.length) return `<p class="muted">${esc(this._t("lapsing_none", { days }))}</p>`;
    return `<p class="muted">${esc(this._t("lapsing_hint", { days }))}</p>
      <div class="table-wrap"><table>
      <tr><th>${esc(this._t("member"))}</th><th>${esc(this._t("target"))}</th><th>${esc(this._t("last_used"))}</th><th>${esc(this._t("lapse_date"))}</th><th></th></tr>
      ${l.authorizations
        .map(
          (i) => `<tr><td>${esc(i.member_name || i.member_id)}</td>
            <td>${esc(i.machine_type_name || i.machine_type_id || i.device_id)}</td>
            <td>${esc(i.last_used ? this._when(i.last_used) : this._t("never_used"))}</td>
            <td>${this._lapseCell(i)}</td>
            <td class="actions"><button class="primary" data-action="lapse-renew" data-auth="${esc(i.authorization_id)}" ${this._busy.has(`renew:${i.authorization_id}`) ? "disabled" : ""}>${esc(this._t("renew"))}</button></td></tr>`,
        )
        .join("")}</table></div>`;
  }

  _notifySettingsHtml() {
    const s = this._ops.settings;
    if (!s) return "";
    return `<h2>${esc(this._t("notifications"))}</h2>
      <form data-form="ops-settings" class="card">
        <label>${esc(this._t("admin_notify_services"))}<input name="admin_notify_services" value="${esc((s.admin_notify_services || []).join(", "))}"></label>
        <label>${esc(this._t("lapse_notice_days"))}<input type="number" min="1" max="365" step="1" name="lapse_notice_days" required value="${esc(s.lapse_notice_days)}"></label>
        <label>${esc(this._t("interest_expiry_hours"))}<input type="number" min="1" max="168" step="1" name="interest_expiry_hours" required value="${esc(s.interest_expiry_hours)}"></label>
        <div class="actions"><button class="primary" type="submit" ${this._busy.has("ops-settings") ? "disabled" : ""}>${esc(this._t("save"))}</button></div>
      </form>`;
  }

  _opsClick(action, target) {
    // Loads for the views this block adds; other tab handling continues as usual.
    if (action === "tab" && target.dataset.tab === "profile") this._loadOwnOps();
    if (action === "tab" && target.dataset.tab === "lab") this._loadInterest();
    if (action === "admin-tab" && target.dataset.tab === "lapsing") this._loadLapsing();
    if (action === "admin-tab" && target.dataset.tab === "settings") this._loadNotifySettings();
    const device = target.dataset.device;
    if (action === "interest" || action === "interest-cancel") {
      const verb = action === "interest" ? "subscribe" : "cancel";
      this._opsRun(`interest:${device}`, `interest/${verb}`, { fluxilab_device: device }).then(() =>
        this._loadInterest(),
      );
      return true;
    }
    if (action === "lapse-renew") {
      const auth = target.dataset.auth;
      this._opsRun(`renew:${auth}`, "lapsing/renew", { authorization_id: auth }).then((ok) => {
        if (ok !== undefined) this._message = { kind: "success", text: this._t("done") };
        this._loadLapsing();
      });
      return true;
    }
    return false;
  }

  async _opsSubmit(kind, data) {
    if (kind === "ops-notify") {
      const value = String(data.get("notify_service") || "").trim();
      const ok = await this._opsRun("ops-notify", "notify/set", { notify_service: value || null });
      if (ok !== undefined) this._message = { kind: "success", text: this._t("done") };
      await this._loadOwnOps();
      return true;
    }
    if (kind === "ops-settings") {
      const services = String(data.get("admin_notify_services") || "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      const saved = await this._opsRun("ops-settings", "notify/settings", {
        admin_notify_services: services,
        lapse_notice_days: Number(data.get("lapse_notice_days")),
        interest_expiry_hours: Number(data.get("interest_expiry_hours")),
      });
      if (saved !== undefined) {
        this._ops.settings = saved;
        this._message = { kind: "success", text: this._t("done") };
        this._renderContent();
      }
      return true;
    }
    return false;
  }

  async _onClick(ev) {
    const target = ev.target.closest("[data-action]");
    if (!target || target.tagName === "SELECT") return;
    const { action } = target.dataset;
    if (this._opsClick(action, target)) return;
    if (this._presenceClick(action, target)) return;
    if (action === "menu") {
      this.dispatchEvent(new Event("hass-toggle-menu", { bubbles: true, composed: true }));
    } else if (action === "dismiss") {
      this._message = null;
      this._renderContent();
    } else if (action === "tab") {
      this._tab = target.dataset.tab;
      this._message = null;
      this._renderTabs();
      this._renderContent();
      if (this._tab === "profile") this._loadProfile();
      if (this._tab === "admin") this._loadAdmin();
    } else if (action === "admin-tab") {
      this._adminTab = target.dataset.tab;
      this._message = null;
      this._renderContent();
      if (this._adminTab === "audit") this._loadAudit();
    } else if (action === "open") {
      this._open(target.dataset.device);
    } else if (action === "member-active") {
      this._run(`active:${target.dataset.member}`, "admin/member_update", {
        member_id: target.dataset.member,
        active: target.dataset.active === "true",
      });
    } else if (action === "member-delete") {
      // eslint-disable-next-line no-alert
      if (window.confirm(this._t("confirm_delete", { name: target.dataset.name }))) {
        this._run(`delete:${target.dataset.member}`, "admin/member_delete", {
          member_id: target.dataset.member,
        });
      }
    } else if (action && action.startsWith("credential")) {
      this._credentialAction(target);
    } else if (action === "revoke") {
      this._run(`revoke:${target.dataset.auth}`, "admin/revoke", {
        authorization_id: target.dataset.auth,
      });
    } else if (action === "block") {
      this._run(`block:${target.dataset.device}`, "admin/block", {
        device_id: target.dataset.device,
        blocked: target.dataset.blocked === "true",
      });
    } else if (action === "maintenance") {
      this._run(`maint:${target.dataset.device}`, "admin/record_maintenance", {
        device_id: target.dataset.device,
      });
    } else if (action === "type-edit") {
      this._editType = target.dataset.type;
      this._renderContent();
    } else if (action === "type-new") {
      this._editType = null;
      this._renderContent();
    } else if (action === "type-delete") {
      this._run(`type-delete:${target.dataset.type}`, "admin/machine_type_delete", {
        machine_type_id: target.dataset.type,
      });
    } else if (action === "csv") {
      this._download(this._rows.csv, "fluxilab-usage.csv", "text/csv");
    } else if (action === "audit-refresh") {
      this._loadAudit();
    }
  }

  _onChange(ev) {
    const target = ev.target;
    const { action } = target.dataset || {};
    if (action === "member-role") {
      this._run(`role:${target.dataset.member}`, "admin/member_update", {
        member_id: target.dataset.member,
        role: target.value,
      });
    } else if (action === "member-user") {
      this._run(`user:${target.dataset.member}`, "admin/member_update", {
        member_id: target.dataset.member,
        user_id: target.value || null,
      });
    }
  }

  async _onSubmit(ev) {
    ev.preventDefault();
    const form = ev.target;
    const data = new FormData(form);
    const kind = form.dataset.form;
    if (await this._opsSubmit(kind, data)) return;
    if (await this._presenceSubmit(kind, data)) return;
    if (kind === "pin") {
      const newPin = data.get("new_pin");
      if (newPin !== data.get("repeat_pin")) {
        this._message = { kind: "error", text: this._t("pin_mismatch") };
        this._renderContent();
        return;
      }
      if (newPin.length < 6) {
        this._message = { kind: "error", text: this._t("pin_short") };
        this._renderContent();
        return;
      }
      const payload = { new_pin: newPin };
      if (data.has("current_pin")) payload.current_pin = data.get("current_pin");
      const ok = await this._run("pin", "change_pin", payload, { reload: false, success: false });
      if (ok !== undefined) {
        this._message = { kind: "success", text: this._t("pin_changed") };
        await this._loadProfile();
      }
    } else if (kind === "member") {
      const payload = { name: data.get("name"), role: data.get("role") };
      if (data.get("email")) payload.email = data.get("email");
      if (data.get("user_id")) payload.user_id = data.get("user_id");
      if (data.get("card")) payload.cards = [data.get("card")];
      if (data.get("pin")) payload.pin = data.get("pin");
      await this._run("member-create", "admin/member_create", payload);
    } else if (kind === "credential-add") {
      await this._credentialAdd(form, data);
    } else if (kind === "grant") {
      const [targetKind, id] = String(data.get("target")).split(/:(.*)/s);
      const payload = { member_ids: data.getAll("member_ids") };
      payload[targetKind === "type" ? "machine_type_id" : "device_id"] = id;
      if (data.get("expires")) payload.expires = `${data.get("expires")}T23:59:59`;
      if (data.has("trainer")) payload.trainer = true;
      await this._run("grant", "admin/grant", payload);
    } else if (kind === "assign") {
      await this._run(`assign:${form.dataset.card}`, "admin/assign_card", {
        card: form.dataset.card,
        member_id: data.get("member_id"),
      });
    } else if (kind === "type") {
      const num = (name) => (data.get(name) === "" ? null : Number(data.get(name)));
      const payload = {
        name: data.get("name"),
        session_timeout: num("session_timeout") ?? 900,
        grace_period: num("grace_period") ?? 60,
        requires_authorization: data.has("requires_authorization"),
        maintenance_interval: num("maintenance_interval"),
        maintenance_message: data.get("maintenance_message") || null,
        block_when_maintenance_due: data.has("block_when_maintenance_due"),
        lapse_after_months: num("lapse_after_months") || null,
        offline_max_age: num("offline_max_age") ?? 24,
        safety_limits: [],
      };
      // Left at its default, the hub picks deny for a type with safety limits.
      if (data.get("offline_policy")) payload.offline_policy = data.get("offline_policy");
      if (data.get("safety_channel")) {
        const limit = { channel: data.get("safety_channel") };
        if (num("safety_min") !== null) limit.min = num("safety_min");
        if (num("safety_max") !== null) limit.max = num("safety_max");
        payload.safety_limits.push(limit);
      }
      payload.busy_channel = data.get("busy_channel") || null;
      Object.assign(payload, this._presenceTypePayload(data, num));
      if (num("busy_above") !== null) payload.busy_above = num("busy_above");
      if (num("busy_delay") !== null) payload.busy_delay = num("busy_delay");
      const conditions = String(data.get("maintenance_conditions") || "").trim();
      try {
        payload.maintenance_conditions = conditions ? JSON.parse(conditions) : [];
      } catch (_err) {
        // Not JSON: sent as typed, so the hub answers with its translated error.
        payload.maintenance_conditions = conditions;
      }
      if (form.dataset.type) payload.machine_type_id = form.dataset.type;
      const saved = await this._run("type", "admin/machine_type_save", payload);
      if (saved !== undefined) {
        this._editType = null;
        this._renderContent();
      }
    } else if (kind === "retention") {
      const result = await this._run(
        "retention",
        "admin/retention",
        {
          usage_retention_days: Number(data.get("usage_retention_days")),
          unknown_card_retention_days: Number(data.get("unknown_card_retention_days")),
          show_member_names: data.has("show_member_names"),
        },
        { success: false },
      );
      if (result) {
        this._message = {
          kind: "success",
          text: this._t("purged", { count: result.anonymized, cards: result.unknown_cards_deleted }),
        };
        this._renderContent();
      }
    } else if (kind === "export") {
      const member = data.get("member_id");
      const result = await this._run("export", "admin/member_export", { member_id: member }, {
        reload: false,
        success: false,
      });
      if (result) {
        this._download(JSON.stringify(result, null, 2), `fluxilab-${member}.json`, "application/json");
      }
    } else if (kind === "history") {
      this._historyFilter = Object.fromEntries(
        ["member_id", "device_id", "start", "end"].map((k) => [k, data.get(k) || ""]),
      );
      const payload = {};
      for (const key of ["member_id", "device_id"]) {
        if (this._historyFilter[key]) payload[key] = this._historyFilter[key];
      }
      if (this._historyFilter.start) payload.start = `${this._historyFilter.start}T00:00:00`;
      if (this._historyFilter.end) payload.end = `${this._historyFilter.end}T23:59:59`;
      this._rows = await this._run("history", "admin/history", payload, {
        reload: false,
        success: false,
      });
      this._renderContent();
    }
  }

  async _loadAudit() {
    try {
      this._audit = (await this._ws("admin/audit", { limit: 200 })).audit;
    } catch (err) {
      this._fail(err);
    }
    this._renderContent();
  }

  // Lab operations: presence (who is in the lab, supervisors, trainers) --------------

  async _loadPresence() {
    try {
      const [list, settings] = await Promise.all([
        this._hass.connection.sendMessagePromise({ type: "fluxilab/occupancy/list" }),
        this._lab && this._lab.manager
          ? this._hass.connection.sendMessagePromise({ type: "fluxilab/occupancy/settings" })
          : Promise.resolve(null),
      ]);
      this._presence = list;
      this._presenceSettings = settings;
    } catch (err) {
      this._fail(err);
    }
    if (this._tab === "presence") this._renderContent();
  }

  _presenceWhere(where) {
    return where.map((w) => (w === "entrance" ? this._t("entrance") : w)).join(", ");
  }

  _presenceHtml() {
    const p = this._presence;
    if (!p) return `<p class="muted">${esc(this._t("loading"))}</p>`;
    let html = `<h2>${esc(this._t("people_in_lab", { count: p.count }))}</h2>`;
    const own = this._lab && this._lab.member;
    const buttons = [`<button class="secondary" data-action="presence-refresh">${esc(this._t("refresh"))}</button>`];
    if (own) {
      buttons.push(
        `<button class="secondary" data-action="presence-check" data-verb="check_in">${esc(this._t("check_in"))}</button>`,
        `<button class="secondary" data-action="presence-check" data-verb="check_out">${esc(this._t("check_out"))}</button>`,
      );
    }
    if (p.members) {
      buttons.push(
        `<button class="primary" data-action="presence-print">${esc(this._t("print_list"))}</button>`,
        `<button class="secondary" data-action="presence-csv">${esc(this._t("download_csv"))}</button>`,
      );
    }
    html += `<div class="actions">${buttons.join("")}</div>`;
    if (!p.members) return html;
    if (!p.members.length) return `${html}<p class="muted">${esc(this._t("nobody_in_lab"))}</p>`;
    const rows = p.members
      .map(
        (m) => `<tr><td>${esc(m.name)}</td><td>${esc(this._when(m.since))}</td><td>${esc(this._presenceWhere(m.where))}</td></tr>`,
      )
      .join("");
    html += `<div class="table-wrap"><table>
      <tr><th>${esc(this._t("name"))}</th><th>${esc(this._t("since"))}</th><th>${esc(this._t("where"))}</th></tr>
      ${rows}</table></div>`;
    const s = this._presenceSettings;
    if (s) {
      html += `<form data-form="presence-settings" class="card">
        <label>${esc(this._t("checkin_expiry_hours"))}<input type="number" min="1" max="168" step="1" name="checkin_expiry_hours" required value="${esc(s.checkin_expiry_hours)}"></label>
        <div class="actions"><button class="primary" type="submit">${esc(this._t("save"))}</button></div>
      </form>`;
    }
    return html;
  }

  _presencePrint() {
    // A plain page the browser prints: the evacuation list on paper.
    const p = this._presence;
    const rows = p.members
      .map((m) => `<tr><td>${esc(m.name)}</td><td>${esc(this._when(m.since))}</td><td>${esc(this._presenceWhere(m.where))}</td><td>☐</td></tr>`)
      .join("");
    const page = window.open("", "_blank");
    if (!page) {
      this._presenceCsv();
      return;
    }
    page.document.write(`<!doctype html><meta charset="utf-8"><title>${esc(this._t("presence"))}</title>
      <style>body{font:14px sans-serif}table{border-collapse:collapse;width:100%}td,th{border:1px solid #000;padding:6px;text-align:left}</style>
      <h1>${esc(this._t("people_in_lab", { count: p.count }))}</h1><p>${esc(this._when(new Date().toISOString()))}</p>
      <table><tr><th>${esc(this._t("name"))}</th><th>${esc(this._t("since"))}</th><th>${esc(this._t("where"))}</th><th>✔</th></tr>${rows}</table>`);
    page.document.close();
    page.focus();
    page.print();
  }

  _presenceCsv() {
    const quote = (v) => `"${String(v ?? "").replace(/"/g, '""')}"`;
    const lines = [["member_id", "name", "since", "where"].join(",")];
    for (const m of this._presence.members) {
      lines.push([m.member_id, m.name, m.since, m.where.join("; ")].map(quote).join(","));
    }
    this._download(`${lines.join("\n")}\n`, "fluxilab-in-the-lab.csv", "text/csv");
  }

  _presenceClick(action, target) {
    if (action === "tab" && target.dataset.tab === "presence") this._loadPresence();
    if (action === "presence-refresh") {
      this._loadPresence();
      return true;
    }
    if (action === "presence-print") {
      this._presencePrint();
      return true;
    }
    if (action === "presence-csv") {
      this._presenceCsv();
      return true;
    }
    if (action === "presence-check") {
      this._hass
        .callService("fluxilab", target.dataset.verb, {})
        .then(() => {
          this._message = { kind: "success", text: this._t("done") };
          this._loadPresence();
        })
        .catch((err) => this._fail(err));
      return true;
    }
    if (action === "member-supervise") {
      this._run(`supervise:${target.dataset.member}`, "admin/member_update", {
        member_id: target.dataset.member,
        supervise: target.dataset.supervise === "true",
      });
      return true;
    }
    return false;
  }

  async _presenceSubmit(kind, data) {
    if (kind !== "presence-settings") return false;
    try {
      this._presenceSettings = await this._hass.connection.sendMessagePromise({
        type: "fluxilab/occupancy/settings",
        checkin_expiry_hours: Number(data.get("checkin_expiry_hours")),
      });
      this._message = { kind: "success", text: this._t("done") };
    } catch (err) {
      this._fail(err);
    }
    this._renderContent();
    return true;
  }

  _superviseButtonHtml(m) {
    const on = Boolean(m.supervise);
    return `<button class="secondary" data-action="member-supervise" data-member="${esc(m.id)}" data-supervise="${!on}">${esc(this._t(on ? "remove_supervisor" : "make_supervisor"))}</button>`;
  }

  _authPresenceHtml(a, auth) {
    const marks = [];
    if (auth.trainer) marks.push(`<span class="chip info">${esc(this._t("trainer"))}</span>`);
    if (auth.granted_by) {
      marks.push(`<span class="muted">${esc(this._t("trained_by", { name: this._memberName(a, auth.granted_by) }))}</span>`);
    }
    return marks.length ? ` ${marks.join(" ")}` : "";
  }

  _presenceTypeHtml(t, number, check) {
    const time = (name) =>
      `<label>${esc(this._t(name))}<input type="time" name="${name}" value="${esc(t[name] || "")}"></label>`;
    return `<div class="actions">
        ${check("requires_supervisor", t.requires_supervisor)}
        ${number("supervisor_minutes", t.supervisor_minutes ?? 30, "1")}
        ${time("supervised_hours_start")}${time("supervised_hours_end")}
        ${number("training_expiry_days", t.training_expiry_days, "1")}
      </div>`;
  }

  _presenceTypePayload(data, num) {
    const start = data.get("supervised_hours_start") || null;
    const end = data.get("supervised_hours_end") || null;
    return {
      requires_supervisor: data.has("requires_supervisor"),
      supervisor_minutes: num("supervisor_minutes") || 30,
      supervised_hours_start: start && end ? start : null,
      supervised_hours_end: start && end ? end : null,
      training_expiry_days: num("training_expiry_days") || null,
    };
  }

  _download(text, filename, type) {
    const blob = new Blob([text], { type });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = filename;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  }

  async _open(deviceId) {
    const key = `open:${deviceId}`;
    this._busy.add(key);
    this._message = null;
    this._renderContent();
    try {
      const { url } = await this._ws("open", { device_id: deviceId });
      // Only ever to a web address: a javascript: or data: URL would run in Home
      // Assistant's own origin (the hub checks this too; this is the last door).
      const target = new URL(url);
      if (target.protocol !== "http:" && target.protocol !== "https:") {
        throw new Error(this._t("open_refused"));
      }
      // The token is single use and short-lived: go there at once, in this window
      // (the companion app's webview has no tabs to open).
      window.location.assign(target.href);
    } catch (err) {
      this._fail(err);
    } finally {
      this._busy.delete(key);
      this._renderContent();
    }
  }
}

if (!customElements.get("fluxilab-panel")) {
  customElements.define("fluxilab-panel", FluxiLabPanel);
}
