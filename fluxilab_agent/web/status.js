(() => {
  const boot = JSON.parse(document.getElementById("fl-data").textContent);
  const $ = (id) => document.getElementById(id);
  const human = (key) => String(key).replace(/_/g, " ");
  const fmt = (v) => {
    if (v === null || v === undefined) return "-";
    if (typeof v === "boolean") return v ? "yes" : "no";
    if (typeof v === "number") return v.toLocaleString(undefined, {maximumFractionDigits: 3});
    if (typeof v === "object") return Object.entries(v).map(([k, x]) => human(k) + ": " + fmt(x)).join(", ");
    return String(v);
  };
  const rows = (t) => {
    if (Array.isArray(t)) return t.map((c) => [c.name || c.key, c.value, c.unit, c.key]);
    if (t && typeof t === "object") return Object.entries(t).map(([k, c]) =>
      c && typeof c === "object" ? [c.name || human(k), c.value, c.unit, k] : [human(k), c, null, k]);
    return [];
  };
  // The interlock's limit beside a reading: "(≥ 0.4)", the value marked outside it.
  const limitText = (l) => "(" + [l.min !== undefined ? "≥ " + fmt(l.min) : "",
    l.max !== undefined ? "≤ " + fmt(l.max) : ""].filter(Boolean).join(" ") + ")";
  const outside = (l, v) => typeof v === "number" &&
    ((l.min !== undefined && v < l.min) || (l.max !== undefined && v > l.max));
  const duration = (v) => typeof v !== "number" ? fmt(v)
    : v < 60 ? Math.round(v) + " s" : Math.floor(v / 60) + " min";
  const render = (s) => {
    const d = s.device || {};
    if (d.name) $("fl-name").textContent = d.name;
    $("fl-kind").textContent = d.kind ? human(d.kind) : "";
    $("fl-user").textContent = s.user.name + " · " + s.user.role;
    const body = $("fl-telemetry").tBodies[0];
    const limits = Array.isArray(d.safety_limits) ? d.safety_limits : [];
    body.replaceChildren(...rows(d.telemetry).map(([name, value, unit, key]) => {
      const tr = document.createElement("tr");
      const a = document.createElement("td"); a.textContent = name;
      const b = document.createElement("td"); b.className = "value"; b.dataset.channel = key;
      b.textContent = fmt(value) + (unit ? " " + unit : "");
      const limit = limits.find((l) => l.channel === key);
      if (limit) {
        const l = document.createElement("span"); l.className = "muted limit";
        l.textContent = " " + limitText(limit); b.append(l);
        if (outside(limit, value)) b.classList.add("error");
      }
      tr.append(a, b); return tr;
    }));
    // Due maintenance: the plan's text, as a board shows it on its LCD, and its
    // instructions (http/https only, the hub checked; checked again here).
    const m = d.maintenance;
    $("fl-maintenance").hidden = !m;
    $("fl-maintenance-text").textContent = m ? (m.description || m.message || "") : "";
    const link = $("fl-maintenance-url");
    const url = m && typeof m.url === "string" && /^https?:\/\//i.test(m.url) ? m.url : null;
    link.hidden = !url;
    if (url) link.href = url; else link.removeAttribute("href");
    const hidden = ["name", "kind", "telemetry", "actions", "safety_limits", "maintenance"];
    const facts = Object.entries(d).filter(([k]) => !hidden.includes(k));
    $("fl-facts").replaceChildren(...facts.flatMap(([k, v]) => {
      const dt = document.createElement("dt"); dt.textContent = human(k);
      const dd = document.createElement("dd"); dd.dataset.fact = k;
      dd.textContent = /session|duration/.test(k) ? duration(v) : fmt(v);
      return [dt, dd];
    }));
  };
  const refresh = async () => {
    try {
      const r = await fetch("/_fluxilab/status.json", {cache: "no-store", credentials: "same-origin"});
      if (r.status === 401 || r.redirected) {
        location.assign("/_fluxilab/login?next=" + encodeURIComponent(location.pathname));
        return;
      }
      if (!r.ok) throw new Error(r.status);
      render(await r.json());
      $("fl-stale").hidden = true;
    } catch (e) { $("fl-stale").hidden = false; }
  };
  document.querySelectorAll("form.control").forEach((f) => f.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const out = $("fl-result");
    try {
      const r = await fetch(f.action, {method: "POST", body: new URLSearchParams(new FormData(f)),
        headers: {"Accept": "application/json"}, credentials: "same-origin"});
      const j = await r.json().catch(() => ({}));
      out.textContent = j.ok ? "Done." : "Refused (" + (j.error || r.status) + ").";
    } catch (e) { out.textContent = "Failed."; }
    refresh();
  }));
  render(boot.status);
  setInterval(refresh, boot.refresh_ms);
})();
