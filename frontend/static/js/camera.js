// The camera page: the live player (main stream) and, with the playback grant, a day's timeline of recorded
// ranges, gaps and event markers; a click plays from that time, a click on a marker from its time less the
// pre-roll; frame steps while paused; `?t=<unix>` (an alarm's time less the pre-roll) starts there. Nothing
// recorded is fetched before the viewer states the purpose (`?purpose=` pre-fills it; audited by the hub).

import { getJSON, pageData, t } from "./hacho.js";
import { SteppingPlayer } from "./sync.js";
import {
  DAY, askPurpose, bar, clock, dateValue, dayStart, drawMarkers, loadMarkers, wireRangeControls,
} from "./timeline.js";
import { LivePlayer } from "./video.js";

function setStatus(id) {
  const node = document.getElementById(id);
  return (text) => {
    if (node) node.textContent = text;
  };
}

class Playback {
  constructor(camera, start, markersUrl, preRoll, purpose) {
    this.camera = camera;
    this.markersUrl = markersUrl;
    this.preRoll = preRoll || 0;
    this.markers = [];
    this.video = document.getElementById("pb-video");
    this.timeline = document.getElementById("pb-timeline");
    this.dayInput = document.getElementById("pb-day");
    this.clock = document.getElementById("pb-clock");
    this.listing = null;
    this.day = dayStart(start || Date.now() / 1000);
    this.span = DAY; // seconds the timeline shows, from this.from
    this.from = this.day;
    this.purpose = purpose;
    this.player = new SteppingPlayer(this.video, camera, setStatus("pb-status"), purpose);
    this.cursor = null;
    this.dayInput.value = dateValue(this.day);
    wireRangeControls(this.dayInput, {
      day: (day) => this.load(day),
      speed: (rate) => this.player.setRate(rate),
      span: (span) => this.zoom(span, this.player.wallTime() || this.from + this.span / 2),
    });
    this.timeline.addEventListener("click", (event) => {
      const box = this.timeline.getBoundingClientRect();
      this.play(this.from + ((event.clientX - box.left) / box.width) * this.span);
    });
    this.video.addEventListener("timeupdate", () => this.showPosition());
    this.video.addEventListener("seeked", () => this.showPosition());
    document.getElementById("pb-step-back").addEventListener("click", () => this.player.step(-1));
    document.getElementById("pb-step-forward").addEventListener("click", () => this.player.step(1));
    document.getElementById("pb-toggle").addEventListener("click", () => {
      if (this.video.paused) this.video.play().catch(() => {});
      else this.video.pause();
    });
  }

  async load(day) {
    this.day = day;
    this.dayInput.value = dateValue(day);
    const why = encodeURIComponent(this.purpose);
    const result = await getJSON(`${this.camera.recordings_url}?start=${day}&end=${day + DAY}&purpose=${why}`);
    this.timeline.replaceChildren();
    this.cursor = null;
    if (!result.ok) {
      setStatus("pb-status")(t("recordings: HTTP {status}", { status: result.status }));
      return null;
    }
    this.listing = result.data;
    this.markers = await loadMarkers(this.markersUrl, day, day + DAY);
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
    drawMarkers(this.timeline, this.markers, this.from, span, (marker) => this.play(marker.ts - this.preRoll));
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
  askPurpose(data.purpose).then((purpose) => {
    const playback = new Playback(camera, data.start, data.markers_url, data.pre_roll, purpose);
    if (data.start) playback.play(data.start);
    else playback.load(playback.day);
  });
}
