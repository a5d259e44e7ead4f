"""Home Assistant template functions, filters and tests: same names, same results, same errors.

Each template is rendered as part of an automation run on the real hub (the result is what the
service receives), at the Ceuta site (Africa/Ceuta, UTC+1 in January) on 2026-01-01 12:00 UTC.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.core import Hub
from hub.helpers import area_registry, device_registry, entity_registry

from ..conftest import Calls
from .conftest import LoadHa, config_errors, settle

NOW_TS = 1767268800  # 2026-01-01 12:00:00 UTC


async def run(hub: Hub, calls: Calls, ha: LoadHa, template: str) -> Any:
    """The value `template` renders to, as an automation's service call receives it."""
    quoted = template.replace("'", "''")
    await ha(f"""\
- id: r
  triggers:
    - trigger: event
      event_type: go
  actions:
    - action: test.record
      data:
        value: '{quoted}'
""")
    hub.bus.async_fire("go")
    await settle()
    assert len(calls) == 1, "the run failed (see the log)"
    return calls[0].data["value"]


@pytest.fixture
def states(hub: Hub) -> Hub:
    hub.states.async_set("sensor.temp", "21.456", {"unit_of_measurement": "°C", "display_precision": 1,
                                                   "friendly_name": "Port temperature"})
    hub.states.async_set("sensor.broken", "unavailable")
    hub.states.async_set("light.a", "on", {"brightness": 200})
    hub.states.async_set("light.b", "off")
    hub.states.async_set("group.lights", "on", {"entity_id": ["light.a", "light.b"]})
    hub.states.async_set("device_tracker.near", "moving", {"latitude": 35.8895, "longitude": -5.3199})
    hub.states.async_set("device_tracker.far", "moving", {"latitude": 36.0, "longitude": -5.5})
    return hub


@pytest.mark.parametrize(("template", "expected"), [
    ("{{ 1767268800 | timestamp_custom('%H:%M') }}", "13:00"),  # local time
    ("{{ 1767268800 | timestamp_custom('%H:%M', false) }}", "12:00"),
    ("{{ timestamp_custom(1767268800, '%d/%m/%Y') }}", "01/01/2026"),
    ("{{ 'x' | timestamp_custom('%H', true, 'n/a') }}", "n/a"),
])
async def test_filter_timestamp_custom(states: Hub, calls: Calls, ha: LoadHa, template: str, expected: str) -> None:
    assert await run(states, calls, ha, template) == expected


async def test_filter_timestamp_local_utc(states: Hub, calls: Calls, ha: LoadHa) -> None:
    assert await run(states, calls, ha, "{{ 1767268800 | timestamp_local }} {{ 1767268800 | timestamp_utc }}") \
        == "2026-01-01T13:00:00+01:00 2026-01-01T12:00:00+00:00"


async def test_function_as_timestamp(states: Hub, calls: Calls, ha: LoadHa) -> None:
    assert await run(states, calls, ha, "{{ as_timestamp('2026-01-01T12:00:00+00:00') | int }}") == NOW_TS


async def test_function_as_datetime_as_local(states: Hub, calls: Calls, ha: LoadHa) -> None:
    assert await run(states, calls, ha, "{{ (as_datetime('2026-01-01T12:00:00+00:00') | as_local).hour }}") == 13


async def test_function_naive_times_are_local(states: Hub, calls: Calls, ha: LoadHa) -> None:
    """As in Home Assistant, a time without a zone is the site's local time (Ceuta: UTC+1 in January)."""
    template = ("{{ as_datetime('2026-01-01 13:00:00').tzinfo is none }} "
                "{{ (as_datetime('2026-01-01 13:00:00') | as_local).isoformat() }} "
                "{{ as_timestamp('2026-01-01 13:00:00') | int }} {{ '2026-01-01 13:00:00' | as_timestamp | int }}")
    assert await run(states, calls, ha, template) == f"True 2026-01-01T13:00:00+01:00 {NOW_TS} {NOW_TS}"


