"""`hacho import-ha` on real-world Home Assistant automations (tests/data/ha/), and the result run on the hub."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hacho.__main__ import main
from hacho.bootstrap import check_config
from hub.core import Hub

from .ha_site import async_load_site, write

DATA = Path(__file__).parents[2] / "data" / "ha"
STUDENT = DATA / "student-homeassistant-config"

SITE = """
    automations: !include_dir_merge_list automations/
    input_boolean:
      maintenance_mode:
      task_notify:
      go_to_sleep:
    script:
      wake_up:
        sequence:
          - action: input_boolean.turn_off
            data: {entity_id: input_boolean.go_to_sleep}
"""


async def test_import_real_world_automations(hub: Hub, capsys: pytest.CaptureFixture[str]) -> None:
    site = hub.config_dir
    write(site, "configuration.yaml", SITE)
    write(site, "automations/site.yaml", "[]\n")
    assert main(["import-ha", str(STUDENT), "-c", str(site)]) == 0
    out = capsys.readouterr().out
    assert "automations: 9: 2 load as they are, 1 map to Hacho integrations, 6 have no counterpart" in out
    assert "[maps] automation '[House] - Airco off on windows open'" in out
    assert "configure mqtt or modbus in the site" in out
    assert "no Hacho integration offers light.turn_on, scene.create, scene.turn_on" in out
    written = site / "automations" / "imported_ha_student_homeassistant_config.yaml"
    assert f"wrote {written}" in out
    assert check_config(site) == []
    # What was written runs: the wake-up ritual calls the site's script when the alarm goes.
    await async_load_site(hub)
    assert hub.states.get("automation.2498664e_7b8d_4de5_9613_25435b183274") is None  # not imported
    await hub.services.async_call("input_boolean", "turn_on", {"entity_id": "input_boolean.go_to_sleep"})
    hub.states.async_set("sensor.google_home_alarm_sensor", "True")
    await hub.async_block_till_done()
    assert hub.states.get("input_boolean.go_to_sleep").state == "off"
    # A second import never overwrites what the first wrote.
    assert main(["import-ha", str(STUDENT), "-c", str(site)]) == 1
    assert "already exists" in capsys.readouterr().out


def test_import_ha_folder_with_scripts_and_blueprints(tmp_path: Path, config_dir: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    ha = tmp_path / "ha"
    (ha / "blueprints" / "automation" / "homeassistant").mkdir(parents=True)
    shutil.copy(DATA / "motion_light.yaml", ha / "blueprints" / "automation" / "homeassistant" / "motion_light.yaml")
    write(ha, "automations.yaml", """
        - id: '1700000000000'
          alias: Hall light
          use_blueprint:
            path: homeassistant/motion_light.yaml
            input:
              motion_entity: binary_sensor.hall_motion
              light_target: {entity_id: light.hall}
        - id: '1700000000001'
          alias: Count doors
          triggers: [{trigger: state, entity_id: binary_sensor.door, to: "on"}]
          actions: [{action: counter.increment, target: {entity_id: counter.doors}}]
        - alias: Broken
          trigger: [{platform: state}]
          action: []
    """)
    write(ha, "scripts.yaml", """
        flash_panels:
          alias: Flash the panels
          sequence:
            - action: script.turn_on
              target: {entity_id: script.other}
    """)
    write(config_dir, "configuration.yaml", "hub:\n  name: t\n")
    assert main(["import-ha", str(ha), "-c", str(config_dir), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "[no counterpart] automation 'Hall light'" in out and "light.turn_on" in out
    assert "[maps] automation 'Count doors'" in out and "configure counter in the site" in out
    assert "[no counterpart] automation 'Broken'" in out and "'entity_id'" in out
    assert "[loads] script 'flash_panels'" in out
    assert not (config_dir / "automations").exists()
    assert main(["import-ha", str(ha), "-c", str(config_dir)]) == 0
    out = capsys.readouterr().out
    assert (config_dir / "automations" / "imported_ha_ha.yaml").is_file()
    assert (config_dir / "imported_ha_scripts.yaml").is_file()
    assert "add `automations: !include_dir_merge_list automations/`" in out


async def test_imported_household_automation_runs(hub: Hub) -> None:
    site = hub.config_dir
    write(site, "configuration.yaml", SITE)
    write(site, "automations/site.yaml", "[]\n")
    assert main(["import-ha", str(STUDENT), "-c", str(site)]) == 0
    await async_load_site(hub)
    hub.states.async_set("sensor.days_after_mopping", "5")
    await hub.async_block_till_done()
    assert hub.states.get("input_boolean.task_notify").state == "off"
    hub.states.async_set("sensor.days_after_mopping", "7")
    await hub.async_block_till_done()
    assert hub.states.get("input_boolean.task_notify").state == "on"


def test_import_into_the_ceuta_site_dry_run(capsys: pytest.CaptureFixture[str]) -> None:
    """Ceuta configures mqtt and modbus, so the airco automation's switch.turn_off loads there as it is."""
    ceuta = Path(__file__).parents[3] / "config" / "ceuta"
    before = sorted(p.name for p in (ceuta / "automations").iterdir())
    assert main(["import-ha", str(STUDENT), "-c", str(ceuta), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "automations: 9: 1 load as they are, 2 map to Hacho integrations, 6 have no counterpart" in out
    assert "[loads] automation '[House] - Airco off on windows open'" in out
    assert "configure input_boolean, script 'wake_up' in the site" in out  # Ceuta has no such script
    assert sorted(p.name for p in (ceuta / "automations").iterdir()) == before
