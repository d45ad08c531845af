"""Headless Debian chromium driven by Selenium, for the browser tests: where the browser
and its driver are (or why the tests skip), and helpers to wait on and read the page."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

HOW_TO_RUN = (
    "the browser tests need chromium and chromedriver: apt-get install chromium "
    "chromium-driver (then: .venv/bin/python -m pytest tests/web)"
)
WAIT_S = 30


def _first(env: str, *names: str) -> str | None:
    given = os.environ.get(env)
    if given:
        return given if Path(given).is_file() else None
    for name in names:
        path = name if name.startswith("/") else shutil.which(name)
        if path and Path(path).is_file():
            return path
    return None


def find_browser() -> tuple[str, str] | None:
    """(chromium, chromedriver), from QA_CHROMIUM / QA_CHROMEDRIVER or the usual places."""
    chromium = _first("QA_CHROMIUM", "/usr/bin/chromium", "chromium", "chromium-browser")
    driver = _first("QA_CHROMEDRIVER", "/usr/bin/chromedriver", "chromedriver")
    return (chromium, driver) if chromium and driver else None


def start_chrome(chromium: str, chromedriver: str) -> Any:
    """A headless chromium at 1280x900 that logs the page's console (explicit paths, so
    Selenium Manager never looks anything up or downloads)."""
    os.environ["SE_OFFLINE"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root in a container
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--window-size=1280,900",
        "--lang=en-US",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    driver.set_page_load_timeout(WAIT_S)
    driver.set_script_timeout(WAIT_S)
    return driver


def viewport(driver: Any, width: int, height: int, mobile: bool = False) -> None:
    """The page's viewport exactly (a window's size includes what the window draws)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
    )


def wait(driver: Any, condition: Callable[[Any], Any], what: str, timeout: float = WAIT_S) -> Any:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # the page re-renders its lists while a condition reads them: an element gone stale
    # between finding and reading it means "look again", not a failure
    w = WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,))
    return w.until(condition, f"waited {timeout:g} s for {what}")


def wait_answered(driver: Any, turns: int = 1) -> list[Any]:
    """The turns once ``turns`` of them have their final view."""
    from selenium.webdriver.common.by import By

    def done(d: Any) -> list[Any] | None:
        replies = d.find_elements(By.CSS_SELECTOR, "#turns .reply[aria-busy='false']")
        if len(replies) >= turns and not d.find_elements(By.CSS_SELECTOR, "#ask-button:disabled"):
            return d.find_elements(By.CSS_SELECTOR, "#turns > .turn")
        return None

    return wait(driver, done, f"{turns} answered turn(s)")


def console_errors(driver: Any, allow: tuple[str, ...] = ()) -> list[str]:
    """The page's console errors since the last call (CSP violations, script errors, ...)."""
    out = []
    for entry in driver.get_log("browser"):
        if entry.get("level") == "SEVERE" and not any(a in entry["message"] for a in allow):
            out.append(entry["message"])
    return out


# The effective contrast ratio of an element's text against what is painted behind it.
CONTRAST_JS = """
const lum = (c) => {
  const v = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map((x) => x / 255)
    .map((x) => (x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4));
  return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
};
const alpha = (c) => { const v = c.match(/[\\d.]+/g); return v.length > 3 ? Number(v[3]) : 1; };
const out = [];
for (const sel of arguments[0]) {
  for (const node of document.querySelectorAll(sel)) {
    let bg = node, color = getComputedStyle(node).backgroundColor;
    while (alpha(color) === 0 && bg.parentElement) {
      bg = bg.parentElement;
      color = getComputedStyle(bg).backgroundColor;
    }
    if (alpha(color) === 0) color = "rgb(255, 255, 255)";
    const a = lum(getComputedStyle(node).color), b = lum(color);
    out.push([sel, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)]);
  }
}
return out;
"""

# Records what the page sends (chat requests' messages), wrapping fetch in place.
RECORD_FETCH_JS = """
window.__sent = [];
const original = window.fetch;
window.fetch = (url, options) => {
  window.__sent.push({url: String(url), body: options && typeof options.body === "string"
    ? options.body : null});
  return original(url, options);
};
"""

# Records every text the streaming reply showed before the final view replaced it.
RECORD_STREAM_JS = """
window.__streamed = [];
new MutationObserver(() => {
  for (const p of document.querySelectorAll("#turns .streaming")) {
    window.__streamed.push(p.textContent);
  }
}).observe(document.getElementById("turns"), {subtree: true, childList: true,
  characterData: true});
"""

# Drops files on the page as a user's drag and drop does: [[name, text], ...].
DROP_FILES_JS = """
const transfer = new DataTransfer();
for (const [name, text] of arguments[0]) {
  transfer.items.add(new File([text], name, {type: "text/plain"}));
}
for (const type of ["dragenter", "dragover", "drop"]) {
  document.body.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true,
    cancelable: true}));
}
"""

# Rewrites the chat stream as a server of either kind sends it: "stream" puts the answer
# (from /v1/ask) in the chunk that carries the citations, "fallback" takes it out; counts
# the page's own /v1/ask calls.
SERVER_KIND_JS = """
const kind = arguments[0];
const original = window.fetch;
window.__asks = 0;
window.fetch = async (url, options) => {
  const u = String(url);
  if (u.endsWith("/v1/ask")) window.__asks += 1;
  const response = await original(url, options);
  if (!u.endsWith("/v1/chat/completions")) return response;
  const question = JSON.parse(options.body).messages.at(-1).content;
  const asked = await (await original("/v1/ask", {method: "POST", headers: options.headers,
    body: JSON.stringify({question})})).json();
  const events = (await response.text()).split("\\n\\n").map((event) => {
    if (!event.startsWith("data: {")) return event;
    const chunk = JSON.parse(event.slice(6));
    if (!("citations" in chunk)) return event;
    if (kind === "stream") Object.assign(chunk, {answer: asked.answer, citations: asked.citations});
    else delete chunk.answer;
    return "data: " + JSON.stringify(chunk);
  });
  return new Response(events.join("\\n\\n"), {status: response.status,
    headers: {"Content-Type": "text/event-stream"}});
};
"""
