"""Tests of SingletonLoader: one shared load, a failed load is retried, LookupError before loading."""

from __future__ import annotations

import asyncio

import pytest

from hub.core import Hub, HubKey
from hub.helpers.registry_base import SingletonLoader


class Thing:
    """A loadable object that counts its loads and can be told to fail."""

    created = 0
    fail = False

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        Thing.created += 1

    async def async_load(self) -> None:
        await asyncio.sleep(0)
        if Thing.fail:
            raise OSError("disk gone")


KEY: HubKey[Thing] = HubKey("thing")


@pytest.fixture(autouse=True)
def _reset() -> None:
    Thing.created = 0
    Thing.fail = False


async def test_concurrent_loads_share_one_object(fake_hub: Hub) -> None:
    loader = SingletonLoader(KEY, Thing, what="thing store", module="things")
    assert loader.get(fake_hub) is None
    first, second = await asyncio.gather(loader.async_load(fake_hub), loader.async_load(fake_hub))
    assert first is second is loader.async_get(fake_hub) is fake_hub.data[KEY]
    assert await loader.async_load(fake_hub) is first
    assert Thing.created == 1
    assert loader.loading_key not in fake_hub.data


async def test_failed_load_is_forgotten_and_retried(fake_hub: Hub) -> None:
    loader = SingletonLoader(KEY, Thing, what="thing store", module="things")
    Thing.fail = True
    with pytest.raises(OSError, match="disk gone"):
        await loader.async_load(fake_hub)
    assert KEY not in fake_hub.data and loader.loading_key not in fake_hub.data
    Thing.fail = False
    assert await loader.async_load(fake_hub) is loader.async_get(fake_hub)
    assert Thing.created == 2


async def test_get_before_load_names_the_module(fake_hub: Hub) -> None:
    loader = SingletonLoader(KEY, Thing, what="thing store", module="things")
    with pytest.raises(LookupError, match=r"thing store is not loaded \(call things.async_load first\)"):
        loader.async_get(fake_hub)
