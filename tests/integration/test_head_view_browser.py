"""The HTML head view in a real headless chromium: tokens render, layer changes and hover respond, screenshot."""

from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import bertology as bt
from bertology.analyses.attention.head_view import page, word_attention

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary on PATH (Debian: apt-get install "
                                                              "chromium); the HTML view cannot be checked in a browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
PAIR = ("Is the bank open?", "No, it is closed.")


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "profile"
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True,
                          timeout=90, check=True)


def _keep(path: Path) -> None:
    """Copy a screenshot to $BERTOLOGY_TEST_ARTIFACTS, when set, for a person to look at."""
    artifacts = os.environ.get("BERTOLOGY_TEST_ARTIFACTS")
    if artifacts:
        shutil.copy(path, Path(artifacts) / path.name)


class DevTools:
    """Minimal Chrome DevTools Protocol client over ``--remote-debugging-pipe`` (fds 3 and 4)."""

    def __init__(self, tmp_path: Path) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def wire_fds() -> None:  # chromium reads commands on fd 3 and writes replies on fd 4
            reading, writing = (fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser_r, from_browser_w))
            os.dup2(reading, 3)
            os.dup2(writing, 4)

        self.process = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'cdp-profile'}", "--remote-debugging-pipe",
             "--window-size=1000,800", "about:blank"],
            pass_fds=(3, 4, to_browser_r, from_browser_w), preexec_fn=wire_fds,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next_id = 0
        self._buffer = b""
        self.session: str | None = None
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: bool = True) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self._buffer:
                chunk = os.read(self._from_browser, 1 << 16)
                if not chunk:
                    raise RuntimeError(f"chromium closed the pipe while waiting for {method}")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if "method" in reply:
                self.events.append(reply)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def open(self, url: str) -> None:
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True},
                                 session=False)["sessionId"]
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send("Log.enable")
        self.send("Page.navigate", {"url": url})
        for _ in range(100):
            if self.evaluate("document.readyState") == "complete":
                return
        raise RuntimeError("the page did not finish loading")

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def errors(self) -> list[dict]:
        """Uncaught exceptions, console errors and error log entries seen so far."""
        return [event for event in self.events
                if event["method"] == "Runtime.exceptionThrown"
                or (event["method"] == "Runtime.consoleAPICalled" and event["params"]["type"] in ("error", "assert"))
                or (event["method"] == "Log.entryAdded" and event["params"]["entry"]["level"] == "error")]

    def screenshot(self, path: Path) -> Path:
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"})["data"]))
        return path

    def close(self) -> None:
        try:
            self.send("Browser.close", session=False)
        except (RuntimeError, OSError):
            pass
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.close(self._to_browser)
        os.close(self._from_browser)


@pytest.fixture(scope="module")
def view(minilm):
    return bt.head_view(minilm, PAIR)


@needs_chromium
def test_dump_dom_renders_tokens_and_follows_the_layer_in_the_url(tmp_path, view):
    path = view.save_html(tmp_path / "head_view.html")
    dom = _chromium(tmp_path, "--virtual-time-budget=5000", "--dump-dom",
                    f"{path.as_uri()}#layer=3&heads=1").stdout
    root = re.search(r'<div class="bt-head-view" id="[^"]+"([^>]*)>', dom).group(1)
    assert 'data-layer="3"' in root and 'data-heads="1"' in root
    left = re.findall(r'class="bt-hv-token" tabindex="0" data-index="\d+" data-segment="(\d)">([^<]*)</div>', dom)
    assert [token for _, token in left][:len(view.labels)] == view.labels
    assert [int(s) for s, _ in left][:len(view.labels)] == view.attention.segments.tolist()
    lines = re.findall(r'<line [^>]*data-head="(\d+)" data-q="(\d+)" data-k="(\d+)" data-weight="([0-9.e-]+)"', dom)
    assert lines and {head for head, *_ in lines} == {"1"}
    expected = view.attention.patterns[3, 1]
    for _, q, k, weight in lines:
        assert float(weight) == pytest.approx(expected[int(q), int(k)], abs=1e-4)
    assert len(lines) == int((np.round(expected, 4) >= 0.01).sum())


@needs_chromium
def test_screenshot_of_the_view(tmp_path, view):
    path = view.save_html(tmp_path / "head_view.html")
    shot = tmp_path / "head_view.png"
    _chromium(tmp_path, "--window-size=900,700", "--hide-scrollbars", f"--screenshot={shot}",
              "--virtual-time-budget=5000", path.as_uri())
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    _keep(shot)


