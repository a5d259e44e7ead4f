"""`platform: mqtt` automation trigger: a message on a topic (wildcards), optionally with a given payload."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import voluptuous as vol

from hub.core import CALLBACK_TYPE, Context, Hub, callback
from hub.exceptions import HubError, TemplateError
from hub.helpers import config_validation as cv
from hub.helpers.template import Template, is_template_string
from hub.helpers.validators import template

from .const import CONF_ENCODING, CONF_PAYLOAD, CONF_QOS, CONF_TOPIC, CONF_VALUE_TEMPLATE, DEFAULT_ENCODING
from .schema import valid_qos, value_template
from .subscriptions import ReceiveMessage, valid_subscribe_topic
from .templates import MalformedPayload, ValueTemplate, parse_json

__all__ = ["TRIGGER_SCHEMA", "async_attach_trigger"]

def _topic(value: Any) -> str | Template:
    """A topic filter, or a template rendered against the automation's `variables` when it attaches."""
    if isinstance(value, str) and is_template_string(value):
        return template(value)
    return valid_subscribe_topic(value)


def _payload(value: Any) -> str | Template:
    text = cv.string(value)
    return template(text) if is_template_string(text) else text


TRIGGER_SCHEMA = vol.Schema({
    vol.Required("platform"): "mqtt",
    vol.Required(CONF_TOPIC): _topic,
    vol.Optional(CONF_PAYLOAD): _payload,
    vol.Optional(CONF_VALUE_TEMPLATE): value_template,
    vol.Optional(CONF_ENCODING, default=DEFAULT_ENCODING): vol.Any(None, cv.string),
    vol.Optional(CONF_QOS, default=0): valid_qos,
})


async def async_attach_trigger(hub: Hub, config: dict[str, Any], action: Callable[..., None],
                               trigger_info: dict[str, Any]) -> CALLBACK_TYPE:
    """Subscribe; each matching message calls `action(trigger_payload, context)`. Returns the remover.

    With `value_template`, `payload` is compared with the rendered value instead of the raw payload.
    The trigger carries `topic`, `payload`, `payload_json` (when the payload is JSON), `qos`.
    """
    from . import get_mqtt

    try:
        client = get_mqtt(hub)
    except LookupError as err:
        raise HubError(f"mqtt trigger on {config[CONF_TOPIC]}: {err}") from err
    trigger_data = trigger_info["trigger_data"]
    variables = trigger_info.get("variables") or {}
    wanted: str | None = _rendered(hub, config.get(CONF_PAYLOAD), variables)
    template: ValueTemplate | None = config.get(CONF_VALUE_TEMPLATE)
    topic_filter = _rendered(hub, config[CONF_TOPIC], variables)
    assert topic_filter is not None
    if isinstance(config[CONF_TOPIC], Template):
        try:
            topic_filter = valid_subscribe_topic(topic_filter)
        except vol.Invalid as err:
            raise HubError(f"mqtt trigger: topic template rendered to {topic_filter!r}: {err}") from None

    @callback
    def received(msg: ReceiveMessage) -> None:
        if wanted is not None:
            value: Any = msg.payload
            if template is not None:
                try:
                    value = template.render(hub, msg.payload)
                except (MalformedPayload, TemplateError) as err:
                    client.async_report_malformed(msg.topic, "mqtt trigger: value_template failed", None,
                                                  str(err))
                    return
            if str(value) != wanted:
                return
        payload: dict[str, Any] = {
            **trigger_data,
            "platform": "mqtt",
            "topic": msg.topic,
            "payload": msg.payload,
            "qos": msg.qos,
            "description": f"mqtt topic {msg.topic}",
        }
        try:
            payload["payload_json"] = parse_json(msg.payload)
        except MalformedPayload:
            pass
        action(payload, Context())

    return client.async_subscribe(topic_filter, received, config[CONF_QOS], config[CONF_ENCODING])


def _rendered(hub: Hub, value: str | Template | None, variables: Any) -> str | None:
    """A topic or payload as the automation's `variables` make it (templates render once, at attach)."""
    if isinstance(value, Template):
        return str(value.async_render(hub, variables, parse_result=False))
    return value
