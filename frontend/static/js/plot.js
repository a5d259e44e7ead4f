// Sensor page: the recorder's history as an inline SVG plot (numbers as a line, other states as
// labelled steps), refreshed when the range changes and when the live state changes.

import { el, fmtTime, getJSON, pageData, t as tr, timeParts } from "./hacho.js";

const SVG = "http://www.w3.org/2000/svg";
const W = 900;
const H = 260;
const PAD = { left: 56, right: 12, top: 12, bottom: 28 };

function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== null) node.textContent = text;
  return node;
}

function toPoints(states) {
  return states.map((s) => ({ t: Date.parse(s.last_changed) / 1000, v: Number(s.state), raw: s.state }))
    .filter((p) => !Number.isNaN(p.t));
}

/** Build the plot for `states` (one entity's history, oldest first) between `start` and `end` (epoch s). */
export function buildPlot(states, start, end, unit = "") {
  const root = svg("svg", { class: "plot", viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none",
                            role: "img", "aria-label": tr("history plot") });
  const points = toPoints(states);
  const x = (t) => PAD.left + ((t - start) / Math.max(1, end - start)) * (W - PAD.left - PAD.right);
  root.append(svg("line", { class: "axis", x1: PAD.left, y1: H - PAD.bottom, x2: W - PAD.right, y2: H - PAD.bottom }));
  root.append(svg("line", { class: "axis", x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: H - PAD.bottom }));
  for (let i = 0; i <= 4; i += 1) {
    const t = start + ((end - start) * i) / 4;
    const p = timeParts(new Date(t * 1000));
    const label = end - start < 600 ? `${p.hour}:${p.minute}:${p.second}` : `${p.hour}:${p.minute}`;
    root.append(svg("text", { x: x(t), y: H - 8, "text-anchor": i === 0 ? "start" : i === 4 ? "end" : "middle" }, label));
  }
  if (!points.length) {
    root.append(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, tr("No history in this range")));
    return root;
  }
  const numeric = points.filter((p) => Number.isFinite(p.v));
  if (numeric.length >= points.length / 2 && numeric.length > 0) {
    let lo = Math.min(...numeric.map((p) => p.v));
    let hi = Math.max(...numeric.map((p) => p.v));
    if (lo === hi) { lo -= 1; hi += 1; }
    const y = (v) => PAD.top + (1 - (v - lo) / (hi - lo)) * (H - PAD.top - PAD.bottom);
    for (let i = 0; i <= 4; i += 1) {
      const v = lo + ((hi - lo) * i) / 4;
      root.append(svg("line", { class: "grid", x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v) }));
      root.append(svg("text", { x: PAD.left - 6, y: y(v) + 4, "text-anchor": "end" },
        `${Math.round(v * 100) / 100}${i === 4 && unit ? ` ${unit}` : ""}`));
    }
    // A sensor holds its value until the next reading: draw it as a step line up to `end`.
    let d = "";
    numeric.forEach((p, i) => {
      const px = x(Math.max(p.t, start));
      d += i === 0 ? `M${px},${y(p.v)}` : `H${px}V${y(p.v)}`;
    });
    d += `H${x(end)}`;
    root.append(svg("path", { class: "line", d }));
    return root;
  }
  // Text states: one band per distinct value.
  const values = [...new Set(points.map((p) => p.raw))];
  const band = (H - PAD.top - PAD.bottom) / Math.max(1, values.length);
  const y = (raw) => PAD.top + band * values.indexOf(raw) + band / 2;
  values.forEach((value) => root.append(svg("text", { x: PAD.left - 6, y: y(value) + 4, "text-anchor": "end" }, value)));
  let d = "";
  points.forEach((p, i) => {
    const px = x(Math.max(p.t, start));
    d += i === 0 ? `M${px},${y(p.raw)}` : `H${px}V${y(p.raw)}`;
  });
  d += `H${x(end)}`;
  root.append(svg("path", { class: "step", d }));
  return root;
}

async function load() {
  const data = pageData();
  const box = document.getElementById("plot");
  const select = document.getElementById("range");
  if (!box || !data.entity_id) return;
  const fit = select && select.value === "fit";
  const hours = fit ? 168 : Number(select ? select.value : 24);
  const end = Date.now() / 1000;
  let start = end - hours * 3600;
  const query = new URLSearchParams({
    filter_entity_id: data.entity_id,
    start_time: new Date(start * 1000).toISOString(),
    end_time: new Date(end * 1000).toISOString(),
  });
  const result = await getJSON(`/api/history?${query}`);
  box.replaceChildren();
  if (!result.ok) {
    box.append(el("p", { class: "flash error", text: (result.data && result.data.error && result.data.error.message) || tr("History unavailable") }));
    return;
  }
  if (result.headers.get("X-Hacho-Not-Shared")) {  // the hub left it out: another centre's, not shared with ours
    box.append(el("p", { class: "flash", id: "history-not-shared",
      text: tr("This device's history is not shared with your centre.") }));
    return;
  }
  const states = (result.data && result.data[0]) || [];
  if (fit && states.length) {
    // From the first reading (less a margin of a tenth of the span, at least a second) to now.
    const first = Date.parse(states[0].last_changed) / 1000;
    start = Math.max(start, first - Math.max(1, (end - first) / 10));
  }
  box.append(buildPlot(states, start, end, data.unit || ""));
  const last = states[states.length - 1];
  box.dataset.points = String(states.length);
  if (last) box.append(el("p", { class: "muted", text: `${states.length} readings; last ${last.state} at ${fmtTime(last.last_changed)}` }));
}

const select = document.getElementById("range");
if (select) select.addEventListener("change", load);
load();
// A new reading: the recorder commits it within about a second, then the plot is read again.
let again = null;
document.addEventListener("hacho:state", () => {
  if (!again) again = setTimeout(() => { again = null; load(); }, 1500);
});
