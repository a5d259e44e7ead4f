"""`hacho lint`: warnings Home Assistant users trip on, for configurations that are valid.

- an entity id whose domain no integration provides, or that is not in the entity registry;
- a trigger that can never fire (from == to, above >= below, a template without a template, every
  trigger disabled, a sun trigger at a site without coordinates);
- a template that reads an entity nobody provides (`states('sensor.typo')`, `states.sensor.typo`);
- a `mode: single` automation whose runs were refused in the last day (from the recorder's traces).

Each warning is one line `file:line: [automation 'x'] 'key.path': message`, like the errors.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from jinja2 import nodes

from hub.config.validation import format_path
from hub.config.yaml_loader import get_location
from hub.helpers.template import Template, get_environment, walk_templates

from .config import AutomationConfig, _automation_list, validate_sections
from .const import MODE_SINGLE

if TYPE_CHECKING:
    from hub.bootstrap import Component

__all__ = ["LintContext", "lint_automations", "lint_config", "provided_domains", "recorded", "template_entities"]

_LOGGER = logging.getLogger(__name__)

# Domains the hub itself provides entities for.
CORE_DOMAINS = frozenset({"automation", "script", "zone", "sun", "group", "persistent_notification"})
_ENTITY_FUNCTIONS = frozenset({"states", "is_state", "state_attr", "is_state_attr", "has_value", "expand",
                               "entity_name", "area_name", "area_id", "device_id", "closest", "distance"})
_ENTITY_ID = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+$")
_ALIASES = {"triggers": "trigger", "conditions": "condition", "actions": "action"}
_STEP_LISTS = ("then", "else", "default", "sequence")


@dataclass(slots=True)
class LintContext:
    """What the site provides: entity domains, known entity ids (None: unknown), refused runs, coordinates."""

    domains: set[str]
    entities: set[str] | None = None
    skipped: dict[str, int] = field(default_factory=dict)
    has_coordinates: bool = True


def template_entities(template: Template) -> set[str]:
    """Entity ids a template names literally: `states('a.b')`, `is_state('a.b', ...)`, `states.a.b`."""
    if template.is_static:
        return set()
    found: set[str] = set()
    tree = get_environment().parse(template.source)
    for node in tree.find_all((nodes.Call, nodes.Getattr)):
        if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) \
                and node.node.name in _ENTITY_FUNCTIONS:
            for arg in node.args:
                if isinstance(arg, nodes.Const) and isinstance(arg.value, str) and _ENTITY_ID.match(arg.value):
                    found.add(arg.value)
        elif isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Getattr) \
                and isinstance(node.node.node, nodes.Name) and node.node.node.name == "states":
            found.add(f"{node.node.attr}.{node.attr}")
    return found


def _entity_refs(value: Any, path: list[Any]) -> Iterator[tuple[list[Any], str]]:
    """(path, entity id) of every literal entity id (`entity_id`, `zone`, a time's `at`/`after`/`before`)."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from _entity_refs(item, [*path, index])
        return
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        if key in ("entity_id", "zone", "at", "after", "before") and isinstance(item, str | list):
            for entity_id in ([item] if isinstance(item, str) else item):
                if isinstance(entity_id, str) and _ENTITY_ID.match(entity_id):
                    yield [*path, key], entity_id
        elif isinstance(item, dict | list) and key not in ("data", "event_data", "variables"):
            yield from _entity_refs(item, [*path, key])


def _where(raw: Any, path: list[Any]) -> tuple[str, int] | None:
    """The deepest file:line along `path` in the loaded YAML (plural and singular keys both tried)."""
    location = get_location(raw)
    node = raw
    for key in path:
        if isinstance(node, dict):
            if key not in node and _ALIASES.get(str(key)) in node:
                key = _ALIASES[str(key)]
            if key not in node:
                break
            location = get_location(node, key) or location
            node = node[key]
        elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            location = get_location(node[key]) or location
            node = node[key]
        else:
            break
    return location


class _Linter:
    def __init__(self, auto: AutomationConfig, raw: Any, ctx: LintContext) -> None:
        self.auto, self.raw, self.ctx = auto, raw, ctx
        self.warnings: list[str] = []

    def warn(self, path: list[Any], message: str) -> None:
        location = _where(self.raw, path) or self.auto.location
        where = f"{location[0]}:{location[1]}: " if location else ""
        self.warnings.append(f"{where}[automation '{self.auto.alias}'] '{format_path(path)}': {message}")

    def entity(self, path: list[Any], entity_id: str, in_template: bool = False) -> None:
        domain = entity_id.split(".", 1)[0]
        subject = f"the template reads {entity_id!r}" if in_template else repr(entity_id)
        if domain not in self.ctx.domains:
            self.warn(path, f"{subject}: no integration provides {domain!r} entities")
        elif self.ctx.entities is not None and entity_id not in self.ctx.entities:
            self.warn(path, f"{subject}: not in the entity registry nor the recorder (no integration provides it)")

    def run(self) -> list[str]:
        config = self.auto.config
        for section in ("triggers", "conditions", "actions"):
            for path, entity_id in _entity_refs(config.get(section), [section]):
                self.entity(path, entity_id)
            self.templates(config.get(section), [section])
        self.triggers(config["triggers"])
        refused = self.ctx.skipped.get(f"automation.{self.auto.key}", 0)
        if refused and config.get("mode", MODE_SINGLE) == MODE_SINGLE:
            self.warn(["mode"], f"{refused} run(s) in the last day were skipped because a run was still going "
                                "(mode: single); consider mode: queued or restart")
        return self.warnings

    def templates(self, value: Any, path: list[Any]) -> None:
        if isinstance(value, Template):
            for entity_id in sorted(template_entities(value)):
                self.entity(path, entity_id, in_template=True)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.templates(item, [*path, index])
        elif isinstance(value, dict):
            for key, item in value.items():
                if any(True for _ in walk_templates(item)):
                    self.templates(item, [*path, key])

    def triggers(self, triggers: list[dict[str, Any]]) -> None:
        if all(not trigger.get("enabled", True) for trigger in triggers):
            self.warn(["triggers"], "every trigger is disabled: the automation can never fire")
        for index, trigger in enumerate(triggers):
            reason = _never_fires(trigger, self.ctx)
            if reason is not None and trigger.get("enabled", True):
                self.warn(["triggers", index], f"this trigger can never fire: {reason}")


def _never_fires(trigger: Mapping[str, Any], ctx: LintContext) -> str | None:
    platform = trigger.get("platform")
    if platform == "state" and "attribute" not in trigger:
        before, after = trigger.get("from"), trigger.get("to")
        if before and after and set(after) <= set(before) and len(set(before)) == 1:
            return f"'from' and 'to' are both {before[0]!r} (a state trigger needs a change)"
    if platform == "numeric_state":
        above, below = trigger.get("above"), trigger.get("below")
        if isinstance(above, float) and isinstance(below, float) and above >= below:
            return f"no value is above {above:g} and below {below:g}"
    value_template = trigger.get("value_template")
    if platform == "template" and (isinstance(value_template, str)
                                   or (isinstance(value_template, Template) and value_template.is_static)):
        return "value_template has no {{ }}: its value never changes"
    if platform == "sun" and not ctx.has_coordinates:
        return "the hub: section gives no latitude and longitude"
    return None


def lint_automations(sections: Mapping[str, Any], ctx: LintContext) -> list[str]:
    """Warnings for the valid automations of `sections` (errors are check-config's business)."""
    validated = validate_sections(sections)
    raw_items, _ = _automation_list(sections)
    by_location = {get_location(raw): raw for raw in raw_items if get_location(raw) is not None}
    warnings: list[str] = []
    for auto in validated.automations:
        raw = by_location.get(auto.location) if auto.location is not None else None
        warnings.extend(_Linter(auto, raw, ctx).run())
    return warnings


def recorded(db_url: str, since: float) -> tuple[set[str], dict[str, int]]:
    """From the recorder: every entity id it has seen, and runs refused by their run mode since `since`."""
    from sqlalchemy import create_engine, inspect, select

    from hub.recorder.models import StatesMeta

    from .models import AutomationTrace

    engine = create_engine(db_url)
    counts: dict[str, int] = {}
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            seen = set(conn.execute(select(StatesMeta.entity_id)).scalars()) \
                if StatesMeta.__tablename__ in tables else set()
            if AutomationTrace.__tablename__ in tables:
                rows = conn.execute(select(AutomationTrace.key, AutomationTrace.blob)
                                    .where(AutomationTrace.start_ts >= since))
                for key, blob in rows:
                    if orjson.loads(blob)[7] == "failed_max_runs":
                        counts[key] = counts.get(key, 0) + 1
    finally:
        engine.dispose()
    return seen, counts


def _registry_entities(config_dir: Path) -> set[str] | None:
    from hub.helpers.entity_registry import STORAGE_KEY
    from hub.helpers.storage import STORAGE_DIR

    path = config_dir / STORAGE_DIR / f"{STORAGE_KEY}.json"
    if not path.is_file():
        return None
    data = orjson.loads(path.read_bytes()).get("data") or {}
    return {str(entry["entity_id"]) for entry in data.get("entities", []) if "entity_id" in entry}


def lint_config(config_dir: Path, now: float,
                components: Sequence[Component] | None = None) -> tuple[list[str], list[str]]:
    """(errors, warnings) for a configuration directory; blocking (files and the recorder database).

    `components` are the parts above the core that own sections (default: the engine alone; the CLI passes
    every component it runs with)."""
    from hub.bootstrap import check_config, load_and_check_core

    from .component import ENGINE_COMPONENT

    if components is None:
        components = (ENGINE_COMPONENT,)
    from hub.loader import discover_integrations
    from hub.recorder.const import DEFAULT_DB_FILE

    errors = check_config(config_dir, components)
    loaded = load_and_check_core(config_dir, components, collect=True)
    integrations, _ = discover_integrations(config_dir)
    sections: dict[str, Any] = ENGINE_COMPONENT.owned(loaded.raw)
    validated = validate_sections(sections)
    entities = _registry_entities(config_dir)
    hub_section = loaded.core.get("hub") or {}
    ctx = LintContext(provided_domains([i.path for i in integrations.values()], list(integrations)),
                      has_coordinates=hub_section.get("latitude") is not None)
    recorder = loaded.core.get("recorder") or {}
    db_url = recorder.get("db_url")
    if db_url is None and (config_dir / DEFAULT_DB_FILE).is_file():
        db_url = f"sqlite:///{config_dir / DEFAULT_DB_FILE}"
    if db_url is not None:
        try:
            seen, ctx.skipped = recorded(db_url, now - 86400)
        except Exception as err:  # an unreachable database only costs these checks
            _LOGGER.warning("lint: cannot read the recorder database (%s); skipped runs are not checked", err)
        else:
            if entities is not None or seen:
                entities = (entities or set()) | seen
    if entities is not None:
        entities |= {f"automation.{auto.key}" for auto in validated.automations}
        entities |= {f"script.{script.key}" for script in validated.scripts}
    ctx.entities = entities
    return errors, lint_automations(sections, ctx)


def provided_domains(integration_paths: list[Path], integration_domains: list[str]) -> set[str]:
    """Entity domains the site's integrations can provide: their platform modules and entity classes."""
    domains = set(CORE_DOMAINS) | set(integration_domains)
    pattern = re.compile(r"""(?:^|\s)(?:ENTITY_DOMAIN|domain)\s*(?::\s*Final\s*)?=\s*["']([a-z_]+)["']""",
                         re.MULTILINE)
    for path in integration_paths:
        for module in path.glob("*.py"):
            domains.add(module.stem)
            domains.update(pattern.findall(module.read_text(encoding="utf-8", errors="replace")))
    return domains
