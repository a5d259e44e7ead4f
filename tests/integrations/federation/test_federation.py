"""Two centres through a real Mosquitto: alarms, acknowledgement by the owner, outages, restarts, exactly once."""

from __future__ import annotations

from collections import Counter

from hub.core import Context, Event

from .conftest import LOCAL, NATIONAL, Broker, Centre, CentreFactory, peer_state, wait_connected, wait_until

OP_N = Context(user_id="op_n", centre=NATIONAL)


async def test_alarm_seen_acknowledged_by_peer_and_applied_by_owner(centres: CentreFactory) -> None:
    local = await centres(LOCAL)
    national = await centres(NATIONAL)
    await wait_connected(local, national)

    raised = await local.hub.services.async_call("alarm", "raise", {"type": "fire", "message": "Smoke at Tarajal"},
                                                 return_response=True)
    assert raised is not None
    alarm_id = raised["alarm_id"]
    await wait_until(lambda: alarm_id in national.federation.remote.alarms, what="the alarm at national")
    mirrored = national.federation.remote.alarms[alarm_id]
    assert mirrored["origin_site"] == LOCAL and mirrored["state"] == "raised"
    [event] = national.remote_events("alarm_raised")
    assert event.data["alarm_id"] == alarm_id and event.data["origin_site"] == LOCAL

    answer = await national.hub.services.async_call("federation", "acknowledge_alarm",
                                                    {"alarm_id": alarm_id, "note": "Patrol on the way"},
                                                    context=OP_N, return_response=True)
    assert answer is not None and answer["site"] == LOCAL

    # the owner applies it, as national's operator ...
    await wait_until(lambda: local.alarms.get(alarm_id) is not None
                     and local.alarms.get(alarm_id).state.value == "acknowledged",  # type: ignore[union-attr]
                     what="the owner to apply the acknowledgement")
    owned = local.alarms.get(alarm_id)
    assert owned is not None
    assert owned.assignee == f"{NATIONAL}:op_n"
    assert owned.timeline[-1].centre == NATIONAL and owned.timeline[-1].text == "Patrol on the way"
    # ... and its update flows back, with the answer to the request
    await wait_until(lambda: national.federation.remote.alarms[alarm_id]["state"] == "acknowledged",
                     what="the update back at national")
    await wait_until(lambda: bool([e for e in national.events if e.event_type == "federation_request_result"]),
                     what="the answer")
    [result] = [e for e in national.events if e.event_type == "federation_request_result"]
    assert result.data["ok"] is True and result.data["request_id"] == answer["request_id"]
    # both sides audited it
    assert [e["target"] for e in await national.audit("federation_alarm_request")] == [f"{LOCAL}/alarm/{alarm_id}"]
    [applied] = await local.audit("federation_alarm_request_applied")
    assert applied["outcome"] == "ok" and applied["user_id"] == f"{NATIONAL}:op_n"

    # an alarm that is not shared never leaves its centre
    private = await local.hub.services.async_call("alarm", "raise", {"type": "door_open"}, return_response=True)
    assert private is not None
    await local.hub.services.async_call("alarm", "raise", {"type": "fire", "title": "marker"})
    await wait_until(lambda: any(a.get("title") == "marker" for a in national.federation.remote.alarms.values()),
                     what="the marker alarm")
    assert private["alarm_id"] not in national.federation.remote.alarms
    # nothing loops: national never re-published local's alarm as its own
    assert not [e for e in local.events if e.event_type.startswith("alarm_") and e.origin.value == "remote"]


def _markers(events: list[Event], origin: str) -> Counter[int]:
    """How often each numbered marker event from `origin` arrived."""
    return Counter(e.data["n"] for e in events if e.event_type == "test_marker" and e.origin.value == "remote"
                   and e.data.get("origin_site") == origin)


