"""What a reader sees: the portal in headless Chromium, on a desktop and on a phone.

Chromium is Debian's (``make test`` installs it); Playwright drives it through
its own protocol client, without downloading a browser.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from ingest import pipeline
from ingest.sample import write_sample
from repository.config import load_settings
from repository.repo import Repository
from repository.web import create_app
from tests.conftest import free_port

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync"]
SHOTS = Path(os.environ.get("SEN_TEST_ARTIFACTS", "test-artifacts"))


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    """Sen serving the sample collection on a real port, with matching manifest URLs."""
    port = free_port()
    top = tmp_path_factory.mktemp("portal")
    settings = load_settings(env={}, data_dir=top / "data",
                             base_url=f"http://127.0.0.1:{port}")
    repo = Repository(settings)
    repo.init()
    pipeline.ingest(repo, write_sample(top / "sample"))
    server = make_server("127.0.0.1", port, create_app(settings, repo=repo), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield settings.public_url
    server.shutdown()
    repo.close()


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_home_search_and_item_on_a_desktop(portal, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(portal + "/")
    assert page.locator("h1").inner_text() == "Thư viện số Đồng Tháp"
    assert page.locator(".collections li").count() >= 2
    page.screenshot(path=str(SHOTS / "home-desktop.png"), full_page=True)

    # Search with the keyboard, as typed without diacritics.
    page.locator("#q").fill("sa dec")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=sa+dec")
    cards = page.locator(".results .card")
    assert cards.count() >= 2
    assert "Sa Đéc" in cards.first.inner_text()
    page.screenshot(path=str(SHOTS / "search-desktop.png"), full_page=True)

    # Open the first result and let the viewer fetch tiles from the image server.
    tiles = []
    page.on("response", lambda r: tiles.append(r) if "/iiif/image/" in r.url
            and r.url.endswith("/default.jpg") else None)
    cards.first.locator("a").click()
    page.wait_for_selector(".mirador-window", timeout=20_000)
    page.wait_for_function("document.querySelectorAll('.openseadragon-canvas canvas').length",
                           timeout=20_000)
    page.wait_for_timeout(2000)
    page.screenshot(path=str(SHOTS / "item-desktop.png"), full_page=True)
    ok = [r for r in tiles if r.status == 200 and r.headers["content-type"] == "image/jpeg"]
    assert len(ok) >= 2, [(r.url, r.status) for r in tiles]
    assert any("/full/" not in r.url for r in ok), "the viewer asked for no deep-zoom tile"
    manifest = page.locator("a.iiif").get_attribute("href")
    assert manifest.startswith(portal) and manifest.endswith("/manifest")


def test_phone_width_keyboard_and_language(portal, browser):
    page = browser.new_page(viewport={"width": 360, "height": 740}, is_mobile=True,
                            has_touch=True)
    page.goto(portal + "/items/dt-dc-0001")
    page.wait_for_selector(".mirador-window", timeout=20_000)
    page.wait_for_timeout(1500)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    viewer = page.locator(".mirador-window").bounding_box()
    assert viewer and viewer["width"] > 250 and viewer["height"] > 300
    page.screenshot(path=str(SHOTS / "item-phone.png"), full_page=True)

    # The first Tab reaches the skip link, which moves focus to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    page.goto(portal + "/search?q=")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(SHOTS / "search-phone.png"), full_page=True)
    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "All documents"


def test_hidden_items_are_not_found_in_the_browser(portal, browser):
    page = browser.new_page()
    response = page.goto(portal + "/items/dt-qh-0005")
    assert response.status == 404
    response = page.goto(portal + "/iiif/image/dt-qh-0005~1/full/200,/0/default.jpg")
    assert response.status == 404
