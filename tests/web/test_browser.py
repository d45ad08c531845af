"""The web page in a real browser (headless Debian chromium, Selenium) over a live server
and the real models on the seed index: ask, read the answer in its passage, follow a
citation to the document view, upload and remove documents, the API key, a phone screen.

Skips, saying how to run it, where chromium or chromedriver is missing."""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from qa.core.config import Settings
from qa.core.types import Response
from qa.engine import NO_ANSWER, Engine
from qa.serve import create_app

from ..conftest import SEED_DIR, live_server
from .browser import (
    CONTRAST_JS,
    DROP_FILES_JS,
    HOW_TO_RUN,
    RECORD_FETCH_JS,
    RECORD_STREAM_JS,
    SERVER_KIND_JS,
    console_errors,
    find_browser,
    start_chrome,
    viewport,
    wait,
    wait_answered,
)

pytest.importorskip("selenium", reason="pip install selenium (the dev extra); " + HOW_TO_RUN)
BROWSER = find_browser()
if BROWSER is None:
    pytest.skip(HOW_TO_RUN, allow_module_level=True)

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "screenshot.png"
SEED_Q = "Who is the Kremlin's top foreign policy aide?"
UNANSWERABLE = "What is the boiling point of liquid nitrogen on Neptune?"
KEY = "browser-test-key"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The real embedder and reader over the seed article, in a fresh index."""
    e = Engine(Settings(index_dir=tmp_path_factory.mktemp("web") / "index"))
    with contextlib.chdir(ROOT):  # sources read "seeds/…", as in the README
        e.index([SEED_DIR.relative_to(ROOT)])
    return e


@pytest.fixture(scope="module")
def server(engine: Engine) -> Iterator[str]:
    with live_server(create_app(engine, api_key="")) as url:
        yield url


@pytest.fixture(scope="module")
def chrome() -> Iterator[Any]:
    assert BROWSER is not None
    driver = start_chrome(*BROWSER)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def page(chrome: Any, server: str) -> Iterator[Any]:
    """The browser on a fresh page at 1280x900: no conversation, no key, no console errors."""
    viewport(chrome, 1280, 900)
    chrome.get(server + "/static/favicon.svg")  # same origin: clear what a test left behind
    chrome.execute_script("localStorage.clear(); sessionStorage.clear();")
    console_errors(chrome)
    yield chrome
    assert console_errors(chrome, allow=("status of 401", "status of 404")) == []


def _ask(driver: Any, question: str, turns: int = 1) -> Any:
    box = driver.find_element(By.ID, "question")
    box.send_keys(question, Keys.ENTER)
    return wait_answered(driver, turns)[-1]


def _expected(engine: Engine, question: str) -> Response:
    return engine.ask(question)


def _check_answer(turn: Any, expected: Response) -> None:
    """The turn shows the engine's answer, marked inside its cited passage."""
    assert expected.answer is not None and expected.answer_citation is not None
    cited = expected.citations[expected.answer_citation - 1]
    mark = turn.find_element(By.CSS_SELECTOR, ".passage mark.answer-span")
    assert mark.text == expected.answer.text
    passage = turn.find_element(By.CSS_SELECTOR, ".passage")
    assert passage.get_attribute("textContent") == cited.text
    before = passage.get_attribute("textContent").split(mark.get_attribute("textContent"))[0]
    assert len(before) == expected.answer.start - cited.start  # marked at its offsets
    items = turn.find_elements(By.CSS_SELECTOR, "ol.citations > li")
    assert len(items) == len(expected.citations)


