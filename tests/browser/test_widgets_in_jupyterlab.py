"""The widgets in a real browser: JupyterLab in Debian's chromium, driven by playwright.

What a student or a teacher does, checked end to end:

- notebook 07: run all, wait until the playground has rendered and finished its first
  training, move the learning-rate slider and type new hidden widths, and check from
  the pixels that the loss curve and the learned surface really changed; then
  "Restart Kernel and Run All Cells" and check it works again;
- notebooks 01 and 03: run all, move one slider, check the plot was redrawn;
- nowhere "Error displaying widget".

Screenshots (before/after) land in ``artifacts/screenshots/`` (git-ignored): look at them.
Recipe and pitfalls: ``shared/notes/browser-testing.md``. The server runs on a temporary
copy of the notebooks (JupyterLab writes outputs into the files it serves).

Without ``/usr/bin/chromium`` or the ``playwright`` package this test is skipped, except
in CI (``CI=true``), where it fails: CI must run it (``.ci/run`` installs chromium).
"""

from __future__ import annotations

import base64
import io
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(420)]

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() == "true"
# Quiet on a closed network: no update checks, no sync, no GPU.
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
LAB_SETTINGS = {
    # the news pop-up would cover the page (--LabApp.news_url=None does not stop it)
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
    # otherwise cells outside the viewport are not in the DOM
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
}
RUN_ALL_TIMEOUT = 240.0  # seconds, per notebook (07 runs in about 20-40 s on the 2-core machine)
TIMINGS: dict[str, float] = {}


def _require(ok: bool, why: str) -> None:
    if ok:
        return
    if IN_CI:
        pytest.fail(f"{why}. In CI the real-browser test must run (.ci/run installs chromium).")
    pytest.skip(f"{why}: SKIPPING the real-browser test")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_server(server: subprocess.Popen, answers: Callable[[], bool], name: str, log: Path,
                    timeout: float = 90) -> None:
    """Poll ``answers()`` every 0.5 s until it is true; fail if ``server`` exits or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"{name} exited ({server.returncode}); see {log}")
        try:
            if answers():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not answer within {timeout:g} s")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A fresh JupyterLab on 127.0.0.1 serving a copy of the notebooks; yields (base URL, token)."""
    _require(CHROMIUM.exists(), f"Debian's chromium is not at {CHROMIUM} (apt-get install -y chromium)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        _require(False, "the playwright package is missing (pip install -r requirements-browser.txt)")

    work = tmp_path_factory.mktemp("lab")
    served = work / "notebooks"
    shutil.copytree(NOTEBOOKS, served, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    settings = work / "settings"
    settings.mkdir()
    (settings / "overrides.json").write_text(json.dumps(LAB_SETTINGS))
    port, token = _free_port(), secrets.token_hex(16)
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--ServerApp.token={token}", f"--ServerApp.root_dir={served}",
        f"--LabApp.app_settings_dir={settings}", f"--LabApp.workspaces_dir={work / 'workspaces'}",
        "--LabApp.expose_app_in_browser=True",
    ]
    if hasattr(os, "getuid") and os.getuid() == 0:
        command.append("--allow-root")
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(work / "runtime")}
    env.pop("MPLBACKEND", None)  # tests/conftest.py sets Agg; the kernels get what a student gets
    log = (work / "jupyterlab.log").open("w")
    server = subprocess.Popen(command, cwd=served, stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:

        def answers() -> bool:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as answer:
                return answer.status == 200

        wait_for_server(server, answers, "JupyterLab", work / "jupyterlab.log")
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)
        log.close()


@pytest.fixture(scope="module", autouse=True)
def report_timings() -> Iterator[None]:
    """After the module: print the timings and keep them next to the screenshots."""
    yield
    if TIMINGS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / "timings.json").write_text(json.dumps(TIMINGS, indent=2))
        print("\nbrowser timings (s):", TIMINGS)


@pytest.fixture(scope="module")
def page(lab: tuple[str, str]):
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(viewport={"width": 1500, "height": 1100})
            tab = context.new_page()
            tab.set_default_timeout(60_000)
            yield tab
        finally:
            browser.close()


# -- driving JupyterLab ---------------------------------------------------------------------------------
KERNEL_READY_JS = """(name) => {
    const app = window.jupyterapp;
    const panel = app && app.shell.currentWidget;
    if (!panel || !panel.sessionContext || !panel.context || panel.context.path !== name) return false;
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    return !!kernel && kernel.status === 'idle' && kernel.connectionStatus === 'connected';
}"""

