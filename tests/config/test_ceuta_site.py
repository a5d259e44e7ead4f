"""The bundled Ceuta site (config/ceuta): valid, every automation rule-tested, every call it makes well formed.

The rule tests capture service calls instead of running them, so here each captured call is also checked
against the real service schemas and against the site itself (alarm types, agencies, hotlists, panels
and bollards that exist, messages that fit their panels); the SOPs' one-click steps are checked the same way.
"""

from __future__ import annotations

import asyncio
import io
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
import voluptuous as vol

from automations import rule_tests
from hacho.bootstrap import check_config, load_and_check_core
from hub.core import Context, Event, Hub, callback
from hub.helpers.config_validation import slugify
from integrations.agencies import CONFIG_SCHEMA as AGENCIES_SCHEMA
from integrations.agencies.services import NOTIFY_SCHEMA
from integrations.alarm import CONFIG_SCHEMA as ALARM_SCHEMA
from integrations.alarm.model import Alarm
from integrations.alarm.schema import CLEAR_SCHEMA as ALARM_CLEAR_SCHEMA
from integrations.alarm.schema import NOTE_SCHEMA, RAISE_SCHEMA
from integrations.alarm.sop import load_sop_file, render_step_data
from integrations.anpr import CONFIG_SCHEMA as ANPR_SCHEMA
from integrations.anpr.config import ListConfig
from integrations.anpr.hotlist import parse_csv
from integrations.anpr.services import ADD_SCHEMA, REMOVE_SCHEMA
from integrations.bollards.schema import COMMAND_SCHEMA
from integrations.panels.config import CONFIG_SCHEMA as PANELS_SCHEMA
from integrations.panels.config import PanelConfig
from integrations.panels.message import PanelCapabilities, fit_problems, normalise_pages
from integrations.panels.services import CLEAR_SCHEMA as PANEL_CLEAR_SCHEMA
from integrations.panels.services import DISPLAY_SCHEMA
from integrations.simulator import CONFIG_SCHEMA as SIMULATOR_SCHEMA

SITE = Path(__file__).resolve().parents[2] / "config" / "ceuta"
RULE_TESTS = SITE / "tests" / "automations.yaml"


@dataclass(frozen=True)
class Site:
    """What the site configures, for checking the calls its automations and SOPs make."""

    raw: Mapping[str, Any]
    alarm: Mapping[str, Any]
    agencies: Mapping[str, Any]
    anpr: Mapping[str, Any]
    panels: Mapping[str, PanelCapabilities]  # by entity id
    bollards: frozenset[str]  # entity ids
    areas: frozenset[str]

    @classmethod
    def load(cls) -> Site:
        loaded = load_and_check_core(SITE)
        raw = loaded.raw
        panels = [PanelConfig.from_config(p) for p in PANELS_SCHEMA(raw["panels"])["panels"]]
        return cls(
            raw=raw,
            alarm=ALARM_SCHEMA(raw["alarm"]),
            agencies=AGENCIES_SCHEMA(raw["agencies"]),
            anpr=ANPR_SCHEMA(raw["anpr"]),
            panels={f"panel.{slugify(p.id)}": p.capabilities for p in panels},
            bollards=frozenset(f"bollard.{slugify(b['id'])}" for b in raw["bollards"]),
            areas=frozenset(a["id"] for a in loaded.core["areas"]),
        )

    @property
    def alarm_types(self) -> set[str]:
        return {t["id"] for t in self.alarm["types"]}

    @property
    def agency_ids(self) -> set[str]:
        return {a["id"] for a in self.agencies["agencies"]}

    @property
    def hotlists(self) -> set[str]:
        return {item["id"] for item in self.anpr["lists"]}

    def check_call(self, action: str, data: Mapping[str, Any]) -> list[str]:
        """Every problem with calling `action` with `data` on this site (empty: it would be accepted)."""
        check = _CHECKS.get(action)
        if check is None:
            return [f"{action}: no schema known here (add the service to _CHECKS)"]
        schema, site_check = check
        try:
            valid = schema(dict(data))
        except vol.Invalid as err:
            return [f"{action}: {err} (data {dict(data)})"]
        return [f"{action}: {problem}" for problem in site_check(self, valid)]


