"""Polling one Modbus hub: reads grouped per slave into contiguous ranges, availability per slave."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hub.core import CALLBACK_TYPE, Hub, callback
from hub.exceptions import DeviceUnavailable
from hub.helpers.event import async_track_time_interval

from .client import ModbusClient, ModbusDeviceError
from .const import MAX_BITS_PER_READ, MAX_REGISTERS_PER_READ, InputType
from .entity import ModbusEntity

__all__ = ["ModbusPoller", "ReadBlock", "plan_reads"]

_LOGGER = logging.getLogger(__name__)


@dataclass(slots=True)
class ReadBlock:
    """One request: `count` values at `address` of one table of one slave, and who gets which part."""

    slave: int
    input_type: InputType
    address: int
    count: int
    members: list[ModbusEntity] = field(default_factory=list)

    @property
    def end(self) -> int:
        """One past the last address read."""
        return self.address + self.count


def plan_reads(entities: Iterable[ModbusEntity]) -> list[ReadBlock]:
    """Group entities into the fewest requests: per slave and table, contiguous or overlapping ranges
    merge while the request stays within the protocol's limit. Gaps are never bridged: a device may
    answer 'illegal address' for registers it does not have."""
    by_table: dict[tuple[int, InputType], list[ModbusEntity]] = defaultdict(list)
    for entity in entities:
        spec = entity.read_spec
        by_table[(spec.slave, spec.input_type)].append(entity)
    blocks: list[ReadBlock] = []
    for (slave, input_type), members in sorted(by_table.items()):
        limit = MAX_BITS_PER_READ if input_type.is_bits else MAX_REGISTERS_PER_READ
        members.sort(key=lambda e: (e.read_spec.address, e.read_spec.count))
        current: ReadBlock | None = None
        for entity in members:
            spec = entity.read_spec
            end = spec.address + spec.count
            merged_end = max(end, current.end) if current is not None else end
            if current is not None and spec.address <= current.end and merged_end - current.address <= limit:
                current.count = merged_end - current.address
                current.members.append(entity)
                continue
            current = ReadBlock(slave, input_type, spec.address, spec.count, [entity])
            blocks.append(current)
    return blocks


class ModbusPoller:
    """Polls the entities of one hub. One timer per scan interval in use; every poll reads each slave's
    blocks in turn. A slave that does not answer makes all its entities unavailable (logged once) and
    its remaining blocks are skipped for that poll; the first good answer brings them back."""

    def __init__(self, hub: Hub, client: ModbusClient, entities: list[ModbusEntity]) -> None:
        self.hub = hub
        self.client = client
        self.entities = entities
        self._by_slave: dict[int, list[ModbusEntity]] = defaultdict(list)
        self._groups: dict[float, list[ReadBlock]] = {}
        for entity in entities:
            entity.poller = self
            self._by_slave[entity.read_spec.slave].append(entity)
        by_interval: dict[float, list[ModbusEntity]] = defaultdict(list)
        for entity in entities:
            by_interval[entity.scan_interval].append(entity)
        for interval, members in by_interval.items():
            self._groups[interval] = plan_reads(members)
        self._slave_down: dict[int, bool] = {}
        self._bad_blocks: set[tuple[int, InputType, int, int]] = set()
        self._removers: list[CALLBACK_TYPE] = []
        self.polls = 0

    @property
    def blocks(self) -> dict[float, list[ReadBlock]]:
        """The read plan per scan interval (for diagnostics)."""
        return self._groups

    @callback
    def async_start(self) -> None:
        """Start the interval timers and schedule a first poll of everything now."""
        for interval, blocks in self._groups.items():
            tick = self._make_tick(blocks)
            self._removers.append(async_track_time_interval(self.hub, tick, interval))
            self.hub.async_create_task(tick(self.hub.clock.now()), f"modbus {self.client.name} first poll")

    def _make_tick(self, blocks: list[ReadBlock]) -> Callable[[datetime], Coroutine[Any, Any, None]]:
        running = False

        async def _tick(_now: datetime) -> None:
            nonlocal running
            if running:  # the previous poll is still waiting on a slow device: skip, don't pile up
                _LOGGER.debug("Modbus hub %s: poll still running, skipping one", self.client.name)
                return
            running = True
            try:
                await self.async_poll(blocks)
            finally:
                running = False

        return _tick

    @callback
    def async_stop(self) -> None:
        """Cancel the timers."""
        while self._removers:
            self._removers.pop()()

    async def async_refresh(self, entities: Iterable[ModbusEntity]) -> None:
        """Read some entities now (after a write), outside the schedule."""
        await self.async_poll(plan_reads(entities))

    async def async_poll(self, blocks: list[ReadBlock]) -> None:
        """Read every block; one slave's failure never stops the others."""
        self.polls += 1
        failed: set[int] = set()
        for block in blocks:
            if block.slave in failed:
                continue
            try:
                values = await self.client.async_read(block.slave, block.input_type, block.address,
                                                      block.count)
            except DeviceUnavailable as err:
                failed.add(block.slave)
                self._slave_failed(block.slave, err)
                continue
            except ModbusDeviceError as err:
                self._block_failed(block, err)
                self._slave_ok(block.slave)
                continue
            self._slave_ok(block.slave)
            self._bad_blocks.discard((block.slave, block.input_type, block.address, block.count))
            for entity in block.members:
                offset = entity.read_spec.address - block.address
                entity.async_update_values(values[offset : offset + entity.read_spec.count])

    def _slave_failed(self, slave: int, err: Exception) -> None:
        if not self._slave_down.get(slave):
            _LOGGER.warning("Modbus hub %s: slave %s stopped answering: %s", self.client.name, slave, err)
            self._slave_down[slave] = True
        for entity in self._by_slave[slave]:
            entity.async_set_unavailable()

    def _slave_ok(self, slave: int) -> None:
        if self._slave_down.get(slave):
            _LOGGER.info("Modbus hub %s: slave %s answers again", self.client.name, slave)
        self._slave_down[slave] = False

    def _block_failed(self, block: ReadBlock, err: ModbusDeviceError) -> None:
        key = (block.slave, block.input_type, block.address, block.count)
        if key not in self._bad_blocks:
            _LOGGER.error("%s; entities %s are unavailable", err,
                          ", ".join(e.entity_id for e in block.members))
            self._bad_blocks.add(key)
        for entity in block.members:
            entity.async_set_unavailable()
