"""The outbox relay: delivery, backoff, Retry-After, dead letters, replay, pause, ordering, restarts."""

from __future__ import annotations

import asyncio
import random

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from hub.clock import FakeClock
from hub.core import Hub
from hub.exceptions import HubError
from hub.outbox import (
    DeliveryResult,
    MessageState,
    NewMessage,
    RetryPolicy,
    add_messages,
    async_get_outbox,
)
from hub.outbox.models import OutboxRow
from hub.recorder import get_recorder

from .conftest import FakeDeliverer, HubFactory, fields, idle

KIND = "test_webhook"


def message(destination: str = "fire_brigade", payload: str = "{}", **kwargs: object) -> NewMessage:
    return NewMessage(destination=destination, kind=KIND, payload=payload, **kwargs)  # type: ignore[arg-type]


async def test_enqueued_message_is_delivered_once_and_reported(hub_factory: HubFactory,
                                                               deliverer: FakeDeliverer) -> None:
    hub = await hub_factory()
    outbox = async_get_outbox(hub)
    outbox.async_register(KIND, deliverer.deliver, on_report=deliverer.on_report)
    [message_id] = await outbox.async_enqueue(message(payload='{"a": 1}', headers={"x-a": "1"},
                                                      meta={"format": "json"}, correlation_id="alarm-7"))

    attempt = await deliverer.next_attempt()
    assert fields(attempt, "id", "payload", "headers", "meta", "correlation_id", "attempts") == {
        "id": message_id, "payload": '{"a": 1}', "headers": {"x-a": "1"}, "meta": {"format": "json"},
        "correlation_id": "alarm-7", "attempts": 1,
    }
    report = await deliverer.next_report()
    assert report.delivered and report.message.state is MessageState.DELIVERED
    assert report.message.delivered_ts == hub.clock.time()
    await idle(outbox)
    assert deliverer.attempts.empty()
    stored = await outbox.async_get(message_id)
    assert stored is not None and stored.state is MessageState.DELIVERED


async def test_failure_is_retried_after_a_jittered_backoff(hub_factory: HubFactory, deliverer: FakeDeliverer,
                                                           fake_clock: FakeClock) -> None:
    hub = await hub_factory()
    outbox = async_get_outbox(hub)
    outbox.rng = random.Random(7)
    policy = RetryPolicy(max_attempts=5, backoff_base=10, backoff_cap=100, min_delay=1)
    outbox.async_register(KIND, deliverer.deliver, policy=policy, on_report=deliverer.on_report)
    deliverer.results = [DeliveryResult.retry("HTTP 500", status=500), DeliveryResult.retry("timeout")]
    start = fake_clock.time()
    await outbox.async_enqueue(message())

    await deliverer.next_attempt()
    first = await deliverer.next_report()
    assert first.message.state is MessageState.PENDING and first.message.last_error == "HTTP 500"
    delay1 = first.message.next_attempt_ts - start
    assert delay1 == pytest.approx(random.Random(7).uniform(1, 10))

    await fake_clock.async_advance_to(first.message.next_attempt_ts - 0.01)  # not yet
    await idle(outbox)
    assert deliverer.attempts.empty()
    await fake_clock.async_advance_to(first.message.next_attempt_ts)
    assert (await deliverer.next_attempt()).attempts == 2
    second = await deliverer.next_report()
    assert 1 <= second.message.next_attempt_ts - fake_clock.time() <= 20  # the ceiling doubled

    await idle(outbox)
    await fake_clock.async_advance(20)
    assert (await deliverer.next_attempt()).attempts == 3
    assert (await deliverer.next_report()).delivered


async def test_retry_after_is_honoured_exactly(hub_factory: HubFactory, deliverer: FakeDeliverer,
                                               fake_clock: FakeClock) -> None:
    hub = await hub_factory()
    outbox = async_get_outbox(hub)
    outbox.async_register(KIND, deliverer.deliver, on_report=deliverer.on_report)
    deliverer.results = [DeliveryResult.retry("HTTP 503", retry_after=120, status=503)]
    await outbox.async_enqueue(message())
    report = await deliverer.next_report()
    assert report.message.next_attempt_ts == fake_clock.time() + 120
    await fake_clock.async_advance(119)
    await idle(outbox)
    assert deliverer.attempts.qsize() == 1
    await fake_clock.async_advance(1)
    await deliverer.next_attempt()
    await deliverer.next_attempt()
    assert (await deliverer.next_report()).delivered


