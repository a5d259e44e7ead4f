"""`hacho import-ha PATH`: what of a Home Assistant configuration runs here, and writing it into the site.

PATH is a Home Assistant config folder (its `automations.yaml`, `automations/` folder, `scripts.yaml`
and `blueprints/`) or a single automations file. Each automation and script is sorted into

- **loads**: valid here, and every service it calls is one the site already provides;
- **maps**: valid here, but it needs a Hacho integration the site does not configure yet (helpers
  such as `input_boolean`, `counter`, `timer`, or `mqtt`, `switch`...); the report names them;
- **no counterpart**: it uses a construct the engine refuses (the reason is printed, file:line) or
  calls services no Hacho integration offers (`light`, `notify`, `media_player`...).

The loadable ones (loads and maps) are written to `<site>/automations/imported_ha_<name>.yaml`
(scripts to `<site>/imported_ha_scripts.yaml`), with the blueprints they use; nothing in the site
is overwritten.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import yaml

from hub.config.sections import is_automation_key
from hub.config.yaml_loader import get_location, load_yaml
from hub.exceptions import ConfigError
from hub.helpers.validators import plain

from .blueprint import USE_BLUEPRINT, blueprint_folder, expand_blueprint
from .config import validate_sections

__all__ = ["ImportReport", "Verdict", "classify", "run_import"]

LOADS, MAPS, NONE = "loads", "maps", "no counterpart"

# Service domains the hub itself answers, whatever the site configures.
CORE_SERVICE_DOMAINS = frozenset({"automation", "script", "hub"})
# Home Assistant service domains Hacho integrations provide under the same name, and which ones do.
SERVICE_PROVIDERS: dict[str, tuple[str, ...]] = {
    "switch": ("mqtt", "modbus"),
    "homeassistant": (),
}
HELPER_DOMAINS = ("input_boolean", "input_number", "input_select", "input_text", "input_datetime",
                  "input_button", "counter", "timer")
_SERVICE_KEYS = ("action", "service")
_SCRIPT_SERVICES = frozenset({"turn_on", "turn_off", "toggle", "reload"})
_HELPER_ENTITY = re.compile(r"\b(" + "|".join(HELPER_DOMAINS) + r")\.([a-z0-9_]+)")


@dataclass(slots=True)
class Verdict:
    """What became of one automation or script."""

    kind: str  # "automation" or "script"
    name: str
    where: str
    status: str
    reasons: list[str] = field(default_factory=list)
    config: Any = None


@dataclass(slots=True)
class ImportReport:
    """Every verdict, and what was written."""

    verdicts: list[Verdict] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    hint: str = ""

    def count(self, status: str, kind: str = "automation") -> int:
        """How many automations (or scripts) got `status`."""
        return sum(1 for v in self.verdicts if v.status == status and v.kind == kind)


def _services(value: Any) -> Iterator[str]:
    """Every `domain.service` an action tree calls (literal names only)."""
    if isinstance(value, dict):
        for key in _SERVICE_KEYS:
            name = value.get(key)
            if isinstance(name, str) and "." in name and "{" not in name:
                yield name
        for item in value.values():
            yield from _services(item)
    elif isinstance(value, list):
        for item in value:
            yield from _services(item)


def _where(raw: Any) -> str:
    location = get_location(raw)
    return f"{location[0]}:{location[1]}" if location else "?"


def _available_domains(site: Path) -> tuple[set[str], set[str]]:
    """(domains configured in the site with `script.<name>` of its scripts, domains Hacho integrations provide)."""
    from hub.config.core import load_configuration
    from hub.loader import discover_integrations

    config: Mapping[Any, Any]
    try:
        config = load_configuration(site)
    except ConfigError:
        config = {}
    configured = set(map(str, config))
    scripts = config.get("script")
    configured.update(f"script.{name}" for name in (scripts if isinstance(scripts, dict) else ()))
    integrations, _ = discover_integrations(site)
    return configured, set(integrations)


def classify(raw: Any, kind: str, name: str, ha_dir: Path | None,
             configured: set[str], provided: set[str]) -> Verdict:
    """The verdict on one automation (a mapping) or script (name -> mapping)."""
    verdict = Verdict(kind, name, _where(raw), NONE)
    try:
        if kind == "automation":
            config = expand_blueprint(raw, f"automation '{name}'", ha_dir) if ha_dir is not None else raw
            errors = validate_sections({"automation": [config]}).errors
        else:
            errors = validate_sections({"script": {name: raw}}).errors
    except ConfigError as err:
        errors = list(err.errors) or [str(err)]
    if errors:
        verdict.reasons = errors
        return verdict
    needs: set[str] = set()
    missing: list[str] = []
    for service in sorted(set(_services(plain(raw) if kind == "script" else plain(config)))):
        domain, _, name = service.partition(".")
        if domain == "script" and name not in _SCRIPT_SERVICES and service not in configured:
            needs.add(f"script '{name}'")
            continue
        if domain in CORE_SERVICE_DOMAINS or domain in configured:
            continue
        providers = SERVICE_PROVIDERS.get(domain, (domain,) if domain in provided else ())
        if configured.intersection(providers):
            continue
        if providers:
            needs.add(" or ".join(providers))
        else:
            missing.append(service)
    text = yaml.safe_dump(plain(raw), allow_unicode=True)
    for domain, _object_id in _HELPER_ENTITY.findall(text):
        if domain not in configured:
            needs.add(domain)
    verdict.config = plain(raw)
    if missing:
        verdict.reasons = [f"no Hacho integration offers {', '.join(missing)}"]
    elif needs:
        verdict.status = MAPS
        verdict.reasons = [f"configure {', '.join(sorted(needs))} in the site"]
    else:
        verdict.status = LOADS
    return verdict


def _automation_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    files = [path / "automations.yaml"] if (path / "automations.yaml").is_file() else []
    folder = path / "automations"
    if folder.is_dir():
        files.extend(sorted(p for p in folder.rglob("*.yaml") if not p.name.startswith(".")))
    return files


def _load_list(path: Path) -> list[Any]:
    data = load_yaml(path)
    if isinstance(data, list):
        return data
    return [data] if isinstance(data, dict) and data else []


def collect(path: Path, site: Path) -> ImportReport:
    """Read and classify everything importable under `path` (blocking)."""
    report = ImportReport()
    ha_dir = path if path.is_dir() else None
    configured, provided = _available_domains(site)
    scripts_file = path / "scripts.yaml" if ha_dir is not None else None
    scripts = load_yaml(scripts_file) if scripts_file is not None and scripts_file.is_file() else None
    if isinstance(scripts, dict):  # the scripts imported with the automations count as defined
        configured.update(f"script.{name}" for name in scripts)
    for file in _automation_files(path):
        try:
            items = _load_list(file)
        except ConfigError as err:
            report.verdicts.append(Verdict("automation", file.name, str(file), NONE, list(err.errors)))
            continue
        for index, raw in enumerate(items):
            name = str(raw.get("alias") or raw.get("id") or f"#{index + 1}") if isinstance(raw, dict) else "?"
            report.verdicts.append(classify(raw, "automation", name, ha_dir, configured, provided))
    if isinstance(scripts, dict):
        for name, raw in scripts.items():
            report.verdicts.append(classify(raw, "script", str(name), ha_dir, configured, provided))
    return report


def write(report: ImportReport, path: Path, site: Path) -> None:
    """Write the loadable automations, scripts and the blueprints they use into the site (never overwriting)."""
    automations = [v.config for v in report.verdicts if v.kind == "automation" and v.status != NONE]
    scripts = {v.name: v.config for v in report.verdicts if v.kind == "script" and v.status != NONE}
    stem = re.sub(r"[^a-z0-9_]+", "_", path.stem.lower()).strip("_") or "config"
    targets: list[tuple[Path, Any]] = []
    if automations:
        targets.append((site / "automations" / f"imported_ha_{stem}.yaml", automations))
    if scripts:
        targets.append((site / "imported_ha_scripts.yaml", scripts))
    for target, _content in targets:
        if target.exists():
            raise ConfigError(f"{target} already exists; move it away to import again")
    configured, _ = _available_domains(site)
    if automations and not any(is_automation_key(key) for key in configured):
        report.hint = "the site reads no automations yet: add `automations: !include_dir_merge_list automations/`"
    if scripts and "script" not in configured:
        report.hint += "\nadd `script: !include imported_ha_scripts.yaml` to the site's configuration.yaml"
    for target, content in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        header = f"# Imported from Home Assistant ({path}) by `hacho import-ha`.\n"
        target.write_text(header + yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8")
        report.written.append(target)
    used = {str(a[USE_BLUEPRINT]["path"]) for a in automations if isinstance(a.get(USE_BLUEPRINT), dict)}
    for relative in sorted(used):
        source = blueprint_folder(path) / relative
        target = blueprint_folder(site) / relative
        if source.is_file() and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            report.written.append(target)


def print_report(report: ImportReport, out: TextIO) -> None:
    """One line per automation and script, then the totals."""
    for verdict in report.verdicts:
        out.write(f"[{verdict.status}] {verdict.kind} {verdict.name!r} ({verdict.where})\n")
        for reason in verdict.reasons:
            out.write(f"    {reason}\n")
    for kind in ("automation", "script"):
        total = sum(1 for v in report.verdicts if v.kind == kind)
        if total:
            out.write(f"{kind}s: {total}: {report.count(LOADS, kind)} load as they are, {report.count(MAPS, kind)} "
                      f"map to Hacho integrations, {report.count(NONE, kind)} have no counterpart\n")
    for target in report.written:
        out.write(f"wrote {target}\n")
    if report.hint:
        out.write(f"{report.hint}\n")


def run_import(path: Path, site: Path, *, write_files: bool = True, out: TextIO) -> int:
    """The `hacho import-ha` command: 0 when something was importable, 1 when nothing was (or on error)."""
    if not path.exists():
        out.write(f"{path}: not found\n")
        return 1
    report = collect(path, site)
    if write_files:
        try:
            write(report, path, site)
        except ConfigError as err:
            print_report(report, out)
            out.write(f"{err}\n")
            return 1
    print_report(report, out)
    return 0 if any(v.status != NONE for v in report.verdicts) else 1
