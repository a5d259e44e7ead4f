"""Worker functions for the harness tests (run in a spawned process or a thread)."""

from __future__ import annotations

import os
import sys

from hub.helpers.workers import WorkerIO


def echo(io: WorkerIO, tag: str) -> None:
    """Say hello (with the pid and the modules loaded), then echo items; obey `exit` and `fatal` commands."""
    io.emit({"type": "hello", "tag": tag, "pid": os.getpid(), "modules": sorted(sys.modules)})
    while True:
        for command in io.control_messages():
            if command == "exit":
                os._exit(3)
            if command == "fatal":
                io.emit({"type": "fatal", "message": "cannot go on"})
                return
        item = io.get(0.05)
        if item is None:
            if io.stopping:
                break
            continue
        io.emit({"type": "item", "item": item})
    io.emit({"type": "stopped"})


def sleeper(io: WorkerIO) -> None:
    """Say hello, then wait on the hub's stop event (as a capture loop waits between reconnections)."""
    io.emit({"type": "hello", "pid": os.getpid(), "modules": []})
    while not io.stop.wait(0.5):
        pass


def until_stopped(io: WorkerIO, marker: str) -> None:
    """Work until told to stop (as a camera's reading loop does), then write `marker` to say it was told."""
    io.emit({"type": "hello", "pid": os.getpid(), "modules": []})
    while not io.stop.wait(0.01):
        pass
    with open(marker, "w", encoding="utf-8") as out:
        out.write("stopped")