async def test_dead_after_max_attempts_then_replayed(any_hub_factory: HubFactory, deliverer: FakeDeliverer,
                                                     fake_clock: FakeClock) -> None:
    hub = await any_hub_factory()
    outbox = async_get_outbox(hub)
    outbox.async_register(KIND, deliverer.deliver, policy=RetryPolicy(max_attempts=2, backoff_base=1),
                          on_report=deliverer.on_report)
    deliverer.results = [DeliveryResult.retry("HTTP 500"), DeliveryResult.retry("HTTP 502")]
    [message_id] = await outbox.async_enqueue(message())
    assert not (await deliverer.next_report()).dead
    await fake_clock.async_advance(5)
    report = await deliverer.next_report()
    assert report.dead and report.message.attempts == 2 and report.message.last_error == "HTTP 502"
    await fake_clock.async_advance(3600)
    await idle(outbox)
    assert deliverer.attempts.qsize() == 2  # no attempt after the last one

    dead = await outbox.async_list(state=MessageState.DEAD, kind=KIND)
    assert [m.id for m in dead] == [message_id]
    replayed = await outbox.async_replay([message_id])
    assert [(m.id, m.state, m.attempts) for m in replayed] == [(message_id, MessageState.PENDING, 0)]
    report = await deliverer.next_report()
    assert report.delivered and report.message.attempts == 1
    assert await outbox.async_replay([message_id]) == []  # only dead messages replay


async def test_dead_result_dead_letters_at_once(hub_factory: HubFactory, deliverer: FakeDeliverer) -> None:
    hub = await hub_factory()
    outbox = async_get_outbox(hub)
    outbox.async_register(KIND, deliverer.deliver, on_report=deliverer.on_report)
    deliverer.results = [DeliveryResult.dead("cannot render")]
    await outbox.async_enqueue(message())
    report = await deliverer.next_report()
    assert report.dead and report.message.attempts == 1


async def test_a_raising_deliverer_counts_as_a_failed_attempt(hub_factory: HubFactory,
                                                              deliverer: FakeDeliverer) -> None:
    hub = await hub_factory()
    outbox = async_get_outbox(hub)

    async def broken(_message: object) -> DeliveryResult:
        raise ValueError("bug")

    outbox.async_register(KIND, broken, on_report=deliverer.on_report)
    await outbox.async_enqueue(message())
    report = await deliverer.next_report()
    assert report.message.state is MessageState.PENDING
    assert report.message.last_error == "ValueError: bug"


async def test_pause_holds_a_destination_until_resumed(hub_factory: HubFactory, deliverer: FakeDeliverer,
                                                       fake_clock: FakeClock) -> None:
    hub = await hub_factory()
    outbox = async_get_outbox(hub)
    outbox.async_register(KIND, deliverer.deliver, on_report=deliverer.on_report)
    deliverer.results = [DeliveryResult.pause("HTTP 410 Gone", status=410)]
    [first] = await outbox.async_enqueue(message())
    report = await deliverer.next_report()
    assert report.message.state is MessageState.PENDING and outbox.is_paused(KIND, "fire_brigade")
    [second] = await outbox.async_enqueue(message())
    [other] = await outbox.async_enqueue(message(destination="ministry"))
    assert (await deliverer.next_attempt()).id == first
    assert (await deliverer.next_attempt()).id == other  # other destinations go on
    await fake_clock.async_advance(7200)
    await idle(outbox)
    assert deliverer.attempts.empty()

    outbox.resume(KIND, "fire_brigade")
    got = {(await deliverer.next_attempt()).id, (await deliverer.next_attempt()).id}
    assert got == {first, second}


async def test_one_delivery_at_a_time_per_destination(hub_factory: HubFactory, deliverer: FakeDeliverer) -> None:
    hub = await hub_factory()
    outbox = async_get_outbox(hub)
    gate: asyncio.Future[DeliveryResult] = hub.loop.create_future()
    deliverer.results = [gate]
    outbox.async_register(KIND, deliverer.deliver, on_report=deliverer.on_report)
    [a, b] = await outbox.async_enqueue([message(), message()])
    [c] = await outbox.async_enqueue(message(destination="ministry"))
    assert (await deliverer.next_attempt()).id == a
    assert (await deliverer.next_attempt()).id == c
    await idle_or_blocked(outbox)
    assert deliverer.attempts.empty()  # b waits for a
    gate.set_result(DeliveryResult.delivered())
    assert (await deliverer.next_attempt()).id == b


