"""`mqtt.publish`: topic, payload or payload_template, qos, retain."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from hub.core import CALLBACK_TYPE, Hub, ServiceCall
from hub.exceptions import ServiceValidationError, TemplateError
from hub.helpers import config_validation as cv
from hub.helpers.template import Template

from .const import CONF_PAYLOAD, CONF_PAYLOAD_TEMPLATE, CONF_QOS, CONF_RETAIN, CONF_TOPIC, DOMAIN
from .schema import valid_qos
from .subscriptions import valid_publish_topic

if TYPE_CHECKING:
    from .client import MqttClient

__all__ = ["PUBLISH_SCHEMA", "SERVICE_PUBLISH", "async_register_services"]

SERVICE_PUBLISH = "publish"


def _payload_template(value: Any) -> Any:
    try:
        return Template(cv.string(value))
    except TemplateError as err:
        raise vol.Invalid(str(err)) from None


def _payload(value: Any) -> str | bytes:
    if isinstance(value, bytes | str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value)
    if value is None:
        return ""
    return cv.string(value)


PUBLISH_SCHEMA = vol.Schema({
    vol.Required(CONF_TOPIC): valid_publish_topic,
    vol.Exclusive(CONF_PAYLOAD, "payload"): _payload,
    vol.Exclusive(CONF_PAYLOAD_TEMPLATE, "payload"): _payload_template,
    vol.Optional(CONF_QOS, default=0): valid_qos,
    vol.Optional(CONF_RETAIN, default=False): cv.boolean,
})


def async_register_services(hub: Hub, client: MqttClient) -> list[CALLBACK_TYPE]:
    """Register `mqtt.publish`; returns the removers."""

    async def publish(call: ServiceCall) -> None:
        data = call.data
        payload: Any = data.get(CONF_PAYLOAD, "")
        template = data.get(CONF_PAYLOAD_TEMPLATE)
        if template is not None:
            try:
                payload = _payload(template.async_render(hub, {}, parse_result=False))
            except TemplateError as err:
                raise ServiceValidationError(f"mqtt.publish: payload_template: {err}",
                                             path=[CONF_PAYLOAD_TEMPLATE]) from err
        # DeviceUnavailable when the broker is down: the caller learns it was not sent.
        await client.async_publish(data[CONF_TOPIC], payload, data[CONF_QOS], data[CONF_RETAIN])

    return [hub.services.async_register(DOMAIN, SERVICE_PUBLISH, publish, PUBLISH_SCHEMA,
                                        description="Publish a message to an MQTT topic")]
