"""input_text: a short text (input_text.<key>) with set_value, checked against min/max length and pattern.

Configuration (as in Home Assistant)::

    input_text:
      panel_note:
        name: Panel note
        min: 0
        max: 100
        pattern: '[A-Z ]*'
        mode: text              # or password
"""

from __future__ import annotations

from hub.helpers.yaml_helpers import helper_integration

from .const import DOMAIN
from .entity import ITEM_SCHEMA, SERVICES, InputText

__all__ = ["CONFIG_SCHEMA", "DOMAIN", "async_setup", "async_unload"]

CONFIG_SCHEMA, async_setup, async_unload = helper_integration(DOMAIN, ITEM_SCHEMA, InputText, SERVICES)