async def idle_or_blocked(outbox: object) -> None:
    """Let the relay run its cycle while one delivery is blocked (it cannot become idle)."""
    for _ in range(3):
        await get_recorder(outbox.hub).async_flush()  # type: ignore[attr-defined]
        await asyncio.sleep(0)


async def test_ordered_kind_holds_later_messages_behind_a_failing_one(
        any_hub_factory: HubFactory, deliverer: FakeDeliverer, fake_clock: FakeClock) -> None:
    hub = await any_hub_factory()
    outbox = async_get_outbox(hub)
    outbox.async_register(KIND, deliverer.deliver, on_report=deliverer.on_report, ordered=True,
                          policy=RetryPolicy(backoff_base=30, min_delay=30))
    deliverer.results = [DeliveryResult.retry("down")]
    [a, b] = await outbox.async_enqueue([message(payload="1"), message(payload="2")])
    assert (await deliverer.next_attempt()).id == a
    await deliverer.next_report()
    await idle(outbox)
    assert deliverer.attempts.empty()  # b is due but a comes first
    await fake_clock.async_advance(30)
    assert [(await deliverer.next_attempt()).id, (await deliverer.next_attempt()).id] == [a, b]


async def test_messages_survive_a_restart_in_the_middle_of_retrying(
        any_hub_factory: HubFactory, fake_clock: FakeClock) -> None:
    first_run = FakeDeliverer()
    hub1 = await any_hub_factory()
    outbox1 = async_get_outbox(hub1)
    outbox1.async_register(KIND, first_run.deliver, on_report=first_run.on_report)
    first_run.results = [DeliveryResult.retry("HTTP 503", retry_after=300)]
    [message_id] = await outbox1.async_enqueue(message(payload="<alert/>"))
    await first_run.next_report()
    await hub1.async_stop()

    fake_clock_time = fake_clock.time()
    second_run = FakeDeliverer()
    hub2 = await any_hub_factory()
    outbox2 = async_get_outbox(hub2)
    outbox2.async_register(KIND, second_run.deliver, on_report=second_run.on_report)
    await idle(outbox2)
    assert second_run.attempts.empty()  # not due yet: the schedule survived too
    await fake_clock.async_advance(fake_clock_time + 300 - fake_clock.time())
    attempt = await second_run.next_attempt()
    assert (attempt.id, attempt.payload, attempt.attempts) == (message_id, "<alert/>", 2)
    assert (await second_run.next_report()).delivered


async def test_a_stop_during_a_delivery_gives_the_message_back(any_hub_factory: HubFactory) -> None:
    stuck = FakeDeliverer()
    hub1 = await any_hub_factory()
    outbox1 = async_get_outbox(hub1)
    stuck.results = [hub1.loop.create_future()]  # never answers
    outbox1.async_register(KIND, stuck.deliver, on_report=stuck.on_report)
    [message_id] = await outbox1.async_enqueue(message())
    await stuck.next_attempt()
    await hub1.async_stop()

    after = FakeDeliverer()
    hub2 = await any_hub_factory()
    outbox2 = async_get_outbox(hub2)
    outbox2.async_register(KIND, after.deliver, on_report=after.on_report)
    attempt = await after.next_attempt()  # due at once, not after the lease
    assert (attempt.id, attempt.attempts) == (message_id, 1)  # the interrupted attempt did not count


async def test_a_lease_without_an_owner_runs_out(hub_factory: HubFactory, fake_clock: FakeClock,
                                                 deliverer: FakeDeliverer) -> None:
    # A lease taken before revision 0310 names no owner: it runs out. Crashes: test_leases.py.
    hub = await hub_factory()
    recorder = get_recorder(hub)
    now = fake_clock.time()

    def _leased_before_0310(session: Session) -> None:
        add_messages(session, [message(id="0190b7e2-0000-7000-8000-000000000001")], now - 10)
        session.execute(text("UPDATE outbox SET attempts = 1, next_attempt_ts = :due"), {"due": now + 50})

    await recorder.async_db_job(_leased_before_0310)
    outbox = async_get_outbox(hub)
    outbox.async_register(KIND, deliverer.deliver, on_report=deliverer.on_report)
    await idle(outbox)
    assert deliverer.attempts.empty()
    await fake_clock.async_advance(50)
    assert (await deliverer.next_attempt()).attempts == 2


