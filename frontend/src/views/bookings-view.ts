// Bookings: a device's week (who holds it when; others' bookings without a name
// unless the caller is staff), booking a slot, and "my bookings" with cancel / end
// now. The rules are the hub's (access/bookings.py): a refused booking comes back
// as its translated reason, with the limit it broke. Outages (staff take the device
// out of service: nobody is granted, bookings they meet are cancelled) show in the
// week with their note; staff schedule and end them here. Every member who may use
// the device reports a problem with it, optionally marking it unsafe (blocked until
// staff resolve the report); staff see the open reports and resolve them.
import { html, nothing } from "lit";
import type { TemplateResult } from "lit";
import { state } from "lit/decorators.js";
import { customElement } from "../define";
import { busy, text, ViewElement } from "../context";
import { byDay, DAY_MS, isStaff, weekStart } from "../bookings";
import type { Booking, BookingList, DeviceStatus, ProblemList, ProblemReport } from "../types";

@customElement("fluxilab-bookings-view")
export class BookingsView extends ViewElement {
  @state() private deviceId = "";
  @state() private week = 0;
  @state() private list: BookingList | null = null;
  @state() private problems: ProblemList | null = null;
  /** A form's refusal, shown in the form (its typed fields stay): by form, or by report id. */
  @state() private errors: Record<string, string> = {};
  busyKeys = new Set<string>();

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private devices(): DeviceStatus[] {
    return (this.ctx.lab?.areas ?? []).flatMap((area) => area.devices);
  }

  private async load(): Promise<void> {
    if (!this.deviceId) this.deviceId = this.devices()[0]?.device_id ?? "";
    const start = weekStart(new Date(), this.week);
    const end = new Date(start.getTime() + 7 * DAY_MS);
    try {
      this.list = await this.ctx.client.bookings(
        this.deviceId || undefined,
        start.toISOString(),
        end.toISOString(),
      );
      this.problems = this.ctx.lab?.member || isStaff(this.ctx.lab)
        ? await this.ctx.client.problems(this.deviceId || undefined)
        : null;
    } catch (err) {
      this.ctx.fail(err);
    }
  }

