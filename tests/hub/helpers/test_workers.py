"""The one worker harness: drops the oldest item, restarts a dead worker, stops cleanly, loads only the
worker's module, and never outlives the hub (kill -9 of the parent ends the worker and the resource tracker)."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from hub.helpers import workers
from hub.helpers.backoff import Backoff
from hub.helpers.workers import MODE_PROCESS, MODE_THREAD, MSG_EXITED, DropOldestQueue, ProcessWorker
from tests.processes import Inbox, descendants, survivors

ROOT = Path(__file__).resolve().parents[3]
TARGET = "tests.hub.helpers.worker_targets:echo"


def test_drop_oldest_queue_keeps_the_newest_and_counts() -> None:
    frames: DropOldestQueue[int] = DropOldestQueue(2)
    assert [frames.put(i) for i in range(5)] == [True, True, False, False, False]
    assert frames.dropped == 3 and frames.qsize() == 2
    assert frames.get(0.1) == 3 and frames.get(0.1) == 4 and frames.get(0.01) is None


@pytest.mark.parametrize("mode", [MODE_PROCESS, MODE_THREAD])
def test_full_queue_drops_the_oldest_item_and_counts(mode: str) -> None:
    inbox = Inbox()
    worker = ProcessWorker(TARGET, ("t",), name="test-drop", on_message=inbox, queue_size=2, mode=mode)
    worker.start()
    try:
        inbox.wait(lambda: inbox.of("hello"))
        worker.pause()
        accepted = [worker.submit(i) for i in range(10)]
        worker.resume()
        inbox.wait(lambda: any(m["item"] == 9 for m in inbox.of("item")))
        items = [m["item"] for m in inbox.of("item")]
        assert items[-2:] == [8, 9]  # the newest were kept
        assert items == sorted(items) and len(items) <= 3  # the paused worker held at most one more
        assert worker.counters.submitted == 10
        assert worker.counters.dropped == 10 - len(items) == accepted.count(False)
    finally:
        worker.stop()
    assert not worker.alive
    assert inbox.of("stopped")


def test_a_dead_worker_is_restarted_with_backoff_and_a_fatal_one_is_not() -> None:
    inbox = Inbox()
    worker = ProcessWorker(TARGET, ("t",), name="test-restart", on_message=inbox, backoff=Backoff(0.05, 0.5))
    worker.start()
    try:
        inbox.wait(lambda: inbox.of("hello"))
        first = inbox.of("hello")[0]["pid"]
        worker.send("exit")  # the worker process dies (exit code 3)
        inbox.wait(lambda: len(inbox.of("hello")) == 2)
        assert inbox.of(MSG_EXITED)[0]["exitcode"] == 3
        assert inbox.of("hello")[1]["pid"] != first and worker.counters.restarts == 1
        worker.submit("after")
        inbox.wait(lambda: inbox.of("item"))
        worker.send("fatal")
        inbox.wait(lambda: inbox.of("fatal") and not worker.alive)
        time.sleep(0.3)  # longer than the backoff: a worker that said it cannot work stays down
        assert len(inbox.of("hello")) == 2 and worker.counters.restarts == 1
    finally:
        worker.stop()


def test_a_worker_process_loads_only_its_own_modules() -> None:
    inbox = Inbox()
    worker = ProcessWorker(TARGET, ("t",), name="test-modules", on_message=inbox)
    worker.start()
    try:
        inbox.wait(lambda: inbox.of("hello"))
    finally:
        worker.stop()
    modules = set(inbox.of("hello")[0]["modules"])
    assert "tests.hub.helpers.worker_targets" in modules
    # neither the hub's core nor the packages' __init__ (which would set the integration up) ran
    assert not modules & {"hub.core", "hub.recorder", "sqlalchemy", "aiohttp", "tests.conftest"}


PARENT = textwrap.dedent("""
    import sys, time
    from hub.helpers.workers import ProcessWorker

    def main():
        said = []
        worker = ProcessWorker("tests.hub.helpers.worker_targets:echo", ("orphan",), name="orphan",
                               on_message=said.append, pdeathsig=sys.argv[1] == "1")
        worker.start()
        while not said:
            time.sleep(0.01)
        print(said[0]["pid"], flush=True)
        time.sleep(600)

    if __name__ == "__main__":
        main()