def test_asking_streams_then_marks_the_answer_in_its_passage(
    page: Any, server: str, engine: Engine
) -> None:
    page.get(server + "/")
    page.execute_script(RECORD_STREAM_JS)
    turn = _ask(page, SEED_Q)
    expected = _expected(engine, SEED_Q)
    _check_answer(turn, expected)
    assert turn.find_element(By.CSS_SELECTOR, ".answer-text strong").text == expected.answer.text
    streamed = page.execute_script("return window.__streamed")
    assert any(expected.answer.text in s for s in streamed), streamed  # shown as it came
    assert expected.answer.text in page.find_element(By.ID, "announcer").text
    link = turn.find_element(By.CSS_SELECTOR, ".open-doc").get_attribute("href")
    cited = expected.citations[expected.answer_citation - 1]
    assert link.endswith(
        f"/view/{cited.doc_id}?start={cited.start}&end={cited.end}"
        f"&answer_start={expected.answer.start}&answer_end={expected.answer.end}"
    )
    # Text meets WCAG AA contrast (4.5:1) where the answer is read.
    selectors = [".answer-text", ".passage", "mark.answer-span", ".cite-meta span", ".badge"]
    selectors += [".help", ".tagline", "button.primary", ".cite-link", "label", ".cite-text"]
    for scheme in ("dark", "light"):  # and in the dark scheme
        page.execute_cdp_cmd(
            "Emulation.setEmulatedMedia",
            {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
        )
        ratios = page.execute_script(CONTRAST_JS, selectors)
        low = [(s, round(r, 2)) for s, r in ratios if r < 4.5]
        assert ratios and not low, (scheme, low)
    page.execute_script("window.scrollTo(0, 0)")
    if os.environ.get("QA_UPDATE_SCREENSHOT") or not SCREENSHOT.exists():
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.save_screenshot(str(SCREENSHOT))  # the README's picture, 1280x900


def test_a_citation_opens_the_document_at_the_passage(
    page: Any, server: str, engine: Engine
) -> None:
    expected = _expected(engine, SEED_Q)
    page.get(server + "/?q=" + quote(SEED_Q))
    turn = wait_answered(page)[0]
    turn.find_element(By.CSS_SELECTOR, ".open-doc").click()
    answer = wait(page, lambda d: d.find_elements(By.ID, "answer"), "the marked answer")[0]
    assert answer.text == expected.answer.text
    cited = expected.citations[expected.answer_citation - 1]
    passage = page.find_element(By.ID, "passage")
    assert passage.get_attribute("textContent") == cited.text
    assert page.execute_script("return document.activeElement.id") == "passage"
    assert _in_view(page, "answer")
    # Back to the conversation, kept; then a citation further down the document.
    page.find_element(By.ID, "back").click()
    turn = wait_answered(page)[0]
    assert turn.find_element(By.CSS_SELECTOR, ".question").text == SEED_Q
    deep = max(expected.citations, key=lambda c: c.start)
    item = turn.find_element(By.CSS_SELECTOR, f"li.citation[data-n='{deep.n}']")
    item.find_element(By.CSS_SELECTOR, ".cite-link").click()
    wait(page, lambda d: d.find_elements(By.ID, "passage"), "the marked passage")
    assert page.find_element(By.ID, "passage").get_attribute("textContent") == deep.text
    assert page.find_elements(By.ID, "answer") == [] or deep.n == expected.answer_citation
    assert page.execute_script("return window.scrollY") > 0 and _in_view(page, "passage")
    assert "characters" in page.find_element(By.ID, "passage-text").text


def _in_view(driver: Any, element_id: str) -> bool:
    return driver.execute_script(
        "const r = document.getElementById(arguments[0]).getBoundingClientRect();"
        "return r.top >= 0 && r.top < window.innerHeight && r.bottom > 0;",
        element_id,
    )


LIGHTHOUSE = (
    "Harbour notes 🐙🦀 from the north coast.\n\n"
    "The keeper of the Zorblatt lighthouse is Mirela Quistgaard. She has kept its lamp "
    "burning every night since 1987, through storms 🌊 and fog.\n"
)


def test_upload_ask_drop_and_remove_documents(
    page: Any, server: str, engine: Engine, tmp_path: Path
) -> None:
    page.get(server + "/")
    path = tmp_path / "lighthouse.txt"
    path.write_text(LIGHTHOUSE, encoding="utf-8")
    page.find_element(By.ID, "file-input").send_keys(str(path))
    status = wait(page, _summary("Added 1"), "the upload's summary")
    assert "skipped 0" in status.text
    wait(page, _listed("lighthouse.txt"), "the new document in the list")
    question = "Who is the keeper of the Zorblatt lighthouse?"
    expected = _expected(engine, question)
    assert expected.answer is not None and "Quistgaard" in expected.answer.text
    turn = _ask(page, question)
    _check_answer(turn, expected)  # offsets counted in code points, past the emoji
    # Dropped files are added too, and what is skipped says why.
    page.execute_script(
        DROP_FILES_JS, [["tides.md", "# Tides\n\nSpring tides come twice a month."], ["x.odt", "?"]]
    )
    status = wait(page, _summary("x.odt"), "the dropped files' summary")
    assert "Added 1" in status.text and "skipped 1" in status.text
    assert "unsupported type" in status.text
    wait(page, _listed("tides.md"), "the dropped document in the list")
    for source in ("lighthouse.txt", "tides.md"):
        _remove(page, source)
    left = {d.source for d in engine.store.documents.values()}
    assert not left & {"lighthouse.txt", "tides.md"}, left


def _summary(text: str) -> Any:
    def check(d: Any) -> Any:
        box = d.find_element(By.ID, "upload-status")
        return box if text in box.text else None

    return check


def _listed(source: str) -> Any:
    return lambda d: [
        li for li in d.find_elements(By.CSS_SELECTOR, "#docs-list li") if source in li.text
    ]


def _remove(driver: Any, source: str) -> None:
    item = wait(driver, _listed(source), source)[0]
    item.find_element(By.CSS_SELECTOR, "button.remove").click()
    dialog = driver.find_element(By.ID, "confirm-dialog")
    assert dialog.get_attribute("open") is not None and source in dialog.text
    driver.find_element(By.ID, "confirm-ok").click()
    wait(driver, lambda d: not _listed(source)(d), f"{source} gone from the list")
    assert "Removed" in driver.find_element(By.ID, "upload-status").text


@pytest.mark.parametrize("kind", ["stream", "fallback"])
def test_the_answer_comes_with_the_stream_or_from_ask(
    page: Any, server: str, engine: Engine, kind: str
) -> None:
    """A server whose last chunk carries ``answer`` is not asked again; an older one is
    asked /v1/ask once, for the same answer."""
    page.get(server + "/")
    page.execute_script(SERVER_KIND_JS, kind)
    turn = _ask(page, SEED_Q)
    _check_answer(turn, _expected(engine, SEED_Q))
    assert page.execute_script("return window.__asks") == (0 if kind == "stream" else 1)


def test_no_answer_says_so_and_lists_the_closest_passages(
    page: Any, server: str, engine: Engine
) -> None:
    expected = _expected(engine, UNANSWERABLE)
    assert expected.answer is None
    page.get(server + "/")
    turn = _ask(page, UNANSWERABLE)
    assert turn.find_element(By.CSS_SELECTOR, ".no-answer").text == NO_ANSWER
    assert turn.find_elements(By.CSS_SELECTOR, "mark") == []
    heading = turn.find_element(By.CSS_SELECTOR, ".sources-heading").text
    assert heading.lower() == "closest passages"
    links = [a.get_attribute("href") for a in turn.find_elements(By.CSS_SELECTOR, ".cite-link")]
    assert len(links) == len(expected.citations) and not any("answer_start" in u for u in links)


def test_follow_ups_send_the_conversation_and_a_new_one_starts_clean(
    page: Any, server: str
) -> None:
    page.get(server + "/?q=" + quote(SEED_Q))  # asked on load
    first = wait_answered(page)[0]
    assert first.find_element(By.CSS_SELECTOR, ".question").text == SEED_Q
    assert page.find_element(By.ID, "question").get_attribute("value") == ""
    page.execute_script(RECORD_FETCH_JS)
    _ask(page, "And who will he meet?", turns=2)
    chats = [
        json.loads(s["body"])
        for s in page.execute_script("return window.__sent")
        if s["url"].endswith("/v1/chat/completions")
    ]
    roles = [(m["role"], m["content"][:20]) for m in chats[-1]["messages"]]
    assert [r for r, _ in roles] == ["user", "assistant", "user"]
    assert (
        roles[0][1] == SEED_Q[:20]
        and chats[-1]["messages"][-1]["content"] == "And who will he meet?"
    )
    assert chats[-1]["stream"] is True
    page.find_element(By.ID, "new-conversation").click()
    assert page.find_elements(By.CSS_SELECTOR, "#turns > .turn") == []
    assert page.execute_script("return document.activeElement.id") == "question"
    assert page.execute_script("return sessionStorage.getItem('qa.conversation')") == "[]"


def test_keyboard_only(page: Any, server: str, engine: Engine) -> None:
    page.get(server + "/")
    body = page.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    skip = page.switch_to.active_element
    assert skip.get_attribute("class") == "skip"
    skip.send_keys(Keys.ENTER)
    box = page.switch_to.active_element
    assert box.get_attribute("id") == "question"
    box.send_keys(SEED_Q, Keys.ENTER)
    wait_answered(page)
    page.execute_script("document.getElementById('question').focus()")
    for _ in range(10):  # Shift+Tab back from the box reaches the answer's document link
        page.switch_to.active_element.send_keys(Keys.SHIFT, Keys.TAB)
        focused = page.switch_to.active_element
        if "open-doc" in (focused.get_attribute("class") or ""):
            break
    else:
        pytest.fail("Shift+Tab from the question box never reached 'Open in the document'")
    outline = page.execute_script(
        "const s = getComputedStyle(document.activeElement);"
        "return [s.outlineStyle, parseFloat(s.outlineWidth)];"
    )
    assert outline[0] != "none" and outline[1] >= 2  # focus is visible
    focused.send_keys(Keys.ENTER)
    wait(page, lambda d: d.find_elements(By.ID, "answer"), "the document view")


def test_a_server_with_a_key_asks_for_it_once(chrome: Any, engine: Engine) -> None:
    with live_server(create_app(engine, api_key=KEY)) as url:
        viewport(chrome, 1280, 900)
        chrome.get(url + "/?q=" + quote(SEED_Q))
        chrome.execute_script(
            "window.__prompts = 0; const o = HTMLDialogElement.prototype.showModal;"
            "HTMLDialogElement.prototype.showModal = function () { window.__prompts++;"
            " return o.call(this); };"
        )
        dialog = wait(chrome, _open_dialog("key-dialog"), "the key dialog")
        assert "API key" in dialog.text
        chrome.find_element(By.ID, "key-input").send_keys(KEY, Keys.ENTER)
        turn = wait_answered(chrome)[0]
        _check_answer(turn, _expected(engine, SEED_Q))
        wait(chrome, _listed("seeds/"), "the documents, listed with the key")
        assert chrome.execute_script("return localStorage.getItem('qa.apiKey')") == KEY
        _ask(chrome, "Who will visit Moscow?", turns=2)
        assert chrome.execute_script("return window.__prompts") <= 1  # once, for all requests
        assert not _open_dialog("key-dialog")(chrome)
        chrome.get(url + "/")  # kept: no question asked again
        wait(chrome, _listed("seeds/"), "the documents, with the kept key")
        assert not _open_dialog("key-dialog")(chrome)
        chrome.execute_script("localStorage.setItem('qa.apiKey', 'wrong')")
        chrome.get(url + "/")
        wait(chrome, _open_dialog("key-dialog"), "the key dialog again")
        assert "refused" in chrome.find_element(By.ID, "key-error").text
        chrome.find_element(By.ID, "key-input").send_keys(KEY, Keys.ENTER)
        wait(chrome, _listed("seeds/"), "the documents, with the right key")
        chrome.execute_script("localStorage.clear(); sessionStorage.clear();")
        console_errors(chrome)  # the 401s the browser logged


def _open_dialog(dialog_id: str) -> Any:
    def check(d: Any) -> Any:
        el = d.find_element(By.ID, dialog_id)
        return el if el.get_attribute("open") is not None else None

    return check


def test_a_phone_screen_has_no_horizontal_scroll(page: Any, server: str, engine: Engine) -> None:
    viewport(page, 390, 844, mobile=True)
    page.get(server + "/?q=" + quote(SEED_Q))
    wait_answered(page)
    assert _overflow(page) == []
    toggle = page.find_element(By.ID, "docs-toggle")
    assert toggle.get_attribute("aria-expanded") == "false"  # out of the way on a phone
    toggle.click()
    wait(page, _listed("seeds/"), "the documents panel")
    assert _overflow(page) == []
    page.find_element(By.CSS_SELECTOR, ".open-doc").click()
    wait(page, lambda d: d.find_elements(By.ID, "answer"), "the document view")
    assert _overflow(page) == []


def _overflow(driver: Any) -> list[str]:
    """What sticks out past the right edge (empty when nothing scrolls sideways)."""
    return driver.execute_script(
        "const w = document.documentElement.clientWidth; const out = [];"
        "if (document.documentElement.scrollWidth > w) out.push('page ' +"
        "  document.documentElement.scrollWidth + ' > ' + w);"
        "for (const e of document.querySelectorAll('body *')) {"
        "  const r = e.getBoundingClientRect();"
        "  if (r.width && r.right > w + 1 && getComputedStyle(e).position !== 'absolute')"
        "    out.push(e.tagName + '.' + e.className + ' ' + Math.round(r.right));"
        "}"
        "return out;"
    )


def test_the_screenshot_is_commit_ready() -> None:
    if not SCREENSHOT.exists():
        pytest.skip("no docs/screenshot.png yet")
    head = SCREENSHOT.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    assert (width, height) == (1280, 900)
    assert re.fullmatch(r"[a-z_]+\.png", SCREENSHOT.name)
