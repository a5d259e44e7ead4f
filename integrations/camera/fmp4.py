"""Fragmented MP4 as ffmpeg writes it to a pipe: split into the init segment (ftyp + moov) and media
fragments (moof + mdat), each marked whether its first sample is a keyframe (a sync sample: where a
live viewer may join or be dropped to), and the MSE codec string (`avc1.PPCCLL`) read from the init
segment.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Fmp4Error", "Fmp4Splitter", "Piece", "codec_string", "starts_with_keyframe"]

_HEADER = 8
MAX_BOX = 64 * 1024 * 1024  # a box larger than this in a live stream is garbage, not video
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}
_NON_SYNC = 0x10000  # sample_is_non_sync_sample in ISO BMFF sample flags
_SAMPLE_ENTRY = 78  # payload bytes of a VisualSampleEntry before its child boxes (avcC)


class Fmp4Error(ValueError):
    """The byte stream is not fragmented MP4 (the message says where)."""


@dataclass(frozen=True, slots=True)
class Piece:
    """The init segment (`init=True`) or one media fragment (moof + mdat); `keyframe`: it starts with one."""

    init: bool
    data: bytes
    keyframe: bool = False


def _boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, box end) of each box in data[start:end]."""
    end = len(data) if end is None else end
    pos = start
    while pos + _HEADER <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = _HEADER
        if size == 1:
            if pos + 16 > end:
                return
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            header = 16
        if size < header or pos + size > end:
            return
        yield kind, pos + header, pos + size
        pos += size


def codec_string(init: bytes) -> str:
    """The RFC 6381 codec of the init segment's first video track (`avc1.64001f`); Fmp4Error otherwise."""

    def find(start: int, end: int) -> str | None:
        for kind, body, box_end in _boxes(init, start, end):
            if kind in _CONTAINERS:
                found = find(body, box_end)
                if found:
                    return found
            elif kind == b"stsd":
                for entry, entry_body, entry_end in _boxes(init, body + 8, box_end):
                    if entry in (b"avc1", b"avc3"):
                        for child, child_body, _ in _boxes(init, entry_body + _SAMPLE_ENTRY, entry_end):
                            if child == b"avcC" and child_body + 4 <= len(init):
                                profile, compat, level = init[child_body + 1:child_body + 4]
                                return f"{entry.decode()}.{profile:02x}{compat:02x}{level:02x}"
                    raise Fmp4Error(f"the stream's codec {entry.decode(errors='replace')!r} is not H.264 "
                                    "(browsers play H.264 live without transcoding)")
        return None

    codec = find(0, len(init))
    if codec is None:
        raise Fmp4Error("no H.264 video track (avcC) in the init segment")
    return codec


def _first_sample_flags(data: bytes, body: int, end: int) -> int | None:
    """The flags of a traf's first sample: trun's first_sample_flags or its first sample's flags, else
    tfhd's default_sample_flags; None when none is written."""
    default: int | None = None
    for kind, start, _box_end in _boxes(data, body, end):
        if kind == b"tfhd" and start + 8 <= end:
            flags = int.from_bytes(data[start + 1:start + 4], "big")
            pos = start + 8 + (8 if flags & 0x1 else 0) + sum(4 for bit in (0x2, 0x8, 0x10) if flags & bit)
            if flags & 0x20 and pos + 4 <= end:
                default = struct.unpack_from(">I", data, pos)[0]
        elif kind == b"trun" and start + 8 <= end:
            flags = int.from_bytes(data[start + 1:start + 4], "big")
            pos = start + 8 + (4 if flags & 0x1 else 0)
            if flags & 0x4 and pos + 4 <= end:
                return int(struct.unpack_from(">I", data, pos)[0])
            pos += sum(4 for bit in (0x100, 0x200) if flags & bit)
            if flags & 0x400 and pos + 4 <= end:
                return int(struct.unpack_from(">I", data, pos)[0])
    return default


def starts_with_keyframe(fragment: bytes) -> bool:
    """Whether a moof + mdat fragment's first video sample is a sync sample (a keyframe)."""
    for kind, body, end in _boxes(fragment):
        if kind != b"moof":
            continue
        for child, child_body, child_end in _boxes(fragment, body, end):
            if child == b"traf":
                flags = _first_sample_flags(fragment, child_body, child_end)
                return flags is not None and not flags & _NON_SYNC
    return False


class Fmp4Splitter:
    """Feed pipe bytes; get whole pieces: the init segment once, then one piece per moof + mdat."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._init: list[bytes] = []
        self._fragment: list[bytes] = []
        self.init_done = False

    def feed(self, chunk: bytes) -> list[Piece]:
        """Every piece completed by `chunk`; Fmp4Error on a box that cannot be fragmented MP4."""
        self._buffer += chunk
        pieces: list[Piece] = []
        while len(self._buffer) >= _HEADER:
            size, kind = struct.unpack_from(">I4s", self._buffer, 0)
            if size == 1:
                if len(self._buffer) < 16:
                    break
                size = struct.unpack_from(">Q", self._buffer, 8)[0]
            if size < _HEADER or size > MAX_BOX or not kind.isalpha():
                raise Fmp4Error(f"bad box {kind!r} of {size} bytes at the start of the buffer")
            if len(self._buffer) < size:
                break
            box = bytes(self._buffer[:size])
            del self._buffer[:size]
            pieces.extend(self._box(kind, box))
        return pieces

    def _box(self, kind: bytes, box: bytes) -> list[Piece]:
        if not self.init_done:
            self._init.append(box)
            if kind == b"moov":
                self.init_done = True
                return [Piece(True, b"".join(self._init))]
            return []
        if kind == b"moof" and self._fragment:
            self._fragment = []  # a moof without its mdat: drop it
        self._fragment.append(box)
        if kind == b"mdat":
            data, self._fragment = b"".join(self._fragment), []
            return [Piece(False, data, starts_with_keyframe(data))]
        return []
