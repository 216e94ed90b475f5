"""Reports and comparisons rendered in real headless Chromium (Debian's `chromium`, driven by playwright):
no JavaScript errors, every plot drawn, no network, nothing injected runs, screenshots not blank.

Set ED_REPORT_SCREENSHOTS=/some/dir to keep the screenshots for a look.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from entropy_dynamics.analysis import analyze_run
from entropy_dynamics.logs import read_runs
from entropy_dynamics.report import render_comparison, render_report
from entropy_dynamics.report.smoothing import ema

from .chromium import find_chromium, missing_message
from .conftest import plan_analysis, write_full_log
from .test_run_report import HOSTILE_NAME, write_hostile_log

pytestmark = pytest.mark.browser

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]


@dataclass
class Loaded:
    """What a page did while it loaded."""

    plots: int
    expected_plots: int
    plotly_defined: bool
    text: str
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    pixel_std: float = 0.0
    page: object = None


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """The launched browser, or None without one (each test then FAILS with the install command: a missing
    browser is a failure, never a skip)."""
    chromium = find_chromium()
    if chromium is None:
        yield None
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=ARGS)
        yield b
        b.close()


def open_page(browser, html_path: Path, shot_name: str) -> Loaded:
    """Load a report, wait for every plot, screenshot it, and collect errors, dialogs and requests."""
    if browser is None:
        pytest.fail(missing_message(), pytrace=False)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors, dialogs, requests = [], [], []
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("file:", "data:", "blob:")) else None)
    html = html_path.read_text(encoding="utf-8")
    expected = html.count('class="plotly-graph-div"')
    page.goto(html_path.as_uri())
    page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot').length >= {expected}", timeout=20_000)
    png = page.screenshot()  # the first screen: header and the entropy timeline
    keep = os.environ.get("ED_REPORT_SCREENSHOTS")
    if keep:  # the whole page, for a human to look at
        Path(keep).mkdir(parents=True, exist_ok=True)
        (Path(keep) / shot_name).write_bytes(page.screenshot(full_page=True))
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float32)
    return Loaded(
        plots=page.evaluate("document.querySelectorAll('.js-plotly-plot').length"), expected_plots=expected,
        plotly_defined=page.evaluate("typeof window.Plotly !== 'undefined'"),
        text=page.evaluate("document.body.innerText"), errors=errors, dialogs=dialogs, requests=requests,
        pixel_std=float(pixels.std()), page=page)


def assert_clean(loaded: Loaded) -> None:
    assert loaded.errors == []
    assert loaded.dialogs == []
    assert loaded.requests == []
    assert loaded.plotly_defined
    assert loaded.plots == loaded.expected_plots >= 1
    assert loaded.pixel_std > 20  # a blank page has ~0


def test_report_renders_and_injected_strings_stay_text(browser, tmp_path):
    run = read_runs(write_hostile_log(tmp_path / "h" / "metrics.jsonl"))[0]
    out = render_report([run], tmp_path / "report.html", analyses=[plan_analysis(run)])
    loaded = open_page(browser, out, "report_full_log.png")
    assert_clean(loaded)
    assert loaded.expected_plots == 3
    assert HOSTILE_NAME in loaded.text  # shown as text
    page = loaded.page
    assert "<img src=x onerror=alert(2)>" in page.evaluate("document.body.textContent")  # in closed <details>
    assert page.evaluate("document.querySelectorAll('[onerror],[onload]').length") == 0
    labels = page.evaluate("Array.from(document.querySelectorAll('svg text')).map(e => e.textContent)")
    assert "<svg onload=alert(4)>" in labels  # plotly shows the escaped metric name literally
    assert "degen/<svg onload=alert(4)>" in labels
    page.close()


def test_comparison_renders(browser, tmp_path):
    runs = [read_runs(write_full_log(tmp_path / f"r{i}" / "metrics.jsonl", name=n, seed=i))[0]
            for i, n in enumerate(["grpo", "grpo+seal"])]
    out = render_comparison(runs, tmp_path / "compare.html")
    loaded = open_page(browser, out, "compare.png")
    assert_clean(loaded)
    assert "grpo+seal" in loaded.text and "Summary per run" in loaded.text
    loaded.page.close()


def test_reports_of_the_real_logs_render(browser, tmp_path, real_logs):
    runs, analyses = [], []
    for path in sorted((real_logs / "deep_grpo").glob("*.csv")):
        for run in read_runs(path):
            metric = None if "entropy" in path.stem else run.metrics.columns[0]
            runs.append(run)
            analyses.append(analyze_run(run, metric=metric, cross_metrics=True))
    out = render_report(runs, tmp_path / "real.html", analyses=analyses)
    loaded = open_page(browser, out, "report_real_logs.png")
    assert_clean(loaded)
    assert loaded.plots == len(runs)
    assert "Qwen2.5-0.5B-Instruct-TreeRL" in loaded.text
    loaded.page.close()


def _smoothed_traces(page, div_id: str) -> list[dict]:
    """Each smoothed trace of a plot with its raw trace: {x, raw, y, gap} as plain lists, read in the browser."""
    return page.evaluate("""id => {
        const gd = document.getElementById(id), plain = v => Array.from(v && v.bdata !== undefined
            ? new ({f4: Float32Array, f8: Float64Array, i4: Int32Array, i2: Int16Array, u1: Uint8Array,
                    i1: Int8Array, u2: Uint16Array, u4: Uint32Array})[v.dtype](
                Uint8Array.from(atob(v.bdata), c => c.charCodeAt(0)).buffer) : v);
        const byUid = Object.fromEntries(gd.data.filter(t => t.uid).map(t => [t.uid, t]));
        return gd.data.filter(t => t.meta && t.meta.smooth_of).map(t => ({
            x: plain(byUid[t.meta.smooth_of].x), raw: plain(byUid[t.meta.smooth_of].y), y: plain(t.y),
            gap: t.meta.gap}));
    }""", div_id)


def _slide(page, value: float) -> None:
    page.evaluate("""v => { const s = document.getElementById('smoothing'); s.value = String(v);
                            s.dispatchEvent(new Event('input')); }""", value)
    page.wait_for_function(f"document.getElementById('smoothing-value').textContent === '{value:.2f}'")
    page.wait_for_timeout(300)  # the restyle runs on the next animation frame


def test_the_smoothing_slider_restyles_every_smoothed_curve(browser, tmp_path):
    run = read_runs(write_full_log(tmp_path / "r" / "metrics.jsonl"))[0]
    out = render_report([run], tmp_path / "report.html", analyses=[plan_analysis(run)], smoothing=0.3)
    loaded = open_page(browser, out, "report_smoothing.png")
    assert_clean(loaded)
    page = loaded.page
    div = page.evaluate("document.querySelector('.js-plotly-plot').id")
    before = _smoothed_traces(page, div)
    assert len(before) > 10  # entropy and every panel curve
    for trace in before:  # as written by Python at 0.3
        assert np.allclose(trace["y"], ema(np.array(trace["x"]), np.array(trace["raw"]), 0.3, trace["gap"]),
                           rtol=1e-5, atol=1e-6)
    _slide(page, 0.9)
    after = _smoothed_traces(page, div)
    for old, new in zip(before, after, strict=True):
        assert new["raw"] == old["raw"]  # the raw series stays as logged
        expected = ema(np.array(new["x"]), np.array(new["raw"]), 0.9, new["gap"])
        assert np.allclose(new["y"], expected, rtol=1e-5, atol=1e-6)
    entropy = after[0]
    assert np.std(np.diff(entropy["y"])) < np.std(np.diff(before[0]["y"]))  # visibly calmer
    _slide(page, 0)
    assert all(np.allclose(t["y"], t["raw"]) for t in _smoothed_traces(page, div))
    assert loaded.errors == []
    page.close()


def test_comparison_layouts_render_and_slide(browser, tmp_path):
    runs = [read_runs(write_full_log(tmp_path / f"r{i}" / "metrics.jsonl", name=n, seed=i))[0]
            for i, n in enumerate(["grpo", "grpo+seal"])]
    for layout in ("multiples", "overlay"):
        out = render_comparison(runs, tmp_path / f"{layout}.html", layout=layout, labels=["GRPO", "SEAL"])
        loaded = open_page(browser, out, f"compare_{layout}.png")
        assert_clean(loaded)
        _slide(loaded.page, 0.5)
        for trace in _smoothed_traces(loaded.page, "compare-figure"):
            assert np.allclose(trace["y"], ema(np.array(trace["x"]), np.array(trace["raw"]), 0.5, trace["gap"]),
                               rtol=1e-5, atol=1e-6)
        assert loaded.errors == []
        loaded.page.close()
