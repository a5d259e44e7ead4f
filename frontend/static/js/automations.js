// Automations: switch one on or off (automation.turn_on / turn_off), then show the new state.

import { callService, errorText, label, t, toast } from "./hacho.js";

async function toggle(event) {
  const button = event.currentTarget;
  const on = button.dataset.on === "true";
  button.disabled = true;
  const result = await callService("automation", on ? "turn_off" : "turn_on", { entity_id: button.dataset.toggle });
  button.disabled = false;
  if (!result.ok) {
    toast(t("Refused: {reason}", { reason: errorText(result) }), "error", 10000);
    return;
  }
  button.dataset.on = on ? "false" : "true";
  button.textContent = on ? t("Turn on") : t("Turn off");
  const row = button.closest("tr");
  const state = row ? row.querySelector("[data-role=state]") : null;
  if (state) state.textContent = label(on ? "off" : "on");
  toast(on ? t("Automation turned off") : t("Automation turned on"));
}

for (const button of document.querySelectorAll("button[data-toggle]")) button.addEventListener("click", toggle);
