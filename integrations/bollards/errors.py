"""Typed refusals the frontend can show: `refused: vehicle over bollard B-07`."""

from __future__ import annotations

from hub.exceptions import ServiceValidationError

from .const import RefusalReason

__all__ = ["BollardRefused"]


class BollardRefused(ServiceValidationError):
    """A bollard command was refused; `reason` is a RefusalReason code, the message is for people."""

    def __init__(self, message: str, reason: RefusalReason, *, bollard_id: str | None = None) -> None:
        super().__init__(message, path=["entity_id"])
        self.reason = reason
        self.bollard_id = bollard_id
