"""One harness for every worker process (ANPR cameras, thermal towers, and the workers to come).

`ProcessWorker` runs a function in a spawned process (or a thread, for tests and tiny sites):

- items (frames) go in through a bounded queue that drops the OLDEST item when full, and counts it;
- control messages go in through their own queue and are never dropped;
- the worker's messages come back to `on_message` (on the event loop when a loop is given);
- a worker that dies is restarted with `Backoff`; one that reports `{"type": "fatal"}` is not;
- `stop()` asks it to finish (what is queued, then return) and terminates it if it does not;
- it cannot outlive the hub, even after kill -9: on Linux the child asks for SIGKILL when its parent dies
  (prctl PR_SET_PDEATHSIG), and everywhere it watches a pipe only the hub holds open and exits on its EOF.
  With the workers gone, multiprocessing's resource tracker sees its own pipe close and exits too.
  A thread worker still running when the interpreter exits is told to stop and joined first (`_stop_at_exit`).

The worker function is named as "package.module:function" and called as `function(io, *args)` with a
`WorkerIO`. In a process, only that module (and what it imports) is loaded: the packages above it get
bare module objects instead of running their `__init__` (which would set up the whole integration and
hub), so a worker starts with its own modules only.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import importlib.machinery
import logging
import multiprocessing as mp
import os
import pickle
import queue
import signal
import sys
import threading
import time
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar

from .backoff import Backoff

if TYPE_CHECKING:
    import asyncio

__all__ = [
    "MODE_PROCESS",
    "MODE_THREAD",
    "MSG_EXITED",
    "MSG_FATAL",
    "MSG_MODULES",
    "DropOldestQueue",
    "ProcessWorker",
    "WorkerCounters",
    "WorkerIO",
    "import_worker_module",
    "run_once",
]

_LOGGER = logging.getLogger(__name__)

MODE_PROCESS: Final = "process"
MODE_THREAD: Final = "thread"
MSG_FATAL: Final = "fatal"  # a worker that cannot work says so with this type; it is not restarted
MSG_EXITED: Final = "worker_exited"  # told to on_message when a worker died: exitcode, restart_in
MSG_MODULES: Final = "worker_modules"  # with report_modules: what the process had loaded when its function began
STABLE_AFTER: Final = 30.0  # a worker that ran this long before dying restarts after the initial delay
_POLL: Final = 0.2
_DROP_WAIT: Final = 0.01
_TELL_WAIT: Final = 1.0  # seconds stop() waits to tell a worker to stop
_PR_SET_PDEATHSIG: Final = 1
_CONTEXT = mp.get_context("spawn")  # no fork of a process that runs an event loop and threads
_EXIT_JOIN: Final = 5.0  # seconds each thread worker still running at interpreter exit gets to finish
# Thread workers started and not stopped (held here even when nothing else holds them: their threads run on):
# at interpreter exit they are told to stop and joined (_stop_at_exit).
_RUNNING_THREADS: set[ProcessWorker] = set()

_T = TypeVar("_T")


class DropOldestQueue(Generic[_T]):
    """A bounded queue between threads that drops the oldest item when full (fresh frames matter more)."""

    def __init__(self, maxsize: int) -> None:
        self._queue: queue.Queue[_T] = queue.Queue(maxsize)
        self.dropped = 0

    def put(self, item: _T) -> bool:
        """Queue an item; False when an older one had to be dropped for it."""
        dropped = False
        while True:
            try:
                self._queue.put_nowait(item)
                return not dropped
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self._queue.get_nowait()
                    self.dropped += 1
                    dropped = True

    def get(self, timeout: float) -> _T | None:
        """The oldest item, or None when none came within `timeout` seconds."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def qsize(self) -> int:
        """Items waiting (approximate)."""
        return self._queue.qsize()


