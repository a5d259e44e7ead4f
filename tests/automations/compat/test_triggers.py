"""Home Assistant triggers, as its documentation writes them, run on the real hub and its clock."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt
import pytest

from hub.clock import FakeClock
from hub.core import Hub, callback
from hub.helpers.event import async_track_state_change_event
from hub.helpers.webhook import async_handle_webhook
from tests.integrations.mqtt.conftest import SetupMqtt

from ..conftest import Calls
from .conftest import LoadHa, config_errors, settle

ROOT = Path(__file__).resolve().parents[3]


def auto(trigger: str, data: str = "{platform: '{{ trigger.platform }}'}") -> str:
    """One automation with `trigger` (YAML indented by four) that records `data`."""
    return f"""\
- id: t
  triggers:
{trigger}  actions:
    - action: test.record
      data: {data}
"""


async def test_trigger_event(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    await ha(auto("""\
    - trigger: event
      event_type: thermal_fire_detected
      event_data:
        tower: hacho_1
""", "{tower: '{{ trigger.event.data.tower }}'}"))
    hub.bus.async_fire("thermal_fire_detected", {"tower": "hacho_2"})
    hub.bus.async_fire("thermal_fire_detected", {"tower": "hacho_1"})
    await settle()
    assert calls.data() == [{"tower": "hacho_1"}]


async def test_trigger_state(hub: Hub, calls: Calls, ha: LoadHa, fake_clock: FakeClock) -> None:
    hub.states.async_set("binary_sensor.door", "off")
    await ha(auto("""\
    - platform: state
      entity_id: binary_sensor.door
      from: "off"
      to: "on"
      for: "00:00:30"
""", "{to: '{{ trigger.to_state.state }}'}"))
    hub.states.async_set("binary_sensor.door", "on")
    await fake_clock.async_advance(29)
    assert calls == []
    await fake_clock.async_advance(1)
    assert calls.data() == [{"to": "on"}]


async def test_trigger_numeric_state(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    hub.states.async_set("sensor.gust", "40")
    await ha(auto("""\
    - trigger: numeric_state
      entity_id: sensor.gust
      above: 70
""", "{gust: '{{ trigger.to_state.state }}'}"))
    hub.states.async_set("sensor.gust", "75")
    hub.states.async_set("sensor.gust", "80")  # still above: fires once
    await settle()
    assert calls.data() == [{"gust": 75}]


async def test_trigger_template(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    hub.states.async_set("sensor.t", "20")
    await ha(auto("""\
    - trigger: template
      value_template: "{{ states('sensor.t') | float(0) > 30 }}"
"""))
    hub.states.async_set("sensor.t", "31")
    await settle()
    assert calls.data() == [{"platform": "template"}]


async def test_trigger_time(hub: Hub, calls: Calls, ha: LoadHa, fake_clock: FakeClock) -> None:
    await ha(auto("""\
    - trigger: time
      at: "13:30:00"
""", "{at: '{{ trigger.now.isoformat() }}'}"))
    await fake_clock.async_advance(30 * 60)  # 13:00 local (Ceuta, UTC+1) -> 13:30
    assert calls.data() == [{"at": "2026-01-01T13:30:00+01:00"}]


async def test_trigger_time_input_datetime(hub: Hub, calls: Calls, ha: LoadHa, fake_clock: FakeClock) -> None:
    """`at:` naming an input_datetime (a time of day) and a timestamp sensor."""
    hub.states.async_set("input_datetime.patrol", "13:10:00", {"has_date": False, "has_time": True})
    hub.states.async_set("sensor.next_alarm", "2026-01-01T12:20:00+00:00", {"device_class": "timestamp"})
    hub.states.async_set("input_datetime.drill", "2026-01-01 13:30:00", {"has_date": True, "has_time": True})
    await ha(auto("""\
    - trigger: time
      at:
        - input_datetime.patrol
        - sensor.next_alarm
        - input_datetime.drill
""", "{entity: '{{ trigger.entity_id }}'}"))
    await fake_clock.async_advance(10 * 60)
    await fake_clock.async_advance(10 * 60)
    await fake_clock.async_advance(10 * 60)
    assert calls.data() == [{"entity": "input_datetime.patrol"}, {"entity": "sensor.next_alarm"},
                            {"entity": "input_datetime.drill"}]


async def test_trigger_time_offset(hub: Hub, calls: Calls, ha: LoadHa, fake_clock: FakeClock) -> None:
    """`at: {entity_id, offset}`: five minutes before the time the sensor holds."""
    hub.states.async_set("sensor.shift_change", "2026-01-01T14:00:00+01:00", {"device_class": "timestamp"})
    await ha(auto("""\
    - trigger: time
      at:
        entity_id: sensor.shift_change
        offset: "-00:05:00"
""", "{at: '{{ trigger.now.strftime(\"%H:%M\") }}'}"))
    await fake_clock.async_advance(54 * 60)
    assert calls == []
    await fake_clock.async_advance(60)
    assert calls.data() == [{"at": "13:55"}]


async def test_trigger_time_pattern(hub: Hub, calls: Calls, ha: LoadHa, fake_clock: FakeClock) -> None:
    await ha(auto("""\
    - trigger: time_pattern
      minutes: "/15"
