// Live HLS, the fallback of the websocket live view: /api/camera/<id>/hls/<stream>/index.m3u8, fragmented-MP4
// segments the hub copies from the camera without transcoding (integrations/camera/hls.py). Played by hls.js
// (npm, vendored under static/vendor/hls/ by scripts/vendor-leaflet.sh) through Media Source Extensions, or by
// the browser itself where it plays HLS natively. hls.js is loaded only when a player needs it.

import { t } from "./hacho.js";

const HLS_MODULE = "../vendor/hls/hls.light.min.mjs";
const RETRY_MS = 2000; // first retry after a fatal error; doubles up to RETRY_MAX_MS (a refusal is audited)
const RETRY_MAX_MS = 30000;

/** `?video=hls` forces HLS (and is remembered in this browser), `?video=auto` goes back to the websocket. */
export function forcedTransport() {
  const asked = new URLSearchParams(window.location.search).get("video");
  try {
    if (asked === "hls") window.localStorage.setItem("hacho.video", "hls");
    if (asked === "auto") window.localStorage.removeItem("hacho.video");
    return window.localStorage.getItem("hacho.video") === "hls" ? "hls" : null;
  } catch (err) {
    return asked === "hls" ? "hls" : null; // storage refused: the URL alone decides
  }
}

export class HlsLive {
  constructor(video, camera, stream, onStatus) {
    this.video = video;
    this.url = `${camera.live_url.replace(/\/live$/, "/hls")}/${stream}/index.m3u8`;
    this.onStatus = onStatus;
    this.hls = null;
    this.timer = null;
    this.delay = RETRY_MS;
    this.stopped = false;
  }

  async start() {
    this.stopped = false;
    const video = this.video;
    video.dataset.transport = "hls";
    this.onStatus(t("connecting"));
    let Hls = null;
    try {
      Hls = (await import(HLS_MODULE)).default;
    } catch (err) {
      Hls = null;
    }
    if (this.stopped) return this;
    if (Hls && Hls.isSupported()) {
      this._attach(Hls);
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = this.url;
      video.addEventListener("playing", () => this.onStatus(t("live (HLS)")), { once: true });
      video.play().catch(() => {});
    } else {
      this.onStatus(t("this browser cannot play HLS"));
    }
    return this;
  }

  _attach(Hls) {
    // Two segments (about 2 s) behind the newest; no worker (the Content-Security-Policy allows no blob: worker).
    const hls = new Hls({ enableWorker: false, liveSyncDurationCount: 2, liveMaxLatencyDurationCount: 5,
                          maxLiveSyncPlaybackRate: 1.5, backBufferLength: 20 });
    this.hls = hls;
    hls.on(Hls.Events.MANIFEST_PARSED, () => this.video.play().catch(() => {}));
    hls.on(Hls.Events.FRAG_BUFFERED, () => {
      this.delay = RETRY_MS;
      this.onStatus(t("live (HLS)"));
    });
    hls.on(Hls.Events.ERROR, (_event, data) => {
      if (!data.fatal || this.stopped) return;
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
        hls.recoverMediaError();
        return;
      }
      this.onStatus(t("player error: {error}", { error: data.details }));
      hls.destroy();
      this.hls = null;
      this.timer = setTimeout(() => { if (!this.stopped) this._attach(Hls); }, this.delay);
      this.delay = Math.min(this.delay * 2, RETRY_MAX_MS);
    });
    hls.loadSource(this.url);
    hls.attachMedia(this.video);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.hls) this.hls.destroy();
    this.hls = null;
    this.video.removeAttribute("src");
    this.video.load();
  }
}
