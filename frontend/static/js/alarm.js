// One alarm: its details, the SOP with one-click steps, the timeline and the actions its state allows.
// Everything is redrawn from /c/<centre>/api/alarms/<id> after an action and whenever the alarm changes
// (websocket), so two operators on the same alarm see each other's work.

import {
  callService, centre, el, errorText, fmtTime, getJSON, label, live, nameOf, named, pageData, t, toast,
} from "./hacho.js";

const data = pageData();
let alarm = data.alarm;
let mayHandle = data.may_handle;
let actionFocus = false;  // an action button had the focus: the redraw gives it to the next action

const ACTIONS = [
  // [service, label, states it applies to, needs a note, button class]
  ["acknowledge", t("Acknowledge"), ["raised"], false, "primary"],
  ["start", t("Start work"), ["raised", "acknowledged"], false, ""],
  ["resolve", t("Resolve"), ["acknowledged", "in_progress"], true, "ok"],
  ["close", t("Close"), ["resolved", "cleared"], false, ""],
];
const WORKING = new Set(["acknowledged", "in_progress"]);  // SOP steps need the alarm acknowledged

async function act(service, body, okText, field = null) {
  const result = await callService("alarm", service, { alarm_id: alarm.alarm_id, ...body });
  if (!result.ok) {
    toast(t("Refused: {reason}", { reason: errorText(result) }), "error", 10000);
    return false;
  }
  toast(okText);
  if (field) field.value = "";  // done with it: the redraw must not bring the text back
  await refresh();
  return true;
}

function noteField(id, placeholder) {
  return el("textarea", { id, rows: 2, placeholder, maxlength: 4000 });
}

function renderHeader() {
  const sev = document.getElementById("alarm-severity");
  sev.className = `sev sev-${alarm.severity}`;
  sev.textContent = label(alarm.severity);
  const state = document.getElementById("alarm-state");
  state.className = `state state-${alarm.state}`;
  state.textContent = label(alarm.state);
  document.body.dataset.alarmState = alarm.state;
  const kv = document.getElementById("alarm-details");
  const rows = [
    [t("Type"), named("types", alarm.type)],
    [t("Centre"), el("span", {}, named("centres", alarm.centre), alarm.shared ? ` (${t("shared")})` : "")],
    [t("Area"), alarm.area_id ? named("areas", alarm.area_id) : ""],
    [t("Raised"), fmtTime(alarm.raised_ts)],
    [t("Acknowledged"), fmtTime(alarm.acknowledged_ts)],
    [t("Resolved"), fmtTime(alarm.resolved_ts)],
    [t("Closed"), fmtTime(alarm.closed_ts)],
    [t("Assignee"), alarm.assignee ? named("users", alarm.assignee) : ""],
    [t("Occurrences"), String(alarm.occurrences || 1)],
    [t("Escalation"), alarm.escalation_level ? (["", t("re-notified"), t("escalated to the supervisor")][alarm.escalation_level]
      || t("level {level}", { level: alarm.escalation_level })) : ""],
    [t("Source"), alarm.source ? (alarm.source.includes(".") ? named("entities", alarm.source) : alarm.source)
      : (alarm.source_event || "")],
  ].filter(([, value]) => value);
  kv.replaceChildren(...rows.flatMap(([key, value]) => [el("dt", { text: key }), el("dd", {}, value)]));
  if (alarm.entities && alarm.entities.length) {
    // a device links to its page; any other entity an alarm names is shown by name only
    const devices = new Set(data.device_domains || []);
    kv.append(el("dt", { text: t("Devices") }), el("dd", {}, el("ul", { class: "plain" },
      ...alarm.entities.map((entityId) => el("li", {}, devices.has(entityId.split(".")[0])
        ? el("a", { href: `/c/${centre()}/devices/${entityId}`, title: entityId, text: nameOf("entities", entityId) })
        : named("entities", entityId))))));
  }
  document.getElementById("alarm-message").textContent = alarm.message || "";
}

function renderActions() {
  const box = document.getElementById("alarm-actions");
  box.replaceChildren();
  if (!mayHandle) {
    box.append(el("p", { class: "flash", id: "not-owned",
      text: t("This alarm belongs to {centre}: only that centre handles it.",
        { centre: nameOf("centres", alarm.centre) }) }));
    return;
  }
  const note = noteField("action-note", t("Note (required to resolve)"));
  const buttons = el("div", { class: "actions" });
  for (const [service, label, states, needsNote, cls] of ACTIONS) {
    if (!states.includes(alarm.state)) continue;
    buttons.append(el("button", { type: "button", class: cls, id: `btn-${service}`, onclick: async (event) => {
      const text = note.value.trim();
      if (needsNote && !text) {
        toast(t("Write a note saying how it was resolved"), "error");
        note.focus();
        return;
      }
      actionFocus = true;
      event.currentTarget.disabled = true;
      await act(service, text ? { note: text } : {}, t("{action}: done", { action: label }), note);
    } }, label));
  }
  if (alarm.state !== "closed") {
    buttons.append(el("button", { type: "button", id: "btn-note", onclick: async () => {
      const text = note.value.trim();
      if (!text) { note.focus(); return; }
      await act("add_note", { note: text }, t("Note added"), note);
    } }, t("Add note")));
    box.append(el("label", { for: "action-note", text: t("Note") }), note);
  }
  box.append(buttons);
}

