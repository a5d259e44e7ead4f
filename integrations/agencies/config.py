"""The `agencies:` configuration: schema (defaults in it) and the frozen settings built from it."""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import voluptuous as vol

from hub.core import Event, EventOrigin
from hub.helpers import config_validation as cv
from hub.outbox import RetryPolicy

from .const import (
    CAP_CATEGORY,
    CAP_CERTAINTY,
    CAP_SCOPE,
    CAP_SEVERITY,
    CAP_STATUS,
    CAP_URGENCY,
    CONF_AGENCIES,
    CONF_BACKOFF_BASE,
    CONF_BACKOFF_CAP,
    CONF_BURST,
    CONF_CAP,
    CONF_ENABLED,
    CONF_EVENT_TYPE,
    CONF_EVENTS,
    CONF_FORMATS,
    CONF_ID,
    CONF_INBOUND,
    CONF_LANGUAGE,
    CONF_MATCH,
    CONF_MAX_ATTEMPTS,
    CONF_MAX_BODY_BYTES,
    CONF_NAME,
    CONF_ORIGIN,
    CONF_PER,
    CONF_RATE_LIMIT,
    CONF_REQUESTS,
    CONF_RESTRICTION,
    CONF_SCHEMA,
    CONF_SCOPE,
    CONF_SECRET,
    CONF_SECRETS,
    CONF_SENDER,
    CONF_SENDER_NAME,
    CONF_STATUS,
    CONF_TIMEOUT,
    CONF_TOLERANCE,
    CONF_URL,
    CONF_WEBHOOK_ID,
    DEFAULT_BACKOFF_BASE,
    DEFAULT_BACKOFF_CAP,
    DEFAULT_LANGUAGE,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_RADIUS_KM,
    DEFAULT_RATE_PER,
    DEFAULT_RATE_REQUESTS,
    DEFAULT_RESTRICTION,
    DEFAULT_TIMEOUT,
    DEFAULT_TOLERANCE,
    UNFORWARDABLE_PREFIXES,
    Format,
)
from .schemas import body_schema
from .signing import WebhookSecret

__all__ = [
    "CAP_TEMPLATE_SCHEMA",
    "CONFIG_SCHEMA",
    "AgenciesConfig",
    "AgencyConfig",
    "EventRule",
    "InboundConfig",
    "language_code",
    "render",
    "translations_schema",
]

_FORMATTER = string.Formatter()
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")


def language_code(value: Any) -> str:
    """An RFC 3066 language code as CAP's <language> takes it (es-ES, en-GB, ar, fr)."""
    text = cv.string(value).strip()
    if not _LANGUAGE.fullmatch(text):
        raise vol.Invalid(f"expected a language code such as en-GB or ar, got {text!r}")
    return text


def translations_schema(text: Any) -> vol.Schema:
    """`{language: {event, headline, description, instruction}}`: the alert in other languages (one CAP
    <info> each); `text` validates each field (plain text for calls, templates for forwarding rules)."""
    texts = vol.Schema({vol.Optional(key): text for key in ("event", "headline", "description", "instruction")})
    return vol.Schema({language_code: vol.All(lambda v: {} if v is None else v, texts)})


def _template(value: Any) -> str:
    """Text with `{field}` placeholders filled from the event data (no attribute or index access)."""
    text = cv.string(value)
    try:
        parsed = list(_FORMATTER.parse(text))
    except ValueError as err:
        raise vol.Invalid(f"invalid template {text!r}: {err}") from None
    for _literal, name, _spec, _conversion in parsed:
        if name is not None and (not name or not name.isidentifier()):
            raise vol.Invalid(f"template placeholders are plain field names like {{camera}}, got {{{name}}}")
    return text


def render(template: str | None, data: Mapping[str, Any]) -> str | None:
    """Fill a template's placeholders from `data`; a missing field becomes empty text."""
    if template is None:
        return None
    parts: list[str] = []
    for literal, name, spec, _conversion in _FORMATTER.parse(template):
        parts.append(literal)
        if name is None:
            continue
        value = data.get(name)
        if value is None:
            continue
        try:
            parts.append(format(value, spec or ""))
        except (TypeError, ValueError):
            parts.append(str(value))
    return "".join(parts)


