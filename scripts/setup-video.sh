#!/usr/bin/env bash
# Installs the video pieces from Debian when they are missing (docs/video.md says why these):
#   ffmpeg           recording by stream copy, snapshots, the simulator's clips
#   GStreamer's RTSP server (gir1.2-gst-rtsp-server-1.0 through Debian's python3-gi) plus the
#   good/bad plugin sets (qtdemux, h264parse, rtph264pay) for the simulator's cameras.
# Missing pieces only make the camera tests skip (or fail under HACHO_REQUIRE_SERVICES=1) and the
# simulator run without cameras, so this never fails the set-up.
set -uo pipefail
need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg fonts-dejavu-core)
if ! /usr/bin/python3 -c "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer" >/dev/null 2>&1; then
  need+=(python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad)
fi
if [ ${#need[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; then
      exit 0
    fi
  fi
  echo "warning: missing ${need[*]}; camera tests will skip and the simulator runs without cameras" >&2
fi
exit 0
