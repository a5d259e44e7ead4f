"""Hacho hub core: event bus, state machine, service registry, config, loader, recorder, API."""

from .const import __version__

__all__ = ["__version__"]
