"""What keeps two hubs on one broker apart: the site's topic prefix (`~`) and a client id of their own.

The `mqtt:` section's `topic_prefix` (by default the hub's site id) is what `~` stands for at the start of
a configured topic, as in Home Assistant's discovery abbreviation: `state_topic: ~/weather/port` reads
`ceuta/weather/port` on the site `ceuta`. The simulator and the panels use the same prefix, so two sites on
one broker never see each other's devices.

Without a configured `client_id` the hub connects as `<site>-<8 random hex digits>`; the suffix is drawn
once and kept in `.storage/mqtt.client`, so the broker sees the same client across restarts and a second
hub (another config directory) never takes over the first one's session.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from hub.config.core import DEFAULT_SITE
from hub.core import Hub
from hub.helpers.storage import Store
from hub.setup import async_get_setup_manager

from .const import CONF_CLIENT_ID, CONF_TOPIC_PREFIX, DOMAIN, TOPIC_ABBREVIATION

__all__ = ["async_client_id", "expand_topic", "expand_topics", "site_topic_prefix", "topic_prefix"]

_STORE_KEY = "mqtt.client"
_STORE_VERSION = 1


def _site(hub: Hub) -> str:
    return hub.config.site if hub.config is not None else DEFAULT_SITE


def topic_prefix(hub: Hub, config: Mapping[str, Any] | None) -> str:
    """The prefix `~` stands for: the `mqtt:` section's `topic_prefix`, else the site id."""
    configured = (config or {}).get(CONF_TOPIC_PREFIX)
    return str(configured) if configured else _site(hub)


def site_topic_prefix(hub: Hub) -> str:
    """The running site's prefix, for other integrations (the `mqtt:` section as set up, else the site id)."""
    return topic_prefix(hub, async_get_setup_manager(hub).configs.get(DOMAIN))


def expand_topic(topic: str, prefix: str) -> str:
    """`~` or `~/rest` becomes `prefix` or `prefix/rest`; any other topic is returned as it is."""
    if topic == TOPIC_ABBREVIATION:
        return prefix
    if topic.startswith(TOPIC_ABBREVIATION + "/"):
        return prefix + topic[len(TOPIC_ABBREVIATION):]
    return topic


def _is_topic_key(key: Any) -> bool:
    return isinstance(key, str) and (key == "topic" or key.endswith("_topic") or key == "discovery_prefix")


def expand_topics(value: Any, prefix: str) -> Any:
    """A copy of a validated config with every topic (`*topic`, `discovery_prefix`) expanded."""
    if isinstance(value, Mapping):
        return {key: expand_topic(item, prefix) if _is_topic_key(key) and isinstance(item, str)
                else expand_topics(item, prefix) for key, item in value.items()}
    if isinstance(value, list):
        return [expand_topics(item, prefix) for item in value]
    return value


async def async_client_id(hub: Hub, config: Mapping[str, Any]) -> str:
    """The configured client id, else `<site>-<suffix>` with the suffix drawn once and stored."""
    configured = config.get(CONF_CLIENT_ID)
    if configured:
        return str(configured)
    store: Store[dict[str, Any]] = Store(hub, _STORE_KEY, _STORE_VERSION)
    data = await store.async_load() or {}
    suffix = data.get("suffix")
    if not isinstance(suffix, str) or not suffix:
        suffix = secrets.token_hex(4)
        await store.async_save({"suffix": suffix})
    return f"{_site(hub)}-{suffix}"
