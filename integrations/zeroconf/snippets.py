"""Adopting a discovered service: the configuration to paste, as YAML, for each kind of service.

Adoption never changes the running configuration: an engineer reads the snippet, adds what the
service needs (credentials, sensors, which bollards a PLC drives) and reloads.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import yaml

from hub.helpers.config_validation import slugify

from .const import KIND_HACHO, KIND_MODBUS, KIND_MQTT
from .registry import DiscoveredService

__all__ = ["adoption"]


def _mqtt(service: DiscoveredService) -> tuple[str, dict[str, Any], list[str]]:
    config: dict[str, Any] = {"broker": service.address, "port": service.port or 1883}
    notes = ["Merge into the `mqtt:` section (one broker per hub)."]
    if service.port == 8883 or (service.properties.get("tls") or "").lower() in ("1", "true", "yes"):
        config["tls"] = True
        notes.append("The broker announces TLS: add tls: {ca_certs: ...} if its certificate is private.")
    notes.append("Add username: and password: !secret ... if the broker asks for them.")
    return "mqtt", {"mqtt": config}, notes


def _modbus(service: DiscoveredService) -> tuple[str, dict[str, Any], list[str]]:
    props = service.properties
    name = slugify(service.instance) or "modbus_device"
    hub_config: dict[str, Any] = {"name": name, "type": "tcp", "host": service.address,
                                  "port": service.port or 502}
    notes = ["Append to the `modbus:` list, then add the sensors, binary_sensors or switches it serves."]
    if (props.get("framer") or "").lower() in ("rtu", "rtuovertcp"):
        hub_config["type"] = "rtuovertcp"
    details = [f"{key}={props[key]}" for key in ("vendor", "model", "unit", "profile") if props.get(key)]
    if details:
        notes.append("The device says: " + ", ".join(details) + ".")
    sections: dict[str, Any] = {"modbus": [hub_config]}
    bollards = [item.strip() for item in (props.get("bollards") or "").split(",") if item.strip()]
    unit = props.get("unit") or ""
    if (props.get("profile") or "").startswith("hacho-bollard") and bollards:
        slave = int(unit) if unit.isdigit() else 1
        notes.append("It is a bollard PLC (docs/bollard-register-map.md): add these to the `bollards:` list.")
        sections["bollards"] = [{"id": bollard, "hub": name, "slave": slave, "base_address": 16 * index}
                                for index, bollard in enumerate(bollards)]
    return "modbus", sections, notes


def _hacho(service: DiscoveredService) -> tuple[str, dict[str, Any], list[str]]:
    site = service.properties.get("site") or slugify(service.instance)
    peer: dict[str, Any] = {"site": site}
    if service.properties.get("name"):
        peer["name"] = service.properties["name"]
    notes = [f"Another Hacho hub (site '{site}', API at http://{service.address}:{service.port}/api/). "
             "Add it to `federation: peers:`; federation also needs its link settings."]
    return "federation", {"federation": {"peers": [peer]}}, notes


def adoption(service: DiscoveredService) -> dict[str, Any]:
    """{'section', 'config', 'yaml'}: what to paste for `service` (`config` maps each configuration
    section to its value; `yaml` is the same with comments saying where and why)."""
    builders = {KIND_MQTT: _mqtt, KIND_MODBUS: _modbus, KIND_HACHO: _hacho}
    builder = builders.get(service.kind)
    found = datetime.fromtimestamp(service.first_seen, UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = f"# {service.instance} ({service.type}) found by zeroconf on {found}\n"
    if builder is None:
        announced = {"address": service.address, "port": service.port, "properties": service.properties}
        dumped = yaml.safe_dump(announced, sort_keys=False, allow_unicode=True)
        commented = "".join(f"# {line}\n" for line in dumped.splitlines())
        return {"section": None, "config": {},
                "yaml": header + "# No integration adopts this kind of service; here is what it announced.\n"
                + commented}
    section, sections, notes = builder(service)
    comments = "".join(f"# {note}\n" for note in notes)
    body = yaml.safe_dump(sections, sort_keys=False, allow_unicode=True)
    return {"section": section, "config": sections, "yaml": header + comments + body}
