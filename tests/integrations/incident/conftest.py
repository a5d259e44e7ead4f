"""The camera tests' real-video fixtures (RTSP simulator clips, ffmpeg and GStreamer checks), for the clip tests."""

from tests.integrations.camera.conftest import cheap_hashes, clip_dir, video_tools  # noqa: F401 - fixtures
