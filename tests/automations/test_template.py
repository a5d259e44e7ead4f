"""Templates: functions, filters, the sandbox, errors, the fast path and what a render reads."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hub.core import Hub
from hub.exceptions import TemplateError
from hub.helpers.template import Template, parse_result_text, render_complex


@pytest.fixture(autouse=True)
def _states(hub: Hub) -> None:
    hub.states.async_set("sensor.t", "31.5", {"unit_of_measurement": "°C"})
    hub.states.async_set("binary_sensor.x", "on")
    hub.states.async_set("sensor.bad", "unavailable")
    hub.states.async_set("device_tracker.car", "moving", {"latitude": 35.8894, "longitude": -5.3213})
    hub.states.async_set("zone.port", "zoning", {"latitude": 35.8900, "longitude": -5.3160, "radius": 300})


def render(hub: Hub, source: str, **variables: object) -> object:
    return Template(source).async_render(hub, variables)


async def test_bench_template_is_native_and_fast_path(hub: Hub) -> None:
    template = Template("{{ states('sensor.t') | float > 30 and is_state('binary_sensor.x','on') }}")
    assert template._compiled is not None and template._compiled.fast is not None
    assert template.async_render(hub) is True
    hub.states.async_set("binary_sensor.x", "off")
    assert template.async_render(hub) is False


async def test_state_functions(hub: Hub) -> None:
    assert render(hub, "{{ states('sensor.t') }}") == 31.5  # text that reads as a number becomes one
    assert render(hub, "{{ states('sensor.t') }}", ) == parse_result_text("31.5")
    assert render(hub, "{{ states('sensor.none') }}") == "unknown"
    assert render(hub, "{{ states('sensor.t', with_unit=True) }}") == "31.5 °C"
    assert render(hub, "{{ state_attr('sensor.t', 'unit_of_measurement') }}") == "°C"
    assert render(hub, "{{ is_state('binary_sensor.x', ['off', 'on']) }}") is True
    assert render(hub, "{{ has_value('sensor.bad') }}") is False
    assert render(hub, "{{ has_value('sensor.t') }}") is True
    assert render(hub, "{{ states.sensor.t.state }}") == 31.5
    assert render(hub, "{{ states.binary_sensor | list | count }}") == 1
    assert render(hub, "{{ 'binary_sensor.x' | is_state('on') }}") is True


async def test_conversions_with_and_without_defaults(hub: Hub) -> None:
    assert render(hub, "{{ 'abc' | float(0) }}") == 0
    assert render(hub, "{{ '7.9' | int }}") == 7
    assert render(hub, "{{ int('x', 3) }}") == 3
    assert render(hub, "{{ iif(is_state('binary_sensor.x', 'on'), 'yes', 'no') }}") == "yes"
    with pytest.raises(TemplateError, match="float got invalid input 'abc'"):
        render(hub, "{{ 'abc' | float }}")


async def test_time_functions_use_the_hub_clock(hub: Hub) -> None:
    now = hub.clock.now()
    assert render(hub, "{{ now() }}") == now
    assert render(hub, "{{ as_timestamp(now()) }}") == now.timestamp()
    assert render(hub, "{{ as_timestamp('2026-01-01T12:00:00+00:00') }}") == datetime(
        2026, 1, 1, 12, tzinfo=UTC).timestamp()
    assert render(hub, "{{ as_timestamp('nope', 'n/a') }}") == "n/a"


async def test_distance_between_entities_and_points(hub: Hub) -> None:
    km = render(hub, "{{ distance('device_tracker.car', 'zone.port') | round(2) }}")
    assert 0.4 < km < 0.6
    assert render(hub, "{{ distance(35.8894, -5.3213, 35.8894, -5.3213) }}") == 0.0


async def test_trigger_and_this_variables(hub: Hub) -> None:
    state = hub.states.get("binary_sensor.x")
    out = Template("{{ trigger.to_state.state }} from {{ this.entity_id }}").async_render(
        hub, {"trigger": {"to_state": state}, "this": state}, parse_result=False)
    assert out == "on from binary_sensor.x"


async def test_sandbox_refuses_mutation_and_private_attributes(hub: Hub) -> None:
    with pytest.raises(TemplateError):
        render(hub, "{{ items.append(4) }}", items=[1, 2])
    # private attributes are undefined, never reachable (not even through the states object)
    assert render(hub, "{{ states._hub }}") == ""
    with pytest.raises(TemplateError):
        render(hub, "{{ states._hub.states.async_set('sensor.t', '0') }}")
    assert hub.states.get("sensor.t").state == "31.5"


async def test_syntax_error_is_a_load_error_and_render_error_is_clear(hub: Hub) -> None:
    with pytest.raises(TemplateError, match="invalid template"):
        Template("{{ states('sensor.t' }}")
    with pytest.raises(TemplateError, match=r"unknown_filter|No filter named"):
        Template("{{ 1 | unknown_filter }}")
    with pytest.raises(TemplateError, match="error rendering"):
        render(hub, "{{ 1 / 0 }}")


async def test_fast_path_matches_jinja_path(hub: Hub) -> None:
    sources = [
        "{{ states('sensor.t') | float(0) * 2 + 1 }}",
        "{{ [1, 2, 3] | sum }}",
        "{{ {'a': 1}['a'] ~ 'x' }}",
        "{{ 'on' if is_state('binary_sensor.x', 'on') else 'off' }}",
        "{{ not (1 > 2) and 3 in [1, 2, 3] }}",
        "{{ missing_variable is defined }}",
        "{{ 'abc'.upper() }}",
        "{{ -(5) // 2 }}",
    ]
    for source in sources:
        fast = Template(source)
        assert fast._compiled is not None and fast._compiled.fast is not None, source
        text = fast._compiled.render_text({}, _globals(hub))
        assert fast.async_render(hub) == parse_result_text(text), source


def _globals(hub: Hub) -> dict[str, object]:
    from hub.helpers.template import _globals_for

    return _globals_for(hub)


async def test_multi_part_template_renders_text(hub: Hub) -> None:
    source = "Wind {{ states('sensor.t') }} km/h{% if is_state('binary_sensor.x', 'on') %}!{% endif %}"
    template = Template(source)
    assert template._compiled is not None and template._compiled.fast is None
    assert template.async_render(hub) == "Wind 31.5 km/h!"


async def test_render_info_tracks_entities_read(hub: Hub) -> None:
    template = Template("{{ is_state('binary_sensor.x', 'on') and states('sensor.t') | float > 1 }}")
    result, info, error = template.async_render_with_info(hub)
    assert (result, error) == (True, None)
    assert info.entities == {"binary_sensor.x", "sensor.t"}
    hub.states.async_set("binary_sensor.x", "off")
    _, info, _ = template.async_render_with_info(hub)
    assert info.entities == {"binary_sensor.x"}  # short-circuit: sensor.t was not read this time
    _, info, _ = Template("{{ now() }}").async_render_with_info(hub)
    assert info.has_time


async def test_render_complex_and_static(hub: Hub) -> None:
    data = {"msg": Template("T={{ states('sensor.t') }}"), "n": [Template("{{ 1 + 1 }}"), 3], "plain": "x"}
    assert render_complex(hub, data) == {"msg": "T=31.5", "n": [2, 3], "plain": "x"}
    assert Template("no template here").async_render(hub) == "no template here"