class WorkerIO:
    """The worker's side: items and control messages in, messages out, the stop flag and the pause gate.

    Picklable while a process is spawned; the same object works between threads.
    """

    def __init__(self, items: Any, control: Any, results: Any, stop: Any, gate: Any) -> None:
        self.items = items
        self.control = control
        self.results = results
        self.stop = stop  # an Event: set when the hub wants the worker to finish
        self.gate = gate  # an Event: cleared while the hub has paused the worker

    @property
    def stopping(self) -> bool:
        """Whether the hub asked the worker to finish."""
        return bool(self.stop.is_set())

    def get(self, timeout: float = _POLL) -> Any:
        """The next item (oldest first), or None when none came within `timeout` seconds. Waits while paused."""
        try:
            item = self.items.get(timeout=timeout)
        except (queue.Empty, EOFError, OSError):
            return None
        self.gate.wait()
        return item

    def control_messages(self) -> list[Any]:
        """Every control message waiting now, in order."""
        messages = []
        while True:
            try:
                messages.append(self.control.get_nowait())
            except (queue.Empty, EOFError, OSError):
                return messages

    def emit(self, message: dict[str, Any]) -> None:
        """Send a message to the hub."""
        self.results.put(message)


@dataclass(slots=True)
class WorkerCounters:
    """Counters kept by the hub side (read them anywhere)."""

    submitted: int = 0
    dropped: int = 0
    restarts: int = 0


# --------------------------------------------------------------------------- the child


def _set_parent_death_signal() -> None:
    """Linux: SIGKILL this process when the thread that spawned it (the hub's supervisor) dies."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # the watchdog pipe still ends us
        pass


def _watch_parent(watchdog: Any) -> None:
    """Block on the pipe only the hub writes to: its EOF means the hub is gone, and so are we."""
    try:
        while True:
            watchdog.recv()
    except (EOFError, OSError):
        pass
    os._exit(1)


def _find_spec(name: str, path: Any) -> importlib.machinery.ModuleSpec | None:
    """The spec of `name` from every finder on sys.meta_path, without importing it: an editable install finds the
    project's packages through its own finder, not through sys.path (`hacho run` from the console script)."""
    for finder in sys.meta_path:
        find_spec = getattr(finder, "find_spec", None)
        if find_spec is None:
            continue
        spec: importlib.machinery.ModuleSpec | None = find_spec(name, path)
        if spec is not None:
            return spec
    return None


def _stub_packages(module: str) -> None:
    """Make the packages above `module` importable without running their `__init__`."""
    parts = module.split(".")
    for depth in range(1, len(parts)):
        name = ".".join(parts[:depth])
        if name in sys.modules:
            continue
        parent = sys.modules.get(".".join(parts[:depth - 1])) if depth > 1 else None
        spec = _find_spec(name, getattr(parent, "__path__", None))
        if spec is None or spec.submodule_search_locations is None:
            raise ImportError(f"No package {name!r} for worker module {module!r}")
        package = types.ModuleType(name)
        package.__path__ = list(spec.submodule_search_locations)
        package.__spec__ = spec
        package.__package__ = name
        sys.modules[name] = package
        if parent is not None:
            setattr(parent, parts[depth - 1], package)


_IN_WORKER = False  # set in a worker process by _child_main


def import_worker_module(name: str) -> types.ModuleType:
    """Import a module the way the worker's own module was: in a worker process, the packages above it get bare
    module objects instead of running their `__init__` (a worker that decodes camera frames does not set up the
    camera integration). In the hub (or a thread worker) it is a plain import."""
    if _IN_WORKER:
        _stub_packages(name)
    return importlib.import_module(name)


def _resolve(target: str) -> Callable[..., Any]:
    module, _, function = target.partition(":")
    found: Callable[..., Any] = getattr(importlib.import_module(module), function)
    return found


