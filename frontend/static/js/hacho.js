// Shared helpers of the control-centre screens: page data, CSRF-carrying requests, the live
// websocket (cookie session, Home Assistant message protocol), toasts, the critical-alarm beep.

const SEVERITY_RANK = { critical: 0, major: 1, minor: 2, warning: 3, info: 4 };

// ---- language: the page carries the catalogue of the strings the scripts use (frontend/i18n.py)

function jsonBlock(id) {
  const node = document.getElementById(id);
  try { return node ? JSON.parse(node.textContent) : {}; } catch (_err) { return {}; }
}

const CATALOGUE = jsonBlock("i18n");
const NAMES = jsonBlock("names");

/** The page's language (`es`, `en`). */
export function lang() {
  return document.documentElement.lang || "es";
}

/** `message` in the reader's language, `{name}` placeholders filled from `params`. */
export function t(message, params = {}) {
  const text = CATALOGUE[message] || message;
  return text.replace(/\{(\w+)\}/g, (whole, key) => (key in params ? String(params[key]) : whole));
}

// Stored words (states, severities, kinds...) as words in the reader's language: frontend/labels.py.
const LABELS = {
  critical: t("critical"), major: t("major"), minor: t("minor"), warning: t("warning"), info: t("info"),
  raised: t("raised"), acknowledged: t("acknowledged"), in_progress: t("in_progress"), resolved: t("resolved"),
  cleared: t("cleared"), closed: t("closed"),
  pending: t("pending"), done: t("done"), skipped: t("skipped"), failed: t("failed"),
  reraised: t("raised again"), started: t("started"), assigned: t("assigned"), note_added: t("note added"),
  renotified: t("re-notified"), escalated: t("escalated"), sop_step_done: t("step done"),
  sop_step_skipped: t("step skipped"),
  bollard: t("bollard"), panel: t("panel"), sensor: t("sensor"), camera: t("camera"), fire: t("fire"),
  on: t("on"), off: t("off"), unavailable: t("unavailable"), unknown: t("unknown"), lowered: t("lowered"),
  raising: t("raising"), lowering: t("lowering"), fault: t("fault"), displaying: t("displaying"),
  blank: t("blank"), streaming: t("streaming"), recording: t("recording"), connected: t("connected"),
  disconnected: t("disconnected"), scanning: t("scanning"), starting: t("starting"),
  raise: t("raise"), lower: t("lower"), emergency_lower: t("emergency_lower"),
  "bollard:raised": t("bollard:raised"),
  accepted: t("accepted"), rejected: t("rejected"),
};

/** A stored word in the reader's language, as a `kind` of device says it when given (an unknown word
 * with its underscores as spaces). */
export function label(word, kind = "") {
  if (word === null || word === undefined || word === "") return "—";
  return LABELS[`${kind}:${word}`] || LABELS[word] || String(word).replace(/_/g, " ");
}

/** The friendly name of an id: kind is areas, users, centres, types or entities. */
export function nameOf(kind, id) {
  if (!id) return "—";
  const names = NAMES[kind] || {};
  return names[id] || id;
}

/** A friendly name with its id in the tooltip. */
export function named(kind, id) {
  return el("span", { class: "name", title: id || null, text: nameOf(kind, id) });
}

export function pageData() {
  const node = document.getElementById("page-data");
  return node ? JSON.parse(node.textContent) : {};
}

export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

export function centre() {
  return document.body.dataset.centre || "";
}

