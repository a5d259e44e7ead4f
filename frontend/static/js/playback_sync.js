// Synchronised playback: one timeline (a row of recorded ranges and gaps per camera, and every camera's event
// markers) drives 2-4 recorded players through a SyncGroup (sync.js). A click on the timeline plays every
// camera from that time, a click on a marker from its time less the pre-roll; speed, play/pause and frame
// steps act on all of them. `?t=<unix>` starts there, once the viewer has stated the purpose (`?purpose=`
// pre-fills it).

import { getJSON, pageData, t } from "./hacho.js";
import { SteppingPlayer, SyncGroup } from "./sync.js";
import {
  DAY, askPurpose, bar, clock, dateValue, dayStart, drawMarkers, loadMarkers, wireRangeControls,
} from "./timeline.js";

const data = pageData();
const status = document.getElementById("pb-status");
const say = (text) => {
  if (status) status.textContent = text;
};

class SyncPlayback {
  constructor(cameras, preRoll, purpose) {
    this.purpose = purpose;
    this.preRoll = preRoll || 0;
    this.timeline = document.getElementById("pb-timeline");
    this.clock = document.getElementById("pb-clock");
    this.dayInput = document.getElementById("pb-day");
    this.day = dayStart(Date.now() / 1000);
    this.span = DAY;
    this.from = this.day;
    this.markers = [];
    this.cursor = null;
    const grid = document.getElementById("sync-grid");
    this.members = cameras.map((camera) => {
      const video = document.createElement("video");
      video.className = "video";
      video.muted = true;
      video.playsInline = true;
      video.dataset.camera = camera.camera;
      const caption = document.createElement("figcaption");
      caption.textContent = camera.name;
      const figure = document.createElement("figure");
      figure.className = "sync-tile";
      figure.append(video, caption);
      grid.append(figure);
      const member = { camera, listing: null, player: new SteppingPlayer(video, camera, say, purpose) };
      member.segments = () => (member.listing ? member.listing.segments : []);
      return member;
    });
    this.group = new SyncGroup(this.members);
    window.hachoSync = this.group; // for the page's tests and the console
    this.timeline.style.height = `${Math.max(28, 14 * this.members.length)}px`;
    wireRangeControls(this.dayInput, {
      day: (day) => this.load(day),
      speed: (rate) => this.group.setRate(rate),
      span: (span) => this.zoom(span, this.group.wallTime() || this.from + this.span / 2),
    });
    this.timeline.addEventListener("click", (event) => {
      const box = this.timeline.getBoundingClientRect();
      this.play(this.from + ((event.clientX - box.left) / box.width) * this.span);
    });
    document.getElementById("pb-step-back").addEventListener("click", () => this.group.step(-1));
    document.getElementById("pb-step-forward").addEventListener("click", () => this.group.step(1));
    document.getElementById("pb-toggle").addEventListener("click", () => {
      if (this.group.playing) this.group.pause();
      else this.group.play();
    });
    setInterval(() => this.showPosition(), 250);
  }

  async load(day) {
    this.day = day;
    this.dayInput.value = dateValue(day);
    const why = encodeURIComponent(this.purpose);
    const listings = await Promise.all(this.members.map((m) => getJSON(
      `${m.camera.recordings_url}?start=${day}&end=${day + DAY}&purpose=${why}`)));
    const markers = await Promise.all(this.members.map((m) => loadMarkers(m.camera.markers_url, day, day + DAY)));
    listings.forEach((result, i) => {
      this.members[i].listing = result.ok ? result.data : null;
      if (!result.ok) say(t("recordings: HTTP {status}", { status: result.status }));
    });
    this.markers = markers.flat().sort((a, b) => a.ts - b.ts);
    this.zoom(this.span, this.from + this.span / 2);
  }

  zoom(span, centre) {
    this.span = span;
    this.from = Math.min(Math.max(this.day, centre - span / 2), this.day + DAY - span);
    this.timeline.replaceChildren();
    this.cursor = null;
    const rows = this.members.length;
    this.members.forEach((member, i) => {
      const row = document.createElement("div");
      row.className = "row";
      row.style.top = `${(i / rows) * 100}%`;
      row.style.height = `${100 / rows}%`;
      row.dataset.camera = member.camera.camera;
      this.timeline.append(row);
      if (!member.listing) return;
      for (const [start, end] of member.listing.ranges) bar(row, "rec", start, end, this.from, span);
      for (const gap of member.listing.gaps) {
        bar(row, "gap", gap.start, gap.end === null ? Date.now() / 1000 : gap.end, this.from, span);
      }
    });
    drawMarkers(this.timeline, this.markers, this.from, span, (marker) => this.play(marker.ts - this.preRoll));
    this.timeline.dataset.from = String(this.from);
    this.showPosition();
  }

  async play(ts) {
    if (ts < this.day || ts >= this.day + DAY || !this.members.some((m) => m.listing)) await this.load(dayStart(ts));
    if (ts < this.from || ts >= this.from + this.span) this.zoom(this.span, ts);
    this.timeline.dataset.requested = String(ts);
    this.group.playing = true;
    await this.group.seek(ts);
    say(t("playing"));
  }

  showPosition() {
    const wall = this.group.wallTime();
    if (wall === null) return;
    this.clock.textContent = clock(wall);
    if (!this.cursor) this.cursor = bar(this.timeline, "cursor", this.from, this.from, this.from, this.span);
    if (this.cursor) this.cursor.style.left = `${Math.min(100, Math.max(0, ((wall - this.from) / this.span) * 100))}%`;
  }
}

if (data.players && data.players.length) {
  askPurpose(data.purpose).then((purpose) => {
    const playback = new SyncPlayback(data.players, data.pre_roll, purpose);
    if (data.start) playback.play(data.start);
    else playback.load(playback.day);
  });
}
