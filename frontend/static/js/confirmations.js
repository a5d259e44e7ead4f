// Two-person confirmations on every screen: a bollard command that waits for a second person shows a
// banner to everyone who may command that bollard, with who asked, when, and a visible countdown; it
// goes when it is confirmed, cancelled or expires (live over frontend/subscribe_states).

import { beep, centre, el, fmtAge, label, live, nameOf, t } from "./hacho.js";

function block(id) {
  const node = document.getElementById(id);
  try { return node ? JSON.parse(node.textContent) : {}; } catch (_err) { return {}; }
}

const data = block("confirmations");
const eligible = new Set(data.eligible || []);
const names = data.names || {};
const pending = new Map((data.pending || []).map((p) => [p.entity_id, p]));
const me = document.body.dataset.user || "";
// On the alarm queue they are entries of the queue; on every other screen a banner above the page.
const inQueue = document.getElementById("confirmation-rows");
const box = inQueue || document.getElementById("pending-confirmations");
const frame = inQueue ? document.getElementById("confirmation-queue") : box;

function secondsLeft(item) {
  return Math.round((Date.parse(item.expires_at) - Date.now()) / 1000);
}

function entry(item) {
  const left = secondsLeft(item);
  const expired = left <= 0;
  const mine = item.requested_by === me;
  const who = nameOf("users", item.requested_by);
  const asked = item.requested_at ? fmtAge(item.requested_at) : "";
  const url = `/c/${centre()}/devices/${item.entity_id}`;
  return el("div", {
    class: `flash confirmation${expired ? " expired" : ""}`, role: "alert",
    dataset: { entityId: item.entity_id, pendingId: item.id, expired: expired ? "1" : "0" },
  },
  el("strong", { text: `${names[item.entity_id] || item.entity_id}: ${label(item.command)}` }), " ",
  el("span", { class: "who", title: item.requested_by || "",
    text: t("asked by {user} {ago}", { user: who, ago: asked }) }), " · ",
  el("span", { class: "countdown", text: expired ? t("expired") : t("expires in {seconds} s", { seconds: left }) }),
  " ",
  mine || expired ? el("span", { class: "muted", text: mine ? t("waiting for a second person") : "" })
    : el("a", { class: "button primary", href: url, text: t("Review and confirm") }));
}

function render() {
  if (!box) return;
  const items = [...pending.values()].filter((item) => eligible.has(item.entity_id));
  box.replaceChildren(...items.map(entry));
  frame.classList.toggle("hidden", items.length === 0);
  for (const item of items) {
    // an expired request stays visible for a while, marked, then goes
    if (secondsLeft(item) < -30) pending.delete(item.entity_id);
  }
}

function update(entityId, state) {
  const waiting = state && state.attributes ? state.attributes.pending_command : null;
  const before = pending.get(entityId);
  if (waiting) {
    pending.set(entityId, { entity_id: entityId, ...waiting });
    if (!before || before.id !== waiting.id) {
      if (waiting.requested_by !== me) beep(2);
    }
  } else if (before && secondsLeft(before) > 0) {
    pending.delete(entityId);  // confirmed or cancelled
  }
  render();
}

if (eligible.size) {
  render();
  setInterval(render, 1000);
  live().onOpen((socket) => {
    socket.subscribe("frontend/subscribe_states", { entity_ids: [...eligible] }, (msg) => {
      if (msg.event) update(msg.event.entity_id, msg.event.new);
    }).catch((err) => console.error("frontend/subscribe_states", err));
  });
}