/** POST JSON with the CSRF token; resolves to {ok, status, data} (never rejects on HTTP errors). */
export async function post(url, body = {}) {
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify(body),
    });
  } catch (err) {
    return { ok: false, status: 0, data: { error: { code: "network", message: String(err) } } };
  }
  let data = null;
  try { data = await response.json(); } catch (_err) { data = null; }
  if (response.status === 401) {
    window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname)}`);
  }
  return { ok: response.ok, status: response.status, data };
}

export async function getJSON(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  const data = await response.json().catch(() => null);
  return { ok: response.ok, status: response.status, data, headers: response.headers };
}

/** Call a service through the REST API (the session cookie authenticates it; the permission hook checks it). */
export function callService(domain, service, data = {}) {
  return post(`/api/services/${encodeURIComponent(domain)}/${encodeURIComponent(service)}`, data);
}

export function errorText(result) {
  const error = result && result.data && result.data.error;
  if (error && error.message) return error.message;
  return result && result.status ? `HTTP ${result.status}` : t("no answer from the hub");
}

// ---- DOM

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function toast(message, kind = "ok", ms = 6000) {
  let box = document.getElementById("toasts");
  if (!box) {
    box = el("div", { id: "toasts", "aria-live": "polite" });
    document.body.append(box);
  }
  const item = el("div", { class: `flash ${kind}`, role: kind === "error" ? "alert" : "status", text: message });
  box.append(item);
  while (box.children.length > 4) box.firstElementChild.remove();
  setTimeout(() => item.remove(), ms);
}

let formatter = null;
let partsFormatter = null;

/** Year, month, day, hour, minute, second of `date` in the site's time zone (the plot's axis). */
export function timeParts(date) {
  if (!partsFormatter) {
    partsFormatter = new Intl.DateTimeFormat("en-GB", { timeZone: document.body.dataset.tz || undefined,
      hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
      second: "2-digit" });
  }
  const parts = {};
  for (const { type, value } of partsFormatter.formatToParts(date)) parts[type] = value;
  return parts;
}

/** "6 dic 2026, 21:34:09" in the site's time zone and the reader's language (as the server shows times). */
export function fmtTime(value) {
  if (value === null || value === undefined || value === "") return "";
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat(lang(), { timeZone: document.body.dataset.tz || undefined,
      dateStyle: "medium", timeStyle: "medium", hourCycle: "h23" });
  }
  return formatter.format(date);
}

let relative = null;

/** How long ago, in words ("hace 3 min"). */
export function fmtAge(value) {
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  const seconds = Math.round((date.getTime() - Date.now()) / 1000);
  relative = relative || new Intl.RelativeTimeFormat(lang(), { numeric: "always", style: "short" });
  const ago = Math.min(0, seconds);
  if (ago > -60) return relative.format(ago, "second");
  if (ago > -3600) return relative.format(Math.round(ago / 60), "minute");
  if (ago > -86400) return relative.format(Math.round(ago / 3600), "hour");
  return relative.format(Math.round(ago / 86400), "day");
}

// Units that are words, in the reader's language (frontend/labels.py UNIT_WORDS); symbols stay as they are.
const UNIT_WORDS = { vehicles: t("vehicles"), "vehicles/h": t("vehicles/h"), entries: t("entries") };

/** A number in the reader's locale, with its unit. */
export function fmtNumber(value, unit = "") {
  const number = typeof value === "number" ? value : Number(value);
  if (value === null || value === "" || Number.isNaN(number)) return value === null ? "—" : String(value);
  const text = new Intl.NumberFormat(lang()).format(number);
  return unit ? `${text}\u00a0${UNIT_WORDS[unit] || unit}` : text;
}

export function severityRank(severity) {
  return SEVERITY_RANK[severity] ?? 9;
}

/** Newest and most severe first: severity, then raise time (newest first). */
export function compareAlarms(a, b) {
  const bySeverity = severityRank(a.severity) - severityRank(b.severity);
  if (bySeverity !== 0) return bySeverity;
  return alarmTime(b) - alarmTime(a);
}

export function alarmTime(alarm) {
  const value = alarm.raised_ts ?? 0;
  return typeof value === "number" ? value : Date.parse(value) / 1000 || 0;
}

// ---- sound: a short WebAudio beep, enabled by the operator (browsers need a click first)

let audio = null;

export function soundEnabled() {
  return localStorage.getItem("hacho.sound") === "on";
}

function updateSoundButton(button) {
  const on = soundEnabled();
  button.textContent = on ? t("Sound on") : t("Sound off");
  button.setAttribute("aria-pressed", on ? "true" : "false");
}

export function setupSoundToggle() {
  const button = document.getElementById("sound-toggle");
  if (!button) return;
  updateSoundButton(button);
  button.addEventListener("click", () => {
    localStorage.setItem("hacho.sound", soundEnabled() ? "off" : "on");
    updateSoundButton(button);
    if (soundEnabled()) beep(1);
  });
}

/** Beep `count` times (880 Hz, 0.18 s each): the critical-alarm signal. */
export function beep(count = 3) {
  document.body.dataset.lastBeep = String(Date.now());
  if (!soundEnabled()) return false;
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return false;
  audio = audio || new Context();
  const start = audio.currentTime + 0.02;
  for (let i = 0; i < count; i += 1) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = "square";
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.0001, start + i * 0.3);
    gain.gain.exponentialRampToValueAtTime(0.25, start + i * 0.3 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + i * 0.3 + 0.18);
    osc.connect(gain).connect(audio.destination);
    osc.start(start + i * 0.3);
    osc.stop(start + i * 0.3 + 0.2);
  }
  return true;
}

// ---- the live connection

/**
 * The page's one websocket to /c/<centre>/ws, authenticated by the session cookie and the CSRF
 * token. Screens add `onOpen(socket)` callbacks, run after each (re)connection so that their
 * subscriptions are renewed.
 */
export class LiveSocket {
  constructor() {
    this.nextId = 1;
    this.pending = new Map();
    this.handlers = new Map();
    this.openers = [];
    this.live = false;
    this.delay = 1000;
    this.connect();
  }

  onOpen(callback) {
    this.openers.push(callback);
    if (this.live) callback(this);
  }

  connect() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${window.location.host}/c/${centre()}/ws`);
    this.ws = ws;
    ws.addEventListener("message", (msg) => this.receive(JSON.parse(msg.data)));
    ws.addEventListener("close", (event) => {
      this.setLive(false);
      for (const { reject } of this.pending.values()) reject(new Error("connection closed"));
      this.pending.clear();
      this.handlers.clear();
      if (event.code === 4001) {  // the session ended
        window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname)}`);
        return;
      }
      setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 15000);
    });
  }

  setLive(live) {
    this.live = live;
    document.body.dataset.live = live ? "1" : "0";
    const indicator = document.getElementById("conn");
    if (!indicator) return;
    indicator.textContent = live ? t("live") : t("reconnecting");
    indicator.className = `conn ${live ? "live" : "down"}`;
  }

  receive(msg) {
    if (msg.type === "auth_required") {
      this.ws.send(JSON.stringify({ type: "auth", csrf_token: csrfToken() }));
      return;
    }
    if (msg.type === "auth_ok") {
      this.delay = 1000;
      this.setLive(true);
      for (const opener of this.openers) {
        try { opener(this); } catch (err) { console.error(err); }
      }
      return;
    }
    if (msg.type === "auth_invalid") {
      window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname)}`);
      return;
    }
    if (msg.type === "result") {
      const waiter = this.pending.get(msg.id);
      if (waiter) {
        this.pending.delete(msg.id);
        if (msg.success) waiter.resolve(msg.result);
        else waiter.reject(new Error(msg.error ? msg.error.message : "failed"));
      }
      if (!msg.success) this.handlers.delete(msg.id);
      return;
    }
    const handler = this.handlers.get(msg.id);
    if (handler) handler(msg);
  }

  /** Send a command; resolves with its result. */
  command(type, fields = {}) {
    const id = this.nextId;
    this.nextId += 1;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, type, ...fields }));
    });
  }

  /** A subscription: `onMessage(msg)` gets each message carrying the command's id. */
  subscribe(type, fields, onMessage) {
    this.handlers.set(this.nextId, onMessage);
    return this.command(type, fields);
  }
}

let shared = null;

/** The page's live connection (opened on first use). */
export function live() {
  if (!shared) shared = new LiveSocket();
  return shared;
}

document.addEventListener("DOMContentLoaded", setupSoundToggle);

// The language is changed by choosing it (the form's button stays for a page without scripts).
const languageForm = document.getElementById("language-form");
if (languageForm) {
  document.getElementById("language-submit")?.classList.add("hidden");
  document.getElementById("language")?.addEventListener("change", () => languageForm.submit());
}
