// Playback timelines, shared by the camera page and synchronised playback: times as text, bars for recorded
// ranges and gaps, event markers (alarms, ANPR reads, fire detections, bollard moves, from
// /c/<centre>/api/cameras/<id>/markers), the frame duration read from a recorded segment's boxes, and frame
// stepping of a paused video.

import { getJSON, t } from "./hacho.js";

export const DAY = 86400;
const DEFAULT_FRAME = 0.04; // 25 fps when a segment does not say

export function pad(n) {
  return String(n).padStart(2, "0");
}

export function clock(ts) {
  const d = new Date(ts * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function dayStart(ts) {
  const d = new Date(ts * 1000);
  d.setHours(0, 0, 0, 0);
  return d.getTime() / 1000;
}

export function dateValue(ts) {
  const d = new Date(ts * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** Wire the range controls (_playback_range.html): a day picked, a speed, a span of the timeline. */
export function wireRangeControls(dayInput, { day, speed, span }) {
  dayInput.addEventListener("change", () => {
    const [y, m, d] = dayInput.value.split("-").map(Number);
    if (y) day(new Date(y, m - 1, d).getTime() / 1000);
  });
  document.getElementById("pb-speed").addEventListener("change", (event) => speed(Number(event.target.value)));
  document.getElementById("pb-span").addEventListener("change", (event) => span(Number(event.target.value)));
}

/** A bar from `start` to `end` in the timeline showing [from, from + span); null when outside it. */
export function bar(timeline, cls, start, end, from, span) {
  if (end < from || start > from + span) return null;
  const node = document.createElement("div");
  node.className = cls;
  node.style.left = `${Math.max(0, (start - from) / span) * 100}%`;
  node.style.width = `${Math.max(0.05, ((Math.min(end, from + span) - Math.max(start, from)) / span) * 100)}%`;
  timeline.append(node);
  return node;
}

/** The markers of a camera between `from` and `to` (Unix seconds); [] when refused. */
export async function loadMarkers(url, from, to) {
  if (!url) return [];
  const result = await getJSON(`${url}?start=${from}&end=${to}`);
  return result.ok ? result.data.markers : [];
}

/** Draw `markers` on `timeline` (showing [from, from + span)); a click on one calls `onPick(marker)`. The markers
 * are thin pointer targets out of the tab order; the same events are listed as buttons, with their times, in
 * #pb-events (when the page has it) for the keyboard and for larger targets. */
export function drawMarkers(timeline, markers, from, span, onPick) {
  for (const old of timeline.querySelectorAll(".marker")) old.remove();
  const list = document.getElementById("pb-events");
  if (list) list.replaceChildren();
  let shown = 0;
  for (const marker of markers) {
    if (marker.ts < from || marker.ts > from + span) continue;
    if (list) {
      const item = document.createElement("li");
      const pick = document.createElement("button");
      pick.type = "button";
      pick.className = `pb-event pb-event-${marker.kind}`;
      pick.textContent = `${clock(marker.ts)} · ${marker.label}`;
      pick.addEventListener("click", () => onPick(marker));
      item.append(pick);
      list.append(item);
    }
    const node = document.createElement("button");
    node.type = "button";
    node.tabIndex = -1; // listed in #pb-events
    node.className = `marker marker-${marker.kind}`;
    node.style.left = `${((marker.ts - from) / span) * 100}%`;
    node.title = marker.label;
    node.setAttribute("aria-label", marker.label);
    node.dataset.ts = String(marker.ts);
    node.dataset.kind = marker.kind;
    node.addEventListener("click", (event) => {
      event.stopPropagation(); // not a click on the timeline at the marker's x
      onPick(marker);
    });
    timeline.append(node);
    shown += 1;
  }
  timeline.dataset.markers = String(shown);
}

function boxes(bytes, start, end) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found = [];
  let pos = start;
  while (pos + 8 <= end) {
    const size = view.getUint32(pos);
    const type = String.fromCharCode(bytes[pos + 4], bytes[pos + 5], bytes[pos + 6], bytes[pos + 7]);
    if (size < 8 || pos + size > end) break;
    found.push({ type, body: pos + 8, end: pos + size });
    pos += size;
  }
  return found;
}

function find(bytes, path, start = 0, end = bytes.length) {
  const [head, ...rest] = path;
  for (const box of boxes(bytes, start, end)) {
    if (box.type !== head) continue;
    if (!rest.length) return box;
    const inner = find(bytes, rest, box.body, box.end);
    if (inner) return inner;
  }
  return null;
}

/** Seconds per frame of a fragmented-MP4 segment (mdhd timescale; tfhd, trun or trex sample duration). */
export function frameDuration(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const mdhd = find(bytes, ["moov", "trak", "mdia", "mdhd"]);
  if (!mdhd) return DEFAULT_FRAME;
  const timescale = view.getUint32(mdhd.body + (bytes[mdhd.body] === 1 ? 20 : 12));
  let duration = 0;
  const tfhd = find(bytes, ["moof", "traf", "tfhd"]);
  if (tfhd) {
    const flags = view.getUint32(tfhd.body) & 0xffffff;
    let pos = tfhd.body + 8;
    if (flags & 0x01) pos += 8;
    if (flags & 0x02) pos += 4;
    if (flags & 0x08) duration = view.getUint32(pos);
  }
  const trun = find(bytes, ["moof", "traf", "trun"]);
  if (!duration && trun) {
    const flags = view.getUint32(trun.body) & 0xffffff;
    let pos = trun.body + 8;
    if (flags & 0x01) pos += 4;
    if (flags & 0x04) pos += 4;
    if (flags & 0x100) duration = view.getUint32(pos);
  }
  const trex = find(bytes, ["moov", "mvex", "trex"]);
  if (!duration && trex) duration = view.getUint32(trex.body + 12);
  return duration && timescale ? duration / timescale : DEFAULT_FRAME;
}

/** Pause and move `frames` frames (negative: back); returns the new currentTime. */
export function stepFrames(video, frames, frame) {
  video.pause();
  const target = Math.max(0, video.currentTime + frames * frame);
  video.currentTime = target;
  return target;
}

/** The purpose of this page's playback, asked once before any recorded video is fetched: resolves with the
 * text of the form `#pb-purpose` (10 to 500 characters; pre-filled from `prefill`, e.g. "Alarma <name>"
 * from an alarm's page) when it is submitted, then shows it in place of the form. */
export function askPurpose(prefill) {
  const form = document.getElementById("pb-purpose");
  const input = document.getElementById("pb-purpose-text");
  const shown = document.getElementById("pb-purpose-shown");
  if (prefill) input.value = prefill;
  input.focus();
  return new Promise((resolve) => {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (text.length < 10 || text.length > 500) {
        input.setCustomValidity(t("State the purpose of this playback (10 to 500 characters)"));
        input.reportValidity();
        return;
      }
      input.setCustomValidity("");
      form.hidden = true;
      shown.textContent = t("Purpose: {purpose}", { purpose: text });
      shown.hidden = false;
      resolve(text);
    });
    input.addEventListener("input", () => input.setCustomValidity(""));
  });
}
