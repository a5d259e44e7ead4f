"""`platform: webhook`: an HTTP request to /api/webhook/<webhook_id> (the registry is `hub.helpers.webhook`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import voluptuous as vol

from hub.core import CALLBACK_TYPE, Context, Hub, callback
from hub.helpers import config_validation as cv
from hub.helpers.webhook import DEFAULT_METHODS, METHODS, async_register_webhook

__all__ = ["TRIGGER_SCHEMA", "async_attach_trigger"]

TRIGGER_SCHEMA = vol.Schema({
    vol.Required("platform"): "webhook",
    vol.Required("webhook_id"): cv.string,
    vol.Optional("allowed_methods", default=list(DEFAULT_METHODS)): vol.All(
        cv.ensure_list, [vol.All(cv.string, vol.Upper, vol.In(METHODS))]),
    vol.Optional("local_only", default=True): cv.boolean,
})


def async_attach_trigger(hub: Hub, config: dict[str, Any], action: Callable[..., None],
                         trigger_info: dict[str, Any]) -> CALLBACK_TYPE:
    """Register the webhook id; each request fires the trigger with its JSON and query."""
    trigger_data = trigger_info["trigger_data"]
    webhook_id = config["webhook_id"]

    @callback
    def on_request(request: dict[str, Any]) -> None:
        action({**trigger_data, "platform": "webhook", "webhook_id": webhook_id, **request,
                "description": f"webhook {webhook_id}"}, Context())

    return async_register_webhook(hub, webhook_id, on_request, frozenset(config["allowed_methods"]),
                                  config["local_only"])
