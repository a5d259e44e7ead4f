"""Chromium for the browser tests: Debian's binary driven by Playwright (never `playwright install`)."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Final

import pytest

from tests.conftest import REQUIRE_SERVICES

from .site import PASSWORD

CHROMIUM_ARGS: Final = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS: Final = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


def chromium_path() -> str | None:
    """The chromium binary: $HACHO_CHROMIUM, else chromium / chromium-browser on PATH."""
    configured = os.environ.get("HACHO_CHROMIUM")
    if configured:
        return configured if Path(configured).is_file() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def require_chromium() -> str:
    """The chromium path; skip (or fail under HACHO_REQUIRE_SERVICES=1) when it or Playwright is absent."""
    path = chromium_path()
    problem = None
    if path is None:
        problem = "chromium is not installed (scripts/setup-browser.sh installs it)"
    else:
        try:
            import playwright.async_api  # noqa: F401
        except ImportError:
            problem = "playwright is not installed (pip install -e '.[dev]')"
    if problem is not None:
        if REQUIRE_SERVICES:
            pytest.fail(f"{problem} (HACHO_REQUIRE_SERVICES=1)")
        pytest.skip(problem)
    assert path is not None
    return path


async def login(page: Any, base_url: str, user: str, password: str = PASSWORD) -> None:
    """Log in through the form, as a person would."""
    await page.goto(f"{base_url}/login")
    await page.fill("#username", user)
    await page.fill("#password", password)
    await page.click("#login-submit")
    await page.wait_for_load_state("domcontentloaded")


async def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under test-output/screenshots/ for review."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


@asynccontextmanager
async def launched_chromium() -> AsyncIterator[Any]:
    """Debian's Chromium started by Playwright (skips without it), closed at the end."""
    from playwright.async_api import async_playwright

    path = require_chromium()
    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            await instance.close()
