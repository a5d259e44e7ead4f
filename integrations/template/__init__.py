"""template: sensors and binary sensors computed from templates, in Home Assistant's modern format.

Configuration::

    template:
      - sensor:                                  # state-based: re-rendered when what it reads changes
          - name: Port gust (m/s)
            unit_of_measurement: m/s
            state: "{{ (states('sensor.port_wind_gust') | float(0) / 3.6) | round(1) }}"
            availability: "{{ has_value('sensor.port_wind_gust') }}"
        binary_sensor:
          - name: Levante gale
            state: "{{ states('sensor.port_wind_gust') | float(0) > 70 }}"
            delay_off: "00:05:00"
      - trigger:                                 # trigger-based: rendered when a trigger fires
          - trigger: event
            event_type: anpr_plate_read
        sensor:
          - name: Last camera
            state: "{{ trigger.event.data.camera }}"

Trigger-based entities keep their state across restarts.
"""

from __future__ import annotations

from typing import Any

from hub.core import Hub
from hub.helpers.entity_platform import async_add_entities
from hub.setup_handle import async_drain_setup_handle, async_get_setup_handle

from .binary_sensor import TemplateBinarySensor
from .const import CONF_BINARY_SENSOR, CONF_SENSOR, CONF_TRIGGERS, CONF_UNIQUE_ID, DOMAIN
from .coordinator import TriggerBlock
from .entity import TemplateEntity
from .schema import CONFIG_SCHEMA
from .sensor import TemplateSensor

__all__ = ["CONFIG_SCHEMA", "DOMAIN", "async_setup", "async_unload"]


async def async_setup(hub: Hub, config: list[dict[str, Any]]) -> bool:
    """Add every block's entities; attach the triggers of trigger-based blocks."""
    handle = async_get_setup_handle(hub, DOMAIN)
    for index, block in enumerate(config):
        trigger_based = CONF_TRIGGERS in block
        options = {"block_unique_id": block.get(CONF_UNIQUE_ID), "trigger_based": trigger_based}
        entities: list[TemplateEntity] = [
            *(TemplateSensor(item, **options) for item in block[CONF_SENSOR]),
            *(TemplateBinarySensor(item, **options) for item in block[CONF_BINARY_SENSOR]),
        ]
        await async_add_entities(hub, DOMAIN, entities)
        if trigger_based:
            block_trigger = TriggerBlock(hub, block, entities, f"template block {index + 1}")
            handle.async_on_unload(await block_trigger.async_start())
    return True


async def async_unload(hub: Hub) -> bool:
    """Detach the triggers; the loader removes the entities."""
    await async_drain_setup_handle(hub, DOMAIN)  # also when called without the setup manager
    return True
