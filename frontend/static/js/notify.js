// On every screen: the live connection, and a beep plus a notice when a new critical alarm of
// this centre arrives (the queue itself is drawn by queue.js).

import { beep, centre, live, t, toast } from "./hacho.js";
import "./confirmations.js";

const known = new Set();
let primed = false;

function announce(alarm) {
  if (known.has(alarm.alarm_id)) return;
  known.add(alarm.alarm_id);
  if (!primed || alarm.centre !== centre() || alarm.state !== "raised") return;
  if (alarm.severity === "critical") {
    beep(3);
    toast(t("CRITICAL: {title}", { title: alarm.title || alarm.type }), "error", 15000);
  }
}

live().onOpen((socket) => {
  socket.subscribe("alarm/subscribe", {}, (msg) => {
    const event = msg.event || {};
    if (event.alarm && event.action === "upsert") announce(event.alarm);
  }).then((result) => {
    for (const alarm of (result && result.alarms) || []) known.add(alarm.alarm_id);
    primed = true;
  }).catch(() => { primed = true; });
});
