// Every device page: follow the device's state live (frontend/subscribe_states) and update the state
// badge and the details; page modules listen for the `hacho:state` event to redraw their own parts.

import { el, fmtNumber, fmtTime, label, live, pageData, t } from "./hacho.js";

const data = pageData();
const HIDDEN = new Set(["friendly_name", "pages", "queued", "charset", "pictograms"]);

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d/;

/** A value by its type, as the server's `value` filter shows it (frontend/formatting.py). */
function show(value) {
  if (value === null || value === undefined || value === "") return "—";
  if (value === true) return t("yes");
  if (value === false) return t("no");
  if (typeof value === "number") return fmtNumber(value);
  if (typeof value === "string" && ISO.test(value)) return fmtTime(value);
  if (Array.isArray(value)) return value.length ? el("ul", { class: "plain" }, ...value.map((v) => el("li", {}, show(v)))) : "—";
  if (typeof value === "object") {
    return el("dl", { class: "kv inner" }, ...Object.entries(value).flatMap(([k, v]) => [
      el("dt", { text: k.replace(/_/g, " ") }), el("dd", {}, show(v))]));
  }
  return String(value);
}

function update(state) {
  const badge = document.getElementById("device-state");
  const unit = state && state.attributes.unit_of_measurement;
  if (badge) {
    badge.textContent = !state ? t("removed")
      : unit ? fmtNumber(state.state, unit) : label(state.state, data.entity_id.split(".")[0]);
  }
  const details = document.getElementById("attributes");
  if (details && state) {
    const rows = Object.entries(state.attributes)
      .filter(([key, value]) => !HIDDEN.has(key) && value !== null && !(Array.isArray(value) && !value.length))
      .flatMap(([key, value]) => [el("dt", { text: key.replace(/_/g, " ") }), el("dd", {}, show(value))]);
    details.replaceChildren(...rows);
  }
  document.dispatchEvent(new CustomEvent("hacho:state", { detail: state }));
}

if (data.entity_id) {
  live().onOpen((socket) => {
    socket.subscribe("frontend/subscribe_states", { entity_ids: [data.entity_id] }, (msg) => {
      if (msg.event && msg.event.entity_id === data.entity_id) update(msg.event.new);
    }).catch((err) => console.error("frontend/subscribe_states", err));
  });
}
