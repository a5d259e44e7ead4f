"""Who may watch what: view (live, snapshots), playback and export are separate grants per role, and a
camera belongs to the centre of its area; a camera marked `shared` is seen by every centre.

Kept in one table here, beside the service classes of hub/auth/permissions.py, so that per-route role
declarations can take it over as they come.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from hub.auth.permissions import Principal, entity_centre, get_permissions
from hub.auth.users import Role

from .const import GRANT_EXPORT, GRANT_PLAYBACK, GRANT_VIEW

if TYPE_CHECKING:
    from hub.auth.models import User
    from hub.core import Hub

    from .recorder import CameraStream

__all__ = ["VIDEO_GRANTS", "VideoDenied", "async_hidden_cameras", "check_video_access", "check_video_grant"]

VIDEO_GRANTS: Final[Mapping[Role, frozenset[str]]] = {
    Role.ADMIN: frozenset({GRANT_VIEW, GRANT_PLAYBACK, GRANT_EXPORT}),
    Role.SUPERVISOR: frozenset({GRANT_VIEW, GRANT_PLAYBACK, GRANT_EXPORT}),
    Role.OPERATOR: frozenset({GRANT_VIEW, GRANT_PLAYBACK}),
    Role.ENGINEER: frozenset({GRANT_VIEW}),
    Role.AGENCY: frozenset(),
}


class VideoDenied(Exception):
    """The user may not do this with this camera (the message says why)."""


def check_video_access(hub: Hub, user: User | None, camera: CameraStream, grant: str) -> Principal | None:
    """The acting principal (None while permissions are not enforced); VideoDenied when refused."""
    return check_video_grant(hub, user.id if user is not None else None, camera, grant, anonymous=False)


def check_video_grant(hub: Hub, user_id: str | None, camera: CameraStream, grant: str, *,
                      anonymous: bool = True) -> Principal | None:
    """As `check_video_access`, for a service call's user id; with `anonymous`, a call without a user (the
    hub itself, an automation) is allowed, as for every other service."""
    policy = get_permissions(hub)
    if policy is None or not policy.enforced or (anonymous and user_id is None):
        return None
    principal = policy.principal(user_id)
    if principal is None:
        raise VideoDenied("unknown or disabled user")
    if grant not in VIDEO_GRANTS[principal.role]:
        raise VideoDenied(f"a {principal.role.value} may not {grant} camera video")
    if principal.role is Role.ADMIN or camera.config.shared:
        return principal
    owner = entity_centre(hub, camera.entity_id)
    if owner != principal.centre:
        raise VideoDenied(f"camera {camera.config.id} belongs to {owner or 'no centre'!s}, "
                          f"not to {principal.centre!r}")
    return principal


async def async_hidden_cameras(hub: Hub, user: User | None) -> dict[str, int]:
    """Cameras of other centres not shared with `user`'s centre, per owning centre (hub.auth.hidden's counter)."""
    from . import DATA_KEY

    manager = hub.data.get(DATA_KEY)
    policy = get_permissions(hub)
    if manager is None or policy is None or not policy.enforced:
        return {}
    principal = policy.principal_for(user)
    if principal is None or principal.role in (Role.ADMIN, Role.AGENCY):
        return {}
    counts: dict[str, int] = {}
    for camera in manager.cameras.values():
        owner = entity_centre(hub, camera.entity_id)
        if not camera.config.shared and owner != principal.centre:
            counts[owner or ""] = counts.get(owner or "", 0) + 1
    return counts
