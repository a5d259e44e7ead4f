"""Services `panel.display` and `panel.clear`: schemas, validation against each panel, and handlers."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import voluptuous as vol

from hub.core import CALLBACK_TYPE, Hub, ServiceCall, SupportsResponse
from hub.exceptions import ServiceValidationError
from hub.helpers.entity_service import EntityServiceHandler, EntityServiceSchema, async_register_entity_service

from .const import (
    DEFAULT_PAGE_TIME,
    ENTITY_DOMAIN,
    SERVICE_CLEAR,
    SERVICE_DISPLAY,
    Justify,
    Priority,
)
from .entity import PanelEntity
from .message import PanelMessage, new_message_id, normalise_pages
from .render import MessageTemplate

__all__ = ["CLEAR_SCHEMA", "DISPLAY_SCHEMA", "async_register_services"]

_LOGGER = logging.getLogger(__name__)


def _priority(value: Any) -> Priority:
    try:
        return Priority.parse(value)
    except ValueError as err:
        raise vol.Invalid(str(err)) from None


def _line(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (str, int, float)):
        return str(value)
    raise vol.Invalid(f"expected text, got {type(value).__name__}")


def _page(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return [_line(item) for item in value]
    raise vol.Invalid(f"a page is a list of lines or a text with newlines, got {type(value).__name__}")


def _seconds(value: Any) -> float:
    """Seconds as a number, 'HH:MM:SS' / 'MM:SS', or a mapping like {minutes: 30}."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, dict):
        try:
            seconds = timedelta(**{k: float(v) for k, v in value.items()}).total_seconds()
        except (TypeError, ValueError) as err:
            raise vol.Invalid(f"invalid duration {value!r}: {err}") from None
    elif isinstance(value, str) and ":" in value:
        parts = value.split(":")
        try:
            numbers = [float(p) for p in parts]
        except ValueError:
            raise vol.Invalid(f"invalid duration {value!r} (expected HH:MM:SS)") from None
        if len(numbers) > 3:
            raise vol.Invalid(f"invalid duration {value!r} (expected HH:MM:SS)")
        seconds = 0.0
        for number in numbers:
            seconds = seconds * 60 + number
    else:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            raise vol.Invalid(f"invalid duration {value!r}") from None
    if seconds <= 0:
        raise vol.Invalid(f"duration must be positive, got {value!r}")
    return seconds


def _timestamp(value: Any) -> float:
    """An epoch time, an aware datetime, or an ISO 8601 string (UTC when no zone is given)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise vol.Invalid(f"invalid time {value!r} (expected ISO 8601)") from None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.timestamp()
    raise vol.Invalid(f"invalid time {value!r}")


def _needs_text(data: dict[str, Any]) -> dict[str, Any]:
    if "pages" not in data and "lines" not in data:
        raise vol.Invalid("give the message as 'pages' or 'lines'", path=["pages"])
    return data


def _needs_target(data: dict[str, Any]) -> dict[str, Any]:
    if "priority" not in data and not data.get("all") and "message_id" not in data:
        raise vol.Invalid("say what to clear: 'priority', 'message_id' or 'all: true'", path=["priority"])
    return data


DISPLAY_SCHEMA = EntityServiceSchema(vol.All(  # entity_id or area_id, and:
    {
        vol.Exclusive("pages", "text"): vol.All([_page], vol.Length(min=1)),
        vol.Exclusive("lines", "text"): vol.All([_line], vol.Length(min=1)),
        vol.Optional("priority", default=Priority.information.name): _priority,
        vol.Exclusive("duration", "expiry"): _seconds,
        vol.Exclusive("expires", "expiry"): _timestamp,
        vol.Optional("pictogram"): vol.All(str, vol.Length(min=1)),
        vol.Optional("page_time", default=DEFAULT_PAGE_TIME): vol.All(
            vol.Coerce(float), vol.Range(min=0.5, max=25.5)
        ),
        vol.Optional("justify", default=Justify.CENTER.value): vol.All(vol.Lower, vol.Coerce(Justify)),
    },
    _needs_text,
), entity_domain=ENTITY_DOMAIN)

CLEAR_SCHEMA = EntityServiceSchema(vol.All(  # entity_id or area_id, and:
    {
        vol.Exclusive("priority", "what"): vol.All(
            lambda v: v if isinstance(v, list) else [v], [_priority], vol.Length(min=1)
        ),
        vol.Exclusive("all", "what"): vol.Boolean(),
        vol.Exclusive("message_id", "what"): vol.All(str, vol.Length(min=1)),
    },
    _needs_target,
), entity_domain=ENTITY_DOMAIN)


def _make_display(hub: Hub) -> EntityServiceHandler:
    async def async_display(call: ServiceCall, panels: list[PanelEntity]) -> dict[str, Any]:
        """Check the message against every target panel first; show it on all of them or none."""
        data = call.data
        source = normalise_pages(data["pages"] if "pages" in data else [data["lines"]])
        template = MessageTemplate(hub, source)
        pages, _ = template.render()
        pictogram = data.get("pictogram")
        problems = []
        for panel in panels:
            try:
                panel.capabilities.validate(pages, pictogram)
            except ServiceValidationError as err:
                problems.append(str(err))
        if problems:
            raise ServiceValidationError("; ".join(problems), path=["pages"])
        now = hub.clock.time()
        expires_at = None
        if "duration" in data:
            expires_at = now + data["duration"]
        elif "expires" in data:
            expires_at = data["expires"]
            if expires_at <= now:
                raise ServiceValidationError("expires: the time is already past", path=["expires"])
        context = call.context
        message = PanelMessage(
            pages=pages,
            priority=data["priority"],
            page_time=data["page_time"],
            pictogram=pictogram,
            justify=data["justify"],
            expires_at=expires_at,
            set_at=now,
            user_id=context.user_id,
            centre=context.centre,
            context_id=context.id,
            id=new_message_id(),
        )
        for panel in panels:
            await panel.async_display(message, template if template.has_templates else None, context)
        return {"message_id": message.id, "entity_ids": [p.entity_id for p in panels]}

    return async_display


def _make_clear() -> EntityServiceHandler:
    async def async_clear(call: ServiceCall, panels: list[PanelEntity]) -> dict[str, Any]:
        """Clear messages by priority, by id, or all; the next queued message returns."""
        data = call.data
        priorities = None if data.get("all") else data.get("priority")
        message_id = data.get("message_id")
        cleared: dict[str, list[str]] = {}
        for panel in panels:
            removed = await panel.async_clear(priorities, message_id, call.context)
            cleared[panel.entity_id] = [m.id for m in removed]
        return {"cleared": cleared}

    return async_clear


def async_register_services(hub: Hub) -> list[CALLBACK_TYPE]:
    """Register panel.display and panel.clear; returns their removers."""
    return [
        async_register_entity_service(
            hub, ENTITY_DOMAIN, SERVICE_DISPLAY, _make_display(hub), DISPLAY_SCHEMA, entity_type=PanelEntity,
            noun="panel", supports_response=SupportsResponse.OPTIONAL,
            description="Show a message on one or more panels, at a priority, until it expires or is cleared",
        ),
        async_register_entity_service(
            hub, ENTITY_DOMAIN, SERVICE_CLEAR, _make_clear(), CLEAR_SCHEMA, entity_type=PanelEntity,
            noun="panel", supports_response=SupportsResponse.OPTIONAL,
            description="Clear panel messages by priority, by message id, or all",
        ),
    ]
