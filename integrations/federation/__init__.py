"""Federation between control centres: each centre's own hub, linked through an MQTT broker.

Configuration (the site is `hub: site:`)::

    federation:
      broker: 10.20.0.5              # the shared (or bridged) broker; port, username, password, tls
      peers:
        - {site: national_police, name: Policía Nacional}
      heartbeat_interval: 15         # seconds; a peer silent for peer_timeout (45) is disconnected
      share:
        events:
          - {event_type: thermal_fire_*}
          - {event_type: anpr_hotlist_hit, areas: [tarajal]}
        states:
          - {entity_id: "bollard.tarajal_*"}
        alarms:                        # default: every alarm raised as shared
          - {type: "*", shared_only: true}
      actuation:                       # what peers may ask us to do (our operator still confirms)
        - {entity_id: "bollard.tarajal_*", services: [bollard.raise, bollard.lower], peers: [local_police]}

A centre publishes under `<prefix>/<site>/...` what its policy shares; its peers take it in as
remote events (EventOrigin.remote, `origin_site` in the data), remote entities
(`bollard.<site>_<object_id>`, attributes `origin_site`, `origin_entity_id`, unavailable while the
peer is disconnected) and remote alarms. Services: federation.acknowledge_alarm, alarm_action,
request_actuation, respond_actuation. Entities: `federation.<peer>` (connected / disconnected).
REST: GET /api/federation, /api/federation/actuations; websocket `federation/subscribe_alarms` (the
control-room queue lists peers' alarms with it). See docs/federation.md.
"""

from __future__ import annotations

import logging
from typing import Any

from hub.core import Hub
from hub.setup_handle import async_drain_setup_handle, async_get_setup_handle

from .const import DOMAIN
from .http import async_register_views
from .manager import DATA_FEDERATION, FederationManager, get_federation
from .schema import CONFIG_SCHEMA
from .services import async_register_services
from .websocket import async_register_websocket

__all__ = ["CONFIG_SCHEMA", "DOMAIN", "FederationManager", "async_setup", "async_unload", "get_federation"]

_LOGGER = logging.getLogger(__name__)


async def async_setup(hub: Hub, config: dict[str, Any]) -> bool:
    """Start sharing with and listening to the peers (the recorder is required: outbox and deduplication)."""
    manager = FederationManager(hub, config)
    await manager.async_setup()
    hub.data[DATA_FEDERATION] = manager
    handle = async_get_setup_handle(hub, DOMAIN)
    for remover in [*async_register_services(manager), *async_register_websocket(manager)]:
        handle.async_on_unload(remover)
    async_register_views(hub)
    return True


async def async_unload(hub: Hub) -> bool:
    """Stop; what is queued stays in the outbox, and the broker keeps our session for when we are back."""
    manager = hub.data.pop(DATA_FEDERATION, None)
    await async_drain_setup_handle(hub, DOMAIN)  # services and websocket commands; also without the setup manager
    if manager is not None:
        await manager.async_unload()
    return True
