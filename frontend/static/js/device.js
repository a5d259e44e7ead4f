// Every device page: follow the device's state live (frontend/subscribe_states) and update the state
// badge and the details; page modules listen for the `hacho:state` event to redraw their own parts.

import { el, live, pageData } from "./hacho.js";

const data = pageData();
const HIDDEN = new Set(["friendly_name", "pages", "queued", "charset", "pictograms"]);

function text(value) {
  if (Array.isArray(value)) return value.map(String).join(", ");
  if (value && typeof value === "object") return JSON.stringify(value);
  if (value === true) return "True";
  if (value === false) return "False";
  return String(value);
}

function update(state) {
  const badge = document.getElementById("device-state");
  if (badge) badge.textContent = state ? state.state : "removed";
  const details = document.getElementById("attributes");
  if (details && state) {
    const rows = Object.entries(state.attributes)
      .filter(([key, value]) => !HIDDEN.has(key) && value !== null && !(Array.isArray(value) && !value.length))
      .flatMap(([key, value]) => [el("dt", { text: key.replace(/_/g, " ") }), el("dd", { text: text(value) })]);
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
