"""Who sees which alarms: admins all; others their own centre's and those other centres share."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hub.auth.permissions import get_permissions
from hub.auth.users import Role
from hub.auth.visibility import PERSONAL_ROLES, without_personal

if TYPE_CHECKING:
    from hub.auth.models import User
    from hub.core import Hub

    from .model import Alarm

__all__ = ["Viewer", "async_hidden_alarms", "viewer_for"]


@dataclass(frozen=True, slots=True)
class Viewer:
    """What one user may see of the alarms."""

    sees_all: bool = False
    centre: str | None = None
    blind: bool = False  # unknown users and agencies see nothing
    personal: bool = True  # plates and names in the alarm's data (hub.auth.visibility.PERSONAL_ROLES)

    def sees(self, alarm: Alarm) -> bool:
        """Whether this viewer may see `alarm`."""
        if self.blind:
            return False
        return self.sees_all or alarm.centre == self.centre or alarm.shared

    def hidden(self, alarms: Iterable[Alarm]) -> dict[str, int]:
        """How many of `alarms` this viewer does not see, per owning centre (the count only)."""
        counts: Counter[str] = Counter(alarm.centre for alarm in alarms if not self.sees(alarm))
        return dict(counts)

    def show(self, alarm: Alarm, *, full: bool = False) -> dict[str, Any]:
        """The alarm as this viewer may read it (personal data withheld where its role does not need it)."""
        shown = alarm.as_dict(full=full)
        return shown if self.personal else without_personal(shown)


def viewer_for(hub: Hub, user: User | None) -> Viewer:
    """The viewer of a request's or connection's user.

    Without users (permissions not enforced) everyone sees everything, as with service calls.
    """
    policy = get_permissions(hub)
    if policy is None or not policy.enforced:
        return Viewer(sees_all=True)
    principal = policy.principal_for(user)
    if principal is None or principal.role is Role.AGENCY:
        return Viewer(blind=True)
    if principal.role is Role.ADMIN:
        return Viewer(sees_all=True, centre=principal.centre)
    return Viewer(centre=principal.centre, personal=principal.role in PERSONAL_ROLES)


async def async_hidden_alarms(hub: Hub, user: User | None) -> dict[str, int]:
    """Active alarms `user` does not see, per owning centre (hub.auth.hidden's counter for alarms)."""
    from .manager import get_manager

    manager = get_manager(hub)
    viewer = viewer_for(hub, user)
    if manager is None or viewer.blind:
        return {}
    return viewer.hidden(manager.active())
