// An alarm raised for the operator's own centre with a linked camera on this wall pops that camera up: enlarged
// on its main stream, highlighted, with the alarm's title linking to its page (wall.js does the enlarging).

import { centre, el, live, pageData, t } from "./hacho.js";

const data = pageData();
const cameras = new Set(data.cameras.map((camera) => camera.entity_id));
const known = new Set();  // alarms already in the queue when the subscription (re)started pop nothing
let ready = false;

function pop(alarm, entityId) {
  document.dispatchEvent(new CustomEvent("hacho:wall-pop", { detail: { entity_id: entityId } }));
  const banner = document.getElementById("wall-alarm");
  banner.replaceChildren(el("a", { href: `/c/${centre()}/alarms/${alarm.alarm_id}`,
    text: t("Alarm: {title}", { title: alarm.title }) }));
  banner.dataset.alarm = alarm.alarm_id;
  banner.classList.remove("hidden");
  document.getElementById("wall-enlarged").classList.add("alarm-pop");
}

document.getElementById("enlarged-close").addEventListener("click", () => {
  document.getElementById("wall-alarm").classList.add("hidden");
  document.getElementById("wall-enlarged").classList.remove("alarm-pop");
});

live().onOpen((socket) => {
  ready = false;
  socket.subscribe("alarm/subscribe", data.own_centre ? { centre: data.own_centre } : {}, (msg) => {
    const event = msg.event || {};
    const alarm = event.alarm;
    if (!alarm || event.action !== "upsert" || known.has(alarm.alarm_id)) return;
    known.add(alarm.alarm_id);
    if (!ready || alarm.state !== "raised" || alarm.centre !== data.own_centre) return;
    const camera = (alarm.entities || []).find((entityId) => cameras.has(entityId));
    if (camera) pop(alarm, camera);
  }).then((result) => {
    for (const alarm of (result && result.alarms) || []) known.add(alarm.alarm_id);
    ready = true;
  }).catch((err) => console.error("alarm/subscribe", err));
});
