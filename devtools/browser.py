"""Drive the dashboard in a real headless Chromium: for the browser tests and the page timings.

The browser is Debian's `chromium` package (apt-get install chromium), driven through
Playwright's Python client with executable_path set to it: Playwright's own browser download
is never used. The dashboard runs as its own process on a free port of 127.0.0.1, and both are
stopped on exit, whatever happens.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from cestools.config import ROOT
from cestools.dashboard.__main__ import command
from cestools.errors import CesError
from cestools.ports import free_port

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update"]
# the page is not complete: Streamlit's app root says "initial" before the first run and
# "running" during one (the status widget's running icon shows only after a delay, so a page
# could look finished while its last elements were still to come), or the last run's elements
# are marked stale, or an element is still a skeleton: tables and selectboxes are loaded on
# first use, after the script has finished, and stand as stSkeleton until they are
RUNNING_JS = """(document.querySelector('[data-testid="stApp"]')?.dataset.testScriptState !== 'notRunning'
  || document.querySelector('[data-testid^="stStatusWidgetRunning"], [data-stale="true"], [data-testid="stSkeleton"]'))"""
# a chart or table is drawn once its canvas (or SVG) holds this many painted pixels (or marks)
DRAWN_JS = """(minPixels) => {
  const charts = [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')];
  if (!charts.length || """ + RUNNING_JS + """) {
    return false;
  }
  const painted = (canvas) => {
    if (!canvas || !canvas.width || !canvas.height) return false;
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let count = 0;
    for (let i = 0; i < pixels.length; i += 4) {
      if (pixels[i + 3] > 0 && (pixels[i] < 240 || pixels[i + 1] < 240 || pixels[i + 2] < 240)) count++;
    }
    return count >= minPixels;
  };
  const chartsDrawn = charts.every(chart => {
    const svg = chart.querySelector('svg.marks');
    if (svg) return svg.querySelectorAll('path, rect, line, circle, symbol').length > 0;
    return painted(chart.querySelector('canvas'));
  });
  // every table on show (not in a hidden tab) is laid out to its width and its rows are painted:
  // the grid draws on a canvas after the page's script has finished
  const grids = [...document.querySelectorAll('[data-testid="stDataFrame"]')].filter(g => g.offsetParent !== null);
  const gridsDrawn = grids.every(grid => grid.getBoundingClientRect().width >= 200
    && painted(grid.querySelector('canvas')));
  return chartsDrawn && gridsDrawn;
}"""
ERROR_SELECTOR = '[data-testid="stException"], [data-testid="stAlertContentError"]'


def chromium_path() -> str:
    path = shutil.which("chromium")
    if not path:
        raise CesError("the browser tests need Chromium: install the Debian package `chromium` "
                       "(apt-get install -y chromium; make test does it when it runs as root)")
    return path


@contextlib.contextmanager
def dashboard(serving: Path, log: Path, timeout: float = 60) -> Iterator[str]:
    """The dashboard on a free port, reading the serving file; yields its base URL."""
    port = free_port()
    with open(log, "w") as out:
        proc = subprocess.Popen(command(port, serving), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise CesError(f"the dashboard did not start (exit {proc.poll()}); its log:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def browser() -> Iterator:
    """A headless Chromium page (1400 px wide)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chrome = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        try:
            page = chrome.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(60_000)
            yield page
        finally:
            chrome.close()


def wait_drawn(page, min_pixels: int = 200, timeout_ms: int = 60_000) -> None:
    """Until the script has finished and every chart on the page is drawn."""
    page.wait_for_function(DRAWN_JS, arg=min_pixels, timeout=timeout_ms, polling=50)


def wait_single(page, label: str) -> None:
    """Until the run has finished and exactly one widget carries this label."""
    page.wait_for_function("""(label) => !""" + RUNNING_JS + """
        && document.querySelectorAll(`[aria-label="${label}"]`).length === 1""", arg=label, polling=50)


def open_page(page, url: str) -> float:
    """Navigate and wait for the charts: seconds from navigation to the last chart drawn."""
    started = time.perf_counter()
    page.goto(url)
    wait_drawn(page)
    return time.perf_counter() - started


# what the page shows, in numbers: its elements, its height, and every table's width and painted rows
SHAPE_JS = """() => {
  const grids = [...document.querySelectorAll('[data-testid="stDataFrame"]')].filter(g => g.offsetParent !== null);
  return [document.querySelectorAll('[data-testid]').length,
          document.querySelector('[data-testid="stMain"]').scrollHeight,
          ...grids.map(g => Math.round(g.getBoundingClientRect().width))];
}"""


def wait_settled(page, quiet_polls: int = 3, interval: float = 0.3, timeout: float = 30.0) -> None:
    """Until the charts are drawn and the page has stopped changing: Streamlit adds its tables
    after the charts, and the table grid lays itself out after that, so a picture taken as soon
    as the charts are drawn can show an empty table."""
    deadline = time.monotonic() + timeout
    last, same = None, 0
    while same < quiet_polls and time.monotonic() < deadline:
        wait_drawn(page)
        shape = page.evaluate(SHAPE_JS)
        same = same + 1 if shape == last else 0
        last = shape
        time.sleep(interval)
    wait_drawn(page)


def screenshot(page, path: Path) -> None:
    """The whole page, once it has settled (Streamlit scrolls inside its main block, so the
    viewport grows to fit)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wait_settled(page)
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], int(height) + 40)})
    wait_settled(page)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)


def metric(page, label: str) -> str:
    """The shown value of the st.metric whose label is exactly label."""
    box = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=label))
    return box.first.locator('[data-testid="stMetricValue"]').inner_text().strip()
