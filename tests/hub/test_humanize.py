"""The one voluptuous humanizer: the same paths and words for config, HTTP and service errors."""

from __future__ import annotations

import pytest
import voluptuous as vol

from hub.core import Hub
from hub.exceptions import ServiceValidationError
from hub.humanize import humanize_invalid

SCHEMA = vol.Schema({
    vol.Required("name"): str,
    vol.Optional("devices"): [vol.Schema({vol.Required("port"): int})],
    vol.Exclusive("a", "group"): int,
    vol.Exclusive("b", "group"): int,
})


def _error(value: object) -> vol.Invalid:
    with pytest.raises(vol.Invalid) as info:
        SCHEMA(value)
    return info.value


def test_paths_use_indexes_and_every_error_is_listed() -> None:
    text = humanize_invalid(_error({"devices": [{"port": 1}, {"port": 2}, {"port": "x"}]}))
    assert "devices[2].port: expected int" in text
    assert "name: required key not provided" in text
    assert text.count(";") == 1


def test_exclusive_group_errors_name_no_virtual_path() -> None:
    text = humanize_invalid(_error({"name": "n", "a": 1, "b": 2}))
    assert "<group>" not in text and "group" in text


async def test_service_errors_use_the_same_words(hub: Hub) -> None:
    async def handler(_call: object) -> None:
        return None

    hub.services.async_register("test", "configure", handler, SCHEMA)
    with pytest.raises(ServiceValidationError) as info:
        await hub.services.async_call("test", "configure", {"devices": [{"port": "x"}]})
    message = str(info.value)
    assert message.startswith("Invalid data for test.configure: ")
    assert "devices[0].port: expected int" in message
