"""Blueprints: automations written once with `!input` placeholders and used many times.

A blueprint file (in `<config>/blueprints/automation/`, as in Home Assistant)::

    blueprint:
      name: Motion-activated light
      domain: automation
      input:
        motion_entity:
          name: Motion sensor
          selector: {entity: {domain: binary_sensor}}
        no_motion_wait:
          default: 120
          selector: {number: {min: 0, max: 3600}}
    triggers:
      - trigger: state
        entity_id: !input motion_entity
        to: "on"
    ...

An automation that uses it::

    - alias: Corridor light
      use_blueprint:
        path: homeassistant/motion_light.yaml
        input:
          motion_entity: binary_sensor.corridor

Inputs are checked against their selectors; a missing input without a default, an input the
blueprint does not declare and a value its selector refuses are errors naming the automation and
the input. The automation's own keys (alias, id, description, mode...) win over the blueprint's.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import voluptuous as vol

from hub.config.validation import validate
from hub.config.yaml_loader import Input, NodeDict, get_location, load_yaml
from hub.exceptions import ConfigError
from hub.helpers import config_validation as cv

from .selectors import selector_validator

__all__ = [
    "BLUEPRINT_SCHEMA",
    "USE_BLUEPRINT",
    "Blueprint",
    "BlueprintError",
    "blueprint_folder",
    "expand_blueprint",
    "import_blueprint",
    "load_blueprint",
]

USE_BLUEPRINT = "use_blueprint"
BLUEPRINTS_DIR = "blueprints"
DOMAINS = ("automation", "script")

_INPUT_SCHEMA = vol.Schema({
    vol.Optional("name"): cv.string,
    vol.Optional("description"): cv.string,
    vol.Optional("default"): object,
    vol.Optional("selector"): vol.Any(None, dict),
}, extra=vol.ALLOW_EXTRA)

_SECTION_SCHEMA = vol.Schema({
    vol.Optional("name"): cv.string,
    vol.Optional("icon"): cv.string,
    vol.Optional("description"): cv.string,
    vol.Optional("collapsed"): cv.boolean,
    vol.Required("input"): {cv.string: vol.Any(None, _INPUT_SCHEMA)},
})

BLUEPRINT_SCHEMA = vol.Schema({
    vol.Required("blueprint"): vol.Schema({
        vol.Required("name"): cv.string,
        vol.Optional("description"): cv.string,
        vol.Required("domain"): vol.In(DOMAINS),
        vol.Optional("author"): cv.string,
        vol.Optional("source_url"): cv.string,
        vol.Optional("homeassistant"): dict,
        vol.Optional("input", default=dict): {cv.string: vol.Any(None, _SECTION_SCHEMA, _INPUT_SCHEMA)},
    }),
}, extra=vol.ALLOW_EXTRA)

USE_BLUEPRINT_SCHEMA = vol.Schema({
    vol.Required("path"): cv.string,
    vol.Optional("input", default=dict): vol.Any(None, dict),
})


class BlueprintError(ConfigError):
    """A blueprint that cannot be read, or inputs that do not fit it."""


@dataclass(slots=True)
class Blueprint:
    """A loaded blueprint: its metadata, its inputs (sections flattened) and the rest of its config."""

    path: Path
    name: str
    domain: str
    inputs: dict[str, dict[str, Any]]
    config: dict[str, Any]


def blueprint_folder(config_dir: Path, domain: str = "automation") -> Path:
    """`<config>/blueprints/<domain>/`."""
    return config_dir / BLUEPRINTS_DIR / domain


def load_blueprint(path: Path) -> Blueprint:
    """Read and check a blueprint file (blocking). Raises BlueprintError naming file:line."""
    raw = load_yaml(path)
    if not isinstance(raw, dict) or "blueprint" not in raw:
        raise BlueprintError(f"{path}: not a blueprint (no `blueprint:` section)")
    validated = validate(BLUEPRINT_SCHEMA, raw, "blueprint")
    meta = validated["blueprint"]
    inputs: dict[str, dict[str, Any]] = {}
    for key, value in meta["input"].items():
        if isinstance(value, dict) and "input" in value and "selector" not in value:  # a section
            for name, item in value["input"].items():
                inputs[name] = item or {}
        else:
            inputs[key] = value or {}
    config = NodeDict((k, v) for k, v in raw.items() if k != "blueprint")
    config.__config_file__ = str(path)
    config.__line__ = 1
    config._key_locs = getattr(raw, "_key_locs", None)
    return Blueprint(Path(path), meta["name"], meta["domain"], inputs, config)


def _where(obj: Any, key: Any = None) -> str:
    location = get_location(obj, key)
    return f"{location[0]}:{location[1]}: " if location else ""


def _check_inputs(blueprint: Blueprint, given: dict[str, Any], label: str, where_given: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    errors: list[str] = []
    for name in given:
        if name not in blueprint.inputs:
            close = difflib.get_close_matches(str(name), list(blueprint.inputs), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            errors.append(f"{_where(where_given, name)}[{label}] input {name!r} is not an input of blueprint "
                          f"{blueprint.name!r}{hint}")
    for name, spec in blueprint.inputs.items():
        if name in given:
            value = given[name]
            check = selector_validator(spec.get("selector"))
            if check is not None:
                try:
                    value = check(value)
                except vol.Invalid as err:
                    errors.append(f"{_where(where_given, name)}[{label}] input {name!r}: {err.msg}")
                    continue
            values[name] = value
        elif "default" in spec:
            values[name] = spec["default"]
        else:
            errors.append(f"{_where(where_given)}[{label}] missing input {name!r} of blueprint {blueprint.name!r}")
    if errors:
        raise BlueprintError(f"[{label}] {len(errors)} blueprint input error(s)", errors)
    return values


def _substitute(value: Any, values: dict[str, Any]) -> Any:
    if isinstance(value, Input):
        return values[value.name]
    if isinstance(value, NodeDict):
        node = NodeDict((key, _substitute(item, values)) for key, item in value.items())
        node.__config_file__, node.__line__, node._key_locs = value.__config_file__, value.__line__, value._key_locs
        return node
    if isinstance(value, dict):
        return {key: _substitute(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, values) for item in value]
    return value


def _first_input(value: Any) -> Input | None:
    if isinstance(value, Input):
        return value
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for item in items:
        found = _first_input(item)
        if found is not None:
            return found
    return None


def _config_dir_of(raw: Any) -> Path | None:
    location = get_location(raw)
    if location is None:
        return None
    for parent in Path(location[0]).resolve().parents:
        if (parent / "configuration.yaml").is_file():
            return parent
    return None


def expand_blueprint(raw: Any, label: str, config_dir: Path | None = None) -> Any:
    """The automation `raw` with its `use_blueprint:` replaced by the blueprint's config (blocking).

    Returns `raw` unchanged when it uses no blueprint. Raises BlueprintError listing every problem.
    """
    if not isinstance(raw, dict) or USE_BLUEPRINT not in raw:
        stray = _first_input(raw)
        if stray is not None:
            raise BlueprintError(f"{_where(stray)}[{label}] `!input {stray.name}` outside a blueprint "
                                 "(only blueprint files take inputs; use `use_blueprint:`)")
        return raw
    use = validate(USE_BLUEPRINT_SCHEMA, raw[USE_BLUEPRINT], label)
    config_dir = config_dir or _config_dir_of(raw)
    folder = blueprint_folder(config_dir or Path("."))
    path = (folder / use["path"]).resolve()
    if not path.is_relative_to(folder.resolve()):
        raise BlueprintError(f"{_where(raw, USE_BLUEPRINT)}[{label}] blueprint path {use['path']!r} "
                             f"leaves {folder}")
    if not path.is_file():
        raise BlueprintError(f"{_where(raw, USE_BLUEPRINT)}[{label}] blueprint {use['path']!r} not found in "
                             f"{folder}{os.sep}")
    blueprint = load_blueprint(path)
    if blueprint.domain != "automation":
        raise BlueprintError(f"{_where(raw, USE_BLUEPRINT)}[{label}] blueprint {use['path']!r} is a "
                             f"{blueprint.domain} blueprint, not an automation one")
    given = raw[USE_BLUEPRINT].get("input") or {}
    values = _check_inputs(blueprint, dict(use["input"] or {}), label, given)
    expanded = _substitute(blueprint.config, values)
    for key, value in raw.items():
        if key != USE_BLUEPRINT:
            expanded[key] = value
            if isinstance(raw, NodeDict) and raw._key_locs and key in raw._key_locs:
                expanded._key_locs = {**(expanded._key_locs or {}), key: raw._key_locs[key]}
    return expanded


def import_blueprint(config_dir: Path, source: str, *, force: bool = False) -> tuple[Path, Blueprint]:
    """Check the blueprint file `source` and copy it into `<config>/blueprints/<domain>/` (blocking).

    Only local files: a URL is refused (the hub never fetches configuration from the network).
    Returns the new path and the blueprint. Raises BlueprintError.
    """
    if "://" in source:
        raise BlueprintError(f"{source}: only local files can be imported (no network); download it first")
    path = Path(source)
    if not path.is_file():
        raise BlueprintError(f"{source}: file not found")
    blueprint = load_blueprint(path)
    target = blueprint_folder(config_dir, blueprint.domain) / path.name
    if target.exists() and not force:
        raise BlueprintError(f"{target} already exists (use --force to replace it)")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(path.read_bytes())
    return target, blueprint