async def test_exactly_once_across_broker_outage_and_centre_restart(centres: CentreFactory, broker: Broker) -> None:
    """THE test: alarms and events cross both ways while the broker dies and comes back and one centre
    restarts; every message arrives exactly once, and an acknowledgement sent during the outage is applied."""
    local = await centres(LOCAL)
    national = await centres(NATIONAL)
    await wait_connected(local, national)

    def fire(centre: Centre, numbers: range) -> None:
        for n in numbers:
            centre.hub.bus.async_fire("test_marker", {"n": n})

    raised = await local.hub.services.async_call("alarm", "raise", {"type": "fire"}, return_response=True)
    assert raised is not None
    alarm_id = raised["alarm_id"]
    fire(local, range(0, 10))
    fire(national, range(0, 10))
    await wait_until(lambda: alarm_id in national.federation.remote.alarms, what="the alarm at national")

    # the broker dies in the middle of a burst (some of it not yet published) and stays away a while
    fire(local, range(10, 30))
    fire(national, range(10, 30))
    await broker.stop()
    await wait_until(lambda: peer_state(national) == "disconnected",
                     what="national to see local disconnected")
    fire(local, range(30, 40))
    fire(national, range(30, 40))
    # an acknowledgement asked for while nobody can hear it, and an alarm of national's own
    await national.hub.services.async_call("federation", "acknowledge_alarm", {"alarm_id": alarm_id},
                                           context=OP_N)
    own = await national.hub.services.async_call("alarm", "raise", {"type": "fire", "title": "Border fence"},
                                                 return_response=True)
    assert own is not None
    await broker.start()
    await wait_connected(local, national)
    await wait_until(lambda: (a := local.alarms.get(alarm_id)) is not None and a.acknowledged_ts is not None, 30,
                     "the acknowledgement from the outage to be applied")

    # national restarts; local goes on publishing meanwhile (the broker keeps it for national's session)
    fire(local, range(40, 50))
    await national.stop()
    await wait_until(lambda: peer_state(local) == "disconnected",
                     what="local to see national gone")
    fire(local, range(50, 60))
    await local.hub.services.async_call("alarm", "start", {"alarm_id": alarm_id})
    await national.start()
    await wait_connected(local, national)
    fire(national, range(40, 50))

    await wait_until(lambda: set(_markers(national.events, LOCAL)) == set(range(60)), 30,
                     "every marker from local at national",
                     lambda: f"missing {set(range(60)) - set(_markers(national.events, LOCAL))}")
    await wait_until(lambda: set(_markers(local.events, NATIONAL)) == set(range(50)), 30,
                     "every marker from national at local",
                     lambda: f"missing {set(range(50)) - set(_markers(local.events, NATIONAL))}")
    # the acknowledgement from the outage was applied by the owner, and its later start flowed back
    assert local.alarms.get(alarm_id) is not None
    await wait_until(lambda: national.federation.remote.alarms[alarm_id]["state"] == "in_progress",
                     what="the owner's start at national")
    owned = local.alarms.get(alarm_id)
    assert owned is not None and owned.acknowledged_ts is not None and owned.assignee == f"{NATIONAL}:op_n"
    await wait_until(lambda: own["alarm_id"] in local.federation.remote.alarms, what="national's alarm at local")

    # replays of everything local ever sent (as after a lost acknowledgement) are dropped by the
    # restarted national: the ids it has seen survive restarts
    resent = await local.federation.async_resend(list(range(1, local.federation.publisher.published_seq + 1)))
    assert len(resent) >= 60
    await wait_until(lambda: national.federation.receiver.duplicates >= len(resent) - 40, 30,
                     "the replays to arrive")  # the 40 national got before its restart count on the old instance
    await local.hub.async_block_till_done()
    await national.hub.async_block_till_done()

    from_local, from_national = _markers(national.events, LOCAL), _markers(local.events, NATIONAL)
    assert all(count == 1 for count in from_local.values()), from_local
    assert all(count == 1 for count in from_national.values()), from_national
    raised_at_national = [e for e in national.remote_events("alarm_raised") if e.data["alarm_id"] == alarm_id]
    assert len(raised_at_national) == 1
    assert national.hub.states.get(f"federation.{LOCAL}").attributes["missing_messages"] == 0  # type: ignore[union-attr]
