"""Standard operating procedures: YAML steps per alarm type (checklist items, one-click service calls, notes).

A SOP file (in the `sop_dir`, or inline under an alarm type's `sop:`)::

    name: Fire seen by a thermal tower
    steps:
      - id: confirm
        title: Confirm the fire on the nearest camera
      - id: call_bomberos
        title: Call the fire brigade (Bomberos de Ceuta)
        type: note                      # needs a note: who you spoke to, when
      - id: close_access
        title: Raise the bollards on the access road
        type: service
        service: bollard.raise
        data:
          entity_id: "{{ alarm.entities }}"   # whole-string placeholders: alarm.<field>

Placeholders are whole strings `{{ alarm.<field> }}` replaced by the alarm's field (id, type,
entities, area_id, centre, latitude, longitude, title, severity).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from hub.config import load_yaml
from hub.config.validation import validate
from hub.exceptions import ConfigError
from hub.helpers import config_validation as cv

from .const import STEP_CHECKLIST, STEP_NOTE, STEP_SERVICE, STEP_TYPES

if TYPE_CHECKING:
    from .model import Alarm

__all__ = ["SOP_SCHEMA", "STEPS_SCHEMA", "SopStep", "load_sop_file", "render_step_data", "steps_from_config"]

_PLACEHOLDER: Final = re.compile(r"\{\{\s*alarm\.([a-z_]+)\s*\}\}")
_PLACEHOLDER_FIELDS: Final = ("id", "type", "entities", "area_id", "centre", "latitude", "longitude", "title",
                              "severity")


def _service_name(value: Any) -> str:
    text = cv.string(value).strip()
    domain, dot, service = text.partition(".")
    if not dot or not cv.slugify(domain) == domain or not cv.slugify(service) == service:
        raise vol.Invalid(f"expected a service as domain.service, got {text!r}")
    return text


def _complete_step(step: dict[str, Any]) -> dict[str, Any]:
    if step["type"] == STEP_SERVICE and "service" not in step:
        raise vol.Invalid("a service step needs 'service: domain.service'", path=["service"])
    if step["type"] != STEP_SERVICE and "service" in step:
        raise vol.Invalid(f"only a service step has a service (this one is {step['type']})", path=["service"])
    if step.get("note_required") is None:
        step["note_required"] = step["type"] == STEP_NOTE
    return step


STEP_SCHEMA: Final = vol.All(
    vol.Schema({
        vol.Optional("id"): cv.slug,
        vol.Required("title"): vol.All(cv.string, vol.Length(min=1, max=200)),
        vol.Optional("description"): cv.string,
        vol.Optional("type", default=STEP_CHECKLIST): vol.In(STEP_TYPES, msg=f"expected one of {STEP_TYPES}"),
        vol.Optional("service"): _service_name,
        vol.Optional("data", default=dict): dict,
        vol.Optional("note_required"): cv.boolean,
    }),
    _complete_step,
)


def _ids(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    for index, step in enumerate(steps):
        step.setdefault("id", f"step_{index + 1}")
        if step["id"] in seen:
            raise vol.Invalid(f"duplicate step id {step['id']!r}", path=[index, "id"])
        seen.add(step["id"])
    return steps


STEPS_SCHEMA: Final = vol.All(cv.list_of(STEP_SCHEMA), _ids)
_SOP_MAPPING: Final = vol.Schema({vol.Optional("name"): cv.string, vol.Required("steps"): STEPS_SCHEMA})


def SOP_SCHEMA(value: Any) -> Any:
    """A SOP document: a mapping with `steps` (and a `name`), or just the list of steps."""
    if isinstance(value, Mapping):
        return _SOP_MAPPING(value)
    if isinstance(value, list):
        return STEPS_SCHEMA(value)
    raise vol.Invalid("expected a list of steps, or a mapping with 'steps'")


@dataclass(frozen=True, slots=True)
class SopStep:
    """One step of a procedure."""

    id: str
    title: str
    type: str = STEP_CHECKLIST
    description: str | None = None
    service: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    note_required: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-able."""
        return {"id": self.id, "title": self.title, "type": self.type, "description": self.description,
                "service": self.service, "data": dict(self.data), "note_required": self.note_required}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SopStep:
        """Build from a validated step (or `as_dict`)."""
        return cls(id=str(data["id"]), title=str(data["title"]), type=str(data.get("type") or STEP_CHECKLIST),
                   description=data.get("description"), service=data.get("service"),
                   data=dict(data.get("data") or {}), note_required=bool(data.get("note_required")))


def steps_from_config(value: Any) -> tuple[SopStep, ...]:
    """Steps from a value validated by SOP_SCHEMA."""
    steps = value["steps"] if isinstance(value, Mapping) else value
    return tuple(SopStep.from_dict(step) for step in steps)


def load_sop_file(path: Path) -> tuple[SopStep, ...]:
    """Read and validate a SOP file (blocking). ConfigError names file:line for each problem."""
    if not path.is_file():
        raise ConfigError(f"{path}: SOP file not found")
    raw = load_yaml(str(path))
    return steps_from_config(validate(SOP_SCHEMA, raw, f"sop {path.name}"))


def _render(value: Any, alarm: Alarm) -> Any:
    if isinstance(value, str):
        match = _PLACEHOLDER.fullmatch(value.strip())
        if match is not None and match.group(1) in _PLACEHOLDER_FIELDS:
            found = getattr(alarm, match.group(1))
            if isinstance(found, tuple):
                return list(found)
            return getattr(found, "value", found)
        return value
    if isinstance(value, Mapping):
        return {key: _render(item, alarm) for key, item in value.items()}
    if isinstance(value, list):
        return [_render(item, alarm) for item in value]
    return value


def render_step_data(data: Mapping[str, Any], alarm: Alarm) -> dict[str, Any]:
    """A service step's data with `{{ alarm.<field> }}` placeholders filled in from the alarm."""
    rendered = _render(dict(data), alarm)
    assert isinstance(rendered, dict)
    return rendered
