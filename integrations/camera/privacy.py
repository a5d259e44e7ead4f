"""Faces in live view for roles without the right to see them (docs/face.md, "Live view without faces").

A camera's `live_face_roles` names the roles that see its faces; any other viewer (and, while it is set,
any viewer whose role is unknown) gets the picture with faces blurred, never the raw one:

- live websocket and HLS: a blurred stream (one shared process per camera, decoding its sub stream,
  blurring faces and encoding H.264), made by the face blurrer that the face integration provides;
- snapshots: blurred likewise;
- playback of recordings: refused (blurring a recording is an export's job: a redacted export).

The face integration registers its blurrer under DATA_FACE_BLUR (the camera integration does not import it);
without it a viewer who must get faces blurred is refused, never shown the raw picture.
Without `live_face_roles` (the default) every viewer allowed to watch sees the raw picture, as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Protocol

from hub.auth.permissions import get_permissions
from hub.core import HubKey

if TYPE_CHECKING:
    from hub.auth.models import User
    from hub.core import Hub

    from .recorder import CameraStream

__all__ = ["BLURRED", "DATA_FACE_BLUR", "FaceBlurProvider", "sees_faces", "user_sees_faces"]

BLURRED: Final = "blurred"  # the live stream key of a camera's blurred stream (beside "main" and "sub")


class FaceBlurProvider(Protocol):
    """What the face integration offers the camera integration."""

    def live_command(self, url: str, output: list[str]) -> list[str]:
        """A command that reads the stream at `url`, blurs faces in every frame, and encodes H.264 with the
        ffmpeg output options `output` (fragmented MP4 on stdout, or HLS into a folder)."""

    async def async_blur_jpeg(self, jpeg: bytes) -> bytes:
        """The still with faces blurred (off the event loop)."""


DATA_FACE_BLUR: Final[HubKey[FaceBlurProvider]] = HubKey("camera_face_blur")


def sees_faces(hub: Hub, user: User | None, camera: CameraStream) -> bool:
    """Whether `user` may see `camera`'s faces in live view, snapshots and playback (after the view grant)."""
    return user_sees_faces(hub, user.id if user is not None else None, camera)


def user_sees_faces(hub: Hub, user_id: str | None, camera: CameraStream) -> bool:
    """As `sees_faces`, for a user id; an unknown or disabled user (or no user) does not see them."""
    roles = camera.config.live_face_roles
    if roles is None:
        return True
    policy = get_permissions(hub)
    principal = policy.principal(user_id) if policy is not None else None
    return principal is not None and principal.role.value in roles