async def test_function_relative_time_time_since(states: Hub, calls: Calls, ha: LoadHa) -> None:
    template = ("{{ relative_time(now() - timedelta(hours=2)) }}|{{ time_since(now() - timedelta(minutes=90), 2) }}"
                "|{{ time_until(now() + timedelta(days=3)) }}")
    assert await run(states, calls, ha, template) == "2 hours|1 hour 30 minutes|3 days"


async def test_function_today_at(states: Hub, calls: Calls, ha: LoadHa) -> None:
    assert await run(states, calls, ha, "{{ (today_at('14:30') - now()).total_seconds() | int }}") == 5400
    calls.clear()


async def test_function_states_rounded_with_unit(states: Hub, calls: Calls, ha: LoadHa) -> None:
    template = "{{ states('sensor.temp', rounded=True, with_unit=True) }}|{{ states('sensor.temp', with_unit=True) }}"
    assert await run(states, calls, ha, template) == "21.5 °C|21.456 °C"


async def test_function_state_attr_is_state_attr(states: Hub, calls: Calls, ha: LoadHa) -> None:
    template = ("{{ state_attr('light.a', 'brightness') }} {{ is_state_attr('light.a', 'brightness', 200) }} "
                "{{ 'light.a' is is_state_attr('brightness', 200) }}")
    assert await run(states, calls, ha, template) == "200 True True"


async def test_function_has_value(states: Hub, calls: Calls, ha: LoadHa) -> None:
    assert await run(states, calls, ha, "{{ has_value('sensor.temp') }} {{ 'sensor.broken' | has_value }}") \
        == "True False"


async def test_function_expand(states: Hub, calls: Calls, ha: LoadHa) -> None:
    template = "{{ expand('group.lights') | selectattr('state', 'eq', 'on') | map(attribute='entity_id') | list }}"
    assert await run(states, calls, ha, template) == ["light.a"]


async def test_function_area_entities_area_name(states: Hub, calls: Calls, ha: LoadHa) -> None:
    await entity_registry.async_load(states)
    await area_registry.async_setup_areas(states, [{"id": "puerto", "name": "Puerto", "latitude": 35.89,
                                                    "longitude": -5.316}])
    registry = entity_registry.async_get(states)
    entry = registry.async_get_or_create("sensor", "mqtt", "quay-1", suggested_object_id="quay_wind")
    registry.async_update_entity(entry.entity_id, area_id="puerto")
    assert entry.entity_id == "sensor.quay_wind"
    template = ("{{ area_entities('Puerto') }}|{{ area_name('sensor.quay_wind') }}|{{ area_id('sensor.quay_wind') }}"
                "|{{ integration_entities('mqtt') }}|{{ area_name('sensor.temp') }}")
    assert await run(states, calls, ha, template) == "['sensor.quay_wind']|Puerto|puerto|['sensor.quay_wind']|None"


async def test_function_device_entities_device_attr(states: Hub, calls: Calls, ha: LoadHa) -> None:
    await entity_registry.async_load(states)
    await device_registry.async_load(states)
    await area_registry.async_setup_areas(states, [{"id": "puerto", "name": "Puerto", "latitude": 35.89,
                                                    "longitude": -5.316}])
    device = device_registry.async_get(states).async_get_or_create(
        platform="bollards", identifiers=[("bollards", "b07")], name="Bollard 07", model="PLC-7", area_id="puerto")
    entry = entity_registry.async_get(states).async_get_or_create("bollard", "bollards", "b07",
                                                                  suggested_object_id="b_07", device_id=device.id)
    template = ("{{ device_entities(device_id('bollard.b_07')) }}|{{ device_attr('bollard.b_07', 'model') }}"
                "|{{ area_devices('puerto') | count }}|{{ area_name('bollard.b_07') }}|{{ area_entities('puerto') }}"
                "|{{ is_device_attr(device_id('bollard.b_07'), 'name', 'Bollard 07') }}")
    assert await run(states, calls, ha, template) \
        == f"['{entry.entity_id}']|PLC-7|1|Puerto|['{entry.entity_id}']|True"


