"""Classroom mode in a real browser: ``make demo`` serves the playground with Voila, without code.

The test runs the Makefile's own target (``make demo`` with a free port and
``VOILA_FLAGS=--no-browser``), opens the page in Debian's chromium with
playwright, waits for the playground to finish its first training, checks that
no code is shown, moves the learning-rate slider and checks from the pixels that
the loss curve was redrawn. Screenshots land in ``artifacts/screenshots/voila_*.png``.

The browser plumbing (chromium flags, slider and plot helpers) is shared with
``test_widgets_in_jupyterlab.py``; like that test, this one is skipped without
chromium or playwright, except in CI where it fails.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_widgets_in_jupyterlab import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    LOSS_PANEL,
    SCREENSHOTS,
    TIMINGS,
    _free_port,
    _require,
    assert_no_widget_errors,
    changed_fraction,
    playground_png,
    press_slider,
    shot,
    wait_for_run,
    wait_for_server,
    wait_for_value,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
VOILA = ROOT / ".venv" / "bin" / "voila"
STAMP = ".venv/.installed"
NOTES_RUN = "2-16-8-1 relu, adam lr 0.001, batch 100, 1000 epochs"
DEMO_NOTEBOOK = ROOT / "notebooks" / "07_playground.ipynb"


def code_lines(path: Path) -> list[str]:
    """One telltale line per code cell (its first real line), leaving out lines its text also quotes."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    prose = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    lines = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        first = next((line.strip() for line in cell.source.splitlines()
                      if line.strip() and not line.strip().startswith("#")), "")
        if len(first) >= 10 and first not in prose:
            lines.append(first)
    return lines


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``make demo`` on a free port; yields the page's URL. The whole process group is stopped after."""
    _require(CHROMIUM.exists(), f"Debian's chromium is not at {CHROMIUM} (apt-get install -y chromium)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        _require(False, "the playwright package is missing")
    _require(VOILA.exists(), f"{VOILA} is missing: run `make install` (voila is pinned in requirements.txt)")

    port = _free_port()
    work = tmp_path_factory.mktemp("voila")
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(work / "runtime")}
    env.pop("MPLBACKEND", None)  # the kernel gets what a teacher's gets
    log = (work / "make_demo.log").open("w")
    # -o STAMP: serve what is installed; never reinstall packages from inside a test.
    command = ["make", "-s", "-o", STAMP, "demo", f"DEMO_PORT={port}", "VOILA_FLAGS=--no-browser"]
    server = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env,
                              start_new_session=True)  # own process group: make and voila stop together
    url = f"http://127.0.0.1:{port}/"
    try:

        def answers() -> bool:
            # A plain TCP connection: a GET of the page itself would start a kernel and run the notebook.
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                return True

        wait_for_server(server, answers, "make demo (Voila)", work / "make_demo.log")
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=5)
        log.close()


def test_make_demo_serves_the_playground_without_code(demo):
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_context(viewport={"width": 1500, "height": 1100}).new_page()
            page.set_default_timeout(60_000)
            started = time.monotonic()
            page.goto(demo)
            dashboard = page.locator(".playground-dashboard")
            dashboard.wait_for(state="visible", timeout=240_000)  # Voila runs every cell first
            wait_for_run(page, NOTES_RUN, timeout=120)
            TIMINGS["voila: page opened to first run done"] = round(time.monotonic() - started, 1)
            assert_no_widget_errors(page, "Voila after loading")

            # Classroom mode: text, plots and widgets, but no code.
            assert page.locator(".jp-InputArea-editor, .cm-editor, .CodeMirror").count() == 0
            text = page.locator("body").inner_text()
            telltales = code_lines(DEMO_NOTEBOOK)
            assert len(telltales) >= 5  # the check below has something to look for
            shown = [line for line in telltales if line in text]
            assert not shown, f"code is visible on the Voila page: {shown}"
            assert "07 · " in text  # the title cell is there
            page.screenshot(path=str(SCREENSHOTS / "voila_page.png"), full_page=False)
            dashboard.scroll_into_view_if_needed()
            shot(dashboard, "voila_playground_before.png")
            before = playground_png(page)

            # One slider: the learning rate (a log slider; 5 presses = 10**-3 -> 10**-2.5).
            lr_slider = page.locator(".playground-lr")
            started = time.monotonic()
            start = press_slider(page, lr_slider, "ArrowRight", 5)
            assert start == pytest.approx(-3.0)
            wait_for_value(lr_slider.locator(".noUi-handle").first, lambda v: abs(v - -2.5) < 1e-6,
                           "learning rate")
            wait_for_run(page, "adam lr 0.00316", timeout=120)
            TIMINGS["voila: learning-rate change to done"] = round(time.monotonic() - started, 2)
            after = playground_png(page)
            shot(dashboard, "voila_playground_after_lr.png")
            loss_change = changed_fraction(before, after, LOSS_PANEL, tolerance=30)
            print(f"\nVoila, learning rate 0.001 -> 0.00316: {loss_change:.3f} of the loss panel changed")
            assert loss_change > 0.002, f"the loss curve did not change ({loss_change:.4f} of its pixels)"
            assert_no_widget_errors(page, "Voila after moving the slider")
        finally:
            browser.close()
