"""input_datetime: a date, a time or both (input_datetime.<key>) with set_datetime.

Configuration (as in Home Assistant)::

    input_datetime:
      bollards_down_at:
        name: Bollards down at
        has_date: false
        has_time: true
        initial: '22:30'
"""

from __future__ import annotations

from hub.helpers.yaml_helpers import helper_integration

from .const import DOMAIN
from .entity import ITEM_SCHEMA, SERVICES, InputDatetime

__all__ = ["CONFIG_SCHEMA", "DOMAIN", "async_setup", "async_unload"]

CONFIG_SCHEMA, async_setup, async_unload = helper_integration(DOMAIN, ITEM_SCHEMA, InputDatetime, SERVICES)
