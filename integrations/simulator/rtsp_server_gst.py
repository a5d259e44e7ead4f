"""The simulator's RTSP server: GStreamer's rtsp-server serving pre-encoded H.264 clips without re-encoding.

Run by Debian's own Python (python3-gi with gir1.2-gst-rtsp-server-1.0), never imported by the hub:

    /usr/bin/python3 rtsp_server_gst.py --port 8554 --mount tarajal_lane1=/path/clip.h264 ...

Each mount loops its Annex-B clip forever: the clip (written with access unit delimiters) is split
into access units once, and an appsrc hands them out one per frame with running timestamps
(appsrc -> h264parse -> rtph264pay), so a camera costs a memory copy and RTP packetising, never an
encoder. Media are shared: every client of one mount gets the same stream.

Prints `ready <port>` on stdout once listening; exits when stdin closes (the hub died).
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

__all__ = ["main"]


_AUD = b"\x00\x00\x00\x01\x09"
_PIPELINE = ("( appsrc name=src is-live=true format=time "
             "caps=video/x-h264,stream-format=byte-stream,alignment=au "
             "! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )")


def access_units(path: str) -> list[bytes]:
    """The clip's access units (split at its access unit delimiters)."""
    with open(path, "rb") as handle:
        data = handle.read()
    starts = _find_all(data, _AUD)
    if not starts:
        raise ValueError(f"{path}: no access unit delimiters (encode with x264 aud=1)")
    starts.append(len(data))
    return [data[a:b] for a, b in itertools.pairwise(starts)]


def _find_all(data: bytes, needle: bytes) -> list[int]:
    found: list[int] = []
    index = data.find(needle)
    while index >= 0:
        found.append(index)
        index = data.find(needle, index + len(needle))
    return found


class LoopingClip:
    """Feeds one shared media's appsrc with the clip's access units, forever, timestamped."""

    def __init__(self, units: list[bytes], fps: int) -> None:
        self.units = units
        self.duration = Gst.SECOND // fps
        self.index = 0

    def configure(self, _factory: object, media: GstRtspServer.RTSPMedia) -> None:
        appsrc = media.get_element().get_child_by_name("src")
        state = {"frame": 0}

        def need_data(src: object, _length: int) -> None:
            unit = self.units[state["frame"] % len(self.units)]
            buffer = Gst.Buffer.new_wrapped(unit)
            buffer.pts = buffer.dts = state["frame"] * self.duration
            buffer.duration = self.duration
            state["frame"] += 1
            src.emit("push-buffer", buffer)  # type: ignore[attr-defined]

        appsrc.connect("need-data", need_data)


def main(argv: list[str] | None = None) -> int:
    """Serve the mounts until stdin closes or a signal arrives."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--mount", action="append", default=[], help="NAME=PATH of an Annex-B H.264 clip")
    args = parser.parse_args(argv)
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(args.host)
    server.set_service(str(args.port))
    mounts = server.get_mount_points()
    clips: list[LoopingClip] = []
    for item in args.mount:
        name, _, path = item.partition("=")
        if not name or not os.path.isfile(path):
            print(f"error: mount {item!r}: expected NAME=PATH of an existing file", file=sys.stderr)
            return 2
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(_PIPELINE)
        factory.set_shared(True)
        clip = LoopingClip(access_units(path), args.fps)
        factory.connect("media-configure", clip.configure)
        clips.append(clip)
        mounts.add_factory(f"/{name}", factory)
    if server.attach(None) == 0:
        print(f"error: cannot listen on {args.host}:{args.port}", file=sys.stderr)
        return 1
    loop = GLib.MainLoop()

    def _watch_stdin() -> None:
        sys.stdin.read()  # returns at EOF: the parent closed the pipe or died
        GLib.idle_add(loop.quit)

    threading.Thread(target=_watch_stdin, daemon=True).start()
    print(f"ready {server.get_bound_port()}", flush=True)
    try:
        loop.run()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
