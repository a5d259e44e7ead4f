"""Home Assistant conditions, as its documentation writes them, checked by running an automation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hub.clock import FakeClock
from hub.core import Hub

from ..conftest import Calls
from .conftest import LoadHa, settle


def guarded(conditions: str) -> str:
    """An automation fired by `go` that records only when `conditions` (YAML indented by four) hold."""
    return f"""\
- id: c
  triggers:
    - trigger: event
      event_type: go
      id: go_event
  conditions:
{conditions}  actions:
    - action: test.record
"""


async def passes(hub: Hub, calls: Calls) -> bool:
    before = len(calls)
    hub.bus.async_fire("go")
    await settle()
    return len(calls) > before


async def test_condition_state(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    hub.states.async_set("alarm_control_panel.port", "armed_away")
    await ha(guarded("""\
    - condition: state
      entity_id: alarm_control_panel.port
      state:
        - armed_away
        - armed_night
"""))
    assert await passes(hub, calls)
    hub.states.async_set("alarm_control_panel.port", "disarmed")
    assert not await passes(hub, calls)


async def test_condition_numeric_state(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    hub.states.async_set("sensor.wind", "55")
    await ha(guarded("""\
    - condition: numeric_state
      entity_id: sensor.wind
      above: 50
      below: 90
"""))
    assert await passes(hub, calls)
    hub.states.async_set("sensor.wind", "95")
    assert not await passes(hub, calls)


async def test_condition_template(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    hub.states.async_set("sensor.wind", "55")
    await ha(guarded("""\
    - condition: template
      value_template: "{{ states('sensor.wind') | float(0) > 50 }}"
"""))
    assert await passes(hub, calls)
    hub.states.async_set("sensor.wind", "5")
    assert not await passes(hub, calls)


async def test_condition_template_shorthand(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    hub.states.async_set("sensor.wind", "55")
    await ha(guarded("""\
    - "{{ states('sensor.wind') | float(0) > 50 }}"
    - condition: "{{ is_state('sensor.wind', '55') }}"
"""))
    assert await passes(hub, calls)
    hub.states.async_set("sensor.wind", "60")
    assert not await passes(hub, calls)


@pytest.mark.parametrize(("kind", "expected"), [("and", False), ("or", True), ("not", False)])
async def test_condition_and_or_not(hub: Hub, calls: Calls, ha: LoadHa, kind: str, expected: bool) -> None:
    hub.states.async_set("binary_sensor.a", "on")
    hub.states.async_set("binary_sensor.b", "off")
    await ha(guarded(f"""\
    - condition: {kind}
      conditions:
        - condition: state
          entity_id: binary_sensor.a
          state: "on"
        - "{{{{ is_state('binary_sensor.b', 'on') }}}}"
"""))
    assert await passes(hub, calls) is expected


async def test_condition_or_shorthand(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    hub.states.async_set("binary_sensor.a", "off")
    await ha(guarded("""\
    - or:
        - "{{ is_state('binary_sensor.a', 'on') }}"
        - "{{ true }}"
"""))
    assert await passes(hub, calls)


async def test_condition_time(hub: Hub, calls: Calls, ha: LoadHa, fake_clock: FakeClock) -> None:
    await ha(guarded("""\
    - condition: time
      after: "12:30:00"
      before: "14:00:00"
      weekday: [mon, tue, wed, thu, fri]
"""))
    assert await passes(hub, calls)  # Thursday 13:00 local
    await fake_clock.async_advance(3600)
    assert not await passes(hub, calls)


async def test_condition_trigger(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    await ha(guarded("""\
    - condition: trigger
      id: go_event
"""))
    assert await passes(hub, calls)


async def test_condition_zone(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    hub.states.async_set("zone.port", "zoning", {"latitude": 35.8900, "longitude": -5.3160, "radius": 300})
    hub.states.async_set("device_tracker.car", "moving", {"latitude": 35.8901, "longitude": -5.3161})
    await ha(guarded("""\
    - condition: zone
      entity_id: device_tracker.car
      zone: zone.port
"""))
    assert await passes(hub, calls)
    hub.states.async_set("device_tracker.car", "moving", {"latitude": 35.95, "longitude": -5.30})
    assert not await passes(hub, calls)


async def test_condition_sun(hub: Hub, calls: Calls, ha: LoadHa, fake_clock: FakeClock) -> None:
    """`after: sunrise` with an offset, `before: sunset` with an offset (Ceuta: 08:31 and 18:18 local)."""
    await ha(guarded("""\
    - condition: sun
      after: sunrise
      after_offset: "01:00:00"
      before: sunset
      before_offset: "-01:00:00"
