// The alarm queue: the centre's open alarms, most severe and newest first, kept current by the
// websocket (alarm/subscribe). Alarms other centres share are listed apart (notify.js beeps), and so
// are the alarms peer centres' hubs share through federation (federation/subscribe_alarms): their owner
// changes them, so the only action here is asking it to acknowledge.
// The centre's own queue works from the keyboard: one Tab stop (the current row), ↑/↓ or j/k to move,
// Home/End, Enter to open, "a" to acknowledge; the focus stays on its alarm when the queue redraws.

import {
  alarmTime, callService, centre, compareAlarms, el, errorText, fmtAge, fmtTime, label, live, named, pageData, t,
  toast,
} from "./hacho.js";

const data = pageData();
const alarms = new Map();
const peerAlarms = new Map();
const asked = new Set();
const seen = new Set();
const OPEN = new Set(data.open_states || ["raised", "acknowledged", "in_progress"]);
let current = null;  // the alarm id of the queue's one Tab stop

function isOpen(alarm) {
  return OPEN.has(alarm.state);
}

function alarmUrl(alarm) {
  return `/c/${centre()}/alarms/${alarm.alarm_id}`;
}

function row(alarm, fresh, keyed = false) {
  const tr = el("tr", {
    class: `sev-row-${alarm.severity}${fresh ? " fresh" : ""}`,
    dataset: { alarmId: alarm.alarm_id, severity: alarm.severity, state: alarm.state },
    ...(keyed ? { tabindex: alarm.alarm_id === current ? "0" : "-1" } : {}),
  },
  el("td", {}, el("span", { class: `sev sev-${alarm.severity}`, text: label(alarm.severity) })),
  el("td", {}, el("a", { href: alarmUrl(alarm), class: "alarm-title", text: alarm.title || alarm.type,
                         ...(keyed ? { tabindex: "-1" } : {}) }),
    alarm.message ? el("div", { class: "muted", text: alarm.message }) : null),
  el("td", {}, el("span", { class: `state state-${alarm.state}`, text: label(alarm.state) })),
  el("td", {}, named("areas", alarm.area_id)),
  el("td", { title: fmtTime(alarmTime(alarm)) }, fmtAge(alarmTime(alarm))),
  el("td", {}, named("users", alarm.assignee)));
  return tr;
}

function askOwner(alarm, button) {
  button.disabled = true;
  callService("federation", "acknowledge_alarm", { alarm_id: alarm.alarm_id }).then((result) => {
    if (result.ok) {
      asked.add(alarm.alarm_id);
      toast(t("Asked {centre} to acknowledge", { centre: alarm.origin_name }));
    } else {
      button.disabled = false;
      toast(t("Not sent: {reason}", { reason: errorText(result) }), "error");
    }
    render();
  });
}

function peerRow(alarm) {
  let action = null;
  if (alarm.state === "raised" && data.may_ask_peers) {
    action = asked.has(alarm.alarm_id)
      ? el("span", { class: "muted", text: t("asked") })
      : el("button", { type: "button", class: "ask-ack", text: t("Ask to acknowledge") });
    if (action.tagName === "BUTTON") action.addEventListener("click", () => askOwner(alarm, action));
  }
  return el("tr", {
    class: `sev-row-${alarm.severity}`,
    dataset: { alarmId: alarm.alarm_id, severity: alarm.severity, state: alarm.state, origin: alarm.origin_site },
  },
  el("td", {}, el("span", { class: `sev sev-${alarm.severity}`, text: label(alarm.severity) })),
  el("td", {}, el("span", { class: "alarm-title", text: alarm.title || alarm.type }),
    alarm.message ? el("div", { class: "muted", text: alarm.message }) : null),
  el("td", { text: alarm.origin_name || alarm.origin_site }),
  el("td", {}, el("span", { class: `state state-${alarm.state}`, text: label(alarm.state) })),
  el("td", { title: alarm.area_id || null, text: alarm.area_name || alarm.area_id || "—" }),
  el("td", { title: fmtTime(alarmTime(alarm)) }, fmtAge(alarmTime(alarm))),
  el("td", { text: alarm.assignee || "—" }),
  el("td", {}, action));
}

function renderPeers() {
  const open = [...peerAlarms.values()].filter(isOpen).sort(compareAlarms);
  document.getElementById("peers-body").replaceChildren(...open.map(peerRow));
  document.getElementById("peers").classList.toggle("hidden", open.length === 0);
}

