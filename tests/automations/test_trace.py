"""Trace elements are small slotted records; frozen traces keep their compact array form."""

from __future__ import annotations

import pytest

from automations.trace import RunTrace, TraceElement, expand
from hub.core import Context, Hub


def test_element_is_slotted_and_compacts_trailing_empty_slots() -> None:
    element = TraceElement("action/0", 12)
    with pytest.raises(AttributeError):
        element.extra = 1  # type: ignore[attr-defined]
    assert element.compact() == ["action/0", 12]
    element.variables = {"wait": {"remaining": 1}}
    assert element.compact() == ["action/0", 12, None, None, {"wait": {"remaining": 1}}]


async def test_frozen_trace_round_trip(hub: Hub) -> None:
    trace = RunTrace(hub, "automation.port_gate", Context(), trigger="state of binary_sensor.gate")
    trace.add("trigger/0", variables={"trigger": {"platform": "state", "entity_id": "binary_sensor.gate",
                                                  "description": "state of binary_sensor.gate", "for": None}})
    trace.add("condition/0", True)
    step = trace.add("action/0")
    step.result = {"action": "bollard.raise", "data": {"entity_id": ["bollard.b_07"]}}
    trace.set_error("bollard.raise refused: vehicle on the loop")
    expanded = expand(trace.freeze(), trace.key)
    assert [s["path"] for s in expanded["steps"]] == ["trigger/0", "condition/0", "action/0"]
    # the trigger payload is compacted: no description (the trace has it), no empty keys
    assert expanded["steps"][0]["changed_variables"] == {
        "trigger": {"platform": "state", "entity_id": "binary_sensor.gate"}}
    assert expanded["steps"][1]["result"] is True
    assert expanded["steps"][2]["result"]["action"] == "bollard.raise"
    assert expanded["steps"][2]["error"] == "bollard.raise refused: vehicle on the loop"
    assert expanded["error"] == "bollard.raise refused: vehicle on the loop"
    assert trace.as_dict()["steps"][2]["error"] == expanded["steps"][2]["error"]
