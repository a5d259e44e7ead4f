// Bollard page: raise / lower / emergency lower behind a confirmation dialog; the hub's refusal
// reason (vehicle on the loop, local mode, second operator needed...) is shown as it came back.

import { callService, errorText, label, pageData, t, toast } from "./hacho.js";

const data = pageData();
const dialog = document.getElementById("confirm");
const question = document.getElementById("confirm-question");
const reasonInput = document.getElementById("confirm-reason");
const outcome = document.getElementById("outcome");
let pending = null;

function ask(button) {
  pending = { service: button.dataset.service, pendingId: button.dataset.pendingId || null };
  question.textContent = button.dataset.question;
  reasonInput.value = "";
  dialog.showModal();
}

async function run() {
  if (!pending) return;
  const { service, pendingId } = pending;
  pending = null;
  const body = { entity_id: pendingId ? data.entity_id : [data.entity_id] };
  if (pendingId) body.pending_id = pendingId;
  const reason = reasonInput.value.trim();
  if (reason && !pendingId) body.reason = reason;
  outcome.textContent = t("Sending...");
  outcome.className = "flash";
  const result = await callService("bollard", service, body);
  if (result.ok) {
    outcome.textContent = t("{command}: sent", { command: label(service) });
    outcome.className = "flash ok";
    toast(t("{command}: sent", { command: label(service) }));
  } else {
    const text = errorText(result);
    outcome.textContent = /^refused/i.test(text) ? text.charAt(0).toUpperCase() + text.slice(1)
      : t("Refused: {reason}", { reason: text });
    outcome.className = "flash error refusal";
  }
}

for (const button of document.querySelectorAll("button[data-service]")) {
  button.addEventListener("click", () => ask(button));
}
// A command waiting for a second operator appeared, changed or went: redraw the buttons.
let pendingId = data.pending_id || null;
document.addEventListener("hacho:state", (event) => {
  const state = event.detail;
  const pendingNow = state && state.attributes.pending_command ? state.attributes.pending_command.id : null;
  if (pendingNow !== pendingId && !(dialog && dialog.open)) window.location.reload();
  pendingId = pendingNow;
});

if (dialog) {
  dialog.addEventListener("close", () => {
    if (dialog.returnValue === "confirm") run();
    else pending = null;
  });
}
