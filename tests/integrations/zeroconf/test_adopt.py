"""Adopting what zeroconf finds, fed as resolved ServiceInfo records (no multicast needed): brokers, hubs, others."""

from __future__ import annotations

import socket
from typing import Any

import yaml
from zeroconf.asyncio import AsyncServiceInfo

from hub.core import Event, Hub
from hub.setup import async_get_setup_manager
from integrations.mqtt import CONFIG_SCHEMA as MQTT_SCHEMA
from integrations.zeroconf import DATA_ZEROCONF

from .conftest import DiscoveryHub, recorder


def _info(service_type: str, instance: str, port: int, properties: dict[str, Any],
          address: str = "10.20.0.15") -> AsyncServiceInfo:
    return AsyncServiceInfo(service_type, f"{instance}.{service_type}", port=port, properties=properties,
                            addresses=[socket.inet_aton(address)], server=f"{instance.lower()}.local.")


async def _adopt(hub: Hub, service_id: str) -> dict[str, Any]:
    response = await hub.services.async_call("zeroconf", "adopt", {"id": service_id}, return_response=True)
    assert isinstance(response, dict)
    return response


def _fed(events: list[Event], *names: str) -> list[Event]:
    """Only the events of the services a test fed itself: other hubs on the machine announce themselves too."""
    return [event for event in events if event.data["name"] in names]


async def test_a_broker_a_peer_hub_and_an_unknown_kind(discovery_hub: DiscoveryHub) -> None:
    hub = discovery_hub.hub
    manager = hub.data[DATA_ZEROCONF].manager
    recorded, _wait = recorder(hub, "zeroconf_discovered")
    names = ("Mosquitto CCS", "Hacho Melilla", "Printer", discovery_hub.name)
    manager.async_add_info(_info("_mqtt._tcp.local.", "Mosquitto CCS", 8883, {"tls": "1"}))
    manager.async_add_info(_info("_hacho._tcp.local.", "Hacho Melilla", 8123,
                                 {"site": "melilla", "name": "Melilla Ciudad Segura"}))
    manager.async_add_info(_info("_ipp._tcp.local.", "Printer", 631, {}))
    manager.async_add_info(_info("_hacho._tcp.local.", discovery_hub.name, 8123, {"site": "hacho"}))  # itself
    assert [e.data["kind"] for e in _fed(recorded, *names)] == ["mqtt", "hacho", "other"]

    broker = await _adopt(hub, "Mosquitto CCS._mqtt._tcp.local.")
    assert broker["section"] == "mqtt"
    assert yaml.safe_load(broker["yaml"]) == broker["config"]  # the comments say where; the YAML is the config
    config = MQTT_SCHEMA(broker["config"]["mqtt"])
    assert (config["broker"], config["port"], config["tls"] is not None) == ("10.20.0.15", 8883, True)

    peer = await _adopt(hub, "Hacho Melilla._hacho._tcp.local.")
    assert peer["section"] == "federation"
    [entry] = yaml.safe_load(peer["yaml"])["federation"]["peers"]
    assert entry == {"site": "melilla", "name": "Melilla Ciudad Segura"}  # a `federation: peers:` entry

    other = await _adopt(hub, "Printer._ipp._tcp.local.")
    assert other["section"] is None and other["config"] == {}
    assert "No integration adopts this kind of service" in other["yaml"]
    assert yaml.safe_load(other["yaml"]) is None  # all comments: pasting it changes nothing

    # The same record again changes nothing and fires nothing; a new port is news.
    manager.async_add_info(_info("_mqtt._tcp.local.", "Mosquitto CCS", 8883, {"tls": "1"}))
    assert len(_fed(recorded, *names)) == 3
    manager.async_add_info(_info("_mqtt._tcp.local.", "Mosquitto CCS", 1883, {}))
    events = _fed(recorded, *names)
    assert len(events) == 4 and events[-1].data["port"] == 1883


async def test_a_service_already_in_the_configuration_reads_configured(discovery_hub: DiscoveryHub) -> None:
    hub = discovery_hub.hub
    manager = async_get_setup_manager(hub)
    manager.configs["mqtt"] = {"broker": "10.20.0.15", "port": 1883}
    manager.configs["modbus"] = [{"name": "plc_port", "host": "10.30.1.7", "port": 502}]
    zeroconf = hub.data[DATA_ZEROCONF].manager
    zeroconf.async_add_info(_info("_mqtt._tcp.local.", "Broker", 1883, {}))
    zeroconf.async_add_info(_info("_modbus._tcp.local.", "PLC Puerto", 502, {}, address="10.30.1.7"))
    zeroconf.async_add_info(_info("_modbus._tcp.local.", "PLC Benzu", 502, {}, address="10.30.9.9"))
    _status, body = await discovery_hub.get("/api/discovery")
    statuses = {item["name"]: item["status"] for item in body["services"]
                if item["name"] in ("Broker", "PLC Puerto", "PLC Benzu")}  # other hubs may be listed too
    assert statuses == {"Broker": "configured", "PLC Puerto": "configured", "PLC Benzu": "discovered"}
