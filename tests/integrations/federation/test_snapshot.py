"""A centre that joins late gets a snapshot of what its peer already shares (states and open alarms)."""

from __future__ import annotations

import logging

import pytest

from hub.exceptions import ServiceValidationError
from integrations.federation.const import SNAPSHOT_MIN_INTERVAL

from .conftest import LOCAL, NATIONAL, CentreFactory, wait_connected, wait_until

MIRROR = f"bollard.{LOCAL}_b07"


async def test_late_joiner_gets_states_and_open_alarms(centres: CentreFactory,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="integrations.federation")
    local = await centres(LOCAL)
    # before national ever connects: a shared bollard state, an open shared alarm, a closed one, a private one
    local.hub.states.async_set("bollard.b07", "raised", {"area_id": "tarajal", "friendly_name": "B07"})
    local.hub.states.async_set("sensor.private", "1")  # not shared by the policy
    fire = await local.hub.services.async_call("alarm", "raise", {"type": "fire", "title": "Fire at Benzú"},
                                               return_response=True)
    done = await local.hub.services.async_call("alarm", "raise", {"type": "fire", "title": "Old fire",
                                                                  "dedup_key": "old"}, return_response=True)
    private = await local.hub.services.async_call("alarm", "raise", {"type": "door_open"}, return_response=True)
    assert fire is not None and done is not None and private is not None
    for service in ("acknowledge", "resolve", "close"):
        await local.hub.services.async_call("alarm", service, {"alarm_id": done["alarm_id"]})
    await local.hub.async_block_till_done()

    national = await centres(NATIONAL)
    await wait_connected(local, national)
    await wait_until(lambda: fire["alarm_id"] in national.federation.remote.alarms, what="the open alarm at national")
    await wait_until(lambda: national.hub.states.get(MIRROR) is not None, what="the bollard at national")
    state = national.hub.states.get(MIRROR)
    assert state is not None and state.state == "raised" and state.attributes["origin_site"] == LOCAL
    remote = national.federation.remote.alarms
    assert remote[fire["alarm_id"]]["title"] == "Fire at Benzú" and remote[fire["alarm_id"]]["state"] == "raised"
    assert done["alarm_id"] not in remote and private["alarm_id"] not in remote
    assert national.hub.states.get(f"sensor.{LOCAL}_private") is None
    [announced] = [e for e in national.remote_events("alarm_updated") if e.data["alarm_id"] == fire["alarm_id"]]
    assert announced.data["origin_site"] == LOCAL
    assert caplog.text.count(f"asking {LOCAL} for a snapshot") == 1

    # a snapshot never rolls back: a change after it wins, and a later snapshot repeats the newest
    local.hub.states.async_set("bollard.b07", "lowered", {"area_id": "tarajal", "friendly_name": "B07"})
    await wait_until(lambda: national.hub.states.get(MIRROR).state == "lowered",  # type: ignore[union-attr]
                     what="the change at national")

    # national restarts: it knows local's stream now, so it does not ask again (its session kept the rest)
    await national.restart()
    await wait_connected(local, national)
    assert caplog.text.count(f"asking {LOCAL} for a snapshot") == 1
    assert national.hub.states.get(MIRROR).state == "lowered"  # type: ignore[union-attr]

    # an operator can ask again; an unknown peer is refused with the names of the peers
    answer = await national.hub.services.async_call("federation", "request_snapshot", {}, return_response=True)
    assert answer == {"asked": [LOCAL]}
    with pytest.raises(ServiceValidationError, match="Unknown peer 'guardia_civil' \\(peers: local_police\\)"):
        await national.hub.services.async_call("federation", "request_snapshot", {"site": "guardia_civil"},
                                               return_response=True)
    # local answered the first request moments ago: a second within SNAPSHOT_MIN_INTERVAL is ignored ...
    await wait_until(lambda: "asked for another snapshot within" in caplog.text, what="local to ignore the repeat")
    assert caplog.text.count("sending national_police a snapshot") == 1
    # ... and answered once that interval has passed
    local.federation.peers[NATIONAL].snapshot_sent_ts -= SNAPSHOT_MIN_INTERVAL
    await national.hub.services.async_call("federation", "request_snapshot", {"site": LOCAL})
    await wait_until(lambda: caplog.text.count("sending national_police a snapshot of 2 states and alarms") == 2,
                     what="local to answer the request")
