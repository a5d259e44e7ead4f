// Video in the browser without plug-ins or transcoding: Media Source Extensions fed with fragmented MP4.
//
// LivePlayer: /api/camera/<id>/live?stream=main|sub over a websocket. The first binary message is a 4-byte
// big-endian length, that JSON ({codec, mime, camera, stream}), then the init segment; every later message
// is one fragment (the first starts with a keyframe). The player keeps near the live edge (jumping over fragments the
// hub dropped for a lagging connection) and reconnects with a growing delay when the stream ends. It falls back to
// live HLS (hls_live.js) when the websocket cannot connect twice in a row, when the browser has no websocket or
// Media Source Extensions, or when MSE cannot play the camera's codec; `?video=hls` forces HLS (remembered).
//
// RecordedPlayer: the segments listed by /api/camera/<id>/recordings, fetched in order into one
// SourceBuffer, each placed at its own wall-clock time (timestampOffset), so media time + base = wall time
// and gaps stay gaps (skipped while playing). Speed 1x-16x is the video element's playbackRate.

import { t } from "./hacho.js";
import { HlsLive, forcedTransport } from "./hls_live.js";

const LIVE_EDGE_MAX = 3.0; // seconds behind the newest frame before the player jumps forward
const LIVE_KEEP = 20; // seconds of live video kept behind the playhead
const AHEAD = 20; // seconds of recorded video fetched ahead of the playhead
const FALLBACK_AFTER = 2; // websocket connections failing before any message, in a row, before HLS is tried