RUN_STATE_JS = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    const cells = panel.content.widgets.filter(c => c.model.type === 'code');
    const errors = [];
    cells.forEach((cell, i) => {
        for (let j = 0; j < cell.model.outputs.length; j++) {
            const out = cell.model.outputs.get(j).toJSON();
            if (out.output_type === 'error') errors.push(`code cell ${i}: ${out.ename}: ${out.evalue}`);
        }
    });
    return {
        idle: !!kernel && kernel.status === 'idle',
        executed: cells.filter(c => c.model.executionCount !== null).length,
        total: cells.length,
        errors,
    };
}"""


def open_notebook(page, lab: tuple[str, str], name: str) -> None:
    base, token = lab
    page.goto(f"{base}/lab/tree/{name}?token={token}&reset")
    # the toolbar says "idle" before the kernel is connected: ask the session itself
    page.wait_for_function(KERNEL_READY_JS, arg=name, timeout=120_000, polling=250)


def run_all(page, label: str) -> None:
    """Run every cell and wait until each code cell has run; fail on the first error output."""
    started = time.monotonic()
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    wait_until_all_cells_ran(page, label, started)


def wait_until_all_cells_ran(page, label: str, started: float) -> None:
    deadline = started + RUN_ALL_TIMEOUT
    state: dict = {}
    while time.monotonic() < deadline:
        state = page.evaluate(RUN_STATE_JS)
        assert not state["errors"], f"{label}: a cell raised: {state['errors']}"
        if state["idle"] and state["executed"] == state["total"]:
            TIMINGS[label] = round(time.monotonic() - started, 1)
            return
        time.sleep(0.5)
    raise AssertionError(f"{label}: not every cell ran within {RUN_ALL_TIMEOUT} s: {state}")


def assert_no_widget_errors(page, where: str) -> None:
    count = page.get_by_text("Error displaying widget").count()
    assert count == 0, f"{where}: 'Error displaying widget' appears {count} time(s)"


def shot(locator, name: str) -> Path:
    path = SCREENSHOTS / name
    locator.screenshot(path=str(path))
    return path


def press_slider(page, slider, key: str, presses: int) -> float:
    """Focus a noUiSlider handle and press ``key``; return the handle's final aria-valuenow."""
    handle = slider.locator(".noUi-handle").first
    start = float(handle.get_attribute("aria-valuenow"))
    handle.focus()
    for _ in range(presses):
        handle.press(key)
    return start


def wait_for_value(handle, predicate, what: str, timeout: float = 20.0) -> float:
    deadline = time.monotonic() + timeout
    value = float("nan")
    while time.monotonic() < deadline:
        value = float(handle.get_attribute("aria-valuenow"))
        if predicate(value):
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what}: the slider reads {value}")


# -- notebook 07: the playground ----------------------------------------------------------------------
def playground_png(page) -> np.ndarray:
    """The pixels of the dashboard's plot (an ipywidgets Image: a blob URL, fetched in the page)."""
    data = page.evaluate("""async () => {
        const img = document.querySelector('.playground-dashboard .playground-plot');
        const blob = await (await fetch(img.src)).blob();
        const bytes = new Uint8Array(await blob.arrayBuffer());
        let text = '';
        for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
        return btoa(text);
    }""")
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB"), dtype=np.int16)


def panel(pixels: np.ndarray, x0: float, x1: float) -> np.ndarray:
    """A panel of the figure, by figure fractions across (the axes span 0.14-0.86 upwards)."""
    height, width = pixels.shape[:2]
    return pixels[int(height * 0.14) : int(height * 0.86), int(width * x0) : int(width * x1)]


LOSS_PANEL, SURFACE_PANEL = (0.05, 0.30), (0.36, 0.58)  # from helpers.dashboard.PlaygroundFigure


def changed_fraction(before: np.ndarray, after: np.ndarray, region: tuple[float, float],
                     tolerance: int = 0) -> float:
    """The share of a panel's pixels whose colour moved by more than ``tolerance`` (R + G + B)."""
    a, b = panel(before, *region), panel(after, *region)
    assert a.shape == b.shape, "the plot changed size"
    return float((np.abs(a - b).sum(axis=2) > tolerance).mean())


def wait_for_run(page, expect_in_readouts: str, timeout: float = 60.0) -> None:
    """Wait until the dashboard says 'done' for a run whose readouts mention ``expect_in_readouts``."""
    status = page.locator(".playground-dashboard .playground-status")
    readouts = page.locator(".playground-dashboard .playground-readouts")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "done: " in status.inner_text() and expect_in_readouts in readouts.inner_text():
            return
        time.sleep(0.2)
    raise AssertionError(
        f"no finished run with {expect_in_readouts!r}: status {status.inner_text()!r}, "
        f"readouts {readouts.inner_text()!r}"
    )


