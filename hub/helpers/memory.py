"""Hub process memory: keep glibc's allocator from holding on to what numpy frames freed.

Large numpy buffers freed in the hub's executor threads (the simulated thermal cameras' 640x512 frames, when
they were rendered there; terrain and file frames still are) stay in glibc's per-thread malloc arenas: after
the first large free glibc raises its mmap threshold up to 32 MiB, and those arenas are never given back. On
the Ceuta site that was ~200 MiB of the hub's 430 MiB.

`limit_malloc_arenas()` (called by `hacho run` before any thread starts) caps this process's arenas at 2 and
fixes its mmap threshold at 256 KiB through mallopt(3), so large buffers are unmapped when freed. It costs
the page faults of buffers mapped afresh (~10 ms of CPU per 640x512 frame). The
worker processes are left as they are: the same setting made the fire detector ~45 % slower per glint-heavy
frame there. MALLOC_ARENA_MAX / MALLOC_MMAP_THRESHOLD_ in the environment win; on a C library without
mallopt it does nothing.
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
    """Apply the limits to this process (not to its children); returns what was set."""
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or None).mallopt
    except (OSError, AttributeError):
        _LOGGER.debug("No mallopt in this C library; allocator left as it is")
        return {}
    applied: dict[str, int] = {}
    for name, param, default in (("MALLOC_ARENA_MAX", _M_ARENA_MAX, ARENA_MAX),
                                 ("MALLOC_MMAP_THRESHOLD_", _M_MMAP_THRESHOLD, MMAP_THRESHOLD)):
        value = os.environ.get(name, str(default))
        try:
            number = int(value)
        except ValueError:
            _LOGGER.warning("Ignoring %s=%r: not a number", name, value)
            continue
        if mallopt(param, number) == 1:
            applied[name] = number
    return applied