"""))
    await fake_clock.async_advance(3600)
    assert len(calls) == 4


async def test_trigger_homeassistant_start(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    """Home Assistant's `platform: homeassistant` is the hub's start/shutdown trigger."""
    await ha("""\
- id: started
  trigger:
    - platform: homeassistant
      event: start
  action:
    - action: test.record
      data: {kind: start, platform: "{{ trigger.platform }}"}
- id: stopping
  triggers:
    - trigger: homeassistant
      event: shutdown
  actions:
    - action: test.record
      data: {kind: shutdown}
""", start=False)
    assert calls == []
    await hub.async_start()
    await hub.async_block_till_done()
    assert calls.data() == [{"kind": "start", "platform": "homeassistant"}]
    await hub.async_stop()
    assert calls.data()[1:] == [{"kind": "shutdown"}]


async def test_trigger_sun(hub: Hub, calls: Calls, ha: LoadHa, fake_clock: FakeClock) -> None:
    """Sunset and sunrise (with an offset) at Ceuta, on the hub clock (fast-forwarded)."""
    await ha(auto("""\
    - trigger: sun
      event: sunset
    - trigger: sun
      event: sunrise
      offset: "-00:45:00"
""", "{event: '{{ trigger.event }}', at: '{{ now().strftime(\"%d %H:%M\") }}'}"))
    await fake_clock.async_advance_to(datetime(2026, 1, 1, 17, 18, tzinfo=UTC))
    assert calls == []
    await fake_clock.async_advance(60)  # sunset 18:18:39 local
    assert calls.data() == [{"event": "sunset", "at": "01 18:18"}]
    await fake_clock.async_advance_to(datetime(2026, 1, 2, 12, 0, tzinfo=UTC))  # sunrise 08:31:21 - 45 min
    await fake_clock.async_advance_to(datetime(2026, 1, 3, 12, 0, tzinfo=UTC))  # and it rearms
    assert calls.data()[1:] == [{"event": "sunrise", "at": "02 07:46"}, {"event": "sunset", "at": "02 18:19"},
                                {"event": "sunrise", "at": "03 07:46"}]


async def test_trigger_sun_needs_coordinates(hub: Hub, calls: Calls, ha: LoadHa, fake_clock: FakeClock,
                                             caplog: pytest.LogCaptureFixture) -> None:
    hub.config = None
    await ha(auto("    - trigger: sun\n      event: sunset\n"))
    assert "the sun needs the site's latitude and longitude" in caplog.text
    await fake_clock.async_advance(86400)
    assert calls == []


@pytest.mark.parametrize(("event", "start", "end"), [
    ("enter", (35.90, -5.30), (35.8901, -5.3161)),
    ("leave", (35.8901, -5.3161), (35.95, -5.30)),
])
async def test_trigger_zone(hub: Hub, calls: Calls, ha: LoadHa, event: str, start: tuple[float, float],
                            end: tuple[float, float]) -> None:
    hub.states.async_set("zone.port", "zoning", {"latitude": 35.8900, "longitude": -5.3160, "radius": 300})
    hub.states.async_set("device_tracker.car", "moving", {"latitude": start[0], "longitude": start[1]})
    await ha(auto(f"""\
    - trigger: zone
      entity_id: device_tracker.car
      zone: zone.port
      event: {event}
""", "{event: '{{ trigger.event }}'}"))
    hub.states.async_set("device_tracker.car", "moving", {"latitude": start[0] + 0.0001, "longitude": start[1]})
    hub.states.async_set("device_tracker.car", "moving", {"latitude": end[0], "longitude": end[1]})
    await settle()
    assert calls.data() == [{"event": event}]


async def test_trigger_webhook(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    await ha(auto("""\
    - trigger: webhook
      webhook_id: panel_ack
      allowed_methods: [POST]
      local_only: true
