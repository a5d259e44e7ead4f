// Keeps a live screen's "N alarms of X not shared" lines current: the hub pushes nothing of what a user may not
// see, so the counts are asked for again every 15 seconds (GET /c/<centre>/api/not-shared).

import { centre, el, getJSON, t } from "./hacho.js";

const box = document.getElementById("not-shared-box");
const REFRESH_MS = 15000;

async function refresh() {
  const result = await getJSON(`/c/${centre()}/api/not-shared?kinds=${encodeURIComponent(box.dataset.kinds)}`);
  if (!result.ok) return;
  const lines = result.data.lines || [];
  box.replaceChildren(...(lines.length ? [el("ul", { class: "not-shared", id: "not-shared",
    "aria-label": t("Not shared with your centre") },
    ...lines.map((line) => el("li", { dataset: { kind: line.kind, centre: line.centre, count: String(line.count) },
      text: line.text })))] : []));
}

if (box && box.dataset.kinds) setInterval(refresh, REFRESH_MS);
