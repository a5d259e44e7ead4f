"""Persistence of traces and durable runs (filled in below the engine; in-memory without a recorder)."""

from __future__ import annotations

from hub.core import Hub

__all__ = ["async_setup_storage"]


async def async_setup_storage(hub: Hub) -> None:
    """Hook the recorder database when there is one."""
    return None
