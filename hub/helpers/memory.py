"""Process memory: keep glibc's allocator from holding on to what numpy frames freed.

Frames (thermal 640x512, ANPR 1280x720) are allocated and freed many times a second by the executor threads
and the worker processes. glibc gives each thread its own malloc arena and, after the first large free,
raises its mmap threshold up to 32 MiB, so freed frames stay in arenas that are never returned: on the Ceuta
site that was ~100 MiB per process for nothing. `limit_malloc_arenas()` caps the arenas at 2 and fixes the
mmap threshold at 256 KiB (large buffers are mapped and unmapped, small ones stay in the arenas), in this
process through mallopt(3) and in the processes it starts later through glibc's environment variables.
A value already in the environment wins; on a C library without mallopt it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

__all__ = ["ARENA_MAX", "MMAP_THRESHOLD", "limit_malloc_arenas"]

_LOGGER = logging.getLogger(__name__)

ARENA_MAX = 2
MMAP_THRESHOLD = 256 * 1024
_M_MMAP_THRESHOLD = -3  # mallopt parameters (malloc.h)
_M_ARENA_MAX = -8
_ENV = {"MALLOC_ARENA_MAX": (_M_ARENA_MAX, ARENA_MAX), "MALLOC_MMAP_THRESHOLD_": (_M_MMAP_THRESHOLD, MMAP_THRESHOLD)}


def limit_malloc_arenas() -> dict[str, int]:
    """Apply the limits to this process and its future children; returns what was applied here."""
    applied: dict[str, int] = {}
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        _LOGGER.debug("No mallopt in this C library; allocator left as it is")
        return applied
    for name, (param, default) in _ENV.items():
        value = os.environ.setdefault(name, str(default))
        try:
            number = int(value)
        except ValueError:
            _LOGGER.warning("Ignoring %s=%r: not a number", name, value)
            continue
        if mallopt(param, number) == 1:
            applied[name] = number
    return applied