def _secret(value: Any) -> WebhookSecret:
    try:
        return WebhookSecret.parse(cv.string(value))
    except ValueError as err:
        raise vol.Invalid(str(err)) from None


def _secrets(conf: dict[str, Any]) -> dict[str, Any]:
    """`secret` and `secrets` are merged into `secrets` (the first signs first; all verify)."""
    merged = []
    if CONF_SECRET in conf:
        merged.append(conf.pop(CONF_SECRET))
    merged.extend(conf.get(CONF_SECRETS, []))
    conf[CONF_SECRETS] = list(dict.fromkeys(merged))  # the same key twice would sign twice
    return conf


def _event_type(value: Any) -> str:
    text = cv.string(value)
    if text.startswith(UNFORWARDABLE_PREFIXES):
        raise vol.Invalid(f"{text} is a delivery status event of this integration; forwarding it would loop")
    return text


CAP_TEMPLATE_SCHEMA = vol.Schema({
    vol.Optional("event"): _template,
    vol.Optional("category", default=["Other"]): vol.All(cv.ensure_list, [vol.In(CAP_CATEGORY)]),
    vol.Optional("urgency", default="Unknown"): vol.In(CAP_URGENCY),
    vol.Optional("severity", default="Unknown"): vol.In(CAP_SEVERITY),
    vol.Optional("certainty", default="Unknown"): vol.In(CAP_CERTAINTY),
    vol.Optional("headline"): _template,
    vol.Optional("description"): _template,
    vol.Optional("instruction"): _template,
    vol.Optional("area"): _template,
    vol.Optional("radius_km", default=DEFAULT_RADIUS_KM): vol.All(vol.Coerce(float), vol.Range(min=0)),
    vol.Optional("translations", default=dict): translations_schema(_template),
})

EVENT_RULE_SCHEMA = vol.Schema({
    vol.Required(CONF_EVENT_TYPE): _event_type,
    vol.Optional(CONF_MATCH, default=dict): vol.Schema({cv.string: object}),
    vol.Optional(CONF_ORIGIN, default="local"): vol.In(["local", "any"]),
    vol.Optional(CONF_CAP, default=dict): CAP_TEMPLATE_SCHEMA,
})

RATE_LIMIT_SCHEMA = vol.Schema({
    vol.Optional(CONF_REQUESTS, default=DEFAULT_RATE_REQUESTS): vol.All(vol.Coerce(int), vol.Range(min=1)),
    vol.Optional(CONF_PER, default=DEFAULT_RATE_PER): vol.All(vol.Coerce(float), vol.Range(min=0.001)),
    vol.Optional(CONF_BURST): vol.All(vol.Coerce(int), vol.Range(min=1)),
})

INBOUND_SCHEMA = vol.All(
    lambda value: {} if value is None else value,
    vol.Schema({
        vol.Optional(CONF_WEBHOOK_ID): cv.slug,
        vol.Optional(CONF_SECRET): _secret,
        vol.Optional(CONF_SECRETS): cv.list_of(_secret),
        vol.Optional(CONF_SCHEMA, default="any"): body_schema,
        vol.Optional(CONF_MAX_BODY_BYTES, default=DEFAULT_MAX_BODY_BYTES): vol.All(
            vol.Coerce(int), vol.Range(min=64, max=1024 * 1024)),
        vol.Optional(CONF_RATE_LIMIT, default=dict): RATE_LIMIT_SCHEMA,
        vol.Optional(CONF_TOLERANCE, default=DEFAULT_TOLERANCE): vol.All(vol.Coerce(float), vol.Range(min=1)),
    }),
)