function renderSop() {
  const list = document.getElementById("sop");
  const steps = alarm.sop || [];
  document.getElementById("sop-card").classList.toggle("hidden", steps.length === 0);
  const hint = document.getElementById("sop-hint");
  if (hint) hint.classList.toggle("hidden", !(mayHandle && alarm.state === "raised"));
  list.replaceChildren(...steps.map((step) => {
    const item = el("li", { class: step.status === "pending" || step.status === "failed" ? "" : "done",
                            dataset: { stepId: step.id, status: step.status } },
      el("span", { class: "step-status", text: label(step.status)
        + (step.user_id ? ` · ${nameOf("users", step.user_id)}` : "") }),
      el("strong", { text: step.title, title: step.type === "service" ? step.service : null }),  // id: tooltip
      step.description ? el("div", { class: "muted", text: step.description }) : null,
      step.note ? el("div", { text: t("Note: {note}", { note: step.note }) }) : null,
      step.error ? el("div", { class: "refusal", text: step.error }) : null);
    if (mayHandle && WORKING.has(alarm.state) && (step.status === "pending" || step.status === "failed")) {
      const note = el("input", { id: `note-${step.id}`,
        placeholder: step.note_required || step.type === "note" ? t("Note (required)") : t("Note (optional)"),
        maxlength: 4000, "aria-label": t("Note for {step}", { step: step.title }) });
      const runLabel = step.type === "service" ? t("Run") : t("Done");
      const run = el("button", { type: "button", class: "primary", dataset: { step: step.id }, onclick: async () => {
        const text = note.value.trim();
        if ((step.note_required || step.type === "note") && !text) { note.focus(); return; }
        run.disabled = true;
        const ok = await act("complete_step", { step_id: step.id, ...(text ? { note: text } : {}) },
          t("{action}: done", { action: step.title }), note);
        if (!ok) run.disabled = false;
      } }, runLabel);
      const skip = el("button", { type: "button", dataset: { skip: step.id }, onclick: async () => {
        const text = note.value.trim();
        if (!text) { toast(t("Say why the step is skipped (the supervisor is told)"), "error"); note.focus(); return; }
        await act("skip_step", { step_id: step.id, reason: text }, t("{step}: skipped", { step: step.title }), note);
      } }, t("Skip"));
      item.append(el("div", { class: "inline" }, note, el("div", { class: "actions" }, run, skip)));
    }
    return item;
  }));
}

function renderTimeline() {
  const list = document.getElementById("timeline");
  const entries = [...(alarm.timeline || [])].reverse();
  list.replaceChildren(...entries.map((entry) => el("li", { dataset: { kind: entry.kind } },
    el("span", { class: "when", text: fmtTime(entry.time_ts) }),
    el("strong", { text: label(entry.kind)
      + (entry.data && entry.data.step_title ? `: ${entry.data.step_title}` : "") }),
    entry.user_id ? ` ${t("by")} ` : "", entry.user_id ? named("users", entry.user_id) : "",
    entry.user_id && entry.centre ? ` (${nameOf("centres", entry.centre)})` : "",
    entry.text ? el("div", { text: entry.text }) : null)));
}

function render() {
  // Keep what the operator was typing across a redraw.
  const typed = new Map([...document.querySelectorAll("#alarm-actions [id], #sop [id]")]
    .filter((node) => "value" in node && node.value).map((node) => [node.id, node.value]));
  const focused = document.activeElement && document.activeElement.id;
  renderHeader();
  renderActions();
  renderSop();
  renderTimeline();
  for (const [id, value] of typed) {
    const node = document.getElementById(id);
    if (node) node.value = value;
  }
  if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
  else if (actionFocus) document.querySelector("#alarm-actions button:not(:disabled)")?.focus();
  actionFocus = false;
  document.dispatchEvent(new CustomEvent("hacho:alarm", { detail: { alarm, mayHandle } }));  // alarm_now.js
}

async function refresh() {
  const result = await getJSON(`/c/${centre()}/api/alarms/${alarm.alarm_id}`);
  if (result.ok) {
    alarm = result.data.alarm;
    mayHandle = result.data.may_handle;
    render();
  }
}

render();
let pending = null;
live().onOpen((socket) => {
  socket.subscribe("alarm/subscribe", {}, (msg) => {
    const event = msg.event || {};
    if (event.alarm && event.alarm.alarm_id === alarm.alarm_id && !pending) {
      pending = setTimeout(() => { pending = null; refresh(); }, 100);
    }
  }).catch((err) => console.error("alarm/subscribe", err));
});

// An ANPR hit's review on its evidence (frontend/templates/_alarm_evidence.html): confirm or reject the
// hit, or say what the plate reads; each is an audited service call, and a correction feeds the site's
// training set (docs/anpr.md).
const review = document.getElementById("hit-review");
if (review) {
  const hitId = review.dataset.hitId;
  const status = document.querySelector("#hit-status strong");
  const reviewAction = async (service, body, okText, newStatus = null) => {
    const result = await callService("anpr", service, { hit_id: hitId, ...body });
    if (!result.ok) {
      toast(t("Refused: {reason}", { reason: errorText(result) }), "error", 10000);
      return;
    }
    toast(okText);
    if (newStatus && status) status.textContent = label(newStatus);
  };
  const reason = document.getElementById("hit-reason");
  document.getElementById("hit-accept").addEventListener("click", () => reviewAction(
    "hit_accept", reason.value.trim() ? { reason: reason.value.trim() } : {}, t("Hit confirmed"), "accepted"));
  document.getElementById("hit-reject").addEventListener("click", () => {
    if (!reason.value.trim()) {
      toast(t("Write the reason first"), "error");
      reason.focus();
      return;
    }
    reviewAction("hit_reject", { reason: reason.value.trim() }, t("Hit rejected"), "rejected");
  });
  document.getElementById("hit-correct").addEventListener("click", () => {
    const plate = document.getElementById("hit-plate").value.trim();
    reviewAction("read_correct", { plate, ...(reason.value.trim() ? { reason: reason.value.trim() } : {}) },
      t("Read corrected: {plate}", { plate }));
  });
}