""", "{panel: '{{ trigger.json.panel }}'}"))
    assert async_handle_webhook(hub, "panel_ack", "POST", json={"panel": "p4"}, remote="127.0.0.1") == 200
    await settle()
    assert calls.data() == [{"panel": "p4"}]


def test_trigger_platform_with_a_dot_is_a_config_error(tmp_path: Path) -> None:
    """A dotted platform names no module: a clean error (it was a ModuleNotFoundError traceback)."""
    errors = config_errors(tmp_path, auto("    - platform: no_such.thing\n"))
    assert len(errors) == 1
    assert "automations.yaml:3:" in errors[0] and "unknown trigger platform 'no_such.thing'" in errors[0]
    assert "ModuleNotFoundError" not in errors[0]


def test_trigger_platform_with_a_dot_imports_nothing(tmp_path: Path) -> None:
    """Naming `anpr.worker` must not import integrations.anpr.worker (or anything under integrations/)."""
    (tmp_path / "automations.yaml").write_text(auto("    - platform: anpr.worker\n"), encoding="utf-8")
    code = textwrap.dedent(f"""\
        import sys
        import automations
        from hub.config.yaml_loader import load_yaml
        errors = automations.check_config({{"automations": load_yaml({str(tmp_path / "automations.yaml")!r})}})
        print(len(errors), sorted(m for m in sys.modules if m.startswith("integrations.")))
        """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT, check=True)
    assert result.stdout.strip() == "1 []"


async def test_trigger_unknown_platform_is_a_config_error(tmp_path: Path) -> None:
    errors = config_errors(tmp_path, auto("    - trigger: no_such_platform\n"))
    assert len(errors) == 1 and "unknown trigger platform 'no_such_platform'" in errors[0]


async def test_trigger_mqtt_topic_payload_templates(hub: Hub, calls: Calls, ha: LoadHa, setup_mqtt: SetupMqtt,
                                                    prefix: str, publisher: aiomqtt.Client) -> None:
    """`topic` and `payload` templates render against `trigger_variables` when it attaches (as in HA)."""
    await setup_mqtt()
    await ha(f"""\
- id: t
  trigger_variables:
    tower: hacho
    alarm: fire
  triggers:
    - trigger: mqtt
      topic: "{prefix}/thermal/{{{{ tower }}}}/alarm"
      payload: "{{{{ alarm }}}}"
  actions:
    - action: test.record
      data: {{topic: "{{{{ trigger.topic }}}}", payload: "{{{{ trigger.payload }}}}"}}
""")
    await hub.async_block_till_done()
    triggered = asyncio.Event()
    async_track_state_change_event(hub, "automation.t", callback(lambda _event: triggered.set()))
    await publisher.publish(f"{prefix}/thermal/hacho/alarm", "smoke")
    await publisher.publish(f"{prefix}/thermal/other/alarm", "fire")
    await publisher.publish(f"{prefix}/thermal/hacho/alarm", "fire")
    async with asyncio.timeout(10):
        await triggered.wait()
    await hub.async_block_till_done()
    assert calls.data() == [{"topic": f"{prefix}/thermal/hacho/alarm", "payload": "fire"}]


async def test_trigger_state_attribute_not_from_not_to(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    """`attribute:` fires on the attribute's change only; `not_from`/`not_to` leave those states out."""
    hub.states.async_set("climate.cctv_room", "cool", {"current_temperature": 22})
    hub.states.async_set("sensor.mode", "day")
    await ha(auto("""\
    - trigger: state
      entity_id: climate.cctv_room
      attribute: current_temperature
    - trigger: state
      entity_id: sensor.mode
      not_from: [unknown, unavailable]
      not_to: maintenance
""", "{entity: '{{ trigger.entity_id }}', to: '{{ trigger.to_state.state }}'}"))
    hub.states.async_set("climate.cctv_room", "heat", {"current_temperature": 22})  # the attribute did not change
    hub.states.async_set("climate.cctv_room", "heat", {"current_temperature": 25})
    hub.states.async_set("sensor.mode", "maintenance")  # not_to
    hub.states.async_set("sensor.mode", "night")
    hub.states.async_set("sensor.mode", "unavailable")
    hub.states.async_set("sensor.mode", "day")  # not_from
    await settle()
    assert calls.data() == [{"entity": "climate.cctv_room", "to": "heat"}, {"entity": "sensor.mode", "to": "night"},
                            {"entity": "sensor.mode", "to": "unavailable"}]


async def test_trigger_numeric_state_value_template_for(hub: Hub, calls: Calls, ha: LoadHa,
                                                        fake_clock: FakeClock) -> None:
    """`value_template` reads `state`; `for` holds the trigger until the value stayed above that long."""
    hub.states.async_set("sensor.quay", "ok", {"wind": 20})
    await ha(auto("""\
    - trigger: numeric_state
      entity_id: sensor.quay
      value_template: "{{ state.attributes.wind }}"
      above: 60
      for: "00:01:00"
"""))
    hub.states.async_set("sensor.quay", "ok", {"wind": 70})
    await fake_clock.async_advance(59)
    assert calls == []
    await fake_clock.async_advance(1)
    assert calls.data() == [{"platform": "numeric_state"}]


async def test_trigger_template_for(hub: Hub, calls: Calls, ha: LoadHa, fake_clock: FakeClock) -> None:
    hub.states.async_set("binary_sensor.gate", "off")
    await ha(auto("""\
    - trigger: template
      value_template: "{{ is_state('binary_sensor.gate', 'on') }}"
      for:
        seconds: 30
"""))
    hub.states.async_set("binary_sensor.gate", "on")
    await fake_clock.async_advance(20)
    hub.states.async_set("binary_sensor.gate", "off")  # false again: the wait is cancelled
    hub.states.async_set("binary_sensor.gate", "on")
    await fake_clock.async_advance(29)
    assert calls == []
    await fake_clock.async_advance(1)
    assert calls.data() == [{"platform": "template"}]
