"""Process trees from /proc, for tests that kill a hub and count what it left running (Linux), and an inbox
for the messages of worker processes."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()  # [state, ppid, ...] after the command name


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie does not)."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def descendants(pid: int) -> set[int]:
    """Every live descendant of `pid`."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None and fields[0] != "Z":
            parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def survivors(pids: set[int], timeout: float = 10.0) -> list[int]:
    """The processes of `pids` still running after waiting up to `timeout` seconds for them to end."""
    deadline = time.monotonic() + timeout
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return sorted(pid for pid in pids if alive(pid))


class Inbox:
    """Messages a worker sent, as its relay thread hands them over."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def __call__(self, message: dict[str, Any]) -> None:
        with self.lock:
            self.messages.append(message)

    def of(self, kind: str) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.messages if m.get("type") == kind]

    def wait(self, predicate: Any, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, f"worker did not answer: {self.messages[-3:]}"
            time.sleep(0.01)


def worker_modules(target: str) -> set[str]:
    """The modules a worker process of `target` ("package.module:function") has loaded when its function is
    called, as the process reports them (sys.modules); the function is then given no arguments it can use."""
    from hub.helpers.workers import MSG_MODULES, ProcessWorker

    inbox = Inbox()
    worker = ProcessWorker(target, (None,), name="modules", on_message=inbox, restart=False, report_modules=True)
    worker.start()
    try:
        inbox.wait(lambda: inbox.of(MSG_MODULES))
    finally:
        worker.stop()
    return set(inbox.of(MSG_MODULES)[0]["modules"])


def fresh_import(module: str) -> set[str]:
    """The modules a fresh interpreter has loaded after importing `module` (what the hub pays for it)."""
    import subprocess
    import sys

    code = f"import sys, {module}; print('\\n'.join(sorted(sys.modules)))"
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True,
                            timeout=120)
    return set(result.stdout.split())
