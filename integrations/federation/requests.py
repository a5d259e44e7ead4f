"""Requests between centres: alarm actions for the owner to apply, and actuation of the owner's devices."""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from hub.audit import audit_record, get_audit
from hub.core import Context, callback
from hub.exceptions import HubError, ServiceValidationError, Unauthorized
from hub.helpers.ids import uuid7_str

from .const import (
    ACT_DONE,
    ACT_EXPIRED,
    ACT_FAILED,
    ACT_PENDING,
    ACT_REFUSED,
    AUDIT_ACTUATION_REQUEST,
    AUDIT_ACTUATION_REQUESTED,
    AUDIT_ACTUATION_RESPONSE,
    AUDIT_ACTUATION_RESULT,
    AUDIT_ALARM_REQUEST,
    AUDIT_ALARM_REQUEST_APPLIED,
    DIRECTION_IN,
    DIRECTION_OUT,
    EVENT_ACTUATION_REQUESTED,
    EVENT_ACTUATION_RESPONDED,
    EVENT_ACTUATION_RESULT,
    EVENT_REQUEST_RESULT,
    TYPE_ACTUATION_REQUEST,
    TYPE_ALARM_REQUEST,
    TYPE_RESPONSE,
)
from .envelope import Envelope, directed_topic
from .store import Outgoing, get_actuation, insert_outgoing_request, list_actuations, update_actuation

if TYPE_CHECKING:
    from .manager import FederationManager

__all__ = ["Requests"]

_LOGGER = logging.getLogger(__name__)


