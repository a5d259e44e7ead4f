"""timer: a countdown on the hub clock (timer.<key>): idle, active or paused; fires timer.finished.

Configuration (as in Home Assistant)::

    timer:
      bollard_hold:
        name: Bollard hold
        duration: '00:05:00'
        restore: true           # an active timer keeps running across a restart
"""

from __future__ import annotations

from hub.helpers.yaml_helpers import helper_integration

from .const import DOMAIN
from .entity import ITEM_SCHEMA, SERVICES, Timer

__all__ = ["CONFIG_SCHEMA", "DOMAIN", "async_setup", "async_unload"]

CONFIG_SCHEMA, async_setup, async_unload = helper_integration(DOMAIN, ITEM_SCHEMA, Timer, SERVICES)
