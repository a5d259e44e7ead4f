"""A small simulated Ceuta for the frontend tests: two centres, users, bollards on a simulated PLC, panels,
a sensor with history, automations, the audit log and alarms, served on a free port."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.auth.users import add_user
from hub.config.core import ControlCentre, CoreConfig
from hub.core import Hub
from hub.helpers import area_registry
from hub.http import HubHTTP, async_setup_http
from hub.setup import async_get_setup_manager
from integrations.bollards.plc_sim import BollardPLCSimulator

PASSWORD = "correct horse battery"
LOCAL = "local_police"
NATIONAL = "national_police"

CENTRES = (
    ControlCentre(LOCAL, "Policía Local de Ceuta", ("centro", "calle_real", "port"), True),
    ControlCentre(NATIONAL, "Policía Nacional", ("tarajal", "monte_hacho")),
)
AREAS = [
    {"id": "centro", "name": "Centro", "latitude": 35.8886, "longitude": -5.3170, "radius_m": 700,
     "centre": LOCAL},
    {"id": "calle_real", "name": "Calle Real", "latitude": 35.8881, "longitude": -5.3136, "radius_m": 250,
     "centre": LOCAL, "parent": "centro"},
    {"id": "port", "name": "Puerto", "latitude": 35.8920, "longitude": -5.3150, "radius_m": 600, "centre": LOCAL},
    {"id": "tarajal", "name": "Frontera del Tarajal", "latitude": 35.8714, "longitude": -5.3432,
     "radius_m": 400, "centre": NATIONAL},
    {"id": "monte_hacho", "name": "Monte Hacho", "latitude": 35.8966, "longitude": -5.2930, "radius_m": 1300,
     "centre": NATIONAL},
]
# id: (role, centre)
USERS: dict[str, tuple[str, str]] = {
    "op_local": ("operator", LOCAL),
    "op_local2": ("operator", LOCAL),
    "op_national": ("operator", NATIONAL),
    "sup_local": ("supervisor", LOCAL),
    "eng_local": ("engineer", LOCAL),
    "admin": ("admin", LOCAL),
}

# bollard.b_07 (Calle Real, Local Police) and bollard.b_21 (Tarajal, National Police)
BOLLARD_LOCAL = "bollard.b_07"
BOLLARD_NATIONAL = "bollard.b_21"
PANEL_LOCAL = "panel.p_port_1"
PANEL_NATIONAL = "panel.p_tarajal"
SENSOR = "sensor.no2_centro"

ALARMS: dict[str, Any] = {"types": [
    {"id": "fire", "name": "Fire seen by a thermal tower", "severity": "critical", "shared": True, "sop": [
        {"id": "confirm", "title": "Confirm on the thermal camera", "type": "checklist"},
        {"id": "warn", "title": "Warn drivers on the port panel", "type": "service", "service": "panel.display",
         "data": {"entity_id": PANEL_LOCAL, "lines": ["INCENDIO", "PRECAUCION"], "priority": "emergency"}},
        {"id": "report", "title": "Report to the fire brigade", "type": "note"},
    ]},
    {"id": "intrusion", "name": "Vehicle in a closed street", "severity": "major"},
    {"id": "sensor_fault", "name": "Sensor fault", "severity": "warning"},
]}

AUTOMATIONS = [
    {
        "id": "fire_to_alarm",
        "alias": "Thermal fire raises an alarm",
        "triggers": [{"trigger": "event", "event_type": "test_fire_detected"}],
        "actions": [{"action": "alarm.raise", "data": {
            "type": "fire",
            "severity": "critical",
            "title": "{{ trigger.event.data.title }}",
            "area_id": "{{ trigger.event.data.area_id }}",
        }}],
    },
    {
        "id": "night_lights",
        "alias": "Night: panels say drive carefully",
        "triggers": [{"trigger": "event", "event_type": "test_night"}],
        "actions": [{"action": "panel.display",
                     "data": {"entity_id": PANEL_LOCAL, "lines": ["CONDUZCA", "CON PRECAUCION"]}}],
    },
]

# Two Local Police cameras for the `camera:` section, recording off and no stream behind them: the camera wall and
# the synchronised playback page only need them configured.
TWO_CAMERAS: dict[str, Any] = {"cameras": [
    {"id": "puerto_entrada", "name": "Puerto entrada", "area": "port", "main": "sim://puerto_entrada",
     "record": {"mode": "off"}},
    {"id": "calle_real_norte", "name": "Calle Real norte", "area": "calle_real", "main": "sim://calle_real_norte",
     "record": {"mode": "off"}}]}


@dataclass
class Site:
    """A running site: hub, HTTP server, simulated PLC."""

    hub: Hub
    http: HubHTTP
    plc: BollardPLCSimulator
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return self.http.base_url

    def url(self, path: str) -> str:
        return f"{self.http.base_url}{path}"


def _add_users(config_dir: Path) -> None:
    for user_id, (role, centre) in USERS.items():
        add_user(config_dir, user_id, role=role, centre=centre, password=PASSWORD,
                 name=user_id.replace("_", " ").title())


async def async_start_site(config_dir: Path, *, frontend_config: dict[str, Any] | None = None,
                           with_alarms: bool = True, extra_sections: dict[str, Any] | None = None,
                           before_start: Callable[[Hub], Awaitable[None]] | None = None,
                           bollard_b07: dict[str, Any] | None = None) -> Site:
    """Build and start the site (the caller stops it with `async_stop_site`); `extra_sections` adds
    integrations (federation, say) to the configuration, `before_start` sets up more before it starts,
    `bollard_b07` adds options to bollard B-07 (`require_confirmation`, say)."""
    from frontend import async_setup_frontend
    from hub.recorder import async_setup_recorder

    hub = Hub(config_dir)
    hub.config = CoreConfig(name="Ceuta Ciudad Segura", site="ceuta", latitude=35.8883, longitude=-5.3162,
                            time_zone="Africa/Ceuta", control_centres=CENTRES)
    await hub.async_add_executor_job(_add_users, config_dir)
    await area_registry.async_setup_areas(hub, AREAS)
    await async_setup_recorder(hub, {"db_url": f"sqlite:///{config_dir / 'hacho.db'}", "commit_interval": 0.05})
    http = await async_setup_http(hub, {"host": "127.0.0.1", "port": 0})
    from hub.audit import async_setup_audit

    await async_setup_audit(hub)

    plc = BollardPLCSimulator(heartbeat_period=0.2)
    plc.add_bollard(1, 0, name="B-07", travel_time=0.3)
    plc.add_bollard(1, 16, name="B-21", travel_time=0.3)
    await plc.async_start()
    common = {"host": plc.host, "port": plc.port, "timeout": 2.0, "scan_interval": 0.2,
              "heartbeat_timeout": 2.0, "travel_timeout": 3}
    sections: dict[str, Any] = {
        "bollards": [
            {"id": "B-07", "name": "Calle Real north", "area": "calle_real", "base_address": 0, **common,
             **(bollard_b07 or {})},
            {"id": "B-21", "name": "Tarajal gate", "area": "tarajal", "base_address": 16, **common},
        ],
        "panels": {"panels": [
            {"id": "P-PORT-1", "name": "Port entrance", "area": "port", "driver": "memory",
             "location": {"lat": 35.8925, "lon": -5.3160}},
            {"id": "P-TARAJAL", "name": "Tarajal border", "area": "tarajal", "driver": "memory",
             "location": {"lat": 35.8720, "lon": -5.3420}},
        ]},
    }
    if with_alarms:
        sections["alarm"] = ALARMS
    sections.update(extra_sections or {})
    manager = async_get_setup_manager(hub)
    await manager.async_setup_all(sections)

    from automations import async_setup as async_setup_automations

    await async_setup_automations(hub, {"automations": AUTOMATIONS})
    await async_setup_frontend(hub, frontend_config)
    if before_start is not None:
        await before_start(hub)
    await hub.async_start()
    await http.async_start()
    await hub.async_block_till_done()
    return Site(hub, http, plc)


async def async_stop_site(site: Site) -> None:
    """Stop the hub, then the PLC."""
    if not site.hub.is_stopping:
        await site.hub.async_stop()
    await site.plc.async_stop()
