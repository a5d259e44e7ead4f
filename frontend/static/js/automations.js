// Automations: switch one on or off (automation.turn_on / turn_off), then show the new state.

import { callService, errorText, toast } from "./hacho.js";

async function toggle(event) {
  const button = event.currentTarget;
  const on = button.dataset.on === "true";
  button.disabled = true;
  const result = await callService("automation", on ? "turn_off" : "turn_on", { entity_id: button.dataset.toggle });
  button.disabled = false;
  if (!result.ok) {
    toast(`Refused: ${errorText(result)}`, "error", 10000);
    return;
  }
  button.dataset.on = on ? "false" : "true";
  button.textContent = on ? "Turn on" : "Turn off";
  const row = button.closest("tr");
  const state = row ? row.querySelector("[data-role=state]") : null;
  if (state) state.textContent = on ? "off" : "on";
  toast(`${button.dataset.toggle} turned ${on ? "off" : "on"}`);
}

for (const button of document.querySelectorAll("button[data-toggle]")) button.addEventListener("click", toggle);