class Requests:
    """Both sides of every request. The requester stores and sends; the owner decides and answers;
    both audit. Alarm state stays with the owner: a peer's acknowledgement is applied there, and
    the changed alarm comes back like any other update."""

    def __init__(self, manager: FederationManager) -> None:
        self.manager = manager
        self.hub = manager.hub

    def _send_to(self, peer: str, kind: str, payload: dict[str, Any], correlation_id: str | None = None) -> Outgoing:
        manager = self.manager
        return Outgoing(kind, directed_topic(manager.prefix, manager.site, peer, kind), payload, to=peer,
                        correlation_id=correlation_id)

    # ---- alarms: requester

    async def async_alarm_action(self, alarm_id: str, action: str, note: str | None,
                                 context: Context) -> dict[str, Any]:
        """Ask the centre that owns a remote alarm to apply `action`; the answer comes as an event."""
        alarm = self.manager.remote.alarms.get(alarm_id)
        if alarm is None:
            raise ServiceValidationError(f"No alarm {alarm_id!r} from a peer centre (local alarms: use alarm.{action})",
                                         path=["alarm_id"])
        owner = alarm["origin_site"]
        request_id = uuid7_str()
        payload = {"request_id": request_id, "alarm_id": alarm_id, "action": action, "note": note,
                   "requested_by": context.user_id, "requested_centre": context.centre}
        await self.manager.publisher.async_send([self._send_to(owner, TYPE_ALARM_REQUEST, payload, alarm_id)])
        audit_record(self.hub, AUDIT_ALARM_REQUEST, context=context, target=f"{owner}/alarm/{alarm_id}",
                     outcome="sent", data={"request_id": request_id, "action": action, "owner": owner})
        _LOGGER.info("Federation: asked %s to %s alarm %s", owner, action, alarm_id)
        return {"request_id": request_id, "site": owner, "alarm_id": alarm_id, "action": action}

    # ---- alarms: owner

    @callback
    def on_alarm_request(self, envelope: Envelope) -> None:
        """A peer asks us to act on one of our alarms: apply it as that peer's user, answer either way."""
        payload = envelope.payload
        alarm_id, action = str(payload.get("alarm_id")), str(payload.get("action"))
        user = payload.get("requested_by")
        context = Context(user_id=f"{envelope.origin}:{user}" if user else envelope.origin,
                          centre=payload.get("requested_centre") or envelope.origin)
        error: str | None = None
        try:
            self._apply_alarm_action(envelope.origin, alarm_id, action, payload.get("note"), context)
        except (ServiceValidationError, HubError) as err:
            error = str(err)
        audit_record(self.hub, AUDIT_ALARM_REQUEST_APPLIED, context=context, target=f"alarm/{alarm_id}",
                     outcome="ok" if error is None else "refused",
                     data={"peer": envelope.origin, "action": action, "request_id": payload.get("request_id"),
                           "error": error})
        response = {"request_type": TYPE_ALARM_REQUEST, "request_id": payload.get("request_id"),
                    "alarm_id": alarm_id, "action": action, "ok": error is None, "error": error}
        self.hub.async_create_task(self._async_answer_stored(envelope.origin, response, alarm_id),
                                   "federation alarm answer")

    async def _async_answer_stored(self, peer: str, response: dict[str, Any], alarm_id: str) -> None:
        """Answer a peer's alarm request once the change and its audit entry are committed."""
        alarms, audit = self.manager.alarm_manager(), get_audit(self.hub)
        try:
            if alarms is not None:
                await alarms.async_wait_stored()
            if audit is not None:
                await audit.async_wait_written()
        except HubError as err:  # applied, not stored yet: the peer is told so
            response = {**response, "ok": False, "error": str(err)}
        self.manager.publisher.enqueue(self._send_to(peer, TYPE_RESPONSE, response, alarm_id))

    def _apply_alarm_action(self, peer: str, alarm_id: str, action: str, note: Any, context: Context) -> None:
        manager = self.manager.alarm_manager()
        if manager is None:
            raise HubError("alarms are not set up in this centre")
        alarm = manager.get(alarm_id)
        if alarm is None or not self.manager.sharing.shares_alarm(alarm.as_dict()):
            raise ServiceValidationError(f"No shared active alarm {alarm_id!r} in {self.manager.site}")
        text = note if isinstance(note, str) and note else None
        if action == "acknowledge":
            manager.acknowledge(alarm_id, context, text)
        elif action == "start":
            manager.start(alarm_id, context, text)
        elif action == "resolve":
            manager.resolve(alarm_id, context, text)
        elif action == "add_note":
            if text is None:
                raise ServiceValidationError("add_note needs a note")
            manager.add_note(alarm_id, text, context)
        else:
            raise ServiceValidationError(f"{peer} may not {action!r} alarms")
        _LOGGER.info("Federation: %s of alarm %s applied for %s", action, alarm_id, peer)

    # ---- actuation: requester

    async def async_request_actuation(self, entity_id: str, site: str | None, service: str, data: dict[str, Any],
                                      reason: str, context: Context) -> dict[str, Any]:
        """Ask the owning centre to run `service` on its `entity_id` (our mirror's id or the owner's own)."""
        manager = self.manager
        mirrored = manager.remote.states.get(entity_id)
        if mirrored is not None:
            owner, target = mirrored["origin_site"], mirrored["origin_entity_id"]
        elif site is not None:
            owner, target = site, entity_id
        else:
            raise ServiceValidationError(f"{entity_id} is not a peer's entity here; name the owning centre in 'site'",
                                         path=["site"])
        if owner not in manager.peers:
            raise ServiceValidationError(f"{owner!r} is not a peer centre (peers: {', '.join(manager.peers)})",
                                         path=["site"])
        now = self.hub.clock.time()
        request_id = uuid7_str()
        record = {"request_id": request_id, "direction": DIRECTION_OUT, "peer": owner, "entity_id": target,
                  "service": service, "data": data, "reason": reason, "requested_by": context.user_id,
                  "requested_centre": context.centre, "state": ACT_PENDING, "created_ts": now,
                  "expires_ts": now + manager.actuation_timeout}
        payload = {key: record[key] for key in ("request_id", "entity_id", "service", "data", "reason",
                                                "requested_by", "requested_centre", "expires_ts")}
        await manager.publisher.async_send([self._send_to(owner, TYPE_ACTUATION_REQUEST, payload, request_id)],
                                           also=partial(insert_outgoing_request, request=record))
        audit_record(self.hub, AUDIT_ACTUATION_REQUEST, context=context, target=f"{owner}/{target}",
                     outcome=ACT_PENDING, data={"request_id": request_id, "service": service, "reason": reason})
        _LOGGER.info("Federation: asked %s to run %s on %s (%s)", owner, service, target, request_id)
        return {"request_id": request_id, "site": owner, "entity_id": target, "service": service,
                "state": ACT_PENDING}

    # ---- actuation: owner

    @callback
    def on_actuation_request(self, envelope: Envelope, record: dict[str, Any] | None) -> None:
        """A peer asks us to actuate: refused at once if the policy does not allow it, else it waits for an operator."""
        if record is None:
            return  # a request id we already have
        peer, entity_id, service = record["peer"], record["entity_id"], record["service"]
        domain, _, name = service.partition(".")
        problem: str | None = None
        if not self.manager.actuation.allows(peer, entity_id, service):
            problem = f"{self.manager.site} does not let {peer} run {service} on {entity_id}"
        elif self.hub.states.get(entity_id) is None:
            problem = f"{self.manager.site} has no entity {entity_id}"
        elif not self.hub.services.has_service(domain, name):
            problem = f"{self.manager.site} has no service {service}"
        context = Context(user_id=f"{peer}:{record['requested_by']}" if record.get("requested_by") else peer,
                          centre=record.get("requested_centre") or peer)
        audit_record(self.hub, AUDIT_ACTUATION_REQUESTED, context=context, target=entity_id,
                     outcome="refused" if problem else ACT_PENDING,
                     data={"request_id": record["request_id"], "peer": peer, "service": service,
                           "reason": record["reason"], "error": problem})
        if problem is not None:
            _LOGGER.warning("Federation: refused %s's request %s: %s", peer, record["request_id"], problem)
            self.hub.async_create_task(self._async_finish(record["request_id"], ACT_REFUSED, None, None, problem),
                                       "federation refuse actuation")
            return
        self.hub.bus.async_fire(EVENT_ACTUATION_REQUESTED, {**record, "origin_site": peer}, context=context)

    async def async_respond(self, request_id: str, approve: bool, note: str | None,
                            context: Context) -> dict[str, Any]:
        """Our operator's answer to a peer's request: run the service (as the operator) or refuse; tell the peer."""
        record = await self.manager.outbox.async_db_job(partial(get_actuation, request_id=request_id))
        if record is None or record["direction"] != DIRECTION_IN:
            raise ServiceValidationError(f"No request {request_id!r} from a peer centre", path=["request_id"])
        if record["state"] != ACT_PENDING:
            raise ServiceValidationError(f"Request {request_id} is already {record['state']}", path=["request_id"])
        if self.hub.clock.time() > record["expires_ts"]:
            await self._async_finish(request_id, ACT_EXPIRED, context.user_id, note, "not answered in time")
            raise ServiceValidationError(f"Request {request_id} expired before it was answered", path=["request_id"])
        state, error = ACT_REFUSED, None
        if approve:
            domain, _, service = record["service"].partition(".")
            try:
                data = {**record["data"], "entity_id": record["entity_id"]}
                await self.hub.services.async_call(domain, service, data, blocking=True, context=context.child())
            except Unauthorized:
                raise  # this operator may not; the request waits for one who may
            except (HubError, ValueError) as err:
                state, error = ACT_FAILED, str(err)
            else:
                state = ACT_DONE
        finished = await self._async_finish(request_id, state, context.user_id, note, error, context=context)
        return finished or {**record, "state": state, "error": error}

    async def _async_finish(self, request_id: str, state: str, responded_by: str | None, note: str | None,
                            error: str | None, context: Context | None = None) -> dict[str, Any] | None:
        """Record the outcome of a peer's request and send it the answer, in one commit; fire and audit."""
        manager = self.manager
        now = self.hub.clock.time()
        values = {"state": state, "responded_ts": now, "responded_by": responded_by, "note": note, "error": error}
        updated: dict[str, Any] | None = None

        def _update(session: Session) -> None:
            nonlocal updated
            updated = update_actuation(session, request_id, DIRECTION_IN, values)
            if updated is None:
                raise _AlreadyAnswered()

        record = await manager.outbox.async_db_job(partial(get_actuation, request_id=request_id))
        if record is None:
            return None
        response = {"request_type": TYPE_ACTUATION_REQUEST, "request_id": request_id, "entity_id": record["entity_id"],
                    "service": record["service"], "state": state, "responded_ts": now,
                    "responded_by": f"{manager.site}:{responded_by}" if responded_by else manager.site,
                    "note": note, "error": error, "ok": state == ACT_DONE}
        try:
            await manager.publisher.async_send([self._send_to(record["peer"], TYPE_RESPONSE, response, request_id)],
                                               also=_update)
        except _AlreadyAnswered:
            raise ServiceValidationError(f"Request {request_id} was answered meanwhile", path=["request_id"]) from None
        assert updated is not None
        audit_record(self.hub, AUDIT_ACTUATION_RESPONSE, context=context, user_id=responded_by,
                     target=record["entity_id"], outcome=state,
                     data={"request_id": request_id, "peer": record["peer"], "service": record["service"],
                           "note": note, "error": error})
        self.hub.bus.async_fire(EVENT_ACTUATION_RESPONDED, {**updated, "origin_site": record["peer"]},
                                context=context)
        _LOGGER.info("Federation: %s's request %s is %s", record["peer"], request_id, state)
        return updated

    async def async_expire(self) -> int:
        """Answer peers' requests nobody answered in time with `expired`; returns how many."""
        now = self.hub.clock.time()
        pending = await self.manager.outbox.async_db_job(partial(list_actuations, state=ACT_PENDING,
                                                                 direction=DIRECTION_IN, limit=1000))
        count = 0
        for record in pending:
            if record["expires_ts"] < now:
                try:
                    await self._async_finish(record["request_id"], ACT_EXPIRED, None, None, "not answered in time")
                    count += 1
                except ServiceValidationError:
                    continue
        # Ours that the owner never answered (it may be unreachable): noted as expired here; a late
        # answer from the owner still replaces that.
        grace = self.manager.peer_timeout
        ours = await self.manager.outbox.async_db_job(partial(list_actuations, state=ACT_PENDING,
                                                              direction=DIRECTION_OUT, limit=1000))
        for record in ours:
            if record["expires_ts"] + grace < now:
                updated = await self.manager.outbox.async_db_job(partial(
                    update_actuation, request_id=record["request_id"], direction=DIRECTION_OUT,
                    values={"state": ACT_EXPIRED, "error": f"{record['peer']} did not answer in time"}))
                if updated is not None:
                    count += 1
                    self.hub.bus.async_fire(EVENT_ACTUATION_RESULT, {**updated, "origin_site": record["peer"]})
        return count

    # ---- answers: requester

    @callback
    def on_response(self, envelope: Envelope, record: dict[str, Any] | None) -> None:
        """The owner answered one of our requests: tell whoever waits, audit actuation results."""
        payload = envelope.payload
        if payload.get("request_type") == TYPE_ACTUATION_REQUEST:
            if record is None:
                return  # not ours, or answered already
            data = {**record, "origin_site": envelope.origin}
            audit_record(self.hub, AUDIT_ACTUATION_RESULT, user_id=record.get("requested_by"),
                         centre=record.get("requested_centre"), target=f"{envelope.origin}/{record['entity_id']}",
                         outcome=str(record["state"]),
                         data={"request_id": record["request_id"], "service": record["service"],
                               "responded_by": record.get("responded_by"), "error": record.get("error")})
            self.hub.bus.async_fire(EVENT_ACTUATION_RESULT, data)
            _LOGGER.info("Federation: %s answered request %s: %s", envelope.origin, record["request_id"],
                         record["state"])
            return
        if payload.get("request_type") == TYPE_ALARM_REQUEST:
            self.hub.bus.async_fire(EVENT_REQUEST_RESULT, {
                "request_type": TYPE_ALARM_REQUEST, "request_id": payload.get("request_id"),
                "alarm_id": payload.get("alarm_id"), "action": payload.get("action"), "ok": bool(payload.get("ok")),
                "error": payload.get("error"), "origin_site": envelope.origin,
            })
            return
        if payload.get("request_type") == "resend":
            self.manager.on_resend_answer(envelope)


class _AlreadyAnswered(Exception):
    """Raised inside the database job to roll back the response when the request was answered meanwhile."""