function wsUrl(path) {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}${path}`;
}

function splitInit(buffer) {
  const view = new DataView(buffer);
  const length = view.getUint32(0);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, length)));
  return { header, init: buffer.slice(4 + length) };
}

/** One SourceBuffer with a queue of appends (MSE allows one at a time). */
class Appender {
  constructor(video, mime) {
    this.video = video;
    this.queue = [];
    this.source = new MediaSource();
    this.url = URL.createObjectURL(this.source);
    this.buffer = null;
    this.ready = new Promise((resolve, reject) => {
      this.source.addEventListener("sourceopen", () => {
        try {
          this.buffer = this.source.addSourceBuffer(mime);
          this.buffer.mode = "segments";
          this.buffer.addEventListener("updateend", () => this._next());
          resolve();
        } catch (err) {
          reject(err);
        }
      }, { once: true });
    });
    video.src = this.url;
  }

  /** Queue `data` (with a timestampOffset to set first, when given); resolves once appended. */
  append(data, offset = null) {
    return new Promise((resolve, reject) => {
      this.queue.push({ data, offset, resolve, reject });
      this._next();
    });
  }

  _next() {
    const buffer = this.buffer;
    if (!buffer || buffer.updating || this.source.readyState !== "open") return;
    if (this.trimTo !== undefined) {
      const end = this.trimTo;
      this.trimTo = undefined;
      if (buffer.buffered.length && buffer.buffered.start(0) < end) {
        buffer.remove(0, end);
        return;
      }
    }
    const item = this.queue.shift();
    if (!item) return;
    try {
      if (item.offset !== null) buffer.timestampOffset = item.offset;
      buffer.appendBuffer(item.data);
      buffer.addEventListener("updateend", () => item.resolve(), { once: true });
    } catch (err) {
      item.reject(err);
    }
  }

  /** Remove media before `time` at the next chance (keeps memory bounded). */
  trim(time) {
    if (time > 0) this.trimTo = time;
  }

  close() {
    this.queue = [];
    this.video.removeAttribute("src");
    this.video.load();
    URL.revokeObjectURL(this.url);
  }
}

/** When the playhead sits in no buffered range (a gap), jump to the next range; returns whether it jumped. */
function skipGap(video) {
  const ranges = video.buffered;
  const now = video.currentTime;
  for (let i = 0; i < ranges.length; i += 1) {
    if (now >= ranges.start(i) && now < ranges.end(i) - 0.05) return false;
    if (ranges.start(i) > now) {
      video.currentTime = ranges.start(i) + 0.01;
      return true;
    }
  }
  return false;
}

export class LivePlayer {
  /** `camera`: the page data of a camera (live_url, snapshot_url); `stream`: "main" or "sub". */
  constructor(video, camera, stream = "main", onStatus = () => {}) {
    this.video = video;
    this.camera = camera;
    this.stream = stream;
    this.onStatus = onStatus;
    this.socket = null;
    this.appender = null;
    this.delay = 1000;
    this.timer = null;
    this.stopped = false;
    this.fragments = 0;
    this.failures = 0; // websocket connections that ended before any message, in a row
    this.hls = null;
    video.poster = `${camera.snapshot_url}?stream=${stream}&width=640`;
  }

  start() {
    this.stopped = false;
    if (forcedTransport() === "hls" || !window.WebSocket || !window.MediaSource) this._fallback();
    else this._connect();
    return this;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close();
    this.socket = null;
    if (this.appender) this.appender.close();
    this.appender = null;
    if (this.hls) this.hls.stop();
    this.hls = null;
  }

  /** Live HLS instead of the websocket, from now on for this player. */
  _fallback() {
    const socket = this.socket;
    this.socket = null;
    if (socket) socket.close();
    if (this.appender) this.appender.close();
    this.appender = null;
    this.hls = new HlsLive(this.video, this.camera, this.stream, this.onStatus);
    this.hls.start();
  }

  _connect() {
    this.video.dataset.transport = "mse";
    this.onStatus(t("connecting"));
    const socket = new WebSocket(wsUrl(`${this.camera.live_url}?stream=${this.stream}`));
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    let first = true;
    socket.addEventListener("message", (event) => {
      if (!(event.data instanceof ArrayBuffer)) return;
      if (first) {
        first = false;
        this._open(event.data);
      } else {
        this._fragment(event.data);
      }
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket || this.stopped) return;
      // no message at all and no close frame from the hub (1006): the websocket itself fails (a proxy)
      this.failures = first && event.code === 1006 ? this.failures + 1 : 0;
      if (this.failures >= FALLBACK_AFTER) {
        this._fallback();
        return;
      }
      if (this.appender) this.appender.close();
      this.appender = null;
      this.onStatus(event.reason ? t("stopped: {reason}", { reason: event.reason }) : t("disconnected, retrying"));
      this.timer = setTimeout(() => this._connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 30000);
    });
  }

  _open(buffer) {
    const { header, init } = splitInit(buffer);
    if (!window.MediaSource || !MediaSource.isTypeSupported(header.mime)) {
      if (this.video.canPlayType("application/vnd.apple.mpegurl")) {
        this._fallback(); // the browser's own HLS may play what its MSE cannot
        return;
      }
      this.onStatus(t("this browser cannot play {codec}", { codec: header.codec }));
      this.stopped = true;
      this.socket.close();
      return;
    }
    this.video.dataset.codec = header.codec;
    this.appender = new Appender(this.video, header.mime);
    this.appender.ready.then(() => this.appender && this.appender.append(init)).catch((err) => {
      this.onStatus(t("player error: {error}", { error: String(err) }));
    });
    this.delay = 1000;
  }

  _fragment(buffer) {
    const appender = this.appender;
    if (!appender) return;
    appender.ready.then(() => appender.append(buffer)).then(() => {
      this.fragments += 1;
      const video = this.video;
      const ranges = video.buffered;
      if (!ranges.length) return;
      const end = ranges.end(ranges.length - 1);
      const start = ranges.start(ranges.length - 1);
      if (video.currentTime < start || end - video.currentTime > LIVE_EDGE_MAX) {
        video.currentTime = Math.max(start, end - 0.3);
      }
      appender.trim(video.currentTime - LIVE_KEEP);
      if (video.paused) video.play().catch(() => {});
      this.onStatus(t("live"));
    }).catch((err) => this.onStatus(t("player error: {error}", { error: String(err) })));
  }
}

function codecOf(bytes) {
  // the avcC box of the segment's moov: version, profile, compatibility, level
  for (let i = 0; i + 8 < bytes.length; i += 1) {
    if (bytes[i] === 0x61 && bytes[i + 1] === 0x76 && bytes[i + 2] === 0x63 && bytes[i + 3] === 0x43) {
      const hex = (n) => n.toString(16).padStart(2, "0");
      return `avc1.${hex(bytes[i + 5])}${hex(bytes[i + 6])}${hex(bytes[i + 7])}`;
    }
  }
  return null;
}

export class RecordedPlayer {
  constructor(video, camera, onStatus = () => {}, purpose = "") {
    this.video = video;
    this.camera = camera;
    this.onStatus = onStatus;
    this.purpose = purpose; // why this playback (required by the hub, audited with the range)
    this.appender = null;
    this.segments = [];
    this.next = 0;
    this.base = 0;
    this.fetching = false;
    this.generation = 0;
    this.rate = 1;
    video.addEventListener("timeupdate", () => this._tick());
    video.addEventListener("waiting", () => this._tick());
  }

  /** Wall-clock time (Unix seconds) of the frame shown, null when nothing plays. */
  wallTime() {
    return this.appender ? this.base + this.video.currentTime : null;
  }

  setRate(rate) {
    this.rate = rate;
    this.video.playbackRate = rate;
  }

  /** Play the camera's recordings from `ts` (Unix seconds), given the playable segments of the period. */
  async playFrom(ts, segments) {
    this.generation += 1;
    const generation = this.generation;
    const playable = segments.filter((s) => s.status === "ok").sort((a, b) => a.start - b.start);
    let index = playable.findIndex((s) => s.end > ts);
    if (index < 0) {
      this.onStatus(t("nothing recorded from that time"));
      return false;
    }
    if (this.appender) this.appender.close();
    this.appender = null;
    this.segments = playable;
    this.next = index;
    const first = await this._fetch(playable[index]);
    if (generation !== this.generation) return false;
    const codec = codecOf(first);
    if (!codec) {
      this.onStatus(t("the segment carries no H.264 track"));
      return false;
    }
    this.base = playable[index].start;
    this.appender = new Appender(this.video, `video/mp4; codecs="${codec}"`);
    await this.appender.ready;
    await this.appender.append(first, 0);
    this.video.dataset.segment = String(playable[index].id);
    this.next = index + 1;
    this.video.currentTime = Math.max(0, ts - this.base);
    this.video.playbackRate = this.rate;
    this.onStatus(t("playing"));
    await this.video.play().catch(() => {});
    this._tick();
    return true;
  }

  async _fetch(segment) {
    const url = `${this.camera.segments_url}/${segment.id}?purpose=${encodeURIComponent(this.purpose)}`;
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`segment ${segment.id}: HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  }

  _tick() {
    const video = this.video;
    if (!this.appender) return;
    skipGap(video);
    const wall = this.wallTime();
    video.dataset.wall = String(wall);
    const playing = this.segments.find((s) => s.start <= wall && wall < s.end);
    if (playing) video.dataset.segment = String(playing.id);
    this.appender.trim(video.currentTime - 30);
    this._fill();
  }

  async _fill() {
    if (this.fetching || this.next >= this.segments.length) return;
    const ahead = this.segments[this.next].start - this.base - this.video.currentTime;
    if (ahead > AHEAD) return;
    this.fetching = true;
    const generation = this.generation;
    const segment = this.segments[this.next];
    try {
      const data = await this._fetch(segment);
      if (generation === this.generation && this.appender) {
        await this.appender.append(data, segment.start - this.base);
        this.next += 1;
      }
    } catch (err) {
      this.onStatus(String(err));
      this.next += 1; // a refused (corrupt) segment is a gap
    } finally {
      this.fetching = false;
    }
    if (generation === this.generation) this._fill();
  }
}
