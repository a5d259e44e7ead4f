"""Zeroconf on loopback multicast: the hub lists what it finds for adoption, never adds it, and announces itself."""

from __future__ import annotations

import asyncio
import socket

import voluptuous as vol
import yaml
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from hub.core import Event, Hub
from hub.exceptions import ServiceValidationError
from integrations.bollards import CONFIG_SCHEMA as BOLLARDS_SCHEMA
from integrations.modbus import CONFIG_SCHEMA as MODBUS_SCHEMA
from integrations.zeroconf import get_discovery
from integrations.zeroconf.registry import DiscoveryRegistry

from .conftest import DiscoveryHub, recorder

MODBUS = "_modbus._tcp.local."
HACHO = "_hacho._tcp.local."
LOOPBACK = [socket.inet_aton("127.0.0.1")]


async def test_a_modbus_device_is_listed_adopted_as_yaml_and_ignored(
        discovery_hub: DiscoveryHub, device_zc: AsyncZeroconf, unique: str) -> None:
    hub = discovery_hub.hub
    discovered, wait_discovered = recorder(hub, "zeroconf_discovered")
    lost, wait_lost = recorder(hub, "zeroconf_lost")
    name = f"PLC Tarajal {unique}.{MODBUS}"
    info = AsyncServiceInfo(MODBUS, name, addresses=LOOPBACK, port=5020, server=f"plc-{unique}.local.",
                            properties={"vendor": "Siemens", "model": "S7-1200", "unit": "4",
                                        "profile": "hacho-bollards/1", "bollards": "B-11,B-12"})
    await device_zc.async_register_service(info)
    event = await wait_discovered(lambda e: e.data["id"] == name)
    assert event.data["kind"] == "modbus"
    assert event.data["status"] == "discovered"
    assert event.data["port"] == 5020 and "127.0.0.1" in event.data["addresses"]
    assert not [s for s in hub.states.async_all() if s.domain in ("sensor", "bollard")]  # nothing was added

    status, body = await discovery_hub.get("/api/discovery")
    assert status == 200
    [listed] = [item for item in body["services"] if item["id"] == name]
    assert listed["name"] == f"PLC Tarajal {unique}"
    assert listed["properties"]["vendor"] == "Siemens"

    response = await hub.services.async_call("zeroconf", "adopt", {"id": name}, return_response=True)
    assert isinstance(response, dict)
    assert response["section"] == "modbus"
    pasted = yaml.safe_load(response["yaml"])
    [modbus_hub] = MODBUS_SCHEMA(pasted["modbus"])
    assert (modbus_hub["host"], modbus_hub["port"], modbus_hub["name"]) == ("127.0.0.1", 5020, f"plc_tarajal_{unique}")
    bollards = BOLLARDS_SCHEMA(pasted["bollards"])
    assert [(b["id"], b["slave"], b["base_address"]) for b in bollards] == [("B-11", 4, 0), ("B-12", 4, 16)]
    assert response["yaml"].startswith(f"# PLC Tarajal {unique} ({MODBUS}) found by zeroconf")
    status, body = await discovery_hub.get("/api/discovery")
    assert [item["status"] for item in body["services"] if item["id"] == name] == ["adopted"]

    await device_zc.async_unregister_service(info)  # the device says goodbye
    await wait_lost(lambda e: e.data["id"] == name)
    status, body = await discovery_hub.get("/api/discovery")
    assert [item["present"] for item in body["services"] if item["id"] == name] == [False]

    await hub.services.async_call("zeroconf", "ignore", {"id": name})
    status, body = await discovery_hub.get("/api/discovery")
    assert name not in [item["id"] for item in body["services"]]
    status, body = await discovery_hub.get("/api/discovery?all=1")
    assert [item["status"] for item in body["services"] if item["id"] == name] == ["ignored"]
    # Back on the network while ignored: listed as ignored, no new event. Other hubs and devices on the
    # machine come and go meanwhile (their events are theirs): only this device's events are counted.
    def mine(events: list[Event]) -> list[Event]:
        return [event for event in events if event.data["id"] == name]

    count = len(mine(discovered))
    # Another hub on the machine announces itself and leaves (as a parallel test run's hubs do).
    stranger = AsyncServiceInfo(HACHO, f"Other hub {unique}.{HACHO}", addresses=LOOPBACK, port=8123,
                                server=f"other-{unique}.local.", properties={"site": "other"})
    await device_zc.async_register_service(stranger)
    await wait_discovered(lambda e: e.data["id"] == stranger.name)
    await device_zc.async_unregister_service(stranger)
    await wait_lost(lambda e: e.data["id"] == stranger.name)
    await device_zc.async_register_service(AsyncServiceInfo(
        MODBUS, name, addresses=LOOPBACK, port=5021, server=f"plc-{unique}.local.", properties={}))
    registry = get_discovery(hub)
    async with asyncio.timeout(10):
        # An ignored service fires no event by design: there is nothing to wait on but the registry.
        while (service := registry.get(name)) is None or service.port != 5021:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    await hub.async_block_till_done()
    assert len(mine(discovered)) == count
    assert len(mine(lost)) == 1


async def test_the_hub_announces_itself_with_its_port_and_site(discovery_hub: DiscoveryHub,
                                                               device_zc: AsyncZeroconf) -> None:
    name = f"{discovery_hub.name}.{HACHO}"
    info = AsyncServiceInfo(HACHO, name)
    for _ in range(50):  # the announcement follows the HTTP start (and mDNS probing)
        if await info.async_request(device_zc.zeroconf, 200):
            break
    else:
        raise AssertionError(f"{name} was never announced")
    assert info.port == discovery_hub.http.port
    assert info.properties[b"site"] == b"hacho"
    assert info.properties[b"api"] == b"/api/"
    # Its own announcement is not listed as something to adopt.
    _status, body = await discovery_hub.get("/api/discovery?all=1")
    assert name not in [item["id"] for item in body["services"]]


async def test_the_ignore_list_survives_a_restart(hub: Hub) -> None:
    registry = DiscoveryRegistry(hub)
    await registry.async_load()
    registry.async_seen("Broker.x._mqtt._tcp.local.", "_mqtt._tcp.local.", "broker.local.", ["10.0.0.9"], 1883, {})
    registry.async_ignore("Broker.x._mqtt._tcp.local.")
    await hub.async_stop()  # the delayed save is flushed at the final write
    again = Hub(hub.config_dir)
    registry = DiscoveryRegistry(again)
    await registry.async_load()
    assert registry.ignored == {"Broker.x._mqtt._tcp.local."}
    await again.async_stop()


async def test_unknown_ids_are_refused(discovery_hub: DiscoveryHub) -> None:
    for service in ("adopt", "ignore", "unignore"):
        try:
            await discovery_hub.hub.services.async_call("zeroconf", service, {"id": "nothing.local."},
                                                        return_response=service == "adopt")
        except ServiceValidationError as err:
            assert "nothing.local." in str(err)
        else:
            raise AssertionError(f"zeroconf.{service} accepted an unknown id")
    try:
        await discovery_hub.hub.services.async_call("zeroconf", "adopt", {}, return_response=True)
    except (ServiceValidationError, vol.Invalid) as err:
        assert "id" in str(err)
    else:
        raise AssertionError("zeroconf.adopt accepted a call without an id")
