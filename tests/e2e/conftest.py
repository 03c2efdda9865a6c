"""A real browser for the console's tests: Debian's Chromium (package chromium, or AAA_CHROMIUM),
headless, driven by Playwright's sync API, never a browser Playwright downloads.

Playwright runs here per module, not for the whole test session (as pytest-playwright's fixtures
do): its sync API keeps an asyncio event loop running in the process's main thread while it is
started, and the suite's other tests call ``asyncio.run``, which refuses to run inside one. A test
that fails leaves a screenshot of its page in test-results/.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = os.environ.get("AAA_CHROMIUM", "/usr/bin/chromium")
SHOTS_ON_FAILURE = Path(os.environ.get("AAA_TEST_RESULTS", "test-results"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium is required at AAA_CHROMIUM={CHROMIUM} (scripts/test.sh installs it)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh context per test: the browser of an attendant in Brazil (dates typed dd/mm/aaaa,
    the clock in Brasília), no cookies from another test."""
    context = browser.new_context(locale="pt-BR", timezone_id="America/Sao_Paulo")
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    yield opened
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        SHOTS_ON_FAILURE.mkdir(parents=True, exist_ok=True)
        opened.screenshot(path=str(SHOTS_ON_FAILURE / f"{request.node.name}.png"), full_page=True)
    context.close()
