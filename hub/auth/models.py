"""The identity behind an authenticated request: who, from which control centre, with which token."""

from __future__ import annotations

from dataclasses import dataclass

from ..core import Context

__all__ = ["User"]


@dataclass(frozen=True, slots=True)
class User:
    """A caller authenticated by a long-lived token; `id` is what lands in `Context.user_id`."""

    id: str
    name: str
    token_id: str
    centre: str | None = None

    def context(self, parent: Context | None = None) -> Context:
        """A new Context acting for this user (and centre), optionally caused by `parent`."""
        return Context(user_id=self.id, centre=self.centre,
                       parent_id=parent.id if parent is not None else None)

    def as_dict(self) -> dict[str, str | None]:
        """A JSON-able description (no secret in it)."""
        return {"id": self.id, "name": self.name, "token_id": self.token_id, "centre": self.centre}
