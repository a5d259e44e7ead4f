"""The subscription registry: topic filters with MQTT wildcards, matched per topic and cached."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import voluptuous as vol

from hub.core import HubJob, is_callback

__all__ = [
    "MessageCallback",
    "ReceiveMessage",
    "Subscription",
    "SubscriptionRegistry",
    "topic_matches",
    "valid_publish_topic",
    "valid_subscribe_topic",
]

MAX_TOPIC_BYTES = 65535
_CACHE_LIMIT = 8192


class ReceiveMessage:
    """One received message as a subscriber sees it (payload decoded with the subscription's encoding)."""

    __slots__ = ("payload", "qos", "retain", "subscribed_topic", "timestamp", "topic")

    def __init__(self, topic: str, payload: str | bytes, qos: int, retain: bool,
                 subscribed_topic: str, timestamp: float) -> None:
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.subscribed_topic = subscribed_topic
        self.timestamp = timestamp

    def __repr__(self) -> str:
        return f"<ReceiveMessage {self.topic} qos={self.qos} retain={self.retain}: {self.payload!r:.60}>"


MessageCallback = Callable[[ReceiveMessage], Any]


def valid_subscribe_topic(value: Any) -> str:
    """A topic filter: `+` fills a whole level, `#` only as the last level."""
    if not isinstance(value, str):
        raise vol.Invalid(f"expected a topic string, got {type(value).__name__}")
    _check_common(value)
    levels = value.split("/")
    for index, level in enumerate(levels):
        if "#" in level and (level != "#" or index != len(levels) - 1):
            raise vol.Invalid(f"'#' must be a whole level and the last one, in topic filter {value!r}")
        if "+" in level and level != "+":
            raise vol.Invalid(f"'+' must fill a whole level, in topic filter {value!r}")
    return value


def valid_publish_topic(value: Any) -> str:
    """A topic to publish to: no wildcards."""
    if not isinstance(value, str):
        raise vol.Invalid(f"expected a topic string, got {type(value).__name__}")
    _check_common(value)
    if "+" in value or "#" in value:
        raise vol.Invalid(f"wildcards are not allowed in a topic to publish to: {value!r}")
    return value


def _check_common(value: str) -> None:
    if not value:
        raise vol.Invalid("topic must not be empty")
    if len(value.encode("utf-8")) > MAX_TOPIC_BYTES:
        raise vol.Invalid(f"topic is longer than {MAX_TOPIC_BYTES} bytes")
    if "\0" in value:
        raise vol.Invalid("topic must not contain a null character")


def _filter_levels(topic_filter: str) -> list[str]:
    levels = topic_filter.split("/")
    if levels[0] == "$share" and len(levels) > 2:
        return levels[2:]  # $share/<group>/<filter>: the group is not part of the match
    return levels


def _match_levels(filter_levels: list[str], topic_levels: list[str]) -> bool:
    if topic_levels[0].startswith("$") and filter_levels[0] in ("+", "#"):
        return False  # wildcards at the start never match $SYS-style topics
    count = len(topic_levels)
    for index, level in enumerate(filter_levels):
        if level == "#":
            return True
        if index >= count:
            return False
        if level != "+" and level != topic_levels[index]:
            return False
    return len(filter_levels) == count


def topic_matches(topic_filter: str, topic: str) -> bool:
    """Whether `topic` matches `topic_filter` (`+`, `#`, `$share/...`, `$`-topics per the MQTT spec)."""
    return _match_levels(_filter_levels(topic_filter), topic.split("/"))


class Subscription:
    """One subscriber: a filter, its callback (a @callback runs inline; others as jobs), QoS, encoding."""

    __slots__ = ("encoding", "inline", "job", "levels", "msg_callback", "qos", "topic", "wildcard")

    def __init__(self, topic: str, msg_callback: MessageCallback, qos: int, encoding: str | None) -> None:
        self.topic = topic
        self.msg_callback = msg_callback
        self.qos = qos
        self.encoding = encoding or None  # "" means raw bytes, as in Home Assistant
        self.inline = is_callback(msg_callback)
        self.job: HubJob[Any] = HubJob(msg_callback)
        self.levels = _filter_levels(topic)
        self.wildcard = "+" in topic or "#" in topic or topic.startswith("$share/")

    def __repr__(self) -> str:
        return f"<Subscription {self.topic} qos={self.qos} {self.job.name}>"


_NO_MATCH: tuple[Subscription, ...] = ()


class SubscriptionRegistry:
    """Every local subscription, by filter. `match(topic)` is one dict lookup once a topic was seen."""

    __slots__ = ("_by_filter", "_cache", "_exact", "_wildcards")

    def __init__(self) -> None:
        self._by_filter: dict[str, list[Subscription]] = {}
        self._exact: dict[str, tuple[Subscription, ...]] = {}
        self._wildcards: tuple[Subscription, ...] = ()
        self._cache: dict[str, tuple[Subscription, ...]] = {}

    def add(self, subscription: Subscription) -> bool:
        """Add a subscription; returns whether its filter is new (the broker must be told)."""
        subs = self._by_filter.setdefault(subscription.topic, [])
        subs.append(subscription)
        if subscription.wildcard:
            self._wildcards = (*self._wildcards, subscription)
        else:
            self._exact[subscription.topic] = (*self._exact.get(subscription.topic, ()), subscription)
        self._cache.clear()
        return len(subs) == 1

    def remove(self, subscription: Subscription) -> bool:
        """Remove a subscription; returns whether its filter has no subscriber left."""
        subs = self._by_filter.get(subscription.topic)
        if not subs or subscription not in subs:
            return False
        subs.remove(subscription)
        if subscription.wildcard:
            self._wildcards = tuple(sub for sub in self._wildcards if sub is not subscription)
        else:
            remaining = tuple(sub for sub in self._exact[subscription.topic] if sub is not subscription)
            if remaining:
                self._exact[subscription.topic] = remaining
            else:
                del self._exact[subscription.topic]
        self._cache.clear()
        if subs:
            return False
        del self._by_filter[subscription.topic]
        return True

    def match(self, topic: str) -> tuple[Subscription, ...]:
        """The subscriptions whose filter matches `topic` (cached; the cache resets on any change)."""
        found = self._cache.get(topic)
        if found is not None:
            return found
        found = self._exact.get(topic, _NO_MATCH)
        if self._wildcards:
            levels = topic.split("/")
            extra = tuple(sub for sub in self._wildcards if _match_levels(sub.levels, levels))
            if extra:
                found = found + extra
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[topic] = found
        return found

    def qos(self, topic_filter: str) -> int | None:
        """The highest QoS asked for `topic_filter`, or None when nobody subscribes to it."""
        subs = self._by_filter.get(topic_filter)
        return max(sub.qos for sub in subs) if subs else None

    def filters(self) -> dict[str, int]:
        """Every filter with the highest QoS asked for it (what to subscribe to after a reconnect)."""
        return {topic: max(sub.qos for sub in subs) for topic, subs in self._by_filter.items()}

    def __len__(self) -> int:
        return sum(len(subs) for subs in self._by_filter.values())
