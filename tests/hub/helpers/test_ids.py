"""UUIDv7 ids: layout, order within a millisecond, time read back."""

from __future__ import annotations

import uuid

import pytest

from hub.helpers.ids import Uuid7Generator, uuid7, uuid7_str, uuid7_time


def test_layout_is_rfc_9562_version_7() -> None:
    value = uuid7(1_767_268_800.123)
    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    assert value.int >> 80 == 1_767_268_800_123
    assert uuid7_time(value) == 1_767_268_800.123
    assert uuid7_time(str(value)) == 1_767_268_800.123


def test_ids_sort_in_creation_order_within_one_millisecond() -> None:
    generator = Uuid7Generator()
    ids = [generator.new(1_767_268_800.0) for _ in range(10_000)]  # more than the 12-bit sequence holds
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert [str(i) for i in ids] == sorted(str(i) for i in ids)  # the text form sorts the same
    assert uuid7_time(ids[0]) == 1_767_268_800.0
    assert uuid7_time(ids[-1]) - 1_767_268_800.0 < 0.01  # overflow moves on by single milliseconds


def test_a_small_step_back_keeps_order_a_large_one_follows_the_other_clock() -> None:
    generator = Uuid7Generator()
    first = generator.new(1_767_268_800.500)
    after_ntp_step = generator.new(1_767_268_800.200)
    assert after_ntp_step > first
    other_clock = generator.new(1_700_000_000.0)  # a test's FakeClock, far away
    assert uuid7_time(other_clock) == 1_700_000_000.0


def test_text_form_and_errors() -> None:
    text = uuid7_str()
    assert len(text) == 36 and uuid.UUID(text).version == 7
    with pytest.raises(ValueError, match="not a UUIDv7"):
        uuid7_time(uuid.uuid4())
    with pytest.raises(ValueError):
        uuid7_time("not-a-uuid")
