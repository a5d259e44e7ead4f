"""Incidents shared between two centres' hubs over the real broker: a shared incident appears at the peer with its
timeline, read-only; unsharing withdraws it; an incident not shared never leaves; both sides audit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.core import Context
from hub.exceptions import ServiceValidationError
from hub.recorder.models import Base
from integrations import incident
from tests.migrations import schema_differences

from .conftest import LOCAL, NATIONAL, Centre, CentreFactory, wait_connected, wait_until


async def _incidents(centre: Centre) -> incident.IncidentManager:
    assert await incident.async_setup(centre.hub, {})
    manager = incident.get_incidents(centre.hub)
    assert manager is not None
    return manager


def _peer_incident(centre: Centre, incident_id: str) -> dict[str, Any] | None:
    return centre.federation.incidents.incidents.get(incident_id)


async def test_shared_incident_appears_at_the_peer_with_its_timeline_and_is_withdrawn(
        centres: CentreFactory) -> None:
    local, national = await centres(LOCAL), await centres(NATIONAL)
    await wait_connected(local, national)
    ours, theirs = await _incidents(local), await _incidents(national)
    context = Context(user_id="op_local")

    private = await ours.async_create("Robo en comisaría: interno", context)
    shared = await ours.async_create("Incendio en Monte Hacho", context, shared=True)
    incident_id = shared["incident_id"]
    await wait_until(lambda: _peer_incident(national, incident_id) is not None, what="the shared incident")
    seen = _peer_incident(national, incident_id)
    assert seen is not None
    assert seen["title"] == "Incendio en Monte Hacho" and seen["origin_site"] == LOCAL
    assert seen["centre"] == LOCAL and seen["centre_name"] == "Policía Local"
    assert [item["kind"] for item in seen["timeline"]] == ["created"]
    assert _peer_incident(national, private["incident_id"]) is None  # never left its centre

    # timeline updates follow
    await ours.async_add_item(incident_id, "note", context, text="Dotación de bomberos en camino")
    await wait_until(lambda: len((_peer_incident(national, incident_id) or {}).get("timeline", [])) == 2,
                     what="the note at the peer")
    seen = _peer_incident(national, incident_id)
    assert seen is not None and seen["timeline"][-1]["text"] == "Dotación de bomberos en camino"

    # read-only at the peer: its incident services do not know it
    with pytest.raises(ServiceValidationError):
        await national.hub.services.async_call("incident", "add_note", {"incident_id": incident_id, "text": "x"},
                                               blocking=True)
    assert await theirs.async_get(incident_id) is None

    # unsharing withdraws it, and the peer forgets it (also across a restart)
    await ours.async_add_item(incident_id, "update", context, text="shared: False", changes={"shared": False})
    await wait_until(lambda: _peer_incident(national, incident_id) is None, what="the withdrawal")
    shared_audit = await local.audit("federation_incident_shared")
    assert [(row["target"], row["user_id"]) for row in shared_audit] == [(f"incident/{incident_id}", "op_local")]
    assert [row["target"] for row in await local.audit("federation_incident_withdrawn")] == [
        f"incident/{incident_id}"]
    assert [row["target"] for row in await national.audit("federation_incident_received")] == [
        f"{LOCAL}/incident/{incident_id}"]
    assert [row["target"] for row in await national.audit("federation_incident_removed")] == [
        f"{LOCAL}/incident/{incident_id}"]
    changes = [e.data["change"] for e in national.remote_events("incident_changed")]
    assert changes == ["shared", "updated", "withdrawn"]


async def test_peer_keeps_shared_incidents_across_a_restart(centres: CentreFactory) -> None:
    local, national = await centres(LOCAL), await centres(NATIONAL)
    await wait_connected(local, national)
    ours = await _incidents(local)
    shared = await ours.async_create("Vehículo sospechoso en el puerto", Context(), shared=True)
    await wait_until(lambda: _peer_incident(national, shared["incident_id"]) is not None, what="the incident")
    await national.restart()
    seen = _peer_incident(national, shared["incident_id"])
    assert seen is not None and seen["title"] == "Vehículo sospechoso en el puerto"


async def test_a_peer_that_joins_late_gets_the_shared_incidents(centres: CentreFactory) -> None:
    local = await centres(LOCAL)
    ours = await _incidents(local)
    shared = await ours.async_create("Incendio forestal en Benzú", Context(), shared=True)
    await ours.async_create("Asunto interno", Context())
    await wait_until(lambda: local.federation.publisher.published_seq >= 1, what="the incident published")
    national = await centres(NATIONAL)  # not listening then: it asks for a snapshot and for what it missed
    await wait_connected(local, national)
    await wait_until(lambda: _peer_incident(national, shared["incident_id"]) is not None,
                     what="the incident at the late peer")
    assert [i["title"] for i in national.federation.incidents.open_incidents()] == ["Incendio forestal en Benzú"]


def test_revision_0920_creates_the_remote_incident_table_as_modelled(tmp_path: Path) -> None:
    from integrations.federation import models as _federation_models  # noqa: F401 - their tables on Base

    assert schema_differences(tmp_path, "federation_remote_incident") == []
    assert "federation_remote_incident" in Base.metadata.tables
