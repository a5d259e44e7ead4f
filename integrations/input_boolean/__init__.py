"""input_boolean: YAML flags (input_boolean.<key>) with turn_on, turn_off and toggle.

Configuration (as in Home Assistant)::

    input_boolean:
      night_mode:
        name: Night mode
        initial: false          # without it, the state before the restart comes back
        icon: mdi:weather-night
"""

from __future__ import annotations

from hub.helpers.yaml_helpers import helper_integration

from .const import DOMAIN
from .entity import ITEM_SCHEMA, SERVICES, InputBoolean

__all__ = ["CONFIG_SCHEMA", "DOMAIN", "async_setup", "async_unload"]

CONFIG_SCHEMA, async_setup, async_unload = helper_integration(DOMAIN, ITEM_SCHEMA, InputBoolean, SERVICES)
