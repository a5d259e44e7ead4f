"""counter: a whole number (counter.<key>) with increment, decrement, reset and set_value.

Configuration (as in Home Assistant)::

    counter:
      ramming_alarms:
        name: Ramming alarms today
        initial: 0
        step: 1
        minimum: 0
        maximum: 100
        restore: true           # the count survives a restart
"""

from __future__ import annotations

from hub.helpers.yaml_helpers import helper_integration

from .const import DOMAIN
from .entity import ITEM_SCHEMA, SERVICES, Counter

__all__ = ["CONFIG_SCHEMA", "DOMAIN", "async_setup", "async_unload"]

CONFIG_SCHEMA, async_setup, async_unload = helper_integration(DOMAIN, ITEM_SCHEMA, Counter, SERVICES)