def _child_main(target: str, payload: bytes, io: WorkerIO, parent_pid: int, watchdog: Any,
                pdeathsig: bool, report_modules: bool = False) -> None:
    """The process entry point: tie our life to the hub's, load only the worker's module, run it."""
    if pdeathsig:
        _set_parent_death_signal()
    if os.getppid() != parent_pid:  # the hub died before we asked to follow it
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(watchdog,), name="hub-watchdog", daemon=True).start()
    # Ctrl-C reaches the whole process group; the hub stops its workers itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    global _IN_WORKER  # this process is a worker from here on
    _IN_WORKER = True
    _stub_packages(target.partition(":")[0])
    args = pickle.loads(payload)
    function = _resolve(target)
    if report_modules:
        io.emit({"type": MSG_MODULES, "modules": sorted(sys.modules)})
    function(io, *args)


# --------------------------------------------------------------------------- the hub side


def _tell_stop(io: WorkerIO) -> None:
    io.gate.set()
    io.stop.set()



class ProcessWorker:
    """Hub-side handle of one worker: start, submit items, send control messages, relay what it reports,
    restart it when it dies, stop it. Blocking methods (start, stop) belong in an executor."""

    def __init__(self, target: str, args: tuple[Any, ...] = (), *, name: str,
                 on_message: Callable[[dict[str, Any]], None], loop: asyncio.AbstractEventLoop | None = None,
                 queue_size: int = 1, mode: str = MODE_PROCESS, restart: bool = True,
                 backoff: Backoff | None = None, pdeathsig: bool = True, report_modules: bool = False) -> None:
        if mode not in (MODE_PROCESS, MODE_THREAD):
            raise ValueError(f"worker mode must be {MODE_PROCESS!r} or {MODE_THREAD!r}, got {mode!r}")
        self.target = target
        self.args = args
        self.name = name
        self.mode = mode
        self.restart = restart
        self.counters = WorkerCounters()
        self._payload = pickle.dumps(args) if mode == MODE_PROCESS else b""
        self._on_message = on_message
        self._loop = loop
        self._queue_size = max(1, queue_size)
        self._pdeathsig = pdeathsig
        self._report_modules = report_modules  # tests: what a worker process loads before its function runs
        self._backoff = backoff or Backoff(1.0, 30.0)
        self._closing = threading.Event()
        self._launched = threading.Event()
        self._launch_error: BaseException | None = None
        self._fatal = False
        self._io: WorkerIO | None = None
        self._runner: Any = None
        self._watchdog: Any = None
        self._started_at = 0.0
        self._supervisor: threading.Thread | None = None

    def set_args(self, args: tuple[Any, ...]) -> None:
        """The arguments the next start or restart of the worker gets (a worker that was told of something
        new while it ran must still know of it after a restart)."""
        self.args = args
        if self.mode == MODE_PROCESS:
            self._payload = pickle.dumps(args)

    # ---- life cycle

    @property
    def alive(self) -> bool:
        """Whether the worker runs now."""
        return self._runner is not None and self._runner.is_alive()

    @property
    def pid(self) -> int | None:
        """The worker process's id (None for a thread, or before start)."""
        return getattr(self._runner, "pid", None) if self.mode == MODE_PROCESS else None

    def start(self, timeout: float = 60.0) -> None:
        """Start the worker and the supervisor thread that spawns, relays and restarts it."""
        if self._supervisor is not None:
            raise RuntimeError(f"worker {self.name} already started")
        self._supervisor = threading.Thread(target=self._supervise, name=f"{self.name}-supervisor", daemon=True)
        if self.mode == MODE_THREAD:
            _RUNNING_THREADS.add(self)
        self._supervisor.start()
        if not self._launched.wait(timeout):
            raise RuntimeError(f"worker {self.name} did not start within {timeout} s")
        if self._launch_error is not None:
            raise self._launch_error

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the worker to finish, wait up to `timeout` seconds, then terminate it; stop the supervisor."""
        self._closing.set()
        _RUNNING_THREADS.discard(self)
        io, runner = self._io, self._runner
        if io is not None:
            if self.mode == MODE_PROCESS:
                # A worker killed while it waited on one of these events (kill -9, SIGTERM to the process group)
                # leaves the event's condition waiting for that sleeper forever: tell it from a helper thread and
                # go on after a moment (the join and terminate below end a live worker anyway).
                teller = threading.Thread(target=_tell_stop, args=(io,), name=f"{self.name}-stop", daemon=True)
                teller.start()
                teller.join(_TELL_WAIT)
            else:
                _tell_stop(io)
        if runner is not None:
            runner.join(timeout)
            if self.mode == MODE_PROCESS and runner.is_alive():
                _LOGGER.warning("Worker %s did not stop in %.0f s; terminating it", self.name, timeout)
                runner.terminate()
                runner.join(2.0)
        if self._supervisor is not None:
            self._supervisor.join(timeout)
        self._close_channels(io)

    # ---- talking to the worker

    def submit(self, item: Any) -> bool:
        """Queue an item without blocking; when the queue is full the oldest item is dropped (counted) and
        this returns False."""
        self.counters.submitted += 1
        io = self._io
        if io is None:
            self.counters.dropped += 1
            return False
        dropped = False
        for _ in range(self._queue_size + 2):
            try:
                io.items.put_nowait(item)
                return not dropped
            except queue.Full:
                try:  # a short wait: the oldest item may still be in the queue's feeder thread
                    io.items.get(timeout=_DROP_WAIT)
                except queue.Empty:  # the worker took it meanwhile: try again
                    continue
                except (EOFError, OSError, ValueError):
                    break
                self.counters.dropped += 1
                dropped = True
            except (OSError, ValueError):  # the queue closed with a dead worker
                break
        self.counters.dropped += 1
        return False

    def send(self, message: Any) -> None:
        """A control message (never dropped while the worker lives)."""
        io = self._io
        if io is not None:
            with contextlib.suppress(OSError, ValueError):
                io.control.put(message)

    def pause(self) -> None:
        """The worker stops taking items (they pile up, then the oldest drop)."""
        if self._io is not None:
            self._io.gate.clear()

    def resume(self) -> None:
        """The worker takes items again."""
        if self._io is not None:
            self._io.gate.set()

    # ---- supervisor thread

    def _new_io(self) -> WorkerIO:
        if self.mode == MODE_PROCESS:
            io = WorkerIO(_CONTEXT.Queue(self._queue_size), _CONTEXT.Queue(), _CONTEXT.Queue(), _CONTEXT.Event(),
                          _CONTEXT.Event())
        else:
            io = WorkerIO(queue.Queue(self._queue_size), queue.Queue(), queue.Queue(), threading.Event(),
                          threading.Event())
        io.gate.set()
        return io

    def _launch(self) -> None:
        old = self._io
        io = self._new_io()
        if self.mode == MODE_PROCESS:
            reader, writer = _CONTEXT.Pipe(duplex=False)
            runner: Any = _CONTEXT.Process(
                target=_child_main, name=self.name, daemon=True,
                args=(self.target, self._payload, io, os.getpid(), reader, self._pdeathsig, self._report_modules))
            runner.start()
            reader.close()  # only the child holds the read end: our exit is its EOF
            if self._watchdog is not None:
                self._watchdog.close()
            self._watchdog = writer
        else:
            runner = threading.Thread(target=_resolve(self.target), args=(io, *self.args), name=self.name,
                                      daemon=True)
            runner.start()
        self._io, self._runner = io, runner
        self._started_at = time.monotonic()
        self._close_channels(old)

    def _supervise(self) -> None:
        try:
            self._launch()
        except BaseException as err:  # reported by start()
            self._launch_error = err
            self._launched.set()
            return
        self._launched.set()
        while True:
            io = self._io
            assert io is not None
            message = self._next_message(io)
            if message is not None:
                if isinstance(message, dict) and message.get("type") == MSG_FATAL:
                    self._fatal = True
                self._deliver(message)
                continue
            if self.alive:
                continue
            while (message := self._next_message(io, 0.05)) is not None:  # what it said before it went
                self._deliver(message)
            if self._closing.is_set() or self._fatal or not self.restart:
                return
            if not self._restart_after_backoff():
                return

    def _restart_after_backoff(self) -> bool:
        code = getattr(self._runner, "exitcode", None)
        if time.monotonic() - self._started_at >= STABLE_AFTER:
            self._backoff.reset()
        delay = self._backoff.delay()
        _LOGGER.warning("Worker %s exited (%s); restarting in %.1f s", self.name, code, delay)
        self._deliver({"type": MSG_EXITED, "exitcode": code, "restart_in": delay})
        if self._closing.wait(delay):
            return False
        try:
            self._launch()
        except Exception:
            _LOGGER.exception("Worker %s could not be restarted", self.name)
            return False
        self.counters.restarts += 1
        return True

    def _next_message(self, io: WorkerIO, timeout: float = _POLL) -> Any:
        try:
            return io.results.get(timeout=timeout)
        except (queue.Empty, EOFError, OSError, ValueError):
            return None

    def _deliver(self, message: Any) -> None:
        if self._loop is None:
            try:
                self._on_message(message)
            except Exception:
                _LOGGER.exception("Error handling a message from worker %s", self.name)
            return
        try:
            self._loop.call_soon_threadsafe(self._on_message, message)
        except RuntimeError:  # the loop closed under us
            self._closing.set()

    def _close_channels(self, io: WorkerIO | None) -> None:
        """Close the queues of a worker that is gone (anything still queued is of no use)."""
        if io is None or self.mode != MODE_PROCESS or self._runner is None or (io is self._io and self.alive):
            return
        for channel in (io.items, io.control, io.results):
            channel.cancel_join_thread()
            channel.close()
        if io is self._io and self._watchdog is not None:
            self._watchdog.close()
            self._watchdog = None


def run_once(target: str, args: tuple[Any, ...], *, name: str, timeout: float) -> dict[str, Any]:
    """Run `target(io, *args)` in a one-shot worker process (no restart) and return the first message it emits
    (`{}` when it died or ran past `timeout` silently). Blocking: call from an executor.

    For heavy one-off builds (a terrain, rendered clips) whose libraries and temporaries must not stay in the
    hub: the target emits one message with its result (or `{"type": "fatal", "message": ...}`) and returns.
    """
    answer: dict[str, Any] = {}
    done = threading.Event()

    def on_message(message: dict[str, Any]) -> None:  # the harness's supervisor thread
        if not done.is_set():
            answer.update(message)
            done.set()

    worker = ProcessWorker(target, args, name=name, on_message=on_message, restart=False)
    worker.start()
    try:
        deadline = time.monotonic() + timeout
        while not done.wait(0.2):
            if not worker.alive or time.monotonic() > deadline:
                done.wait(0.5)  # what it said before it went
                break
    finally:
        worker.stop()
    return answer


def _stop_at_exit() -> None:
    """Tell the thread workers still running at interpreter exit to stop, and join them (a few seconds each).

    Python ends a daemon thread that is still running when the interpreter finalizes from inside its next
    call that takes the GIL; one that was in a native library's call (onnxruntime, OpenCV) is then unwound
    through C++ frames that do not allow it, and the process aborts ("terminate called without an active
    exception", exit status 134) after everything else went right. Exit handlers run before that."""
    workers = list(_RUNNING_THREADS)
    for worker in workers:
        worker._closing.set()
        if worker._io is not None:
            _tell_stop(worker._io)
    for worker in workers:
        runner = worker._runner
        if runner is not None and runner.is_alive():
            runner.join(_EXIT_JOIN)


atexit.register(_stop_at_exit)