@pytest.mark.parametrize(("template", "expected"), [
    ("{{ iif(true, 'yes', 'no') }}", "yes"),
    ("{{ iif(none, 'yes', 'no', 'none') }}", "none"),
    ("{{ (1 > 2) | iif('yes', 'no') }}", "no"),
])
async def test_function_iif(states: Hub, calls: Calls, ha: LoadHa, template: str, expected: str) -> None:
    assert await run(states, calls, ha, template) == expected


async def test_filter_float_int_defaults(states: Hub, calls: Calls, ha: LoadHa) -> None:
    template = "{{ 'x' | float(1.5) }} {{ 'x' | int(7) }} {{ '0x1f' | int(base=16) }} {{ float('2.5') }}"
    assert await run(states, calls, ha, template) == "1.5 7 31 2.5"


async def test_filter_float_without_default_fails_as_home_assistant(states: Hub, calls: Calls, ha: LoadHa,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    await ha("""\
- id: r
  triggers: {trigger: event, event_type: go}
  actions:
    - action: test.record
      data: {value: "{{ states('sensor.broken') | float }}"}
""")
    states.bus.async_fire("go")
    await settle()
    assert calls == []
    assert "float got invalid input 'unavailable' when rendering template" in caplog.text
    assert "but no default was specified" in caplog.text


@pytest.mark.parametrize(("template", "expected"), [
    ("{{ 'AB-1234-CD' | regex_match('^[A-Z]{2}-') }}", True),
    ("{{ 'plate 1234' | regex_search('\\\\d{4}') }}", True),
    ("{{ 'a1b2' | regex_replace('\\\\d', '#') }}", "a#b#"),
    ("{{ 'a1b22c333' | regex_findall('\\\\d+') }}", ["1", "22", "333"]),
    ("{{ 'a1b22c333' | regex_findall_index('\\\\d+', 1) }}", 22),
])
async def test_filter_regex(states: Hub, calls: Calls, ha: LoadHa, template: str, expected: Any) -> None:
    assert await run(states, calls, ha, template) == expected


async def test_filter_from_json_to_json(states: Hub, calls: Calls, ha: LoadHa) -> None:
    assert await run(states, calls, ha, "{{ ('{\"a\": [1, 2]}' | from_json).a[1] }} {{ {'b': 1} | to_json }}") \
        == '2 {"b": 1}'


@pytest.mark.parametrize(("template", "expected"), [
    ("{{ min([3, 1, 2]) }} {{ max(3, 9) }}", "1 9"),
    ("{{ average([1, 2, 3, 4]) }} {{ [1, 2, 'x'] | average(default=0) }}", "2.5 0"),
    ("{{ median([5, 1, 3]) }} {{ statistical_mode([1, 2, 2]) }}", "3 2"),
])
async def test_function_min_max_average_median(states: Hub, calls: Calls, ha: LoadHa, template: str,
                                               expected: str) -> None:
    assert await run(states, calls, ha, template) == expected


async def test_function_distance_closest(states: Hub, calls: Calls, ha: LoadHa) -> None:
    template = ("{{ distance('device_tracker.near') | round(2) }} {{ closest(states.device_tracker).entity_id }} "
                "{{ closest(36.0, -5.5, 'device_tracker.near', 'device_tracker.far').entity_id }}")
    assert await run(states, calls, ha, template) == "0.01 device_tracker.near device_tracker.far"


async def test_function_entity_name(states: Hub, calls: Calls, ha: LoadHa) -> None:
    assert await run(states, calls, ha, "{{ entity_name('sensor.temp') }}|{{ 'light.a' | entity_name }}") \
        == "Port temperature|a"


async def test_function_strptime(states: Hub, calls: Calls, ha: LoadHa) -> None:
    assert await run(states, calls, ha, "{{ strptime('06/12/2026 07:30', '%d/%m/%Y %H:%M').hour }} "
                                        "{{ strptime('nope', '%Y', 'bad') }}") == "7 bad"


async def test_filter_bitwise(states: Hub, calls: Calls, ha: LoadHa) -> None:
    assert await run(states, calls, ha, "{{ 12 | bitwise_and(10) }} {{ bitwise_or(12, 3) }} {{ 6 | bitwise_xor(3) }}") \
        == "8 15 5"


@pytest.mark.parametrize(("template", "expected"), [
    ("{{ [[1, [2]], 3] | flatten }}", [1, 2, 3]),
    ("{{ combine({'a': 1, 'b': 1}, {'b': 2}) }}", {"a": 1, "b": 2}),
    ("{{ set([1, 1, 2]) | count }} {{ typeof(1.5) }} {{ 'hacho' | sha256 | truncate(8, true, '') }}",
     "2 float 62d75f15"),  # sha256("hacho")
    ("{{ urlencode({'plate': '1234 ABC'}) }} {{ 'aGFjaG8=' | base64_decode }}", "plate=1234+ABC hacho"),
])
async def test_function_collections_and_encodings(states: Hub, calls: Calls, ha: LoadHa, template: str,
                                                  expected: Any) -> None:
    assert await run(states, calls, ha, template) == expected


@pytest.mark.parametrize(("template", "expected"), [
    ("{{ [1] is list }} {{ 'a' is list }}", "True False"),
    ("{{ 'abc' is string_like }} {{ true is boolean }}", "True True"),
    ("{{ now() is datetime }} {{ [1, 2] is contains 2 }}", "True True"),
    ("{{ '12' is is_number }} {{ 'x' is is_number }}", "True False"),
    ("{{ 'sensor.temp' is has_value }} {{ 'light.a' is is_state('on') }}", "True True"),
])
async def test_tests_is_list_and_others(states: Hub, calls: Calls, ha: LoadHa, template: str,
                                        expected: str) -> None:
    assert await run(states, calls, ha, template) == expected


@pytest.mark.parametrize("template", [
    "{{ integration_entitis('mqtt') }}",
    "{{ states('sensor.temp') | flaot }}",
    "{% if value is lisst %}x{% endif %}",
])
def test_template_unknown_names_fail_at_load(tmp_path: Path, template: str) -> None:
    """A misspelt function, filter or test is a load error with file:line, not a render error later."""
    errors = config_errors(tmp_path, f"""\
- id: r
  triggers: {{trigger: event, event_type: go}}
  actions:
    - action: test.record
      data:
        value: "{template}"
""")
    assert len(errors) == 1
    assert "automations.yaml:6:" in errors[0] and "unknown" in errors[0]
    word = template.split("(")[0].split()[-1]
    assert word.strip("{ |") in errors[0]


def test_template_names_defined_in_the_template_are_known(tmp_path: Path) -> None:
    assert config_errors(tmp_path, """\
- id: r
  triggers: {trigger: event, event_type: go}
  actions:
    - action: test.record
      data:
        value: >
          {% macro twice(x) %}{{ x * 2 }}{% endmacro %}{% set ns = namespace(n=0) %}{{ twice(3) }}
          {% macro box() %}[{{ caller() }}]{% endmacro %}{% call box() %}{{ ns.n }}{% endcall %}
""") == []


def test_template_known_names_all_exist(hub: Hub) -> None:
    """Every name the load-time check accepts is one a render can call (no name is known but missing)."""
    from hub.helpers.template import get_environment
    from hub.helpers.template_functions import KNOWN_GLOBALS, hub_globals

    globals_ = hub_globals(hub, get_environment().globals)
    assert {name for name in KNOWN_GLOBALS if name not in globals_} == set()


async def test_function_states_is_state(states: Hub, calls: Calls, ha: LoadHa) -> None:
    template = ("{{ states('light.a') }} {{ states.light.a.state }} {{ states.light.a.attributes.brightness }} "
                "{{ states('sensor.none') }} {{ states.light | count }} {{ is_state('light.a', ['off', 'on']) }} "
                "{{ is_state('light.b', 'on') }}")
    assert await run(states, calls, ha, template) == "on on 200 unknown 2 True False"


async def test_function_now_utcnow(states: Hub, calls: Calls, ha: LoadHa) -> None:
    """On the hub clock: local time in the site's zone, and UTC."""
    assert await run(states, calls, ha, "{{ now().isoformat() }} {{ utcnow().isoformat() }}") \
        == "2026-01-01T13:00:00+01:00 2026-01-01T12:00:00+00:00"


async def test_function_timedelta_as_timedelta(states: Hub, calls: Calls, ha: LoadHa) -> None:
    """Different from Home Assistant: `as_timedelta` does not read ISO 8601 durations ('PT2H' gives none)."""
    template = ("{{ timedelta(hours=1, minutes=30).total_seconds() | int }} "
                "{{ as_timedelta('00:10:00').total_seconds() | int }} {{ as_timedelta('PT2H') is none }}")
    assert await run(states, calls, ha, template) == "5400 600 True"


async def test_function_is_number_bool(states: Hub, calls: Calls, ha: LoadHa) -> None:
    template = ("{{ is_number('1.5') }} {{ is_number('x') }} {{ bool('on') }} {{ bool('x', false) }} "
                "{{ 'yes' | bool }}")
    assert await run(states, calls, ha, template) == "True False True False True"


async def test_function_math(states: Hub, calls: Calls, ha: LoadHa) -> None:
    template = ("{{ log(100, 10) }} {{ 8 | log(2) }} {{ sqrt(16) }} {{ sin(pi / 2) }} {{ cos(0) }} "
                "{{ e | round(3) }} {{ tau | round(2) }}")
    assert await run(states, calls, ha, template) == "2.0 3.0 4.0 1.0 1.0 2.718 6.28"


async def test_function_trigger_this_variables(states: Hub, calls: Calls, ha: LoadHa) -> None:
    """`trigger` describes what fired the run; `this` is the automation's own state."""
    template = "{{ trigger.platform }} {{ trigger.event.event_type }} {{ this.entity_id }} {{ this.state }}"
    assert await run(states, calls, ha, template) == "event go automation.r on"


async def test_filter_round(states: Hub, calls: Calls, ha: LoadHa) -> None:
    """Different from Home Assistant: `round` is Jinja's own (a float at precision 0, no `half`, no default)."""
    template = "{{ 21.456 | round(1) }} {{ 2.5 | round }} {{ 2.1 | round(0, 'ceil') }} {{ 2.9 | round(0, 'floor') }}"
    assert await run(states, calls, ha, template) == "21.5 2.0 3.0 2.0"  # Home Assistant: 21.5 2 3 2


async def test_filter_multiply(states: Hub, calls: Calls, ha: LoadHa) -> None:
    assert await run(states, calls, ha, "{{ 3 | multiply(1.5) }} {{ 'x' | multiply(2, 0) }}") == "4.5 0"


async def test_filter_strings(states: Hub, calls: Calls, ha: LoadHa) -> None:
    template = "{{ 'Puerto de Ceuta' | slugify }} {{ 'hacho' | base64_encode }} {{ 'A' | ord }}"
    assert await run(states, calls, ha, template) == "puerto_de_ceuta aGFjaG8= 65"


async def test_tests_match_search(states: Hub, calls: Calls, ha: LoadHa) -> None:
    template = "{{ 'AB-12' is match('[A-Z]+-') }} {{ '12-AB' is match('[A-Z]') }} {{ '12-AB' is search('[A-Z]') }}"
    assert await run(states, calls, ha, template) == "True False True"
