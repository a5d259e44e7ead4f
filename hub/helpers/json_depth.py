"""One nesting limit for every JSON document a client sends (REST bodies, websocket messages, webhooks).

Deeply nested documents cost recursion everywhere they travel (templates, the recorder's
serialisation, automations' conditions): `check_json_depth` refuses them where they come in,
with a message naming the limit, so nothing downstream ever sees one.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from ..exceptions import HubError

__all__ = ["MAX_JSON_DEPTH", "JsonTooDeep", "check_json_depth", "json_depth", "loads_limited"]

MAX_JSON_DEPTH: Final = 32


class JsonTooDeep(HubError):
    """A JSON document nests objects and arrays deeper than the limit (the message names it)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"JSON nested deeper than {limit} levels (the limit is {limit})")
        self.limit = limit


def json_depth(data: Any, stop_after: int | None = None) -> int:
    """How deeply objects and arrays nest in `data` (a scalar: 0, `[]`: 1, `{"a": [1]}`: 2).

    Iterative, so a document deeper than the interpreter's recursion limit is measured too;
    `stop_after` returns as soon as the depth is known to exceed it.
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list | tuple):
            children = value
        else:
            continue
        if depth > deepest:
            deepest = depth
            if stop_after is not None and deepest > stop_after:
                return deepest
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list | tuple))
    return deepest


def check_json_depth(data: Any, limit: int = MAX_JSON_DEPTH) -> Any:
    """Return `data`, or raise JsonTooDeep when it nests deeper than `limit`."""
    if json_depth(data, stop_after=limit) > limit:
        raise JsonTooDeep(limit)
    return data


def loads_limited(raw: bytes | str, limit: int = MAX_JSON_DEPTH) -> Any:
    """`orjson.loads` then `check_json_depth`: raises orjson.JSONDecodeError or JsonTooDeep."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        if err.msg.startswith("depth limit"):  # orjson's own limit (1024) is far past ours
            raise JsonTooDeep(limit) from None
        raise
    return check_json_depth(data, limit)
