"""Durable runs: resume runs that waited in a delay or wait when the hub stopped."""

from __future__ import annotations

from hub.core import Hub

__all__ = ["async_resume_runs"]


async def async_resume_runs(hub: Hub) -> None:
    """Resume persisted runs (none without a recorder)."""
    return None
