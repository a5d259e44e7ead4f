"""The federation's parts on their own: envelope, topics, sharing and actuation policies, streams, peers, config."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest
import voluptuous as vol

from hub.helpers.ids import uuid7_time
from integrations.federation import CONFIG_SCHEMA
from integrations.federation.envelope import Envelope, EnvelopeError, parse_topic
from integrations.federation.peers import Peer, parse_status
from integrations.federation.policy import ActuationPolicy, SharingPolicy
from integrations.federation.store import PeerStream, mirror_entity_id


def test_envelope_round_trip_carries_id_origin_sequence_time_type_payload() -> None:
    envelope = Envelope(type="alarm", origin="local_police", payload={"alarm": {"alarm_id": "a1"}}, seq=7,
                        epoch="e", ts=1_700_000_000.5, hops=("local_police",))
    data = orjson.loads(envelope.encode())
    assert data["v"] == 1 and data["origin"] == "local_police" and data["seq"] == 7 and data["type"] == "alarm"
    assert data["time"] == "2023-11-14T22:13:20.500000+00:00" and data["hops"] == ["local_police"]
    assert abs(uuid7_time(data["id"]) - time.time()) < 60  # a UUIDv7, made now
    assert Envelope.decode(envelope.encode()) == envelope


@pytest.mark.parametrize(("change", "message"), [
    ({"v": 2}, "version"),
    ({"type": "gossip"}, "unknown message type"),
    ({"id": ""}, "'id'"),
    ({"seq": 0}, "'seq'"),
    ({"seq": True}, "'seq'"),
    ({"hops": []}, "'hops'"),
    ({"payload": []}, "'payload'"),
    ({"type": "response"}, "needs 'to'"),
])
def test_envelope_refuses_what_is_malformed(change: dict[str, Any], message: str) -> None:
    data = Envelope(type="event", origin="a", payload={}, seq=1, epoch="e", ts=1.0).as_dict() | change
    with pytest.raises(EnvelopeError, match=message):
        Envelope.decode(orjson.dumps(data))
    with pytest.raises(EnvelopeError, match="not JSON"):
        Envelope.decode(b"{")


def test_topics_and_mirrored_ids() -> None:
    parts = parse_topic("hacho", "hacho/national_police/to/local_police/response")
    assert parts is not None and (parts.site, parts.channel, parts.rest) == ("national_police", "to",
                                                                             "local_police/response")
    assert parse_topic("hacho", "other/national_police/event/x") is None
    assert parse_topic("hacho", "hacho/national_police") is None
    assert mirror_entity_id("national_police", "bollard.b07") == "bollard.national_police_b07"
    assert parse_status(b"offline") == {"state": "offline"}
    assert parse_status(b'{"state": "online", "seq": 3}') == {"state": "online", "seq": 3}
    assert parse_status(b"[1]") is None and parse_status(b"") is None


def test_sharing_policy_by_event_type_entity_and_area() -> None:
    policy = SharingPolicy(CONFIG_SCHEMA({
        "peers": ["b"],
        "share": {"events": [{"event_type": "thermal_fire_*"},
                             {"event_type": "anpr_hotlist_hit", "areas": ["tarajal"], "entity_id": "camera.t*"}],
                  "states": [{"entity_id": "bollard.*", "areas": ["tarajal"]}],
                  "alarms": [{"type": "fire"}, {"type": "intrusion", "shared_only": False, "areas": ["port"]}]},
    }))
    assert policy.shares_event("thermal_fire_detected", {})
    assert policy.shares_event("anpr_hotlist_hit", {"area": "tarajal", "entity_id": "camera.t1"})
    assert not policy.shares_event("anpr_hotlist_hit", {"area": "centro", "entity_id": "camera.t1"})
    assert not policy.shares_event("anpr_hotlist_hit", {"area": "tarajal", "entity_id": "camera.p1"})
    assert not policy.shares_event("state_changed", {}) and not policy.event_type_candidate("alarm_raised")
    assert policy.shares_state("bollard.b07", "tarajal") and not policy.shares_state("bollard.b07", "centro")
    assert not policy.shares_state("sensor.wind", "tarajal")
    assert policy.shares_alarm({"type": "fire", "shared": True})
    assert not policy.shares_alarm({"type": "fire", "shared": False})
    assert policy.shares_alarm({"type": "intrusion", "shared": False, "area_id": "port"})
    assert not policy.shares_alarm({"type": "intrusion", "shared": False, "area_id": "centro"})
    # by default: alarms raised as shared, nothing else
    default = SharingPolicy(CONFIG_SCHEMA({"peers": ["b"]}))
    assert default.shares_alarm({"type": "x", "shared": True}) and not default.shares_alarm({"type": "x"})
    assert not default.shares_event("thermal_fire_detected", {}) and not default.shares_states


def test_actuation_policy() -> None:
    policy = ActuationPolicy(CONFIG_SCHEMA({"peers": ["a", "b"], "actuation": [
        {"entity_id": "bollard.tarajal_*", "services": ["bollard.raise", "bollard.lower"], "peers": ["a"]},
        {"entity_id": "panel.*", "services": "panel.*"},
    ]}))
    assert policy.allows("a", "bollard.tarajal_1", "bollard.raise")
    assert not policy.allows("b", "bollard.tarajal_1", "bollard.raise")
    assert not policy.allows("a", "bollard.port_1", "bollard.raise")
    assert not policy.allows("a", "bollard.tarajal_1", "bollard.unlock")
    assert policy.allows("b", "panel.p1", "panel.show_message")


def test_stream_counts_gaps_and_late_arrivals() -> None:
    stream = PeerStream()
    stream.observe("e1", 5, now=10.0, limit=100)  # first contact: nothing before it is expected
    assert stream.last_seq == 5 and not stream.missing and stream.dirty
    stream.observe("e1", 8, now=11.0, limit=100)
    assert stream.missing == {6: 11.0, 7: 11.0}
    stream.observe("e1", 6, now=12.0, limit=100)  # late, not lost
    assert stream.missing == {7: 11.0} and stream.last_seq == 8
    stream.observe_high("e1", 10, now=13.0, limit=100)  # the peer says it published up to 10
    assert set(stream.missing) == {7, 9, 10}
    stream.observe_high("e2", 50, now=14.0, limit=100)  # another stream announced: wait for its first message
    assert stream.epoch == "e1"
    stream.observe("e2", 3, now=15.0, limit=100)  # the peer's database is new: start over
    assert (stream.epoch, stream.last_seq, stream.missing) == ("e2", 3, {})
    stream.observe("e2", 10_000, now=16.0, limit=10)  # a huge gap keeps the newest `limit`
    assert len(stream.missing) == 10 and min(stream.missing) == 9990
    row = stream.as_row("a")
    assert row["site"] == "a" and orjson.loads(row["missing"])[0] == [9990, 16.0]


def test_peer_connected_only_while_heard_recently_and_online() -> None:
    peer = Peer("national_police", "Policía Nacional")
    assert not peer.evaluate(True, now=100.0, timeout=45)  # never heard
    peer.last_heard_ts, peer.status = 100.0, "online"
    assert peer.evaluate(True, now=101.0, timeout=45) and peer.connected
    assert not peer.evaluate(True, now=145.0, timeout=45)  # still within the timeout
    assert peer.evaluate(True, now=146.0, timeout=45) and not peer.connected  # silent too long
    peer.last_heard_ts = 146.0
    assert peer.evaluate(True, now=146.0, timeout=45) and peer.connected
    assert peer.evaluate(False, now=146.0, timeout=45) and not peer.connected  # our broker link is down
    assert peer.evaluate(True, now=146.0, timeout=45)
    peer.status = "offline"  # its last will
    assert peer.evaluate(True, now=146.0, timeout=45) and not peer.connected


def test_config_errors_name_the_key() -> None:
    with pytest.raises(vol.Invalid, match="peer_timeout must be longer than heartbeat_interval"):
        CONFIG_SCHEMA({"peers": ["b"], "heartbeat_interval": 30, "peer_timeout": 20})
    with pytest.raises(vol.Invalid, match="listed twice"):
        CONFIG_SCHEMA({"peers": ["b", {"site": "b"}]})
    with pytest.raises(vol.Invalid, match="at least one peer"):
        CONFIG_SCHEMA({"peers": []})
    with pytest.raises(vol.Invalid, match=r"domain\.service"):
        CONFIG_SCHEMA({"peers": ["b"], "actuation": [{"entity_id": "bollard.*", "services": ["raise"]}]})
    with pytest.raises(vol.Invalid, match="wildcards"):
        CONFIG_SCHEMA({"peers": ["b"], "topic_prefix": "hacho/#"})
    config = CONFIG_SCHEMA({"peers": ["national_police"]})
    assert config["peers"] == [{"site": "national_police", "name": "National Police"}]
    assert config["port"] == 1883 and config["topic_prefix"] == "hacho"
