"""Topic filters and the subscription registry."""

from __future__ import annotations

import pytest
import voluptuous as vol

from hub.core import callback
from integrations.mqtt.subscriptions import (
    ReceiveMessage,
    Subscription,
    SubscriptionRegistry,
    topic_matches,
    valid_subscribe_topic,
)


@pytest.mark.parametrize(
    ("topic_filter", "topic", "expected"),
    [
        ("a/b/c", "a/b/c", True),
        ("a/b/c", "a/b", False),
        ("a/+/c", "a/x/c", True),
        ("a/+/c", "a/x/y/c", False),
        ("a/+", "a/", True),  # an empty level is a level
        ("a/#", "a", True),  # '#' also matches the parent level
        ("a/#", "a/b/c/d", True),
        ("#", "a/b", True),
        ("#", "$SYS/broker/load", False),  # wildcards at the start never match $ topics
        ("+/broker/load", "$SYS/broker/load", False),
        ("$SYS/#", "$SYS/broker/load", True),
        ("$share/group/a/+", "a/b", True),
        ("+/+", "a/b/c", False),
    ],
)
def test_topic_matches(topic_filter: str, topic: str, expected: bool) -> None:
    assert topic_matches(topic_filter, topic) is expected


def test_invalid_filters() -> None:
    for bad in ("", "a/#/b", "a/b#", "a+/b", "a/\0"):
        with pytest.raises(vol.Invalid):
            valid_subscribe_topic(bad)
    assert valid_subscribe_topic("a/+/#") == "a/+/#"


def _noop(_msg: ReceiveMessage) -> None:
    return None


@callback
def _inline(_msg: ReceiveMessage) -> None:
    return None


def test_registry_matches_exact_and_wildcards_and_forgets_removed() -> None:
    registry = SubscriptionRegistry()
    exact = Subscription("city/a", _inline, 0, "utf-8")
    wild = Subscription("city/+", _noop, 1, "utf-8")
    deep = Subscription("city/#", _noop, 0, None)
    assert registry.add(exact) is True
    assert registry.add(wild) is True
    assert registry.add(deep) is True
    assert registry.add(Subscription("city/a", _noop, 2, "utf-8")) is False  # known filter
    assert {sub.topic for sub in registry.match("city/a")} == {"city/a", "city/+", "city/#"}
    assert registry.match("city/a/b") == (deep,)
    assert registry.match("elsewhere") == ()
    assert registry.filters() == {"city/a": 2, "city/+": 1, "city/#": 0}
    assert exact.inline is True and wild.inline is False
    assert registry.remove(wild) is True  # the last subscriber of its filter
    assert registry.remove(wild) is False
    assert {sub.topic for sub in registry.match("city/a")} == {"city/a", "city/#"}
    assert registry.remove(exact) is False  # another subscriber still has city/a
    assert registry.qos("city/a") == 2
    assert len(registry) == 2