  /** Start and end of a day and two times from a form, or null (the empty field says so). */
  private timeSlot(data: FormData, form: string): [string, string] | null {
    const day = text(data, "day");
    const start = new Date(`${day}T${text(data, "from")}`);
    const end = new Date(`${day}T${text(data, "to")}`);
    if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) {
      const field = !day ? "day" : Number.isNaN(start.getTime()) ? "from" : "to";
      this.errors = { [`${form}:${field}`]: this.t("field_required") };
      return null;
    }
    return [start.toISOString(), end.toISOString()];
  }

  /**
   * Run a form's action: on success the form's errors go; a refusal stays in the form
   * beside its button, with what the user typed.
   */
  private async submit<T>(key: string, action: () => Promise<T>): Promise<T | undefined> {
    try {
      const result = await busy(this, key, action, { quiet: true });
      this.errors = {};
      return result;
    } catch (err) {
      this.errors = { [key]: this.ctx.i18n.error(err) };
      return undefined;
    }
  }

  private error(key: string): TemplateResult | typeof nothing {
    const error = this.errors[key];
    return error ? html`<span class="field-error" role="alert" data-error=${key}>${error}</span>` : nothing;
  }

  private async scheduleOutage(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    const data = new FormData(form);
    const slot = this.timeSlot(data, "outage");
    if (!slot) return;
    const made = await this.submit("outage", () =>
      this.ctx.client.scheduleOutage(this.deviceId, slot[0], slot[1], text(data, "note").trim()),
    );
    if (made) {
      form.reset();
      this.ctx.done("outage_scheduled");
      await this.load();
    }
  }

  private async endOutage(outage: Booking): Promise<void> {
    const yes = await this.ctx.confirm({
      text: this.t("outage_end_confirm", { when: this.ctx.i18n.when(outage.start) }),
      action: this.t("outage_end"),
      danger: true,
    });
    if (!yes) return;
    const done = await busy(this, outage.id, () => this.ctx.client.endOutage(outage.id));
    if (done) {
      this.ctx.done();
      await this.load();
    }
  }

  private async report(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    const data = new FormData(form);
    const unsafe = data.get("unsafe") === "on";
    if (unsafe) {
      const yes = await this.ctx.confirm({
        text: this.t("problem_unsafe_confirm", { device: this.deviceName(this.deviceId) }),
        action: this.t("problem_report"),
        danger: true,
      });
      if (!yes) return;
    }
    const made = await this.submit("report", () =>
      this.ctx.client.reportProblem(this.deviceId, text(data, "description"), unsafe),
    );
    if (made) {
      form.reset();
      this.ctx.done("problem_reported");
      await this.load();
    }
  }

  private async resolve(ev: SubmitEvent, report: ProblemReport): Promise<void> {
    ev.preventDefault();
    const data = new FormData(ev.target as HTMLFormElement);
    const done = await this.submit(report.id, () =>
      this.ctx.client.resolveProblem(report.id, text(data, "resolution")),
    );
    if (done) {
      this.ctx.done("problem_resolved_ok");
      await this.load();
    }
  }

  private choose(deviceId: string): void {
    this.deviceId = deviceId;
    this.errors = {};
    void this.load();
  }

  private move(weeks: number): void {
    this.week += weeks;
    void this.load();
  }

  private async book(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const slot = this.timeSlot(new FormData(ev.target as HTMLFormElement), "book");
    if (!slot) return;
    const made = await this.submit("book", () => this.ctx.client.book(this.deviceId, slot[0], slot[1]));
    if (made) {
      this.ctx.done("booked");
      await this.load();
    }
  }

  private async cancel(booking: Booking): Promise<void> {
    const running = new Date(booking.start) <= new Date();
    const yes = await this.ctx.confirm({
      text: this.t(running ? "booking_end_confirm" : "booking_cancel_confirm", {
        when: this.ctx.i18n.when(booking.start),
      }),
      action: this.t(running ? "booking_end" : "booking_cancel"),
      danger: true,
    });
    if (!yes) return;
    const done = await busy(this, booking.id, () => this.ctx.client.cancelBooking(booking.id));
    if (done) {
      this.ctx.done();
      await this.load();
    }
  }

  private deviceName(id: string): string {
    return this.devices().find((d) => d.device_id === id)?.name ?? id;
  }

  private span(b: Booking): string {
    const time = (value: string) =>
      new Date(value).toLocaleTimeString(this.ctx.i18n.language, { hour: "2-digit", minute: "2-digit" });
    return `${time(b.start)}–${time(b.end)}`;
  }

  private mayCancel(b: Booking): boolean {
    const own = b.member_id !== null && b.member_id === this.ctx.lab?.member?.id;
    return (own || Boolean(this.ctx.lab?.manager)) && !b.released && new Date(b.end) > new Date();
  }

  private cancelButton(b: Booking): TemplateResult | typeof nothing {
    if (b.kind === "outage") {
      if (!isStaff(this.ctx.lab) || b.released || new Date(b.end) <= new Date()) return nothing;
      return html`<button
        class="secondary"
        data-action="outage-end"
        data-booking=${b.id}
        ?disabled=${this.busyKeys.has(b.id)}
        @click=${() => void this.endOutage(b)}
      >
        ${this.t("outage_end")}
      </button>`;
    }
    if (!this.mayCancel(b)) return nothing;
    const running = new Date(b.start) <= new Date();
    return html`<button
      class="secondary"
      data-action="booking-cancel"
      data-booking=${b.id}
      ?disabled=${this.busyKeys.has(b.id)}
      @click=${() => void this.cancel(b)}
    >
      ${this.t(running ? "booking_end" : "booking_cancel")}
    </button>`;
  }

  private who(b: Booking): string {
    if (b.kind === "outage") return b.note ? `${this.t("outage")}: ${b.note}` : this.t("outage");
    if (b.no_show) return this.t("booking_no_show");
    return b.member_name ?? this.t("booked_slot");
  }

  private outageForm(): TemplateResult {
    return html`<form data-form="outage" class="card" @submit=${(ev: SubmitEvent) => void this.scheduleOutage(ev)}>
      <h3>${this.t("outage_schedule")}</h3>
      <label>${this.t("day")}<input type="date" name="day" required />${this.error("outage:day")}</label>
      <label>${this.t("from")}<input type="time" name="from" required />${this.error("outage:from")}</label>
      <label>${this.t("to")}<input type="time" name="to" required />${this.error("outage:to")}</label>
      <label>${this.t("outage_note")}<input name="note" maxlength="200" /></label>
      <div class="actions">
        <button class="primary" type="submit" ?disabled=${this.busyKeys.has("outage")}>
          ${this.t("outage_schedule")}
        </button>
        ${this.error("outage")}
      </div>
    </form>`;
  }

  private problemsPart(): TemplateResult | typeof nothing {
    const problems = this.problems;
    if (!problems) return nothing;
    const staff = isStaff(this.ctx.lab);
    const reports = problems.reports.filter((r) => r.device_id === this.deviceId);
    return html`${problems.unsafe.includes(this.deviceId)
        ? html`<p class="warning" data-field="unsafe">${this.t("problem_unsafe_banner")}</p>`
        : nothing}
      <form data-form="report" class="card" @submit=${(ev: SubmitEvent) => void this.report(ev)}>
        <h3>${this.t("problem_report")}</h3>
        <label>${this.t("problem_description")}<textarea name="description" maxlength="500" required></textarea></label>
        <label class="check"><input type="checkbox" name="unsafe" /> ${this.t("problem_unsafe")}</label>
        <div class="actions">
          <button class="primary" type="submit" ?disabled=${this.busyKeys.has("report")}>
            ${this.t("problem_report")}
          </button>
          ${this.error("report")}
        </div>
      </form>
      <h3>${this.t("problem_reports")}</h3>
      ${reports.length
        ? html`<div class="table-wrap" data-view="problems">
            <table>
              ${reports.map(
                (r) =>
                  html`<tr data-report=${r.id}>
                    <td>${r.unsafe ? html`<strong>${this.t("reason_unsafe")}</strong><br />` : nothing}${r.description}</td>
                    <td>${this.t("problem_by", { who: r.member_name ?? "—", when: this.ctx.i18n.when(r.reported) })}</td>
                    <td>
                      ${staff
                        ? html`<form data-form="resolve" class="inline" @submit=${(ev: SubmitEvent) => void this.resolve(ev, r)}>
                            <input name="resolution" maxlength="500" placeholder=${this.t("problem_resolution")} />
                            <button class="secondary" type="submit" ?disabled=${this.busyKeys.has(r.id)}>
                              ${this.t("problem_resolve")}
                            </button>
                            ${this.error(r.id)}
                          </form>`
                        : nothing}
                    </td>
                  </tr>`,
              )}
            </table>
          </div>`
        : html`<p class="muted">${this.t("problem_none")}</p>`}`;
  }

  protected override render(): TemplateResult {
    const list = this.list;
    if (!list) return html`<p class="muted">${this.t("loading")}</p>`;
    const devices = this.devices();
    const start = weekStart(new Date(), this.week);
    const device = list.device;
    const own = Boolean(this.ctx.lab?.member);
    return html`<h2>${this.t("bookings")}</h2>
      ${devices.length
        ? html`<label
            >${this.t("device")}
            <select data-field="booking-device" @change=${(ev: Event) => this.choose((ev.target as HTMLSelectElement).value)}>
              ${devices.map(
                (d) => html`<option value=${d.device_id} ?selected=${d.device_id === this.deviceId}>${d.name}</option>`,
              )}
            </select></label
          >`
        : html`<p class="muted">${this.t("no_devices")}</p>`}
      ${device
        ? html`<div class="actions">
              <button class="secondary" data-action="week-previous" @click=${() => this.move(-1)}>
                ${this.t("week_previous")}
              </button>
              <span>${this.ctx.i18n.day(start)}</span>
              <button class="secondary" data-action="week-next" @click=${() => this.move(1)}>
                ${this.t("week_next")}
              </button>
            </div>
            ${device.mode === "off"
              ? html`<p class="muted">${this.t("booking_mode_off")}</p>`
              : html`<p class="muted">
                  ${this.t(device.mode === "required" ? "booking_mode_required" : "booking_mode_optional", {
                    min: device.min_minutes,
                    max: device.max_minutes,
                    days: device.ahead_days,
                  })}
                </p>`}
            <div class="table-wrap" data-view="week">
              <table>
                ${byDay(start, device.bookings).map(
                  ({ day, bookings }) =>
                    html`<tr>
                      <th>${this.ctx.i18n.day(day)}</th>
                      <td>
                        ${bookings.length
                          ? bookings.map(
                              (b) =>
                                html`<div class=${b.kind === "outage" ? "booking outage" : "booking"} data-booking=${b.id}>
                                  ${this.span(b)} · ${this.who(b)} ${this.cancelButton(b)}
                                </div>`,
                            )
                          : html`<span class="muted">${this.t("free")}</span>`}
                      </td>
                    </tr>`,
                )}
              </table>
            </div>
            ${own && device.mode !== "off"
              ? html`<form data-form="book" class="card" @submit=${(ev: SubmitEvent) => void this.book(ev)}>
                  <label>${this.t("day")}<input type="date" name="day" required />${this.error("book:day")}</label>
                  <label>${this.t("from")}<input type="time" name="from" required />${this.error("book:from")}</label>
                  <label>${this.t("to")}<input type="time" name="to" required />${this.error("book:to")}</label>
                  <div class="actions">
                    <button class="primary" type="submit" ?disabled=${this.busyKeys.has("book")}>${this.t("book")}</button>
                    ${this.error("book")}
                  </div>
                </form>`
              : nothing}
            ${isStaff(this.ctx.lab) ? this.outageForm() : nothing} ${this.problemsPart()}`
        : nothing}
      <h2>${this.t("my_bookings")}</h2>
      ${list.no_shows
        ? html`<p class="muted" data-field="no-shows">${this.t("booking_no_shows", { count: list.no_shows })}</p>`
        : nothing}
      ${list.mine.length
        ? html`<div class="table-wrap" data-view="my-bookings">
            <table>
              ${list.mine.map(
                (b) =>
                  html`<tr data-booking=${b.id}>
                    <td>${this.deviceName(b.device_id)}</td>
                    <td>${this.ctx.i18n.when(b.start)} – ${this.ctx.i18n.when(b.end)}</td>
                    <td>${this.cancelButton(b)}</td>
                  </tr>`,
              )}
            </table>
          </div>`
        : html`<p class="muted">${this.t("no_bookings")}</p>`}`;
  }
}