async def test_enqueue_is_part_of_the_callers_transaction(hub_factory: HubFactory) -> None:
    hub = await hub_factory()
    outbox = async_get_outbox(hub)

    def _fails_after_writing(session: Session) -> None:
        raise ValueError("the caller's own write failed")

    with pytest.raises(ValueError):
        await outbox.async_enqueue(message(), also=_fails_after_writing)
    rows = await outbox.async_db_job(lambda session: session.execute(select(OutboxRow.id)).all())
    assert rows == []


async def test_unregistering_interrupts_and_keeps_messages(hub_factory: HubFactory) -> None:
    hub = await hub_factory()
    outbox = async_get_outbox(hub)
    stuck = FakeDeliverer()
    stuck.results = [hub.loop.create_future()]
    remove = outbox.async_register(KIND, stuck.deliver)
    [message_id] = await outbox.async_enqueue(message())
    await stuck.next_attempt()
    remove()
    await hub.async_block_till_done()
    stored = await outbox.async_get(message_id)
    assert stored is not None and (stored.state, stored.attempts) == (MessageState.PENDING, 0)
    again = FakeDeliverer()
    outbox.async_register(KIND, again.deliver)
    assert (await again.next_attempt()).id == message_id


async def test_one_deliverer_per_kind(hub_factory: HubFactory, deliverer: FakeDeliverer) -> None:
    outbox = async_get_outbox(await hub_factory())
    outbox.async_register(KIND, deliverer.deliver)
    with pytest.raises(HubError, match="already registered"):
        outbox.async_register(KIND, deliverer.deliver)


async def test_without_a_recorder_there_is_no_outbox(fake_hub: Hub) -> None:
    with pytest.raises(HubError, match="recorder"):
        async_get_outbox(fake_hub)


async def test_counts_list_and_purge(any_hub_factory: HubFactory, deliverer: FakeDeliverer,
                                     fake_clock: FakeClock) -> None:
    hub = await any_hub_factory()
    outbox = async_get_outbox(hub)
    outbox.async_register(KIND, deliverer.deliver, on_report=deliverer.on_report)
    deliverer.results = [DeliveryResult.delivered(), DeliveryResult.dead("bad")]
    await outbox.async_enqueue(message(correlation_id="alarm-1"))
    await deliverer.next_report()
    await outbox.async_enqueue(message(correlation_id="alarm-1"))
    await deliverer.next_report()
    assert await outbox.async_counts(KIND) == {"fire_brigade": {"delivered": 1, "dead": 1}}
    listed = await outbox.async_list(correlation_id="alarm-1")
    assert [m.state for m in listed] == [MessageState.DEAD, MessageState.DELIVERED]  # newest first
    assert await outbox.async_purge() == (0, 0)
    await fake_clock.async_advance(outbox.keep_delivered_days * 86400 + 1)
    assert await outbox.async_purge() == (1, 0)
    assert await outbox.async_counts(KIND) == {"fire_brigade": {"dead": 1}}


async def test_remembered_ids_refuse_replays_across_a_restart(any_hub_factory: HubFactory,
                                                              fake_clock: FakeClock) -> None:
    hub1 = await any_hub_factory()
    outbox1 = async_get_outbox(hub1)
    assert await outbox1.async_remember_seen("agency:fire_brigade", "msg_1", ttl=300)
    assert not await outbox1.async_remember_seen("agency:fire_brigade", "msg_1", ttl=300)
    assert await outbox1.async_remember_seen("agency:ministry", "msg_1", ttl=300)  # scopes are separate
    await hub1.async_stop()

    outbox2 = async_get_outbox(await any_hub_factory())
    assert not await outbox2.async_remember_seen("agency:fire_brigade", "msg_1", ttl=300)
    await fake_clock.async_advance(301)
    assert await outbox2.async_remember_seen("agency:fire_brigade", "msg_1", ttl=300)  # window passed
    assert await outbox2.async_purge() == (0, 1)  # the ministry one expired; the renewed one stays
    assert not await outbox2.async_remember_seen("agency:fire_brigade", "msg_1", ttl=300)


async def test_the_relay_waits_out_a_database_outage(hub_factory: HubFactory, deliverer: FakeDeliverer,
                                                     fake_clock: FakeClock) -> None:
    hub = await hub_factory()
    outbox = async_get_outbox(hub)
    recorder = get_recorder(hub)
    await outbox.async_enqueue(message())
    await recorder.async_stop()  # the database is gone for the outbox
    outbox.async_register(KIND, deliverer.deliver)
    await idle(outbox)
    assert deliverer.attempts.empty()
    with pytest.raises(HubError):
        await outbox.async_enqueue(message())
