"""The dashboard in a real browser: Debian's Chromium driven by selenium, against the app
served by waitress on a real socket. Sign in through a link, open every page from the
navigation with no console errors (a CSP violation is one), change a filter and see the
numbers change, and photograph the overview of the console's demo workspace.

Skipped with the reason when Chromium or its driver is missing — except under CI=true, where
a missing browser fails (.ci/run installs them)."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from waitress.server import create_server

from bot.db.engine import Database
from tests.support.dashboard import (
    CARL,
    MANAGER,
    Clock,
    dashboard,
    dashboard_settings,
    link,
    populate,
)
from tests.support.databases import copy_sqlite

# One worker runs these tests (`--dist loadgroup`), so one Chromium starts (the `browser` fixture).
pytestmark = pytest.mark.xdist_group("browser")

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not (CHROMIUM and DRIVER):
        reason = (
            "Chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason + "; CI must run the browser tests")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,1500",
        "--force-device-scale-factor=1",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def serve(app: Any) -> tuple[str, Any]:
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    return f"http://127.0.0.1:{server.effective_port}", server


def console_errors(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def kudos_shown(driver: Any) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.CSS_SELECTOR, "#summary tbody tr td:nth-child(2)").text)


def test_sign_in_open_every_page_and_filter(
    browser: Any, sqlite_template: Path, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as expected
    from selenium.webdriver.support.ui import Select, WebDriverWait

    url = copy_sqlite(sqlite_template, tmp_path)
    database = Database(url)
    populate(database)
    app = dashboard(dashboard_settings(url), database, Clock())
    base, server = serve(app)
    try:
        browser.get(base + link(database, MANAGER))
        assert browser.current_url == base + "/dashboard/"
        assert browser.find_element(By.TAG_NAME, "h1").text == "Overview"
        pages = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "nav a")]
        assert len(pages) == 7
        for page in pages:
            browser.get(page)
            assert browser.find_element(By.TAG_NAME, "h1").text, page
            assert "Something went wrong" not in browser.page_source
            assert console_errors(browser) == [], page
        browser.get(base + "/dashboard?period=2026-11")
        before = kudos_shown(browser)
        Select(browser.find_element(By.NAME, "principle")).select_by_value("no-surprises")
        browser.find_element(By.CSS_SELECTOR, ".picker button").click()
        WebDriverWait(browser, 60).until(expected.url_contains("principle=no-surprises"))
        assert (before, kudos_shown(browser)) == ("5", "2")
        assert console_errors(browser) == []
        # Signing out is a form with its CSRF token; afterwards the pages ask to sign in.
        browser.find_element(By.CSS_SELECTOR, ".signout button").click()
        WebDriverWait(browser, 60).until(expected.url_to_be(base + "/dashboard/signin"))
        browser.get(base + "/dashboard")
        assert browser.current_url == base + "/dashboard/signin"
        # A non-manager meets the friendly 403 on a manager's page.
        browser.get(base + link(database, CARL))
        browser.get(base + "/dashboard/health")
        assert "for the bot's managers" in browser.page_source
        # The browser reports the 403 itself as a failed load; nothing else.
        assert [e for e in console_errors(browser) if "status of 403" not in e] == []
    finally:
        server.close()
        database.dispose()


def test_overview_screenshot_of_the_demo_workspace(browser: Any, tmp_path: Path) -> None:
    """The README's picture: the console's demo workspace, as Carol (a manager) sees it."""
    from bot.config import load_settings
    from bot.console import demo
    from bot.console.standin import StandIn
    from bot.console.workspace import TEAM_ID, Workspace
    from bot.runtime import build_runtime
    from bot.web.signin import issue_link

    workspace = Workspace()
    standin = StandIn(workspace).start()
    settings = load_settings(
        slack_bot_token="xoxb-stand-in",
        slack_signing_secret="browser-test",
        slack_app_token=None,
        slack_api_url=standin.api_url,
        database_url=f"sqlite:///{tmp_path / 'demo.db'}",
        _env_file=None,
    )
    runtime = build_runtime(settings)
    try:
        runtime.people.sync_once()
        demo.fill(runtime.database, runtime.mission, workspace, runtime.clock())
        base, server = serve(runtime.wsgi())
        carol = workspace.person("@carol")
        with runtime.database.transaction() as session:
            address = issue_link(
                session, public_url=base, team_id=TEAM_ID, user_id=carol.id, now=runtime.clock()
            )
        browser.get(address)
        browser.get(base + "/dashboard?period=quarter")
        assert console_errors(browser) == []
        shot = tmp_path / "dashboard.png"
        browser.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
        target = os.environ.get("DASHBOARD_SCREENSHOT")
        if target:  # `DASHBOARD_SCREENSHOT=docs/dashboard.png` refreshes README's picture
            shutil.copy(shot, ROOT / target)
        server.close()
    finally:
        runtime.close()
        standin.stop()


def test_a_german_colleague_signs_in_and_reads_the_overview_in_german(
    browser: Any, tmp_path: Path
) -> None:
    """Emma in Berlin (Slack locale de-DE, as the demo workspace's users.list says) signs in
    through her link and reads the dashboard in German: the language comes from her locale
    in the people directory, not from the workspace's (English)."""
    from selenium.webdriver.common.by import By

    from bot.config import load_settings
    from bot.console import demo
    from bot.console.standin import StandIn
    from bot.console.workspace import TEAM_ID, Workspace
    from bot.runtime import build_runtime
    from bot.web.signin import issue_link

    workspace = Workspace()
    standin = StandIn(workspace).start()
    settings = load_settings(
        slack_bot_token="xoxb-stand-in",
        slack_signing_secret="browser-test",
        slack_app_token=None,
        slack_api_url=standin.api_url,
        database_url=f"sqlite:///{tmp_path / 'demo.db'}",
        _env_file=None,
    )
    runtime = build_runtime(settings)
    try:
        runtime.people.sync_once()
        demo.fill(runtime.database, runtime.mission, workspace, runtime.clock())
        base, server = serve(runtime.wsgi())
        emma = workspace.person("@emma")
        with runtime.database.transaction() as session:
            address = issue_link(
                session, public_url=base, team_id=TEAM_ID, user_id=emma.id, now=runtime.clock()
            )
        browser.get(address)
        assert browser.current_url == base + "/dashboard/"
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "de"
        assert browser.find_element(By.TAG_NAME, "h1").text == "Übersicht"
        nav = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "nav a")]
        assert nav == ["Übersicht", "Grundsätze", "Ranglisten", "Meine Seite"]
        assert "Dieser Zeitraum im Vergleich zum vorigen" in browser.page_source
        assert browser.find_element(By.CSS_SELECTOR, ".signout button").text == "Abmelden"
        assert console_errors(browser) == []
        server.close()
    finally:
        runtime.close()
        standin.stop()
