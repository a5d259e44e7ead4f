// The camera page: the live player (main stream) and, with the playback grant, a day's timeline of recorded
// ranges and gaps; a click plays from that time; `?t=<unix>` (an alarm's time less the pre-roll) starts there.

import { getJSON, pageData, t } from "./hacho.js";
import { LivePlayer, RecordedPlayer } from "./video.js";

const DAY = 86400;

function pad(n) {
  return String(n).padStart(2, "0");
}

function clock(ts) {
  const d = new Date(ts * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function dayStart(ts) {
  const d = new Date(ts * 1000);
  d.setHours(0, 0, 0, 0);
  return d.getTime() / 1000;
}

function dateValue(ts) {
  const d = new Date(ts * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function setStatus(id) {
  const node = document.getElementById(id);
  return (text) => {
    if (node) node.textContent = text;
  };
}

/** A bar from `start` to `end` in the timeline showing [from, from + span); null when outside it. */
function bar(timeline, cls, start, end, from, span) {
  if (end < from || start > from + span) return null;
  const node = document.createElement("div");
  node.className = cls;
  node.style.left = `${Math.max(0, (start - from) / span) * 100}%`;
  node.style.width = `${Math.max(0.05, ((Math.min(end, from + span) - Math.max(start, from)) / span) * 100)}%`;
  timeline.append(node);
  return node;
}

class Playback {
  constructor(camera, start) {
    this.camera = camera;
    this.video = document.getElementById("pb-video");
    this.timeline = document.getElementById("pb-timeline");
    this.dayInput = document.getElementById("pb-day");
    this.clock = document.getElementById("pb-clock");
    this.listing = null;
    this.day = dayStart(start || Date.now() / 1000);
    this.span = DAY; // seconds the timeline shows, from this.from
    this.from = this.day;
    this.player = new RecordedPlayer(this.video, camera, setStatus("pb-status"), "camera page");
    this.cursor = null;
    this.dayInput.value = dateValue(this.day);
    this.dayInput.addEventListener("change", () => {
      const [y, m, d] = this.dayInput.value.split("-").map(Number);
      if (y) this.load(new Date(y, m - 1, d).getTime() / 1000);
    });
    document.getElementById("pb-speed").addEventListener("change", (event) => {
      this.player.setRate(Number(event.target.value));
    });
    document.getElementById("pb-span").addEventListener("change", (event) => {
      this.zoom(Number(event.target.value), this.player.wallTime() || this.from + this.span / 2);
    });
    this.timeline.addEventListener("click", (event) => {
      const box = this.timeline.getBoundingClientRect();
      this.play(this.from + ((event.clientX - box.left) / box.width) * this.span);
    });
    this.video.addEventListener("timeupdate", () => this.showPosition());
  }

  async load(day) {
    this.day = day;
    this.dayInput.value = dateValue(day);
    const result = await getJSON(`${this.camera.recordings_url}?start=${day}&end=${day + DAY}`);
    this.timeline.replaceChildren();
    this.cursor = null;
    if (!result.ok) {
      setStatus("pb-status")(t("recordings: HTTP {status}", { status: result.status }));
      return null;
    }
    this.listing = result.data;
    this.zoom(this.span, this.from + this.span / 2);
    this.timeline.dataset.ranges = String(this.listing.ranges.length);
    return this.listing;
  }

  /** Show `span` seconds of the day around `centre` and draw the ranges and gaps in it. */
  zoom(span, centre) {
    this.span = span;
    this.from = Math.min(Math.max(this.day, centre - span / 2), this.day + DAY - span);
    this.timeline.replaceChildren();
    this.cursor = null;
    if (!this.listing) return;
    for (const [start, end] of this.listing.ranges) bar(this.timeline, "rec", start, end, this.from, span);
    for (const gap of this.listing.gaps) {
      bar(this.timeline, "gap", gap.start, gap.end === null ? Date.now() / 1000 : gap.end, this.from, span);
    }
    this.timeline.dataset.from = String(this.from);
    this.showPosition();
  }

  async play(ts) {
    if (!this.listing || ts < this.day || ts >= this.day + DAY) await this.load(dayStart(ts));
    this.video.dataset.requested = String(ts);
    if (ts < this.from || ts >= this.from + this.span) this.zoom(this.span, ts);
    await this.player.playFrom(ts, this.listing ? this.listing.segments : []);
  }

  showPosition() {
    const wall = this.player.wallTime();
    if (wall === null) return;
    this.clock.textContent = clock(wall);
    if (!this.cursor) this.cursor = bar(this.timeline, "cursor", this.from, this.from, this.from, this.span);
    if (this.cursor) this.cursor.style.left = `${Math.min(100, Math.max(0, ((wall - this.from) / this.span) * 100))}%`;
  }
}

const data = pageData();
const camera = data.camera;
if (camera && camera.may_view) {
  const video = document.getElementById("live-video");
  if (video) new LivePlayer(video, camera, "main", setStatus("live-status")).start();
}
if (camera && camera.may_playback && document.getElementById("pb-video")) {
  const playback = new Playback(camera, data.start);
  if (data.start) playback.play(data.start);
  else playback.load(playback.day);
}