AGENCY_SCHEMA = vol.All(
    vol.Schema({
        vol.Required(CONF_ID): cv.slug,
        vol.Optional(CONF_NAME): cv.string,
        vol.Required(CONF_URL): cv.url,
        vol.Optional(CONF_FORMATS, default=[Format.JSON.value]): vol.All(
            cv.ensure_list, vol.Length(min=1), [vol.All(cv.string, vol.In([f.value for f in Format]))]),
        vol.Optional(CONF_SECRET): _secret,
        vol.Optional(CONF_SECRETS): cv.list_of(_secret),
        vol.Optional(CONF_TIMEOUT, default=DEFAULT_TIMEOUT): vol.All(vol.Coerce(float), vol.Range(min=0.1, max=300)),
        vol.Optional(CONF_MAX_ATTEMPTS, default=DEFAULT_MAX_ATTEMPTS): vol.All(vol.Coerce(int), vol.Range(min=1)),
        vol.Optional(CONF_BACKOFF_BASE, default=DEFAULT_BACKOFF_BASE): vol.All(vol.Coerce(float), vol.Range(min=0)),
        vol.Optional(CONF_BACKOFF_CAP, default=DEFAULT_BACKOFF_CAP): vol.All(vol.Coerce(float), vol.Range(min=0)),
        vol.Optional(CONF_ENABLED, default=True): cv.boolean,
        vol.Optional(CONF_EVENTS, default=list): cv.list_of(EVENT_RULE_SCHEMA),
        vol.Optional(CONF_INBOUND): INBOUND_SCHEMA,
    }),
    _secrets,
    vol.Schema({vol.Required(CONF_SECRETS): vol.Length(
        min=1, msg="an agency needs a secret (or secrets) to sign what it is sent")}, extra=vol.ALLOW_EXTRA),
)


