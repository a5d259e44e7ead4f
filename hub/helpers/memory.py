"""Process memory: keep glibc's allocator from holding on to what numpy frames freed.

Frames (thermal 640x512, ANPR 1280x720) are allocated and freed many times a second by the hub's executor
threads (the simulated cameras render there) and by the worker processes. glibc gives each thread its own
malloc arena and, after the first large free, raises its mmap threshold up to 32 MiB, so freed frames stay
in arenas that are never returned: on the Ceuta site that was ~200 MiB in the hub.

`limit_malloc_arenas()` caps the arenas at 2, in this process (mallopt(3)) and in the processes it starts
later (MALLOC_ARENA_MAX, which glibc reads at start), and fixes this process's mmap threshold at 256 KiB, so
large buffers are unmapped when freed. The threshold is not passed on: a buffer mapped afresh costs its page
faults, which made the fire detector ~45 % slower per glint-heavy frame in a worker; in the hub it costs
~10 ms of CPU per simulated 640x512 frame (one a second). A value already in the environment wins; on a C
library without mallopt it does nothing.
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


def limit_malloc_arenas() -> dict[str, int]:
    """Apply the limits (arenas here and in future children, the mmap threshold here); returns what was set."""
    arenas = os.environ.setdefault("MALLOC_ARENA_MAX", str(ARENA_MAX))
    threshold = os.environ.get("MALLOC_MMAP_THRESHOLD_", str(MMAP_THRESHOLD))
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or None).mallopt
    except (OSError, AttributeError):
        _LOGGER.debug("No mallopt in this C library; allocator left as it is")
        return {}
    applied: dict[str, int] = {}
    for name, param, value in (("MALLOC_ARENA_MAX", _M_ARENA_MAX, arenas),
                               ("MALLOC_MMAP_THRESHOLD_", _M_MMAP_THRESHOLD, threshold)):
        try:
            number = int(value)
        except ValueError:
            _LOGGER.warning("Ignoring %s=%r: not a number", name, value)
            continue
        if mallopt(param, number) == 1:
            applied[name] = number
    return applied
