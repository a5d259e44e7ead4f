"""A supervised external process (ffmpeg recorders, the simulator's RTSP server): restart with Backoff.

`SupervisedProcess` starts a command, hands every stdout and stderr line to callbacks on the event
loop, tells `on_exit` when the process ends (so the owner can record a gap and fire an event: a stop
is never silent), and starts it again after `Backoff.delay()`; `mark_healthy()` resets the backoff
once the owner saw useful output. The child cannot outlive the hub: it gets SIGKILL when the hub's
process dies (Linux prctl PR_SET_PDEATHSIG), and its stdin is a pipe only the hub holds. It runs in
its own session, so a Ctrl-C at the terminal reaches the hub only, which then stops it in order. `kill()`
ends the current run (the watchdog's way out of a hung stream); `async_stop()` ends it for good.

When the shared process-worker harness (hub/helpers) grows support for external commands, this
module's callers can move onto it: the interface is start, lines in, exit out, stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import re
import signal
import sys
from collections.abc import Callable, Sequence

from hub.core import Hub
from hub.helpers.backoff import Backoff

__all__ = ["SupervisedProcess", "async_end_process", "redact_userinfo"]

_LOGGER = logging.getLogger(__name__)
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


_USERINFO = re.compile(r"://[^/@\s]+@")


async def async_end_process(proc: asyncio.subprocess.Process | None, task: asyncio.Task[None] | None,
                            timeout: float) -> None:
    """Terminate a child and wait for the task that reads it; kill both after `timeout` seconds."""
    if proc is not None and proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
    if task is None:
        return
    try:
        await asyncio.wait_for(asyncio.shield(task), timeout)
    except TimeoutError:
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def redact_userinfo(text: str) -> str:
    """`text` with the user info of any URL in it replaced (ffmpeg repeats the URL in its errors)."""
    return _USERINFO.sub("://***@", text)


LineCallback = Callable[[str], None]
ExitCallback = Callable[[int | None, str], None]


class SupervisedProcess:
    """One external command kept running until stopped."""

    def __init__(self, hub: Hub, name: str, command: Callable[[], Sequence[str]], *,
                 on_stdout: LineCallback | None = None, on_stderr: LineCallback | None = None,
                 on_start: Callable[[], None] | None = None, on_exit: ExitCallback | None = None,
                 backoff: Backoff | None = None, stop_timeout: float = 5.0) -> None:
        self.hub = hub
        self.name = name
        self._command = command
        self._on_stdout = on_stdout
        self._on_stderr = on_stderr
        self._on_start = on_start
        self._on_exit = on_exit
        self.backoff = backoff or Backoff(initial=1.0, maximum=60.0)
        self._stop_timeout = stop_timeout
        self._proc: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.starts = 0
        self.last_error = ""

    @property
    def pid(self) -> int | None:
        """The running child's pid, or None."""
        return self._proc.pid if self._proc is not None and self._proc.returncode is None else None

    def start(self) -> None:
        """Start supervising (returns at once)."""
        if self._task is None:
            self._stopping = False
            self._task = self.hub.async_create_background_task(self._async_run(), f"process {self.name}")

    def mark_healthy(self) -> None:
        """The process did useful work: the next restart waits the initial delay again."""
        self.backoff.reset()

    def kill(self) -> None:
        """End the current run (it is restarted unless stopping)."""
        if self._proc is not None and self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()

    async def async_stop(self) -> None:
        """Ask the process to finish (SIGTERM: ffmpeg closes its file), kill it after a timeout, stop supervising."""
        self._stopping = True
        proc = self._proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), self._stop_timeout)
            except TimeoutError:
                self.kill()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(self._task), self._stop_timeout + 2)
            if not self._task.done():
                self._task.cancel()
            self._task = None

    async def _async_pump(self, stream: asyncio.StreamReader | None, callback: LineCallback | None,
                          keep: bool) -> None:
        if stream is None:
            return
        while line := await stream.readline():
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            if keep and text and "=" not in text:
                self.last_error = redact_userinfo(text)[-300:]
            if callback is not None:
                try:
                    callback(text)
                except Exception:  # a failing callback must not stop the pump
                    _LOGGER.exception("%s: output handler failed", self.name)

    async def _async_run(self) -> None:
        while not self._stopping:
            returncode: int | None = None
            try:
                self._proc = await asyncio.create_subprocess_exec(
                    *self._command(), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE, preexec_fn=_die_with_parent, start_new_session=True)
            except OSError as err:
                self.last_error = str(err)
                _LOGGER.error("%s: cannot start: %s", self.name, err)
            else:
                self.starts += 1
                if self._on_start is not None:
                    self._on_start()
                await asyncio.gather(self._async_pump(self._proc.stdout, self._on_stdout, False),
                                     self._async_pump(self._proc.stderr, self._on_stderr, True))
                returncode = await self._proc.wait()
            if self._on_exit is not None:
                try:
                    self._on_exit(returncode, self.last_error)
                except Exception:
                    _LOGGER.exception("%s: exit handler failed", self.name)
            if self._stopping:
                return
            delay = self.backoff.delay()
            _LOGGER.warning("%s exited (%s: %s); restarting in %.1f s", self.name, returncode,
                            self.last_error or "no message", delay)
            await self.hub.clock.sleep(delay)
