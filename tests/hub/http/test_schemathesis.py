"""Schemathesis over /api/openapi.json of a running hub (the Ceuta site) with an admin token.

Every operation the document lists is called with generated requests (valid and invalid, bounded by
MAX_EXAMPLES per operation and MAX_SECONDS in all): no answer may be a server error (>= 500) and every
answer must match what the document says of it (JSON errors as `Error`, the documented status codes).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hub.auth.tokens import create_token
from hub.auth.users import add_user
from tests.ceuta_copy import copy_ceuta
from tests.conftest import MQTT_HOST, MQTT_PORT, free_port, require_service

MAX_EXAMPLES = int(os.environ.get("HACHO_SCHEMATHESIS_EXAMPLES", "25"))  # per operation and phase
# The whole run, whatever the examples (fuzzing repeats until it is spent): about 3,500 cases on a 2-core machine.
MAX_SECONDS = int(os.environ.get("HACHO_SCHEMATHESIS_SECONDS", "120"))
SEED = 2026  # the same cases every run; set HACHO_SCHEMATHESIS_SEED to explore others
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


@dataclass(frozen=True)
class RunningHub:
    """A hub process on a copy of the Ceuta site."""

    base_url: str
    token: str
    log: Path


def _wait_until_serving(url: str, token: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the hub exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                # the API answers while the integrations set up: wait until every one is (their routes too)
                if response.status == 200 and json.loads(response.read()).get("state") == "RUNNING":
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)  # polling a process started elsewhere: nothing to wait on but the port
    pytest.fail(f"the hub did not serve {url} within 90 s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def running_hub(tmp_path: Path) -> Iterator[RunningHub]:
    require_service("Mosquitto", MQTT_HOST, MQTT_PORT)
    config_dir = copy_ceuta(tmp_path / "site", sections_left_out=("thermal_fire", "zeroconf", "face"),
                            anpr_cameras=False)
    add_user(config_dir, "st_admin", role="admin", centre="local_police", password="schemathesis admin pw")
    token = create_token(config_dir, "schemathesis", "local_police", user_id="st_admin")
    port = free_port()
    env = {**os.environ, "HACHO_HTTP_PORT": str(port), "HACHO_SIM_MODBUS_PORT": str(free_port()),
           "HACHO_SIM_AGENCY_PORT": str(free_port()), "HACHO_MQTT_HOST": MQTT_HOST,
           "HACHO_MQTT_PORT": str(MQTT_PORT)}
    log = tmp_path / "hub.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "hacho", "run", "-c", str(config_dir)], env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(f"{base_url}/api/", token, process, log)
        yield RunningHub(base_url, token, log)
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _cases(output: str) -> tuple[int, str]:
    """The number of test cases schemathesis generated, and its closing line about them."""
    found = re.search(r"(\d+) generated, .*", output)
    if found is None:
        pytest.fail(f"schemathesis printed no summary:\n{output[-6000:]}")
    return int(found.group(1)), found.group(0)


@pytest.mark.timeout(MAX_SECONDS + 240)
def test_the_api_answers_every_generated_request_as_documented(running_hub: RunningHub, tmp_path: Path) -> None:
    seed = os.environ.get("HACHO_SCHEMATHESIS_SEED", str(SEED))
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{running_hub.base_url}/api/openapi.json",
        "--header", f"Authorization: Bearer {running_hub.token}",
        "--checks", CHECKS, "--max-examples", str(MAX_EXAMPLES), "--max-time", str(MAX_SECONDS),
        "--seed", seed, "--workers", "1", "--request-timeout", "20", "--no-color",
        "--phases", "examples,coverage,fuzzing",
        "--report", "junit", "--report-dir", str(tmp_path / "report"),
    ]
    # In tmp_path: schemathesis keeps a cache of crashes (.schemathesis/) in its working directory.
    result = subprocess.run(command, capture_output=True, text=True, timeout=MAX_SECONDS + 120, check=False,
                            cwd=tmp_path)
    output = result.stdout + result.stderr
    print(output[-6000:])  # with -s, the cases and failures for the report
    assert result.returncode == 0, f"schemathesis found problems:\n{output[-12000:]}"
    cases, line = _cases(output)
    assert cases >= 30, line  # at least one case per operation reached the API (about 2,700 in 120 s here)