function render() {
  renderPeers();
  const own = [...alarms.values()].filter((a) => a.centre === centre() && isOpen(a)).sort(compareAlarms);
  const shared = [...alarms.values()].filter((a) => a.centre !== centre() && isOpen(a)).sort(compareAlarms);
  const body = document.getElementById("queue-body");
  const focused = body.contains(document.activeElement) ? document.activeElement.closest("tr") : null;
  const focusedIndex = focused ? [...body.rows].indexOf(focused) : -1;
  if (!own.some((a) => a.alarm_id === current)) {
    // its alarm left the queue: the row now in its place (or the first) takes the Tab stop
    current = own.length ? own[Math.min(Math.max(focusedIndex, 0), own.length - 1)].alarm_id : null;
  }
  body.replaceChildren(...own.map((a) => row(a, !seen.has(a.alarm_id), true)));
  if (focused) rowOf(current)?.focus();
  document.getElementById("queue-empty").classList.toggle("hidden", own.length > 0);
  const sharedBody = document.getElementById("shared-body");
  if (sharedBody) {
    sharedBody.replaceChildren(...shared.map((a) => row(a, false)));
    document.getElementById("shared").classList.toggle("hidden", shared.length === 0);
  }
  const counts = document.getElementById("counts");
  counts.replaceChildren(...["critical", "major", "minor", "warning", "info"].map((sev) => {
    const n = own.filter((a) => a.severity === sev).length;
    return n ? el("span", { class: `sev sev-${sev}`, text: `${label(sev)}: ${n}` }) : null;
  }).filter(Boolean));
  for (const a of own) seen.add(a.alarm_id);
  document.title = own.length ? `(${own.length}) ${document.title.replace(/^\(\d+\) /, "")}` : document.title.replace(/^\(\d+\) /, "");
}

function rowOf(alarmId) {
  return alarmId ? document.querySelector(`#queue-body tr[data-alarm-id="${CSS.escape(alarmId)}"]`) : null;
}

function moveTo(tr) {
  if (!tr) return;
  for (const other of tr.parentElement.rows) other.tabIndex = other === tr ? 0 : -1;
  current = tr.dataset.alarmId;
  tr.focus();
}

async function acknowledge(alarm) {
  if (alarm.state !== "raised") return;
  const result = await callService("alarm", "acknowledge", { alarm_id: alarm.alarm_id });
  if (result.ok) toast(t("{action}: done", { action: t("Acknowledge") }));
  else toast(t("Refused: {reason}", { reason: errorText(result) }), "error", 10000);
}

const KEYS = {
  ArrowDown: (tr) => moveTo(tr.nextElementSibling),
  j: (tr) => moveTo(tr.nextElementSibling),
  ArrowUp: (tr) => moveTo(tr.previousElementSibling),
  k: (tr) => moveTo(tr.previousElementSibling),
  Home: (tr) => moveTo(tr.parentElement.firstElementChild),
  End: (tr) => moveTo(tr.parentElement.lastElementChild),
  Enter: (tr) => { window.location.assign(alarmUrl({ alarm_id: tr.dataset.alarmId })); },
  a: (tr) => { const alarm = alarms.get(tr.dataset.alarmId); if (alarm) acknowledge(alarm); },
};

document.getElementById("queue-body").addEventListener("keydown", (event) => {
  const tr = event.target.closest("tr[data-alarm-id]");
  const handler = KEYS[event.key];
  if (!tr || !handler || event.altKey || event.ctrlKey || event.metaKey || event.target !== tr) return;
  event.preventDefault();
  handler(tr);
});
document.getElementById("queue-body").addEventListener("focusin", (event) => {
  const tr = event.target.closest("tr[data-alarm-id]");
  if (tr && tr.dataset.alarmId !== current) moveTo(tr);
});

function update(alarm) {
  alarms.set(alarm.alarm_id, alarm);
}

for (const alarm of data.alarms || []) {
  alarms.set(alarm.alarm_id, alarm);
  seen.add(alarm.alarm_id);
}
for (const alarm of data.peer_alarms || []) peerAlarms.set(alarm.alarm_id, alarm);
render();
setInterval(render, 30000);  // ages

live().onOpen((socket) => {
  socket.subscribe("alarm/subscribe", {}, (msg) => {
    const event = msg.event || {};
    if (!event.alarm) return;
    if (event.action === "remove") alarms.delete(event.alarm.alarm_id);
    else update(event.alarm);
    render();
  }).then((result) => {
    // The subscription's first answer is the current list: nothing missed while disconnected.
    alarms.clear();
    for (const alarm of (result && result.alarms) || []) update(alarm);
    render();
  }).catch((err) => console.error("alarm/subscribe", err));
});
if (data.peer_alarms) {
  live().onOpen((socket) => {
    socket.subscribe("federation/subscribe_alarms", {}, (msg) => {
      const event = msg.event || {};
      if (!event.alarm) return;
      if (event.action === "remove") peerAlarms.delete(event.alarm.alarm_id);
      else peerAlarms.set(event.alarm.alarm_id, event.alarm);
      render();
    }).then((result) => {
      peerAlarms.clear();
      for (const alarm of (result && result.alarms) || []) peerAlarms.set(alarm.alarm_id, alarm);
      render();
    }).catch((err) => console.error("federation/subscribe_alarms", err));
  });
}
