"""The automation and script schemas, key aliases, and validation that names file, line, alias and key."""

from __future__ import annotations

import copy
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import voluptuous as vol

from hub.config.sections import automation_keys
from hub.config.validation import deprecated, validate
from hub.config.yaml_loader import NodeDict, get_location
from hub.exceptions import ConfigError
from hub.helpers import config_validation as cv
from hub.helpers.validators import plain, script_variables, time_period_or_template

from .blueprint import expand_blueprint
from .conditions import validate_condition
from .const import (
    AUTOMATION_KEY_ALIASES,
    CONF_ACTIONS,
    CONF_CATCH_UP,
    CONF_CONDITIONS,
    CONF_ON_RESTART,
    CONF_TRIGGERS,
    DEFAULT_MAX,
    DEFAULT_STORED_TRACES,
    MODE_SINGLE,
    MODES,
    ON_RESTART_ABANDON,
    ON_RESTART_RESTART,
    ON_RESTART_RESUME,
    RESERVED_SCRIPT_NAMES,
)
from .helpers import slugify
from .script import LOG_LEVEL_NAMES
from .script_config import validate_sequence
from .triggers import config_dir_known, set_config_dir, validate_trigger

__all__ = [
    "AUTOMATION_SCHEMA",
    "SCRIPT_SCHEMA",
    "AutomationConfig",
    "ScriptConfig",
    "ValidatedConfig",
    "check_config",
    "validate_sections",
]

_LOGGER = logging.getLogger(__name__)


def _catch_up(value: Any) -> bool | float:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no", "on", "off"):
        return cv.boolean(value)
    period = time_period_or_template(value)
    if not hasattr(period, "total_seconds"):
        raise vol.Invalid("catch_up must be true, false or a fixed time period")
    return float(period.total_seconds())


_RUN_MODE: dict[Any, Any] = {
    vol.Optional("mode", default=MODE_SINGLE): vol.In(MODES),
    vol.Optional("max", default=DEFAULT_MAX): vol.All(vol.Coerce(int), vol.Range(min=1)),
    vol.Optional("max_exceeded", default="warning"): vol.All(cv.string, vol.Lower, vol.In(LOG_LEVEL_NAMES)),
}

_TRACE_SCHEMA = vol.Schema({
    vol.Optional("stored_traces", default=DEFAULT_STORED_TRACES): vol.All(vol.Coerce(int), vol.Range(min=0)),
})

AUTOMATION_SCHEMA = vol.All(deprecated("hide_entity"), vol.Schema({
    vol.Optional("id"): cv.string,
    vol.Optional("alias"): cv.string,
    vol.Optional("description"): cv.string,
    **_RUN_MODE,
    vol.Optional("variables"): script_variables,
    vol.Optional("trigger_variables"): script_variables,
    vol.Required(CONF_TRIGGERS): vol.All(cv.ensure_list, vol.Length(min=1), cv.list_of(validate_trigger)),
    vol.Optional(CONF_CONDITIONS, default=list): cv.list_of(validate_condition),
    vol.Required(CONF_ACTIONS): validate_sequence,
    vol.Optional("initial_state"): cv.boolean,
    vol.Optional(CONF_ON_RESTART, default=ON_RESTART_RESUME): vol.In(
        [ON_RESTART_RESUME, ON_RESTART_RESTART, ON_RESTART_ABANDON]),
    vol.Optional(CONF_CATCH_UP, default=True): _catch_up,
    vol.Optional("trace", default=dict): _TRACE_SCHEMA,
}))

_FIELD_SCHEMA = vol.Schema({
    vol.Optional("name"): cv.string,
    vol.Optional("description"): cv.string,
    vol.Optional("example"): object,
    vol.Optional("default"): object,
    vol.Optional("required", default=False): cv.boolean,
    vol.Optional("selector"): object,
})

SCRIPT_SCHEMA = vol.Schema({
    vol.Optional("alias"): cv.string,
    vol.Optional("description"): cv.string,
    vol.Optional("icon"): cv.string,
    **_RUN_MODE,
    vol.Optional("variables"): script_variables,
    vol.Optional("fields", default=dict): vol.Schema({cv.string: vol.Any(None, _FIELD_SCHEMA)}),
    vol.Required("sequence"): validate_sequence,
    vol.Optional("trace", default=dict): _TRACE_SCHEMA,
})


@dataclass(slots=True)
class AutomationConfig:
    """One validated automation: its config, where it came from, and a fingerprint of its source."""

    key: str  # the object id: automation.<key>
    alias: str
    config: dict[str, Any]
    fingerprint: str
    location: tuple[str, int] | None = None


@dataclass(slots=True)
class ScriptConfig:
    """One validated `script:` entry."""

    key: str
    alias: str
    config: dict[str, Any]
    fingerprint: str


@dataclass(slots=True)
class ValidatedConfig:
    """Everything under `automations:`/`automation:` and `script:`, with every error found."""

    automations: list[AutomationConfig] = field(default_factory=list)
    scripts: list[ScriptConfig] = field(default_factory=list)
    automation_errors: list[str] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        """Every error, automations first."""
        return [*self.automation_errors, *self.script_errors]


