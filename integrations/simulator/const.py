"""Constants of the simulator integration: configuration keys, defaults, topics, services."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "simulator"

CONF_SEED: Final = "seed"
CONF_TIME_ZONE: Final = "time_zone"
CONF_MQTT: Final = "mqtt"
CONF_BROKER: Final = "broker"
CONF_PORT: Final = "port"
CONF_HOST: Final = "host"
CONF_USERNAME: Final = "username"
CONF_PASSWORD: Final = "password"
CONF_CLIENT_ID: Final = "client_id"
CONF_TOPIC_PREFIX: Final = "topic_prefix"
CONF_DISCOVERY: Final = "discovery"
CONF_DISCOVERY_PREFIX: Final = "discovery_prefix"
CONF_REMOVE_ON_STOP: Final = "remove_on_stop"
CONF_MODBUS: Final = "modbus"
CONF_HEARTBEAT_PERIOD: Final = "heartbeat_period"
CONF_TRAVEL_TIME: Final = "travel_time"
CONF_FAULT_RATE: Final = "fault_rate"
CONF_REPAIR_TIME: Final = "repair_time"
CONF_LOOP_RATE: Final = "loop_rate"
CONF_LOOP_DWELL: Final = "loop_dwell"
CONF_PLCS: Final = "plcs"
CONF_SLAVE: Final = "slave"
CONF_NAME: Final = "name"
CONF_ID: Final = "id"
CONF_BOLLARDS: Final = "bollards"
CONF_STATE: Final = "state"
CONF_LATITUDE: Final = "latitude"
CONF_LONGITUDE: Final = "longitude"
CONF_ELEVATION: Final = "elevation"
CONF_AREA: Final = "area"
CONF_WEATHER: Final = "weather"
CONF_STATIONS: Final = "stations"
CONF_EXPOSURE: Final = "exposure"
CONF_GALE_RATE: Final = "gale_rate"
CONF_GALE_DURATION: Final = "gale_duration"
CONF_INTERVAL: Final = "interval"
CONF_AIR_QUALITY: Final = "air_quality"
CONF_TRAFFIC_FACTOR: Final = "traffic_factor"
CONF_PORT_AREA: Final = "ships"
CONF_CALIMA_RATE: Final = "calima_rate"
CONF_ENERGY: Final = "energy_meters"
CONF_METERS: Final = "meters"
CONF_PROFILE: Final = "profile"
CONF_BASE_KW: Final = "base_kw"
CONF_PEAK_KW: Final = "peak_kw"
CONF_TRANSPORT: Final = "transport"
CONF_TRAFFIC: Final = "traffic_counters"
CONF_COUNTERS: Final = "counters"
CONF_LANES: Final = "lanes"
CONF_CAPACITY: Final = "capacity"
CONF_FREE_SPEED: Final = "free_speed"
CONF_PANELS: Final = "panels"
CONF_TOPICS: Final = "topics"
CONF_STATUS_INTERVAL: Final = "status_interval"
CONF_PIXEL_ERROR_RATE: Final = "pixel_error_rate"
CONF_MODEL: Final = "model"
CONF_AGENCY_RECEIVER: Final = "agency_receiver"
CONF_CAMERAS: Final = "cameras"
CONF_SECRETS: Final = "secrets"

DEFAULT_MQTT_HOST: Final = "127.0.0.1"
DEFAULT_MQTT_PORT: Final = 1883
DEFAULT_MODBUS_PORT: Final = 5020
DEFAULT_AGENCY_PORT: Final = 8124
DEFAULT_DISCOVERY_PREFIX: Final = "homeassistant"
DEFAULT_PANEL_TOPICS: Final = ("~/panels/+",)  # `~`: the `mqtt:` section's topic prefix (the site id)
DEFAULT_TRAVEL_TIME: Final = (3.0, 6.0)
DEFAULT_REPAIR_TIME: Final = (600.0, 2400.0)
DEFAULT_LOOP_DWELL: Final = (2.0, 7.0)
DEFAULT_GALE_DURATION: Final = (1200.0, 5400.0)

# A Modbus energy meter speaks the common three-phase meter map (Eastron SDM630 style): float32,
# big-endian words, in input registers.
SDM_VOLTAGE_L1: Final = 0  # V
SDM_TOTAL_POWER: Final = 52  # W
SDM_IMPORT_ENERGY: Final = 342  # kWh

# The simulated devices' shared availability topic (the simulator's MQTT will): <prefix>/simulator/status
STATUS_SUFFIX: Final = "simulator/status"
PAYLOAD_ONLINE: Final = "online"
PAYLOAD_OFFLINE: Final = "offline"

SERVICE_STORM: Final = "storm"
SERVICE_BOLLARD_FAULT: Final = "bollard_fault"
SERVICE_VEHICLE: Final = "vehicle_on_loop"

EVENT_SIMULATOR_GALE: Final = "simulator_gale"
EVENT_SIMULATOR_AGENCY_MESSAGE: Final = "simulator_agency_message"


# Names the simulated devices announce by MQTT discovery, in the site's language (`hub: language:`),
# as a real device configured for the site would (units stay canonical: the screens translate them).
DISCOVERY_NAMES: Final = {
    "en": {"power": "Power", "energy": "Energy", "voltage": "Voltage", "vehicles": "Vehicles", "flow": "Flow",
           "occupancy": "Occupancy", "speed": "Speed"},
    "es": {"power": "Potencia", "energy": "Energía", "voltage": "Tensión", "vehicles": "Vehículos",
           "flow": "Intensidad", "occupancy": "Ocupación", "speed": "Velocidad", "unit_vehicles": "vehículos",
           "unit_vehicles_h": "vehículos/h"},
}
