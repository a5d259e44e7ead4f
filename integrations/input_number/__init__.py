"""input_number: a number between min and max (input_number.<key>), set_value, increment, decrement.

Configuration (as in Home Assistant)::

    input_number:
      gust_limit:
        name: Gust limit
        min: 0
        max: 150
        step: 5
        initial: 70
        unit_of_measurement: km/h
        mode: slider            # or box
"""

from __future__ import annotations

from hub.helpers.yaml_helpers import helper_integration

from .const import DOMAIN
from .entity import ITEM_SCHEMA, SERVICES, InputNumber

__all__ = ["CONFIG_SCHEMA", "DOMAIN", "async_setup", "async_unload"]

CONFIG_SCHEMA, async_setup, async_unload = helper_integration(DOMAIN, ITEM_SCHEMA, InputNumber, SERVICES)
