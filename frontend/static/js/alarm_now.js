// What the alarm wants now: its SLA counting down (acknowledge, then resolve, by the type's deadlines) and the
// SOP's next step with its one-click button (the SOP list's own button does the work: alarm.js).
// Redrawn each second and whenever alarm.js redraws the alarm (the hacho:alarm event).

import { el, pageData, t } from "./hacho.js";

const data = pageData();
const sla = data.sla || {};
let alarm = data.alarm;
let mayHandle = data.may_handle;
const WORKING = new Set(["acknowledged", "in_progress"]);

function clock(seconds) {
  const total = Math.abs(Math.round(seconds));
  const hours = Math.floor(total / 3600);
  const minutes = String(Math.floor((total % 3600) / 60)).padStart(2, "0");
  const rest = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${minutes}:${rest}` : `${minutes}:${rest}`;
}

function renderSla() {
  const box = document.getElementById("alarm-sla");
  let due = null;
  let kind = null;
  if (alarm.state === "raised" && sla.ack_due_ts) [due, kind] = [sla.ack_due_ts, "ack"];
  else if (WORKING.has(alarm.state) && sla.resolve_due_ts) [due, kind] = [sla.resolve_due_ts, "resolve"];
  box.classList.toggle("hidden", due === null);
  if (due === null) return;
  const left = due - Date.now() / 1000;
  const time = clock(left);
  box.dataset.kind = kind;
  box.dataset.left = String(Math.round(left));
  box.classList.toggle("overdue", left < 0);
  if (kind === "ack") {
    box.textContent = left >= 0 ? t("Acknowledge within {time}", { time }) : t("Acknowledgement overdue by {time}", { time });
  } else {
    box.textContent = left >= 0 ? t("Resolve within {time}", { time }) : t("Resolution overdue by {time}", { time });
  }
}

function renderNext() {
  const box = document.getElementById("alarm-next-step");
  const step = (alarm.sop || []).find((item) => item.status === "pending" || item.status === "failed");
  const open = alarm.state === "raised" || WORKING.has(alarm.state);
  box.classList.toggle("hidden", !step || !open);
  if (!step || !open) return;
  box.dataset.step = step.id;
  const parts = [el("span", { class: "muted", text: `${t("Next step")}: ` }), el("strong", { text: step.title })];
  const run = document.querySelector(`#sop button[data-step="${CSS.escape(step.id)}"]`);
  if (run && mayHandle) {
    parts.push(" ", el("button", { type: "button", class: "primary", id: "next-step-run", onclick: () => {
      const note = document.getElementById(`note-${step.id}`);
      if ((step.note_required || step.type === "note") && note && !note.value.trim()) {
        note.focus();  // this step needs a note first: it is typed in the procedure below
        return;
      }
      run.click();
    } }, step.type === "service" ? t("Run") : t("Done")));
  } else if (mayHandle && alarm.state === "raised") {
    parts.push(el("span", { class: "muted", text: ` · ${t("Acknowledge the alarm to work through its procedure.")}` }));
  }
  box.replaceChildren(...parts);
}

function render() {
  renderSla();
  renderNext();
}

document.addEventListener("hacho:alarm", (event) => {
  ({ alarm, mayHandle } = event.detail);
  render();
});
render();
setInterval(renderSla, 1000);
