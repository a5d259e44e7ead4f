"""Finding integrations: built-in packages, `custom_integrations/` in the config dir, and entry points."""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
import sys
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

from .exceptions import ConfigError, IntegrationNotFound

__all__ = ["Integration", "Manifest", "async_get_integrations", "discover_integrations", "load_manifest"]

_LOGGER = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "hacho.integrations"
BUILTIN_PACKAGE = "integrations"
CUSTOM_DIR = "custom_integrations"


@dataclass(frozen=True, slots=True)
class Manifest:
    """What `manifest.json` says about an integration."""

    domain: str
    name: str
    version: str = "0.0.0"
    dependencies: tuple[str, ...] = ()
    after_dependencies: tuple[str, ...] = ()
    iot_class: str | None = None
    quality: str | None = None
    requirements: tuple[str, ...] = ()
    config_flow: bool = False
    events: tuple[str, ...] = ()  # event type patterns it owns: nobody else may fire them through the API


@dataclass(slots=True)
class Integration:
    """A discovered integration: its manifest, where it comes from, and its module once imported."""

    manifest: Manifest
    package: str  # import name
    path: Path
    source: str  # builtin | custom | entry_point
    _module: ModuleType | None = field(default=None, repr=False)

    @property
    def domain(self) -> str:
        return self.manifest.domain

    def get_module(self) -> ModuleType:
        """Import the integration package (blocking: call from an executor the first time)."""
        if self._module is None:
            self._module = importlib.import_module(self.package)
        return self._module

    def get_platform(self, name: str) -> ModuleType | None:
        """Import `<package>.<name>` (e.g. `trigger`), or None when the integration has none."""
        full = f"{self.package}.{name}"
        if importlib.util.find_spec(full) is None:
            return None
        return importlib.import_module(full)


def load_manifest(path: Path) -> Manifest:
    """Read and check a manifest.json; a bad one is a ConfigError naming the file."""
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ConfigError(f"{path}: cannot read manifest: {err}") from err
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: manifest must be a JSON object")
    missing = [key for key in ("domain", "name") if not raw.get(key)]
    if missing:
        raise ConfigError(f"{path}: manifest is missing {', '.join(missing)}")
    for key in ("dependencies", "after_dependencies", "requirements", "events"):
        if key in raw and not isinstance(raw[key], list):
            raise ConfigError(f"{path}: manifest '{key}' must be a list")
    return Manifest(
        domain=str(raw["domain"]),
        name=str(raw["name"]),
        version=str(raw.get("version", "0.0.0")),
        dependencies=tuple(raw.get("dependencies", ())),
        after_dependencies=tuple(raw.get("after_dependencies", ())),
        iot_class=raw.get("iot_class"),
        quality=raw.get("quality"),
        requirements=tuple(raw.get("requirements", ())),
        config_flow=bool(raw.get("config_flow", False)),
        events=tuple(str(pattern) for pattern in raw.get("events", ())),
    )


def _scan_dir(base: Path, package_prefix: str, source: str, found: dict[str, Integration],
              errors: list[str]) -> None:
    if not base.is_dir():
        return
    for child in sorted(base.iterdir()):
        manifest_path = child / "manifest.json"
        if child.name.startswith(("_", ".")) or not manifest_path.is_file():
            continue
        try:
            manifest = load_manifest(manifest_path)
        except ConfigError as err:
            errors.append(str(err))
            continue
        if manifest.domain != child.name:
            errors.append(f"{manifest_path}: domain '{manifest.domain}' does not match folder '{child.name}'")
            continue
        if manifest.domain in found and source != "custom":
            continue
        if manifest.domain in found:
            _LOGGER.warning("Custom integration %s overrides the built-in one", manifest.domain)
        found[manifest.domain] = Integration(manifest, f"{package_prefix}.{child.name}", child, source)


def _point_custom_package_at(custom: Path) -> None:
    """Make `custom_integrations` import from this config dir's folder.

    The package name is the same for every config dir, so a process that has seen another config dir
    (tests, check-config of a second site) would otherwise keep importing the first one's modules.
    """
    package = sys.modules.get(CUSTOM_DIR)
    if package is not None and [str(p) for p in getattr(package, "__path__", [])] == [str(custom)]:
        return
    for name in [m for m in sys.modules if m == CUSTOM_DIR or m.startswith(CUSTOM_DIR + ".")]:
        del sys.modules[name]
    # A package object whose __path__ is exactly this folder: no sys.path entry, no namespace mixing.
    package = ModuleType(CUSTOM_DIR)
    package.__path__ = [str(custom)]
    package.__file__ = str(custom / "__init__.py")
    package.__package__ = CUSTOM_DIR
    sys.modules[CUSTOM_DIR] = package
    importlib.invalidate_caches()


def discover_integrations(config_dir: Path | None = None) -> tuple[dict[str, Integration], list[str]]:
    """All integrations by domain, and the problems found on the way (blocking: file system).

    Order of precedence: custom_integrations in the config dir, then entry points, then built-ins.
    """
    found: dict[str, Integration] = {}
    errors: list[str] = []
    builtin_spec = importlib.util.find_spec(BUILTIN_PACKAGE)
    if builtin_spec is not None and builtin_spec.submodule_search_locations:
        for location in builtin_spec.submodule_search_locations:
            _scan_dir(Path(location), BUILTIN_PACKAGE, "builtin", found, errors)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            module_spec = importlib.util.find_spec(ep.value.split(":")[0])
        except (ImportError, ValueError) as err:
            errors.append(f"entry point {ep.name}: {err}")
            continue
        if module_spec is None or not module_spec.submodule_search_locations:
            errors.append(f"entry point {ep.name}: {ep.value} is not a package")
            continue
        path = Path(next(iter(module_spec.submodule_search_locations)))
        try:
            manifest = load_manifest(path / "manifest.json")
        except ConfigError as err:
            errors.append(str(err))
            continue
        found[manifest.domain] = Integration(manifest, ep.value.split(":")[0], path, "entry_point")
    if config_dir is not None:
        custom = config_dir / CUSTOM_DIR
        if custom.is_dir():
            _point_custom_package_at(custom.resolve())
            _scan_dir(custom, CUSTOM_DIR, "custom", found, errors)
    return found, errors


async def async_get_integrations(hub: Any) -> dict[str, Integration]:
    """Discovered integrations, cached on the hub (scanned in the executor)."""
    cached = hub.data.get("_integrations")
    if cached is None:
        cached, errors = await hub.async_add_executor_job(discover_integrations, hub.config_dir)
        for error in errors:
            _LOGGER.error("Integration discovery: %s", error)
        hub.data["_integrations"] = cached
    return dict(cached)


def get_integration(integrations: dict[str, Integration], domain: str) -> Integration:
    """Look up a domain or raise IntegrationNotFound (with a suggestion)."""
    try:
        return integrations[domain]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(domain, list(integrations), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise IntegrationNotFound(f"No integration named '{domain}'{hint}") from None