def _alarm_raise(site: Site, data: Mapping[str, Any]) -> list[str]:
    problems = [] if data["type"] in site.alarm_types else [f"no alarm type {data['type']!r}"]
    if data.get("area_id") is not None and data["area_id"] not in site.areas:
        problems.append(f"no area {data['area_id']!r}")
    problems += [f"no such entity {e}" for e in data["entities"]
                 if e.split(".")[0] in ("bollard", "panel") and e not in site.bollards | set(site.panels)]
    return problems


def _alarm_type(site: Site, data: Mapping[str, Any]) -> list[str]:
    return [] if data.get("type") in (None, *site.alarm_types) else [f"no alarm type {data['type']!r}"]


def _agencies(site: Site, data: Mapping[str, Any]) -> list[str]:
    return [f"no agency {a!r}" for a in data["agency_id"] if a not in site.agency_ids]


def _panels(site: Site, data: Mapping[str, Any]) -> list[str]:
    problems = [f"no panel {e}" for e in data["entity_id"] if e not in site.panels]
    if "lines" in data or "pages" in data:
        pages = normalise_pages(data["pages"] if "pages" in data else [data["lines"]])
        for entity_id in data["entity_id"]:
            if entity_id in site.panels:
                problems += fit_problems(site.panels[entity_id], pages, data.get("pictogram"))
    return problems


def _bollards(site: Site, data: Mapping[str, Any]) -> list[str]:
    return [f"no bollard {e}" for e in data["entity_id"] if e not in site.bollards]


def _hotlist(site: Site, data: Mapping[str, Any]) -> list[str]:
    return [] if data["list"] in site.hotlists else [f"no hotlist {data['list']!r}"]


def _nothing(_site: Site, _data: Mapping[str, Any]) -> list[str]:
    return []


_CHECKS: dict[str, tuple[Callable[[Any], Any], Callable[[Site, Mapping[str, Any]], list[str]]]] = {
    "alarm.raise": (RAISE_SCHEMA, _alarm_raise),
    "alarm.clear": (ALARM_CLEAR_SCHEMA, _alarm_type),
    "alarm.add_note": (NOTE_SCHEMA, _nothing),
    "agency.notify": (NOTIFY_SCHEMA, _agencies),
    "panel.display": (DISPLAY_SCHEMA, _panels),
    "panel.clear": (PANEL_CLEAR_SCHEMA, _panels),
    "bollard.raise": (COMMAND_SCHEMA, _bollards),
    "bollard.lower": (COMMAND_SCHEMA, _bollards),
    "bollard.emergency_lower": (COMMAND_SCHEMA, _bollards),
    "anpr.hotlist_add": (ADD_SCHEMA, _hotlist),
    "anpr.hotlist_remove": (REMOVE_SCHEMA, _hotlist),
}


@dataclass
class RuleTestRun:
    """What the rule tests did: exit code, output, calls per automation, problems with the calls."""

    code: int = -1
    output: str = ""
    calls: dict[str, list[str]] = field(default_factory=dict)  # automation entity id -> actions
    problems: list[str] = field(default_factory=list)


def _run_rule_tests(site: Site, monkeypatch: pytest.MonkeyPatch) -> RuleTestRun:
    result = RuleTestRun()
    runs: dict[str, str] = {}  # run context id -> automation entity id

    class CheckingServices(rule_tests.CapturingServices):
        """Captures like the rule tests do, and checks each call against the real schemas and the site."""

        def __init__(self, hub: Hub, responses: Mapping[str, Any]) -> None:
            super().__init__(hub, responses)

            @callback
            def triggered(event: Event) -> None:
                runs[event.context.id] = event.data["entity_id"]

            hub.bus.async_listen("automation_triggered", triggered)

        async def async_call(self, domain: str, service: str, service_data: Mapping[str, Any] | None = None,
                             blocking: bool = True, context: Context | None = None, timeout: float | None = None,
                             return_response: bool = False) -> Any:
            if domain != "automation":
                action = f"{domain}.{service}"
                automation = runs.get(context.id) if context is not None else None
                result.calls.setdefault(automation or "?", []).append(action)
                result.problems.extend(f"{automation}: {problem}"
                                       for problem in site.check_call(action, service_data or {}))
            return await super().async_call(domain, service, service_data, blocking, context, timeout,
                                            return_response)

    monkeypatch.setattr(rule_tests, "CapturingServices", CheckingServices)
    out = io.StringIO()
    result.code = asyncio.run(rule_tests.async_run_rule_tests(SITE, RULE_TESTS, out))
    result.output = out.getvalue()
    return result