""")


@pytest.mark.parametrize("pdeathsig", [True, False], ids=["parent-death-signal", "watchdog-pipe"])
def test_kill9_of_the_parent_leaves_no_worker_and_no_resource_tracker(tmp_path: Path, pdeathsig: bool) -> None:
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen([sys.executable, str(script), "1" if pdeathsig else "0"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        worker_pid = int(parent.stdout.readline())
        children = descendants(parent.pid)
        assert worker_pid in children and len(children) >= 2  # the worker and the resource tracker
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        left = survivors(children)
    finally:
        if parent.poll() is None:
            parent.kill()
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert left == []


class _OnlyThisFolder(importlib.abc.MetaPathFinder):
    """A finder like an editable install's: it serves a package from a folder that is not on sys.path."""

    def __init__(self, name: str, folder: Path) -> None:
        self.name, self.folder = name, folder

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.name:
            return None
        return importlib.machinery.PathFinder.find_spec(fullname, [str(self.folder)])


def test_worker_packages_are_found_through_meta_path_finders(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """`hacho run` from the console script finds the project through the editable install's finder, not
    sys.path: a worker's packages must be found the same way (every worker died at start before)."""
    package = tmp_path / "hacho_worker_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("raise RuntimeError('the package __init__ must not run in a worker')\n")
    (package / "job.py").write_text("VALUE = 42\n")
    finder = _OnlyThisFolder("hacho_worker_pkg", tmp_path)
    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, finder])
    for name in ("hacho_worker_pkg", "hacho_worker_pkg.job"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    workers._stub_packages("hacho_worker_pkg.job")
    assert importlib.import_module("hacho_worker_pkg.job").VALUE == 42


def test_stopping_a_worker_killed_while_it_waited_on_the_stop_event_does_not_hang() -> None:
    # A worker killed inside stop.wait() (SIGTERM to the process group, kill -9) leaves the event's condition
    # counting a sleeper that will never wake: setting the event from the hub would then block forever.
    inbox = Inbox()
    worker = ProcessWorker("tests.hub.helpers.worker_targets:sleeper", (), name="test-sleeper", on_message=inbox,
                           restart=False)
    worker.start()
    inbox.wait(lambda: inbox.of("hello"))
    time.sleep(0.3)  # inside stop.wait()
    os.kill(inbox.of("hello")[0]["pid"], signal.SIGKILL)
    inbox.wait(lambda: not worker.alive)
    stopper = threading.Thread(target=worker.stop, args=(2.0,), daemon=True)
    stopper.start()
    stopper.join(15)
    assert not stopper.is_alive(), "stop() hung on the dead worker's stop event"


EXIT_WITHOUT_STOP = textwrap.dedent("""
    import sys
    from hub.helpers.workers import MODE_THREAD, ProcessWorker

    worker = ProcessWorker("tests.hub.helpers.worker_targets:until_stopped", (sys.argv[1],), name="left-running",
                           on_message=lambda message: None, mode=MODE_THREAD)
    worker.start()
    print("started", flush=True)
    # the program ends without worker.stop(), as a test or a tool that forgets to unload would
""")


def test_a_thread_worker_left_running_is_stopped_and_joined_at_interpreter_exit(tmp_path: Path) -> None:
    """A daemon thread still in a native call when the interpreter finalizes aborts the process (exit 134, seen
    once at the end of the whole suite): the harness's exit handler tells thread workers to stop and joins them."""
    script, marker = tmp_path / "exit.py", tmp_path / "marker"
    script.write_text(EXIT_WITHOUT_STOP)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(script), str(marker)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "started"
    assert marker.read_text(encoding="utf-8") == "stopped"  # the worker's loop ended: it was told, not killed
