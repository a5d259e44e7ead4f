"""Home Assistant packages: `hub: packages:` folds each package's sections into configuration.yaml.

    hub:
      packages: !include_dir_named packages/     # or {name: {domain: config, ...}}; `homeassistant:` works too

Merged as Home Assistant merges them: a list (automations, or any list section) is appended to the
main one; a mapping (input_boolean, script, counter...) adds its keys, and a key defined twice is an
error naming both places; any other value may appear only once. Every conflict is reported, with
file and line, and nothing of a conflicting package section is merged.
"""

from __future__ import annotations

from typing import Any

from .yaml_loader import NodeDict, NodeList, get_location

__all__ = ["CONF_PACKAGES", "merge_packages"]

CONF_PACKAGES = "packages"
CORE_KEY = "hub"
HA_CORE_KEY = "homeassistant"  # Home Assistant's name for the core section; only its `packages:` means something here


def _where(obj: Any, key: Any = None) -> str:
    location = get_location(obj, key)
    return f"{location[0]}:{location[1]}: " if location else ""


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def merge_packages(config: NodeDict) -> list[str]:
    """Merge `config["hub"]["packages"]` into `config` in place (and drop the key); the errors found.

    `homeassistant: packages:` (as pasted from Home Assistant) works too; a `homeassistant:` section left
    empty by it is dropped.
    """
    errors: list[str] = []
    for key in (CORE_KEY, HA_CORE_KEY):
        core = config.get(key)
        if isinstance(core, dict) and CONF_PACKAGES in core:
            errors.extend(_merge_from(config, core))
            if key == HA_CORE_KEY and not core:
                del config[key]
    return errors


def _merge_from(config: NodeDict, core: dict[Any, Any]) -> list[str]:
    packages = core.pop(CONF_PACKAGES)
    if packages is None:
        return []
    if not isinstance(packages, dict):
        return [f"{_where(core)}[hub] 'packages': expected a mapping of package names to configurations"]
    errors: list[str] = []
    for name, package in packages.items():
        if package is None:
            continue
        if not isinstance(package, dict):
            errors.append(f"{_where(packages, name)}[package {name}] expected a mapping of sections")
            continue
        for domain, value in package.items():
            error = _merge_section(config, domain, value)
            if error:
                errors.append(f"{_where(package, domain)}[package {name}] '{domain}': {error}")
    return errors


def _merge_section(config: NodeDict, domain: Any, value: Any) -> str | None:
    if domain in (CORE_KEY, HA_CORE_KEY):
        return "the core section cannot come from a package"
    if domain not in config or config[domain] is None:
        config[domain] = value
        _copy_location(config, domain, value)
        return None
    current = config[domain]
    if isinstance(current, list) or isinstance(value, list):
        merged = NodeList([*_as_list(current), *_as_list(value)])
        merged.__config_file__ = getattr(current, "__config_file__", None)
        merged.__line__ = getattr(current, "__line__", None)
        config[domain] = merged
        return None
    if isinstance(current, dict) and isinstance(value, dict):
        duplicates = [key for key in value if key in current]
        if duplicates:
            first = duplicates[0]
            return f"{first!r} is already defined at {_where(current, first).rstrip(': ') or 'the main configuration'}"
        merged_dict = NodeDict(current)
        merged_dict.__config_file__ = getattr(current, "__config_file__", None)
        merged_dict.__line__ = getattr(current, "__line__", None)
        merged_dict._key_locs = {**(getattr(current, "_key_locs", None) or {}),
                                 **(getattr(value, "_key_locs", None) or {})}
        merged_dict.update(value)
        config[domain] = merged_dict
        return None
    return f"defined in the main configuration ({_where(config, domain).rstrip(': ')}) and in the package"


def _copy_location(config: NodeDict, domain: Any, value: Any) -> None:
    location = get_location(value)
    if location is not None and isinstance(config, NodeDict):
        if config._key_locs is None:
            config._key_locs = {}
        config._key_locs[domain] = location
