"""HTTP: GET /api/automations/{id}/traces and the webhook route."""

from __future__ import annotations

from hub.core import Hub

__all__ = ["async_register_api"]


def async_register_api(hub: Hub) -> None:
    """Register the views when the HTTP server is set up."""
    return None
