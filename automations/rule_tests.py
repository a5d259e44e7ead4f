"""Rule tests: `hacho test-automations -c DIR TESTS.yaml` replays states and events against the automations.

Each test starts a fresh hub on a simulated clock with the site's automations and scripts (and its
zones), sets the given states, runs its steps, and checks what the automations did. Service calls
are captured instead of executed (scripts still run, so their calls are captured too); a test can
give canned responses. TESTS.yaml:

    tests:
      - name: A fire near Mount Hacho warns the panels
        start: "2026-07-01T14:00:00+02:00"      # optional; when the simulated clock starts
        states:                                 # before the automations load
          sensor.port_wind_gust: "20"
          device_tracker.van: {state: moving, attributes: {latitude: 35.89, longitude: -5.31}}
        responses: {weather.forecast: {wind_kmh: 80}}
        steps:
          - event: thermal_fire_detected
            data: {properties: {confidence: 0.9}}
            context: {user_id: operator_1}
          - set: {sensor.port_wind_gust: "75"}
          - advance: "00:05:00"                 # or `at: "2026-07-01T15:00:00+02:00"`
          - replay: {entity_ids: [sensor.port_wind_gust], start: ..., end: ...}   # recorded history
          - expect:
              calls:                            # in this order (others may come between)
                - action: panel.display
                  data: {priority: emergency}   # a subset of what was sent
              only: true                        # and nothing else since the last expect
              events: [{event: fire_alert, data: {zone: hacho}}]
              states: {automation.fire_on_mount_hacho: "on"}

Exit status: 0 all pass, 1 a test failed, 2 the configuration or the test file is invalid.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import voluptuous as vol

from hub.clock import FakeClock
from hub.config.sections import is_automation_section
from hub.const import EVENT_CALL_SERVICE, EVENT_STATE_CHANGED
from hub.core import Context, Event, Hub, callback
from hub.exceptions import ConfigError, HubError
from hub.helpers import config_validation as cv
from hub.helpers.validators import time_period
from hub.services import ServiceRegistry

from .config import validate_sections
from .storage import AutomationStore, set_store
from .triggers.event import data_matches

__all__ = ["TESTS_SCHEMA", "async_run_rule_tests"]

_LOGGER = logging.getLogger(__name__)

DEFAULT_START = "2026-01-01T12:00:00+00:00"
_OWN_DOMAINS = frozenset({"automation"})
_QUIET_EVENTS = frozenset({EVENT_STATE_CHANGED, EVENT_CALL_SERVICE, "automation_triggered", "service_registered",
                           "service_removed", "hub_start", "hub_started", "hub_stop", "hub_final_write",
                           "hub_close", "automation_reloaded", "area_registry_updated"})


def _state_value(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return vol.Schema({vol.Required("state"): cv.string, vol.Optional("attributes", default=dict): dict})(value)
    if isinstance(value, bool):
        value = "on" if value else "off"
    return {"state": cv.string(value), "attributes": {}}


_STATES = vol.Schema({cv.entity_id: _state_value})
_CALL = vol.Schema({vol.Required("action"): cv.string, vol.Optional("data", default=dict): dict})
_EVENT = vol.Schema({vol.Required("event"): cv.string, vol.Optional("data", default=dict): dict})
_EXPECT = vol.Schema({
    vol.Optional("calls", default=list): cv.list_of(_CALL),
    vol.Optional("only", default=False): cv.boolean,
    vol.Optional("no_calls", default=list): vol.All(cv.ensure_list, [cv.string]),
    vol.Optional("events", default=list): cv.list_of(_EVENT),
    vol.Optional("states", default=dict): _STATES,
})


def _step(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise vol.Invalid("expected a step: event, set, advance, at, replay or expect")
    kinds = [key for key in ("event", "set", "advance", "at", "replay", "expect") if key in value]
    if len(kinds) != 1:
        raise vol.Invalid("a step has exactly one of event, set, advance, at, replay, expect")
    schema = {
        "event": vol.Schema({vol.Required("event"): cv.string, vol.Optional("data", default=dict): dict,
                             vol.Optional("context", default=dict): vol.Schema({
                                 vol.Optional("user_id"): cv.string, vol.Optional("centre"): cv.string})}),
        "set": vol.Schema({vol.Required("set"): _STATES}),
        "advance": vol.Schema({vol.Required("advance"): time_period}),
        "at": vol.Schema({vol.Required("at"): cv.string}),
        "replay": vol.Schema({vol.Required("replay"): vol.Schema({
            vol.Required("entity_ids"): cv.entity_ids, vol.Required("start"): cv.string,
            vol.Optional("end"): cv.string, vol.Optional("db_url"): cv.string})}),
        "expect": vol.Schema({vol.Required("expect"): _EXPECT}),
    }[kinds[0]]
    return {"kind": kinds[0], **schema(value)}


TEST_SCHEMA = vol.Schema({
    vol.Required("name"): cv.string,
    vol.Optional("start", default=DEFAULT_START): cv.string,
    vol.Optional("states", default=dict): _STATES,
    vol.Optional("responses", default=dict): vol.Schema({cv.string: vol.Any(dict, None)}),
    vol.Required("steps"): cv.list_of(_step),
})
TESTS_SCHEMA = vol.Schema({vol.Required("tests"): cv.list_of(TEST_SCHEMA)})


class CapturingServices(ServiceRegistry):
    """Service calls are recorded instead of executed (except the automation domain; scripts also run)."""

    def __init__(self, hub: Hub, responses: Mapping[str, Any]) -> None:
        super().__init__(hub)
        self.captured: list[tuple[str, dict[str, Any], Context | None]] = []
        self._responses = responses

    async def async_call(self, domain: str, service: str, service_data: Mapping[str, Any] | None = None,
                         blocking: bool = True, context: Context | None = None, timeout: float | None = None,
                         return_response: bool = False) -> Any:
        if domain in _OWN_DOMAINS:
            return await super().async_call(domain, service, service_data, blocking, context, timeout,
                                            return_response)
        self.captured.append((f"{domain}.{service}", dict(service_data or {}), context))
        if domain == "script" and self.has_service(domain, service):
            return await super().async_call(domain, service, service_data, blocking, context, timeout,
                                            return_response)
        response = self._responses.get(f"{domain}.{service}")
        return response if return_response else None


def _parse_time(text: str, tz: Any, after: float | None = None) -> float:
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        clock_time = datetime.strptime(text, "%H:%M:%S" if text.count(":") == 2 else "%H:%M").time()
        assert after is not None
        base = datetime.fromtimestamp(after, tz)
        when = datetime.combine(base.date(), clock_time, tzinfo=tz)
        if when.timestamp() <= after:
            when += timedelta(days=1)
        return when.timestamp()
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    return when.timestamp()


class _Failure(Exception):
    pass


def _describe(calls: list[tuple[str, dict[str, Any], Context | None]]) -> str:
    if not calls:
        return "no calls"
    return "; ".join(f"{action} {data}" for action, data, _ in calls)


class _TestRun:
    """One test case on its own hub."""

    def __init__(self, config_dir: Path, raw: Mapping[str, Any], core: Any, test: dict[str, Any]) -> None:
        self.config_dir = config_dir
        self.raw = raw
        self.core = core
        self.test = test
        self.events: list[Event] = []

    async def run(self, workdir: Path) -> list[str]:
        test = self.test
        tz = self.core.tz if self.core is not None else UTC
        clock = FakeClock(_parse_time(test["start"], tz))
        hub = Hub(workdir, clock=clock)
        if self.core is not None:
            hub.config = self.core
        services = CapturingServices(hub, test["responses"])
        hub.services = services
        set_store(hub, AutomationStore())
        hub.bus.async_listen("*", callback(self._on_event))
        problems: list[str] = []
        try:
            await self._setup_areas(hub)
            for entity_id, value in test["states"].items():
                hub.states.async_set(entity_id, value["state"], value["attributes"], timestamp=clock.time())
            from . import async_setup

            sections = {key: value for key, value in self.raw.items() if is_automation_section(key)}
            await async_setup(hub, sections)
            await hub.async_start()
            await _settle()
            mark = 0
            event_mark = 0
            for number, step in enumerate(test["steps"], 1):
                try:
                    if step["kind"] == "expect":
                        self._check(hub, services.captured[mark:], self.events[event_mark:], step["expect"])
                        mark, event_mark = len(services.captured), len(self.events)
                    else:
                        await self._do(hub, clock, step, tz)
                except _Failure as err:
                    problems.append(f"step {number} ({step['kind']}): {err}")
                    break
        except HubError as err:
            problems.append(str(err))
        finally:
            if not hub.is_stopping:
                await hub.async_stop()
        return problems

    @callback
    def _on_event(self, event: Event) -> None:
        if event.event_type not in _QUIET_EVENTS:
            self.events.append(event)

    async def _setup_areas(self, hub: Hub) -> None:
        areas = self.raw.get("areas")
        if not areas:
            return
        from hub.helpers.area_registry import async_setup_areas

        await async_setup_areas(hub, areas)

    async def _do(self, hub: Hub, clock: FakeClock, step: dict[str, Any], tz: Any) -> None:
        kind = step["kind"]
        if kind == "event":
            ctx = step["context"]
            hub.bus.async_fire(step["event"], step["data"],
                               context=Context(user_id=ctx.get("user_id"), centre=ctx.get("centre")))
            await _settle()
        elif kind == "set":
            for entity_id, value in step["set"].items():
                hub.states.async_set(entity_id, value["state"], value["attributes"], timestamp=clock.time())
            await _settle()
        elif kind == "advance":
            await clock.async_advance(step["advance"].total_seconds())
        elif kind == "at":
            target = _parse_time(step["at"], tz, clock.time())
            if target < clock.time():
                raise _Failure(f"{step['at']} is in the past of the simulated clock")
            await clock.async_advance_to(target)
        elif kind == "replay":
            await self._replay(hub, clock, step["replay"], tz)

    async def _replay(self, hub: Hub, clock: FakeClock, spec: dict[str, Any], tz: Any) -> None:
        from sqlalchemy.orm import Session

        from hub.recorder.core import create_db_engine
        from hub.recorder.history import get_history

        url = spec.get("db_url") or (self.raw.get("recorder") or {}).get("db_url") \
            or f"sqlite:///{self.config_dir / 'hacho.db'}"
        start = _parse_time(spec["start"], tz)
        end = _parse_time(spec["end"], tz) if spec.get("end") else None

        def _load() -> dict[str, list[Any]]:
            engine = create_db_engine(url)
            try:
                with Session(engine) as session:
                    return get_history(session, spec["entity_ids"], start, end, include_start_state=False)
            finally:
                engine.dispose()

        try:
            history = await hub.async_add_executor_job(_load)
        except Exception as err:
            raise _Failure(f"cannot read recorded history: {type(err).__name__}: {err}") from err
        changes = sorted((state.last_updated_ts - start, state) for states in history.values() for state in states)
        origin = clock.time()
        for offset, state in changes:
            target = origin + max(0.0, offset)
            if target > clock.time():
                await clock.async_advance_to(target)
            hub.states.async_set(state.entity_id, state.state, dict(state.attributes), timestamp=clock.time())
            await _settle()

    def _check(self, hub: Hub, calls: list[tuple[str, dict[str, Any], Context | None]], events: list[Event],
               expect: dict[str, Any]) -> None:
        position = 0
        for wanted in expect["calls"]:
            for index in range(position, len(calls)):
                action, data, _ = calls[index]
                if action == wanted["action"] and data_matches(wanted["data"], data):
                    position = index + 1
                    break
            else:
                raise _Failure(f"expected call {wanted['action']} {wanted['data'] or ''} not made "
                               f"(in order); calls: {_describe(calls)}")
        if expect["only"] and len(calls) != len(expect["calls"]):
            raise _Failure(f"expected only {len(expect['calls'])} calls; calls: {_describe(calls)}")
        made = {action for action, _, _ in calls}
        for action in expect["no_calls"]:
            if action in made:
                raise _Failure(f"{action} was called; calls: {_describe(calls)}")
        for wanted in expect["events"]:
            if not any(e.event_type == wanted["event"] and data_matches(wanted["data"], e.data) for e in events):
                fired = ", ".join(e.event_type for e in events) or "none"
                raise _Failure(f"expected event {wanted['event']} {wanted['data'] or ''}; fired: {fired}")
        for entity_id, value in expect["states"].items():
            state = hub.states.get(entity_id)
            if state is None or state.state != value["state"] or not data_matches(value["attributes"],
                                                                                  state.attributes):
                shown = None if state is None else (state.state, dict(state.attributes))
                raise _Failure(f"{entity_id}: expected {value['state']!r} {value['attributes'] or ''}, "
                               f"is {shown}")


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def _load(config_dir: Path, tests_path: Path) -> tuple[Any, Any, list[dict[str, Any]], list[str]]:
    """Blocking: read configuration.yaml and the test file; every problem as a line."""
    from hub.config.core import build_core_config, load_configuration
    from hub.config.validation import validate
    from hub.config.yaml_loader import load_yaml

    errors: list[str] = []
    try:
        raw = load_configuration(config_dir)
    except ConfigError as err:
        return None, None, [], list(err.errors)
    try:
        core = build_core_config(raw.get("hub"))
    except ConfigError as err:
        errors.extend(err.errors)
        core = None
    sections = {key: value for key, value in raw.items() if is_automation_section(key)}
    errors.extend(validate_sections(sections).errors)
    tests: list[dict[str, Any]] = []
    try:
        loaded = load_yaml(tests_path)
        tests = validate(TESTS_SCHEMA, loaded, "rule tests")["tests"]
    except ConfigError as err:
        errors.extend(err.errors)
    return raw, core, tests, errors


async def async_run_rule_tests(config_dir: Path | str, tests_path: Path | str, out: TextIO | None = None) -> int:
    """Run the rule tests in `tests_path` against the automations in `config_dir`; returns the exit code."""
    import tempfile

    stream = out if out is not None else sys.stdout
    config_dir, tests_path = Path(config_dir), Path(tests_path)
    loop = asyncio.get_running_loop()
    # Our own thread: each test's hub installs (and on stop shuts down) the loop's default executor.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rule-tests") as executor:
        raw, core, tests, errors = await loop.run_in_executor(executor, _load, config_dir, tests_path)
    if errors:
        for line in errors:
            print(line, file=stream)
        print(f"{len(errors)} configuration error(s): no test run", file=stream)
        return 2
    failed = 0
    for test in tests:
        with tempfile.TemporaryDirectory(prefix="hacho-rule-test-") as workdir:
            problems = await _TestRun(config_dir, raw, core, test).run(Path(workdir))
        if problems:
            failed += 1
            print(f"FAIL  {test['name']}", file=stream)
            for problem in problems:
                print(f"      {problem}", file=stream)
        else:
            print(f"PASS  {test['name']}", file=stream)
    print(f"{len(tests)} test(s), {failed} failed", file=stream)
    return 1 if failed else 0