@pytest.fixture(scope="module")
def site() -> Site:
    return Site.load()


@pytest.fixture(scope="module")
def rule_run(site: Site) -> RuleTestRun:
    with pytest.MonkeyPatch.context() as monkeypatch:
        return _run_rule_tests(site, monkeypatch)


def _automation_ids(site: Site) -> list[str]:
    return [str(item["id"]) for item in site.raw["automations"]]


# --------------------------------------------------------------------------- configuration


def test_the_site_configuration_is_valid() -> None:
    assert check_config(SITE) == []
    loaded = load_and_check_core(SITE)
    assert loaded.errors == []
    for section in ("frontend", "alarm", "agencies", "anpr", "thermal_fire", "simulator", "bollards", "panels",
                    "automations", "camera", "face"):
        assert section in loaded.raw, f"{section} missing from configuration.yaml"


def test_analytics_read_cameras_the_site_has_and_the_simulator_shows_them_something_to_find() -> None:
    raw = load_and_check_core(SITE).raw
    cameras = {f"camera.{c['id']}": c for c in raw["camera"]["cameras"]}
    streams = {s["id"]: s for s in raw["simulator"]["cameras"]["streams"]}
    from_cameras = [c["camera"] for c in ANPR_SCHEMA(raw["anpr"])["cameras"] if "camera" in c]
    detection = raw["face"]["detection"]["cameras"]
    assert from_cameras == ["camera.tarajal_lane1"] and detection == ["camera.plaza_reyes"]
    for entity_id, scene in ((from_cameras[0], "plates"), (detection[0], "face")):
        stream_id = cameras[entity_id]["main"].removeprefix("sim://")
        assert streams[stream_id].get("scene") == scene, entity_id