@needs_chromium
def test_layer_select_hover_and_two_views_in_a_live_browser(tmp_path, minilm, view):
    second = bt.head_view(minilm, "The keys to the cabinet are here.")
    path = tmp_path / "two_views.html"
    path.write_text(page([view, second]))
    browser = DevTools(tmp_path)
    try:
        browser.open(path.as_uri())
        roots = browser.evaluate("Array.from(document.querySelectorAll('.bt-head-view')).map(r => r.id)")
        assert len(roots) == 2 and len(set(roots)) == 2
        first = f"document.getElementById({json.dumps(roots[0])})"
        assert browser.evaluate(f"{first}.dataset.layer") == "0"
        browser.evaluate(f"(() => {{ const s = {first}.querySelector('select.bt-hv-layer'); s.value = '4';"
                         "s.dispatchEvent(new Event('change')); })()")
        assert browser.evaluate(f"{first}.dataset.layer") == "4"
        other = f"document.getElementById({json.dumps(roots[1])})"
        assert browser.evaluate(f"{other}.dataset.layer") == "0"  # views are independent
        browser.evaluate(f"{first}.querySelectorAll('.bt-hv-left .bt-hv-token')[2]"
                         ".dispatchEvent(new MouseEvent('mouseenter'))")
        assert browser.evaluate(f"{first}.dataset.hover") == "left:2"
        queries = browser.evaluate(f"Array.from({first}.querySelectorAll('line')).map(l => +l.dataset.q)")
        assert queries and set(queries) == {2}
        shading = browser.evaluate(f"Array.from({first}.querySelectorAll('.bt-hv-right .bt-hv-token'))"
                                   ".map(t => t.style.background)")
        expected = view.attention.patterns[4, :, 2].mean(axis=0)
        strongest = int(np.argmax(expected))
        assert "rgba" in shading[strongest]
        browser.evaluate(f"{first}.querySelector('select.bt-hv-filter').value = 'ab';"
                         f"{first}.querySelector('select.bt-hv-filter').dispatchEvent(new Event('change'));"
                         f"{first}.querySelectorAll('.bt-hv-left .bt-hv-token')[2]"
                         ".dispatchEvent(new MouseEvent('mouseleave'))")
        keys = browser.evaluate(f"Array.from({first}.querySelectorAll('line')).map(l => +l.dataset.k)")
        segments = view.attention.segments
        assert keys and all(segments[k] == 1 for k in keys)
        assert browser.errors() == []
        shot = browser.screenshot(tmp_path / "live.png")
        assert shot.stat().st_size > 10_000
        _keep(shot)
    finally:
        browser.close()


@needs_chromium
def test_word_level_toggle_in_a_live_browser(tmp_path, minilm):
    view = bt.head_view(minilm, "The unaffable banker closed it.")
    path = view.save_html(tmp_path / "words.html")
    browser = DevTools(tmp_path)
    try:
        browser.open(path.as_uri())
        root = "document.querySelector('.bt-head-view')"
        visible = f"Array.from({root}.querySelectorAll('.bt-hv-left .bt-hv-token')).filter(t => t.offsetParent)"
        assert browser.evaluate(f"{visible}.length") == len(view.labels)
        browser.evaluate(f"(() => {{ const box = {root}.querySelector('input.bt-hv-words'); box.checked = true;"
                         "box.dispatchEvent(new Event('change')); })()")
        assert browser.evaluate(f"{root}.dataset.level") == "word"
        assert browser.evaluate(f"{visible}.map(t => t.textContent)") == view.word_labels
        word = view.word_labels.index("unaffable")
        browser.evaluate(f"{visible}[{word}].dispatchEvent(new MouseEvent('mouseenter'))")
        assert browser.evaluate(f"{root}.dataset.hover") == f"left:{word}"
        lines = browser.evaluate(f"Array.from({root}.querySelectorAll('line'))"
                                 ".map(l => [+l.dataset.head, +l.dataset.q, +l.dataset.k, +l.dataset.weight])")
        expected = word_attention(view.attention.patterns[0], view.words)
        assert lines and {q for _, q, _, _ in lines} == {word}
        for head, q, k, weight in lines:
            assert weight == pytest.approx(expected[head, q, k], abs=1e-4)
        assert browser.errors() == []
        _keep(browser.screenshot(tmp_path / "words.png"))
    finally:
        browser.close()


@needs_chromium
def test_neuron_view_loads_without_errors_and_sums_the_products(tmp_path, minilm):
    view = bt.head_view(minilm, ("The bank <b>is</b> open?", "No."), view="neuron")
    path = view.save_html(tmp_path / "neuron.html")
    browser = DevTools(tmp_path)
    try:
        browser.open(path.as_uri() + "#layer=2&head=3&query=1")
        root = "document.querySelector('.bt-neuron-view')"
        assert browser.evaluate(f"[{root}.dataset.layer, {root}.dataset.head, {root}.dataset.query]") == ["2", "3", "1"]
        np.testing.assert_allclose(json.loads(browser.evaluate(f"{root}.dataset.scores")), view.scores()[2, 3, 1],
                                   atol=1e-3)
        rows = browser.evaluate(f"Array.from({root}.querySelectorAll('tr.bt-nv-key-row'))"
                                ".map(r => [r.querySelector('th').textContent, +r.querySelector('.bt-nv-weight')"
                                ".textContent, +r.querySelector('.bt-nv-model').textContent])")
        assert [label for label, *_ in rows] == view.labels
        for _, softmax, model_weight in rows:
            assert softmax == pytest.approx(model_weight, abs=2e-3)
        cells = browser.evaluate(f"{root}.querySelectorAll('tr.bt-nv-key-row')[0].querySelectorAll('.bt-nv-cell').length")
        assert cells == 2 * view.queries.shape[-1]
        browser.evaluate(f"(() => {{ const s = {root}.querySelector('select.bt-nv-layer'); s.value = '5';"
                         "s.dispatchEvent(new Event('change')); })()")
        browser.evaluate(f"{root}.querySelectorAll('tr.bt-nv-key-row')[4].querySelector('th').click()")
        assert browser.evaluate(f"[{root}.dataset.layer, {root}.dataset.query]") == ["5", "4"]
        np.testing.assert_allclose(json.loads(browser.evaluate(f"{root}.dataset.scores")), view.scores()[5, 3, 4],
                                   atol=1e-3)
        assert browser.evaluate("document.querySelectorAll('b').length") == 0
        assert browser.errors() == []
        _keep(browser.screenshot(tmp_path / "neuron.png"))
    finally:
        browser.close()
