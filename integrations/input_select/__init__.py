"""input_select: one of a list of options (input_select.<key>), select_option/next/previous/first/last, set_options.

Configuration (as in Home Assistant)::

    input_select:
      port_level:
        name: Port alert level
        options: [green, amber, red]
        initial: green
"""

from __future__ import annotations

from hub.helpers.yaml_helpers import helper_integration

from .const import DOMAIN
from .entity import ITEM_SCHEMA, SERVICES, InputSelect

__all__ = ["CONFIG_SCHEMA", "DOMAIN", "async_setup", "async_unload"]

CONFIG_SCHEMA, async_setup, async_unload = helper_integration(DOMAIN, ITEM_SCHEMA, InputSelect, SERVICES)
