"""A living, seeded Ceuta with no hardware: bollard PLCs on Modbus, weather, air, energy, traffic and signs on MQTT.

Configuration (see config/ceuta/devices/simulator.yaml for the whole site)::

    simulator:
      seed: 2026
      topic_prefix: ceuta          # devices publish under ceuta/weather/<id>, ...; default: the mqtt prefix (site id)
      # mqtt: {broker: 127.0.0.1, port: 1883}   # default: the broker of the `mqtt:` section
      modbus:                      # a pymodbus server playing the bollard PLCs (and Modbus meters)
        port: 5020
        travel_time: [3, 6]        # seconds to raise or lower
        fault_rate: 0.5            # faults per bollard per day (0 in tests)
        plcs:
          - {slave: 1, name: PLC Centro, bollards: [B-01, {id: B-02, state: raised}]}
      weather:
        gale_rate: 2               # Levante gales per day (gusts over 70 km/h at an exposed station)
        stations: [{id: port, exposure: 1.25, latitude: 35.8937, longitude: -5.3125}]
      air_quality: {stations: [{id: centro}]}
      energy_meters: {meters: [{id: asamblea, profile: office, base_kw: 40, peak_kw: 210}]}
      traffic_counters: {counters: [{id: avenida_espana, lanes: 2}]}
      panels: {topics: ["~/panels/+"]}   # signs that acknowledge what the panel drivers send (~: the prefix)
      agency_receiver:             # the agencies' servers: POST /agencies/<agency_id>, signatures checked
        port: 8124
        secrets: {fire_brigade: !secret fire_brigade_secret}
      cameras:                     # real RTSP streams (GStreamer's rtsp-server process): sim://<id> for camera:
        port: 8554
        streams: [{id: plaza_reyes, label: Plaza de los Reyes}]

Everything runs on `hub.clock` and per-device generators seeded from `seed`, so tests drive the
city with a FakeClock and see the same values for the same seed. `get_simulator(hub)` gives the
running `CitySimulator`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from hub.core import Hub, HubKey
from hub.setup import async_get_setup_manager
from hub.setup_handle import async_drain_setup_handle, async_get_setup_handle
from integrations.mqtt.instance import expand_topic, topic_prefix

from .const import (
    CONF_BROKER,
    CONF_CLIENT_ID,
    CONF_DISCOVERY_PREFIX,
    CONF_MQTT,
    CONF_PANELS,
    CONF_PASSWORD,
    CONF_PORT,
    CONF_TIME_ZONE,
    CONF_TOPIC_PREFIX,
    CONF_TOPICS,
    CONF_USERNAME,
    DEFAULT_DISCOVERY_PREFIX,
    DEFAULT_MQTT_HOST,
    DEFAULT_MQTT_PORT,
    DOMAIN,
)
from .schema import CONFIG_SCHEMA
from .services import async_register_services
from .simulator import CitySimulator

__all__ = ["CONFIG_SCHEMA", "DOMAIN", "CitySimulator", "async_setup", "async_unload", "get_simulator"]

_LOGGER = logging.getLogger(__name__)


@dataclass
class SimulatorData:
    """What the integration keeps in hub.data (what setup registered is on its setup handle)."""

    simulator: CitySimulator


DATA_SIMULATOR: HubKey[SimulatorData] = HubKey(DOMAIN)


def get_simulator(hub: Hub) -> CitySimulator:
    """The running simulator. Raises LookupError when the simulator is not set up."""
    data = hub.data.get(DATA_SIMULATOR)
    if data is None:
        raise LookupError("the simulator integration is not set up")
    return data.simulator


def _mqtt_settings(hub: Hub, config: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Broker settings, the config with its topics resolved, and the discovery prefix.

    Broker and discovery prefix: the simulator's own, else the `mqtt:` section's, else defaults. The
    topic prefix defaults to the `mqtt:` section's (the site id), and `~` in a topic stands for it, so
    the simulated devices publish where this site's MQTT config listens and nowhere another site does.
    """
    hub_mqtt: dict[str, Any] = async_get_setup_manager(hub).configs.get("mqtt") or {}
    own = config[CONF_MQTT]
    settings = {
        "broker": own.get(CONF_BROKER, hub_mqtt.get("broker", DEFAULT_MQTT_HOST)),
        "port": own.get(CONF_PORT, hub_mqtt.get("port", DEFAULT_MQTT_PORT)),
        "username": own.get(CONF_USERNAME, hub_mqtt.get("username")),
        "password": own.get(CONF_PASSWORD, hub_mqtt.get("password")),
        "client_id": own.get(CONF_CLIENT_ID),
    }
    site_prefix = topic_prefix(hub, hub_mqtt)
    resolved = {**config, CONF_TOPIC_PREFIX: config.get(CONF_TOPIC_PREFIX) or site_prefix}
    if config.get(CONF_PANELS) is not None:
        panels = config[CONF_PANELS]
        resolved[CONF_PANELS] = {**panels, CONF_TOPICS: [expand_topic(t, site_prefix) for t in panels[CONF_TOPICS]]}
    prefix = config.get(CONF_DISCOVERY_PREFIX) or hub_mqtt.get("discovery_prefix") or DEFAULT_DISCOVERY_PREFIX
    return settings, resolved, expand_topic(prefix, site_prefix)


async def async_setup(hub: Hub, config: dict[str, Any]) -> bool:
    """Build the simulated city and start it (the Modbus server is listening when this returns)."""
    zone = config.get(CONF_TIME_ZONE) or (hub.config.time_zone if hub.config is not None else "UTC")
    tz = await hub.async_add_executor_job(ZoneInfo, zone)  # reads the tz database file
    settings, config, discovery_prefix = _mqtt_settings(hub, config)
    simulator = CitySimulator(hub, config, settings, discovery_prefix, tz)
    hub.data[DATA_SIMULATOR] = SimulatorData(simulator)
    await simulator.async_start()
    handle = async_get_setup_handle(hub, DOMAIN)
    for remover in async_register_services(simulator):
        handle.async_on_unload(remover)
    _LOGGER.info("Simulated city started (seed %s): %d weather, %d air quality, %d energy, %d traffic stations",
                 simulator.seed, len(simulator.stations), len(simulator.air),
                 len(simulator.meters) + len(simulator.modbus_meters), len(simulator.counters))
    return True


async def async_unload(hub: Hub) -> bool:
    """Stop the simulated devices and remove the services."""
    data = hub.data.pop(DATA_SIMULATOR, None)
    if data is None:
        return True
    await async_drain_setup_handle(hub, DOMAIN)  # also when called without the setup manager (tests)
    await data.simulator.async_stop()
    return True
