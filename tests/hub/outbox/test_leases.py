"""Delivery leases across restarts: a stop while claiming and a crash both leave nothing waiting out a lease."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from hub.clock import FakeClock
from hub.outbox import MessageState, NewMessage, async_get_outbox, store

from .conftest import FakeDeliverer, HubFactory, idle

KIND = "test_stream"


def message(payload: str) -> NewMessage:
    return NewMessage(destination="peer_centre", kind=KIND, payload=payload)


async def test_a_stop_while_claiming_gives_the_claimed_rows_back(
        any_hub_factory: HubFactory, fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    hub1 = await any_hub_factory()
    outbox1 = async_get_outbox(hub1)
    ids = await outbox1.async_enqueue([message("1"), message("2"), message("3")])

    claiming = asyncio.Event()
    gate = threading.Event()
    real_claim = store.claim_due

    def _held_claim(session: Session, **kwargs: Any) -> list[Any]:  # the hub stops while this runs
        hub1.loop.call_soon_threadsafe(claiming.set)
        gate.wait(10)
        return real_claim(session, **kwargs)

    monkeypatch.setattr(store, "claim_due", _held_claim)
    never = FakeDeliverer()
    outbox1.async_register(KIND, never.deliver, ordered=True)
    await asyncio.wait_for(claiming.wait(), 10)
    stopping = asyncio.create_task(hub1.async_stop())
    # Not idle while claiming: idle now means async_stop began, the relay cancelled waiting for the claim.
    await asyncio.wait_for(outbox1.async_wait_idle(), 10)
    assert not outbox1.is_running
    gate.set()
    await asyncio.wait_for(stopping, 10)
    monkeypatch.undo()
    assert never.attempts.empty()

    start = fake_clock.time()
    after = FakeDeliverer()
    hub2 = await any_hub_factory()
    outbox2 = async_get_outbox(hub2)
    outbox2.async_register(KIND, after.deliver, on_report=after.on_report, ordered=True)
    await idle(outbox2)
    delivered = [after.attempts.get_nowait() for _ in range(after.attempts.qsize())]
    # In order, at once (no 300 s lease), and the claim the stop interrupted was not counted.
    assert [(m.id, m.attempts) for m in delivered] == [(ids[0], 1), (ids[1], 1), (ids[2], 1)]
    assert fake_clock.time() == start
    assert {m.state for m in await outbox2.async_list(kind=KIND)} == {MessageState.DELIVERED}


def _copy_sqlite(source: str, target: str) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


async def test_a_crash_mid_delivery_is_given_back_at_the_next_start(
        hub_factory: HubFactory, fake_clock: FakeClock, sqlite_url: str) -> None:
    path = make_url(sqlite_url).database
    assert path is not None
    snapshot = f"{path}.killed"
    hub1 = await hub_factory()
    outbox1 = async_get_outbox(hub1)
    stuck = FakeDeliverer()
    stuck.results = [hub1.loop.create_future()]  # never answers
    outbox1.async_register(KIND, stuck.deliver, ordered=True)
    ids = await outbox1.async_enqueue([message("1"), message("2")])
    assert (await stuck.next_attempt()).id == ids[0]
    # What `kill -9` leaves on disk: the head of the stream leased for minutes to a relay that is gone.
    _copy_sqlite(path, snapshot)  # a few kilobytes: blocking the test's loop for it is harmless
    await hub1.async_stop()
    _copy_sqlite(snapshot, path)

    start = fake_clock.time()
    after = FakeDeliverer()
    hub2 = await hub_factory()
    outbox2 = async_get_outbox(hub2)
    leased = await outbox2.async_get(ids[0])
    assert leased is not None and leased.attempts == 1
    outbox2.async_register(KIND, after.deliver, on_report=after.on_report, ordered=True)
    await idle(outbox2)
    delivered = [after.attempts.get_nowait() for _ in range(after.attempts.qsize())]
    # Due at once; the crashed attempt stays counted (it may have gone out before the crash).
    assert [(m.id, m.attempts) for m in delivered] == [(ids[0], 2), (ids[1], 1)]
    assert fake_clock.time() == start
    assert {m.state for m in await outbox2.async_list(kind=KIND)} == {MessageState.DELIVERED}
