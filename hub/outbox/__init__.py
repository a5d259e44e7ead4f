"""A durable, transactional outbox in the recorder database, with a relay that retries until delivered.

Producers::

    outbox = async_get_outbox(hub)
    await outbox.async_enqueue(NewMessage(destination="fire_brigade", kind="agency_webhook", payload=body))

or, to store messages in the same commit as other writes, inside your own database job::

    def _job(session):
        session.add(...)                                   # your rows
        add_messages(session, [NewMessage(...)], now)      # the messages they cause
    await get_recorder(hub).async_db_job(_job)
    outbox.wake()

Consumers register a deliverer per kind: ``outbox.async_register(kind, deliver, policy=RetryPolicy(...),
on_report=..., ordered=False)`` where ``await deliver(message)`` returns a ``DeliveryResult``
(delivered, retry with an optional Retry-After, dead, or pause the destination). Received message
ids can be remembered against replays with ``await outbox.async_remember_seen(scope, id, ttl)``.
"""

from __future__ import annotations

from ..const import EVENT_HUB_STOP
from ..core import Event, Hub, HubKey, callback
from ..recorder import get_recorder
from .const import MessageState
from .message import DeliveryReport, DeliveryResult, NewMessage, OutboxMessage, Outcome, RetryPolicy
from .relay import Deliver, Outbox, PolicyFor, ReportListener
from .store import add_messages, remember_seen

__all__ = [
    "DATA_OUTBOX",
    "Deliver",
    "DeliveryReport",
    "DeliveryResult",
    "MessageState",
    "NewMessage",
    "Outbox",
    "OutboxMessage",
    "Outcome",
    "PolicyFor",
    "ReportListener",
    "RetryPolicy",
    "add_messages",
    "async_get_outbox",
    "remember_seen",
]

DATA_OUTBOX: HubKey[Outbox] = HubKey("outbox")


@callback
def async_get_outbox(hub: Hub) -> Outbox:
    """The hub's outbox, started on first use and stopped on `hub_stop`.

    Raises HubError when the recorder is not set up: the outbox lives in its database.
    """
    outbox: Outbox | None = hub.data.get(DATA_OUTBOX)
    if outbox is not None:
        return outbox
    get_recorder(hub)  # raises HubError without a recorder
    outbox = hub.data[DATA_OUTBOX] = Outbox(hub)

    async def _async_stop(_event: Event) -> None:
        await outbox.async_stop()

    hub.bus.async_listen_once(EVENT_HUB_STOP, _async_stop)
    outbox.async_start()
    return outbox