def test_demo_secrets_come_from_the_environment_with_defaults(monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    """No secrets.yaml is needed (a copy of the site without one is valid); HACHO_* variables override."""
    copy = tmp_path / "ceuta"
    shutil.copytree(SITE, copy, ignore=shutil.ignore_patterns("secrets.yaml", ".storage", "*.db*", "media", "*.log"))
    for name in ("HACHO_ANPR_HASH_KEY", "HACHO_FIRE_BRIGADE_SECRET", "HACHO_HTTP_PORT"):
        monkeypatch.delenv(name, raising=False)
    assert check_config(copy) == []
    defaults = load_and_check_core(copy)
    assert defaults.errors == [] and defaults.core["http"]["port"] == 8123
    monkeypatch.setenv("HACHO_ANPR_HASH_KEY", "a-real-site-key-from-the-vault")
    monkeypatch.setenv("HACHO_HTTP_PORT", "18123")
    moved = load_and_check_core(copy)
    assert moved.raw["anpr"]["hash_key"] == "a-real-site-key-from-the-vault"
    assert moved.core["http"]["port"] == 18123
    assert defaults.raw["anpr"]["hash_key"] != moved.raw["anpr"]["hash_key"]


def test_every_agency_is_played_by_the_simulator_with_its_own_secret(site: Site) -> None:
    receiver = SIMULATOR_SCHEMA(site.raw["simulator"])["agency_receiver"]
    base = f"http://{receiver['host']}:{receiver['port']}/agencies/"
    for agency in site.agencies["agencies"]:
        assert agency["url"] == base + agency["id"]
        assert agency["secrets"][0] in receiver["secrets"][agency["id"]], f"{agency['id']}: secrets differ"


def test_a_second_hub_moves_the_agency_receiver_and_its_agencies_follow(monkeypatch: pytest.MonkeyPatch) -> None:
    """HACHO_SIM_AGENCY_PORT moves the simulated receiver and every agency URL with it (one hub's deliveries
    were answered "ok" by the other hub's receiver on the fixed 8124)."""
    monkeypatch.setenv("HACHO_SIM_AGENCY_PORT", "18124")
    moved = load_and_check_core(SITE)
    assert moved.errors == []
    receiver = SIMULATOR_SCHEMA(moved.raw["simulator"])["agency_receiver"]
    assert receiver["port"] == 18124
    urls = [agency["url"] for agency in AGENCIES_SCHEMA(moved.raw["agencies"])["agencies"]]
    assert urls and all(url.startswith("http://127.0.0.1:18124/agencies/") for url in urls), urls


def test_the_demo_hotlist_file_fits_the_configured_lists(site: Site) -> None:
    lists = {item["id"]: ListConfig.from_config(item) for item in site.anpr["lists"]}
    text = (SITE / "hotlists" / "demo.csv").read_text(encoding="utf-8")
    entries = parse_csv(text, lists, 1.78e9, name="demo.csv")
    assert {entry.list_id for entry in entries} == set(lists)  # something for every list


def test_every_alarm_type_has_a_sop_whose_steps_are_valid_calls(site: Site) -> None:
    sop_dir = SITE / site.alarm["sop_dir"]
    kinds: set[str] = set()
    for alarm_type in site.alarm["types"]:
        assert isinstance(alarm_type.get("sop"), str), f"{alarm_type['id']}: SOP expected as a file"
        steps = load_sop_file(sop_dir / alarm_type["sop"])
        kinds.update(step.type for step in steps)
        assert any(step.note_required for step in steps), f"{alarm_type['id']}: no step asks for a note"
        sample = cast(Alarm, SimpleNamespace(
            id="0197c0de-0000-7000-8000-000000000001", type=alarm_type["id"], entities=("bollard.b_05",),
            area_id="calle_real", centre="local_police", latitude=35.8881, longitude=-5.3136, title="t",
            severity="major"))
        for step in steps:
            if step.service is not None:
                problems = site.check_call(step.service, render_step_data(step.data, sample))
                assert problems == [], f"{alarm_type['id']} step {step.id}: {problems}"
    assert kinds == {"checklist", "note", "service"}


# --------------------------------------------------------------------------- automations and rule tests


def test_the_rule_tests_pass(rule_run: RuleTestRun) -> None:
    assert rule_run.code == 0, rule_run.output
    assert "0 failed" in rule_run.output


def test_every_automation_has_a_rule_test(site: Site, rule_run: RuleTestRun) -> None:
    automations = {f"automation.{slugify(a)}" for a in _automation_ids(site)}
    untested = sorted(automations - set(rule_run.calls))
    assert not untested, f"automations no rule test makes act: {untested}"
    assert "?" not in rule_run.calls, f"calls from no automation: {rule_run.calls.get('?')}"


def test_every_call_the_rule_tests_see_is_accepted_by_the_real_services(rule_run: RuleTestRun) -> None:
    assert rule_run.problems == []
    made = {action for actions in rule_run.calls.values() for action in actions}
    assert {"alarm.raise", "agency.notify", "panel.display", "bollard.lower"} <= made


def test_the_checks_catch_what_the_rule_tests_cannot(site: Site) -> None:
    """The checks above are not vacuous: calls the capture would take are refused here."""
    assert site.check_call("alarm.raise", {"type": "fire", "severity": "high"})  # not a severity
    assert site.check_call("alarm.raise", {"type": "flood"})  # no such alarm type
    assert site.check_call("agencies.notify", {"agency": "fire_brigade"})  # the old, wrong name
    assert site.check_call("agency.notify", {"agency_id": "police", "event": "x"})  # no such agency
    assert site.check_call("panel.display", {"entity_id": ["panel.p_calle_real"], "lines": ["INCENDIO MONTE HACHO"]})
    assert site.check_call("bollard.lower", {"entity_id": ["bollard.b_99"]})
    assert site.check_call("anpr.hotlist_add", {"list": "hotlist", "plate": "1234BCD"})
    assert site.check_call("panel.display", {"entity_id": ["panel.p_port_1"], "lines": ["VIENTO FUERTE"]}) == []