def fingerprint(raw: Any) -> str:
    """A hash of a configuration's content (not of its file position): equal means unchanged."""
    blob = orjson.dumps(raw, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)
    return hashlib.blake2b(blob, digest_size=12).hexdigest()


def _normalize(raw: Any) -> Any:
    """Plural keys for `trigger`/`condition`/`action`, keeping each key's file:line."""
    if not isinstance(raw, dict) or not any(key in raw for key in AUTOMATION_KEY_ALIASES):
        return raw
    result = copy.copy(raw)
    locations = dict(getattr(raw, "_key_locs", None) or {})
    for old, new in AUTOMATION_KEY_ALIASES.items():
        if old not in result:
            continue
        if new in result:
            continue  # both given: validation reports the extra key
        result[new] = result.pop(old)
        if old in locations:
            locations[new] = locations[old]
    if isinstance(result, NodeDict):
        result._key_locs = locations
    return result


def _label(raw: Any, index: int, kind: str) -> str:
    alias = raw.get("alias") if isinstance(raw, dict) else None
    ident = raw.get("id") if isinstance(raw, dict) else None
    if alias and ident:
        return f"{kind} '{alias}' (id {ident})"
    if alias or ident:
        return f"{kind} '{alias or ident}'"
    return f"{kind} #{index + 1}"


def _automation_list(sections: Mapping[str, Any]) -> tuple[list[Any], list[str]]:
    items: list[Any] = []
    errors: list[str] = []
    for key in automation_keys(sections):
        value = sections.get(key)
        if value is None:
            continue
        if isinstance(value, dict):
            value = [value]
        if not isinstance(value, list):
            location = get_location(sections, key)
            where = f"{location[0]}:{location[1]}: " if location else ""
            errors.append(f"{where}[{key}] expected a list of automations")
            continue
        items.extend(value)
    return items, errors


def _infer_config_dir(sections: Mapping[str, Any]) -> Path | None:
    """The directory holding configuration.yaml, from where the loaded sections came from."""
    for value in sections.values():
        items = value if isinstance(value, list) else [value]
        for item in items[:1]:
            location = get_location(item) or get_location(value)
            if location is None:
                continue
            for parent in Path(location[0]).resolve().parents:
                if (parent / "configuration.yaml").is_file():
                    return parent
    return None


def validate_sections(sections: Mapping[str, Any]) -> ValidatedConfig:
    """Validate `automations:`/`automation:` (lists) and `script:` (a mapping). Blocking-free, no hub needed.

    Invalid automations are left out and reported; the rest are returned.
    """
    if not config_dir_known():
        inferred = _infer_config_dir(sections)
        if inferred is not None:
            set_config_dir(inferred)  # where custom integrations' trigger platforms are
    result = ValidatedConfig()
    items, errors = _automation_list(sections)
    result.automation_errors.extend(errors)
    keys: dict[str, str] = {}
    for index, raw in enumerate(items):
        label = _label(raw, index, "automation")
        source = raw
        try:
            raw = expand_blueprint(raw, label)
            validated = validate(AUTOMATION_SCHEMA, _normalize(raw), label)
        except ConfigError as err:
            result.automation_errors.extend(err.errors)
            continue
        except Exception as err:  # a validator bug must not hide the other automations
            _LOGGER.exception("Unexpected error validating %s", label)
            result.automation_errors.append(f"[{label}] {type(err).__name__}: {err}")
            continue
        config = plain(validated)
        ident = config.get("id")
        alias = config.get("alias") or ident or f"automation {index + 1}"
        key = slugify(ident) if ident else slugify(alias)
        location = get_location(source)
        if key in keys:
            where = f"{location[0]}:{location[1]}: " if location else ""
            result.automation_errors.append(f"{where}[{label}] 'id': {key!r} is already used by {keys[key]}")
            continue
        keys[key] = label
        result.automations.append(AutomationConfig(key, str(alias), config, fingerprint(raw), location))
    scripts = sections.get("script")
    if scripts is not None:
        if not isinstance(scripts, dict):
            location = get_location(sections, "script")
            where = f"{location[0]}:{location[1]}: " if location else ""
            result.script_errors.append(f"{where}[script] expected a mapping of script names to scripts")
        else:
            for name, raw in scripts.items():
                label = f"script '{name}'"
                key = slugify(str(name))
                location = get_location(scripts, name)
                where = f"{location[0]}:{location[1]}: " if location else ""
                if key != str(name):
                    result.script_errors.append(f"{where}[{label}] script names are slugs (try {key!r})")
                    continue
                if key in RESERVED_SCRIPT_NAMES:
                    result.script_errors.append(f"{where}[{label}] {key!r} is a script service; "
                                                "pick another name")
                    continue
                try:
                    validated = validate(SCRIPT_SCHEMA, raw, label)
                except ConfigError as err:
                    result.script_errors.extend(err.errors)
                    continue
                config = plain(validated)
                result.scripts.append(ScriptConfig(key, str(config.get("alias") or name), config,
                                                   fingerprint(raw)))
    return result


def check_config(sections: Mapping[str, Any]) -> list[str]:
    """Every error in the automation and script sections (for `hacho check-config`)."""
    return validate_sections(sections).errors