def _unique(agencies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen_ids: set[str] = set()
    seen_hooks: set[str] = set()
    for index, agency in enumerate(agencies):
        if agency[CONF_ID] in seen_ids:
            raise vol.Invalid(f"agency id {agency[CONF_ID]!r} is used twice", path=[index, CONF_ID])
        seen_ids.add(agency[CONF_ID])
        inbound = agency.get(CONF_INBOUND)
        if inbound is not None:
            hook = inbound.get(CONF_WEBHOOK_ID, agency[CONF_ID])
            if hook in seen_hooks:
                raise vol.Invalid(f"webhook id {hook!r} is used twice", path=[index, CONF_INBOUND])
            seen_hooks.add(hook)
    return agencies


CONFIG_SCHEMA = vol.All(
    # A bare list of agencies is the short form of `agencies: {agencies: [...]}`.
    lambda value: {CONF_AGENCIES: value} if isinstance(value, list) else ({} if value is None else value),
    vol.Schema({
        vol.Optional(CONF_SENDER): vol.All(cv.string, vol.Match(r"^[^\s,<&]+$", msg="no spaces, commas, < or &")),
        vol.Optional(CONF_SENDER_NAME): cv.string,
        vol.Optional(CONF_LANGUAGE, default=DEFAULT_LANGUAGE): language_code,
        vol.Optional(CONF_STATUS, default="Actual"): vol.In(CAP_STATUS),
        vol.Optional(CONF_SCOPE, default="Restricted"): vol.In(CAP_SCOPE),
        vol.Optional(CONF_RESTRICTION, default=DEFAULT_RESTRICTION): cv.string,
        vol.Optional(CONF_AGENCIES, default=list): vol.All(cv.list_of(AGENCY_SCHEMA), _unique),
    }),
)


@dataclass(frozen=True, slots=True)
class EventRule:
    """Forward events of one type whose data match, with CAP fields for them."""

    event_type: str
    match: Mapping[str, tuple[Any, ...]]
    any_origin: bool
    cap: Mapping[str, Any]

    @classmethod
    def from_config(cls, conf: Mapping[str, Any]) -> EventRule:
        match = {key: tuple(value) if isinstance(value, list) else (value,) for key, value in conf[CONF_MATCH].items()}
        return cls(conf[CONF_EVENT_TYPE], match, conf[CONF_ORIGIN] == "any", dict(conf[CONF_CAP]))

    def matches(self, event: Event) -> bool:
        """Whether `event` is one to forward: its origin allowed and every `match` key among the allowed values."""
        if not self.any_origin and event.origin is not EventOrigin.local:
            return False
        data = event.data
        return all(key in data and data[key] in allowed for key, allowed in self.match.items())


@dataclass(frozen=True, slots=True)
class InboundConfig:
    """What an agency may push to us at /api/webhook/{webhook_id}."""

    webhook_id: str
    secrets: tuple[WebhookSecret, ...]
    schema: Callable[[Any], Any]
    max_body_bytes: int
    rate: float  # tokens per second
    burst: int
    tolerance: float


@dataclass(frozen=True, slots=True)
class AgencyConfig:
    """One agency: where and how to send, which events, and what it may send us."""

    id: str
    name: str
    url: str
    formats: tuple[Format, ...]
    secrets: tuple[WebhookSecret, ...] = field(repr=False)
    timeout: float = DEFAULT_TIMEOUT
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    backoff_base: float = DEFAULT_BACKOFF_BASE
    backoff_cap: float = DEFAULT_BACKOFF_CAP
    enabled: bool = True
    events: tuple[EventRule, ...] = ()
    inbound: InboundConfig | None = None

    @classmethod
    def from_config(cls, conf: Mapping[str, Any]) -> AgencyConfig:
        secrets = tuple(conf[CONF_SECRETS])
        inbound = None
        if (raw := conf.get(CONF_INBOUND)) is not None:
            rate = raw[CONF_RATE_LIMIT]
            inbound_secrets = ([raw[CONF_SECRET]] if CONF_SECRET in raw else []) + list(raw.get(CONF_SECRETS, []))
            inbound = InboundConfig(
                webhook_id=raw.get(CONF_WEBHOOK_ID, conf[CONF_ID]),
                secrets=tuple(inbound_secrets) or secrets,
                schema=raw[CONF_SCHEMA],
                max_body_bytes=raw[CONF_MAX_BODY_BYTES],
                rate=rate[CONF_REQUESTS] / rate[CONF_PER],
                burst=rate.get(CONF_BURST, rate[CONF_REQUESTS]),
                tolerance=raw[CONF_TOLERANCE],
            )
        return cls(
            id=conf[CONF_ID],
            name=conf.get(CONF_NAME) or conf[CONF_ID],
            url=conf[CONF_URL],
            formats=tuple(dict.fromkeys(Format(f) for f in conf[CONF_FORMATS])),
            secrets=secrets,
            timeout=conf[CONF_TIMEOUT],
            max_attempts=conf[CONF_MAX_ATTEMPTS],
            backoff_base=conf[CONF_BACKOFF_BASE],
            backoff_cap=conf[CONF_BACKOFF_CAP],
            enabled=conf[CONF_ENABLED],
            events=tuple(EventRule.from_config(rule) for rule in conf[CONF_EVENTS]),
            inbound=inbound,
        )

    @property
    def policy(self) -> RetryPolicy:
        """How its deliveries are retried."""
        return RetryPolicy(max_attempts=self.max_attempts, backoff_base=self.backoff_base,
                           backoff_cap=self.backoff_cap)

    @property
    def endpoint(self) -> str:
        """`scheme://host[:port]` of its URL, for display (paths and queries may hold tokens)."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


@dataclass(frozen=True, slots=True)
class AgenciesConfig:
    """The whole section."""

    sender: str | None
    sender_name: str | None
    language: str
    status: str
    scope: str
    restriction: str
    agencies: tuple[AgencyConfig, ...]

    @classmethod
    def from_config(cls, conf: Mapping[str, Any]) -> AgenciesConfig:
        return cls(
            sender=conf.get(CONF_SENDER),
            sender_name=conf.get(CONF_SENDER_NAME),
            language=conf[CONF_LANGUAGE],
            status=conf[CONF_STATUS],
            scope=conf[CONF_SCOPE],
            restriction=conf[CONF_RESTRICTION],
            agencies=tuple(AgencyConfig.from_config(agency) for agency in conf[CONF_AGENCIES]),
        )