def test_playground_trains_and_reacts_in_jupyterlab(page, lab):
    open_notebook(page, lab, "07_playground.ipynb")
    run_all(page, "07 run all")
    dashboard = page.locator(".playground-dashboard")
    dashboard.wait_for(state="visible")
    wait_for_run(page, "2-16-8-1 relu, adam lr 0.001, batch 100, 1000 epochs")
    assert_no_widget_errors(page, "07 after run all")
    dashboard.scroll_into_view_if_needed()
    shot(dashboard, "07_playground_before.png")
    before = playground_png(page)

    # record every status line the page shows: live frames must arrive while a run trains
    page.evaluate("""() => {
        window.__statusLog = [];
        const status = document.querySelector('.playground-dashboard .playground-status');
        new MutationObserver(() => window.__statusLog.push([performance.now(), status.innerText]))
            .observe(status, {subtree: true, childList: true, characterData: true});
    }""")

    # the learning rate: a log slider (its handle moves the exponent, 0.1 per key press)
    lr_slider = page.locator(".playground-lr")
    started = time.monotonic()
    start = press_slider(page, lr_slider, "ArrowRight", 5)
    assert start == pytest.approx(-3.0)
    wait_for_value(lr_slider.locator(".noUi-handle").first, lambda v: abs(v - -2.5) < 1e-6, "learning rate")
    wait_for_run(page, "adam lr 0.00316")
    TIMINGS["07 learning-rate change to done"] = round(time.monotonic() - started, 2)
    log = page.evaluate("() => window.__statusLog")
    live = [text for _, text in log if text.startswith("training: epoch")]
    assert live, f"no live frame reached the page while training, only {[text for _, text in log]}"
    TIMINGS["07 live status updates seen during the learning-rate change"] = len(live)
    after_lr = playground_png(page)
    shot(dashboard, "07_playground_after_lr.png")
    loss_change = changed_fraction(before, after_lr, LOSS_PANEL, tolerance=30)
    # a 3x larger learning rate learns nearly the same surface: its colours shift by a few levels
    surface_change = changed_fraction(before, after_lr, SURFACE_PANEL)
    print(f"\nlearning rate: {loss_change:.3f} of the loss panel, {surface_change:.3f} of the surface moved")
    assert loss_change > 0.002, f"the loss curve did not change ({loss_change:.4f} of its pixels)"
    assert surface_change > 0.01, f"the surface did not change ({surface_change:.4f} of its pixels)"

    # the hidden widths: a text box that acts on Enter
    hidden = page.locator(".playground-hidden input")
    hidden.fill("2")
    started = time.monotonic()
    hidden.press("Enter")
    wait_for_run(page, "2-2-1 relu, adam lr 0.00316")
    TIMINGS["07 hidden-widths change to done"] = round(time.monotonic() - started, 2)
    after_hidden = playground_png(page)
    shot(dashboard, "07_playground_after_hidden.png")
    loss_change = changed_fraction(after_lr, after_hidden, LOSS_PANEL, tolerance=30)
    surface_change = changed_fraction(after_lr, after_hidden, SURFACE_PANEL, tolerance=30)
    print(f"hidden widths: {loss_change:.3f} of the loss panel, {surface_change:.3f} of the surface changed")
    assert loss_change > 0.002, f"the loss curve did not change ({loss_change:.4f} of its pixels)"
    assert surface_change > 0.02, f"the surface did not change ({surface_change:.4f} of its pixels)"
    assert_no_widget_errors(page, "07 after moving controls")

    # "Restart Kernel and Run All Cells": the dashboard must come back and train again
    # Mark the old dashboard: only a dashboard drawn by the new kernel counts as "back".
    page.evaluate("() => document.querySelector('.playground-dashboard').setAttribute('data-old', '1')")
    started = time.monotonic()
    # not awaited: the command's promise waits for the dialog that we click next
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:restart-run-all'); }")
    page.locator(".jp-Dialog .jp-mod-accept").click()
    page.locator(".playground-dashboard[data-old]").wait_for(state="detached", timeout=RUN_ALL_TIMEOUT * 1000)
    page.locator(".playground-dashboard:not([data-old])").wait_for(state="visible",
                                                                   timeout=RUN_ALL_TIMEOUT * 1000)
    wait_until_all_cells_ran(page, "07 restart and run all", started)
    wait_for_run(page, "2-16-8-1 relu, adam lr 0.001, batch 100, 1000 epochs")
    assert page.locator(".playground-dashboard").count() == 1
    assert_no_widget_errors(page, "07 after restart and run all")
    shot(page.locator(".playground-dashboard"), "07_playground_after_restart.png")


# -- notebooks 01 and 03: one slider each ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("notebook", "builder_call"),
    [("01_data_and_standardization.ipynb", "standardization_widget()"),
     ("03_softmax_and_debugging.ipynb", "softmax_widget()")],
)
def test_a_slider_redraws_its_plot(page, lab, notebook, builder_call):
    if not (NOTEBOOKS / notebook).exists():
        pytest.fail(f"{notebook} is missing")
    label = notebook[:2]
    open_notebook(page, lab, notebook)
    run_all(page, f"{label} run all")
    assert_no_widget_errors(page, f"{label} after run all")
    cell = page.locator(".jp-CodeCell").filter(has_text=builder_call).first
    slider = cell.locator(".widget-slider").first
    image = cell.locator(".jp-OutputArea-output img").first
    image.wait_for(state="visible")
    cell.scroll_into_view_if_needed()
    shot(cell, f"{label}_slider_before.png")
    src_before = image.get_attribute("src")
    start = press_slider(page, slider, "ArrowRight", 1)
    wait_for_value(slider.locator(".noUi-handle").first, lambda v: v > start, f"{label} slider")
    deadline = time.monotonic() + 30
    while image.get_attribute("src") == src_before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert image.get_attribute("src") != src_before, f"{label}: moving the slider did not redraw the plot"
    shot(cell, f"{label}_slider_after.png")
    assert_no_widget_errors(page, f"{label} after moving the slider")