"""))
    assert await passes(hub, calls)  # 13:00 local
    await fake_clock.async_advance_to(datetime(2026, 1, 1, 16, 17, tzinfo=UTC))  # 17:17 local
    assert await passes(hub, calls)
    await fake_clock.async_advance_to(datetime(2026, 1, 1, 16, 19, tzinfo=UTC))  # 17:19: within the hour
    assert not await passes(hub, calls)
    await fake_clock.async_advance_to(datetime(2026, 1, 2, 8, 30, tzinfo=UTC))  # 09:30 local, < 09:31
    assert not await passes(hub, calls)
    await fake_clock.async_advance_to(datetime(2026, 1, 2, 8, 32, tzinfo=UTC))
    assert await passes(hub, calls)


async def test_condition_sun_after_sunset_before_sunrise(hub: Hub, calls: Calls, ha: LoadHa,
                                                         fake_clock: FakeClock) -> None:
    """Home Assistant reads `after: sunset` with `before: sunrise` as the night (either side of midnight)."""
    await ha(guarded("""\
    - condition: sun
      after: sunset
      before: sunrise
"""))
    assert not await passes(hub, calls)  # 13:00 local
    await fake_clock.async_advance_to(datetime(2026, 1, 1, 17, 30, tzinfo=UTC))  # 18:30 local
    assert await passes(hub, calls)
    await fake_clock.async_advance_to(datetime(2026, 1, 2, 6, 0, tzinfo=UTC))  # 07:00 local
    assert await passes(hub, calls)


async def test_condition_template_static(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    """A template without {{ }} is a constant (and a wait_template on it does not wait)."""
    await ha("""\
- id: c
  triggers:
    - trigger: event
      event_type: go
  conditions:
    - condition: template
      value_template: "true"
  actions:
    - wait_template: "true"
    - action: test.record
""")
    assert await passes(hub, calls)


async def test_condition_state_for_attribute_match(hub: Hub, calls: Calls, ha: LoadHa, fake_clock: FakeClock) -> None:
    """`match: any` over several entities, `for` (since the state last changed) and `attribute`."""
    hub.states.async_set("binary_sensor.gate_1", "on")
    hub.states.async_set("binary_sensor.gate_2", "off")
    hub.states.async_set("climate.cctv_room", "cool", {"hvac_action": "idle"})
    await ha(guarded("""\
    - condition: state
      entity_id: [binary_sensor.gate_1, binary_sensor.gate_2]
      match: any
      state: "on"
      for: "00:05:00"
    - condition: state
      entity_id: climate.cctv_room
      attribute: hvac_action
      state: idle
"""))
    assert not await passes(hub, calls)  # on for no time yet
    await fake_clock.async_advance(300)
    assert await passes(hub, calls)
    hub.states.async_set("climate.cctv_room", "cool", {"hvac_action": "cooling"})
    assert not await passes(hub, calls)


async def test_condition_time_entity_across_midnight(hub: Hub, calls: Calls, ha: LoadHa,
                                                     fake_clock: FakeClock) -> None:
    """`after:` an input_datetime (a time of day), `before:` the next morning: the window spans midnight."""
    hub.states.async_set("input_datetime.night_start", "22:00:00", {"has_date": False, "has_time": True,
                                                                    "hour": 22, "minute": 0, "second": 0})
    await ha(guarded("""\
    - condition: time
      after: input_datetime.night_start
      before: "06:00:00"
"""))
    assert not await passes(hub, calls)  # 13:00 local
    await fake_clock.async_advance_to(datetime(2026, 1, 1, 22, 0, tzinfo=UTC))  # 23:00 local
    assert await passes(hub, calls)
    await fake_clock.async_advance_to(datetime(2026, 1, 2, 4, 30, tzinfo=UTC))  # 05:30 local
    assert await passes(hub, calls)
    await fake_clock.async_advance_to(datetime(2026, 1, 2, 5, 30, tzinfo=UTC))  # 06:30 local
    assert not await passes(hub, calls)


async def test_condition_time_dated_entity_is_a_moment(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    """Different from Home Assistant: an entity holding a date and time is compared as that moment.

    Home Assistant takes only its time of day (13:30), so at 13:00 `after:` it would be false; Hacho
    compares with yesterday 13:30 itself, which has passed.
    """
    hub.states.async_set("sensor.shift_start", "2025-12-31T12:30:00+00:00", {"device_class": "timestamp"})
    await ha(guarded("""\
    - condition: time
      after: sensor.shift_start
"""))
    assert await passes(hub, calls)  # 2026-01-01 13:00 local
