// Recorded players that step frames and seek fast, and a sync group: one timeline drives 2-4 players.
//
// SteppingPlayer: a RecordedPlayer that learns its frame duration from the first segment it fetches
// (timeline.js frameDuration), steps frames while paused, and seeks inside what it has buffered without
// fetching again (a seek elsewhere fetches from the segment holding that time).
//
// SyncGroup: the first player with video is the leader; every 50 ms each follower is compared with it by
// wall-clock time (media time + the player's base). Paused, a follower is put on the leader's frame;
// playing, a drift under half a second is taken back by nudging the follower's playbackRate (no stall),
// a larger one by a seek. Seek, play, pause, speed and steps act on every player.

import { RecordedPlayer } from "./video.js";
import { frameDuration, stepFrames } from "./timeline.js";

const TICK_MS = 50;
const HARD_DRIFT = 0.5; // seconds: beyond this a follower seeks instead of changing speed
const CLOSE = 0.02; // seconds: near enough, play at the leader's rate
const NUDGE = 0.25; // at most 25 % faster or slower while catching up

export class SteppingPlayer extends RecordedPlayer {
  constructor(...args) {
    super(...args);
    this.frame = null;
  }

  async _fetch(segment) {
    const bytes = await super._fetch(segment);
    if (this.frame === null) this.frame = frameDuration(bytes);
    return bytes;
  }

  /** Seconds per frame (25 fps until a segment said). */
  frameSeconds() {
    return this.frame || 0.04;
  }

  /** Pause and step `frames` frames; null when nothing is loaded. */
  step(frames) {
    if (!this.appender) return null;
    return stepFrames(this.video, frames, this.frameSeconds());
  }

  /** Whether wall-clock time `ts` is in the media buffered now. */
  holds(ts) {
    if (!this.appender) return false;
    const at = ts - this.base;
    const ranges = this.video.buffered;
    for (let i = 0; i < ranges.length; i += 1) {
      if (at >= ranges.start(i) && at < ranges.end(i) - 0.05) return true;
    }
    return false;
  }

  /** Show wall-clock time `ts`: within the buffer at once, else fetch from the segment holding it. */
  async seek(ts, segments) {
    if (this.holds(ts)) {
      this.video.currentTime = ts - this.base;
      this.video.dataset.base = String(this.base);
      return true;
    }
    const ok = await this.playFrom(ts, segments);
    this.video.dataset.base = String(this.base);
    return ok;
  }
}

export class SyncGroup {
  /** `members`: [{player: SteppingPlayer, segments: () => recorded segments of its camera}]. */
  constructor(members) {
    this.members = members;
    this.playing = false;
    this.rate = 1;
    this.timer = setInterval(() => this._align(), TICK_MS);
  }

  leader() {
    return this.members.find((m) => m.player.appender) || null;
  }

  /** Wall-clock time of the leader's frame, null before any video. */
  wallTime() {
    const lead = this.leader();
    return lead ? lead.player.wallTime() : null;
  }

  async seek(ts) {
    const results = await Promise.all(this.members.map((m) => m.player.seek(ts, m.segments()).catch(() => false)));
    for (const m of this.members) {
      if (!m.player.appender) continue;
      m.player.video.currentTime = Math.max(0, ts - m.player.base);
      m.player.setRate(this.rate);
    }
    if (this.playing) this.play();
    else this.pause();
    return results;
  }

  play() {
    this.playing = true;
    for (const m of this.members) if (m.player.appender) m.player.video.play().catch(() => {});
  }

  pause() {
    this.playing = false;
    for (const m of this.members) if (m.player.appender) m.player.video.pause();
    this._align();
  }

  setRate(rate) {
    this.rate = rate;
    for (const m of this.members) m.player.setRate(rate);
  }

  /** Every player `frames` frames on from the leader's frame (paused). */
  step(frames) {
    const lead = this.leader();
    if (!lead) return null;
    this.playing = false;
    lead.player.step(frames);
    this._align();
    return lead.player.wallTime();
  }

  _align() {
    const lead = this.leader();
    if (!lead) return;
    const wall = lead.player.wallTime();
    const leadVideo = lead.player.video;
    if (this.playing && leadVideo.paused && !leadVideo.ended) leadVideo.play().catch(() => {});
    for (const m of this.members) {
      const player = m.player;
      if (m === lead || !player.appender) continue;
      const video = player.video;
      const drift = player.wallTime() - wall;
      if (!this.playing || leadVideo.paused) {
        if (!video.paused) video.pause();
        if (Math.abs(drift) > player.frameSeconds() / 2 && player.holds(wall)) video.currentTime = wall - player.base;
        continue;
      }
      if (Math.abs(drift) > HARD_DRIFT) {
        if (player.holds(wall)) video.currentTime = wall - player.base + 0.05;
        else player.seek(wall, m.segments()).catch(() => {});
      } else if (Math.abs(drift) <= CLOSE) {
        video.playbackRate = this.rate;
      } else {
        const nudge = Math.max(-NUDGE, Math.min(NUDGE, -drift * 2));
        video.playbackRate = this.rate * (1 + nudge);
      }
      if (video.paused) video.play().catch(() => {});
    }
  }

  stop() {
    clearInterval(this.timer);
  }
}
