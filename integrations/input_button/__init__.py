"""input_button: a button (input_button.<key>) whose state is the time of its last press.

Configuration (as in Home Assistant)::

    input_button:
      test_sirens:
        name: Test sirens
"""

from __future__ import annotations

from hub.helpers.yaml_helpers import helper_integration

from .const import DOMAIN
from .entity import ITEM_SCHEMA, SERVICES, InputButton

__all__ = ["CONFIG_SCHEMA", "DOMAIN", "async_setup", "async_unload"]

CONFIG_SCHEMA, async_setup, async_unload = helper_integration(DOMAIN, ITEM_SCHEMA, InputButton, SERVICES)
