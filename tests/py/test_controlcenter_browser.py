"""The controlcenter's page in a real browser: Debian's Chromium, driven by
Playwright. A person's path through it: create a configuration (after a
validation error shown next to its field), start a run, watch its steps
turn completed without reloading, re-run it, read a failed run's error.
Screenshots of each stage go to build/test-artifacts/controlcenter/."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, WAIT

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "build" / "test-artifacts" / "controlcenter"
TIMEOUT_MS = WAIT * 1000


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        message = "Debian's chromium is not installed: run scripts/install-deps"
        if os.environ.get("ISOQUBE_REQUIRE_SERVERS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser, controlcenter) -> Iterator:
    page = browser.new_page(viewport={"width": 1360, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(controlcenter.url)
    page.wait_for_selector(".live.on")  # the event stream is connected
    yield page
    page.close()
    assert errors == [], f"the page raised: {errors}"


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def step_status(page, step: str):
    return page.locator(f'tr.step[data-step="{step}"]')


def test_a_configuration_is_created_with_its_errors_shown_next_to_the_fields(page):
    # Given the editor of a new configuration with two steps
    page.click("header nav >> text=Configurations")
    page.click("text=New configuration")
    page.fill('input[name="name"]', "browser-made")
    page.click("text=+ Add step")
    page.click("text=+ Add step")
    cards = page.locator(".step-card")
    cards.nth(0).locator("select").select_option("Fetch")
    cards.nth(1).locator("select").select_option("Build")
    # When the second step asks for 0 attempts and the form is saved
    cards.nth(1).locator(".retry input").first.fill("0")
    page.get_by_role("button", name="Save").click()

    # Then the server's error shows next to that field, and nothing is saved
    error = page.locator('.field-error[data-field="steps[1].retry.attempts"]')
    error.wait_for()
    assert "retry attempts 0" in error.inner_text()
    screenshot(page, "1-configuration-error")

    # When it is corrected and saved
    cards.nth(1).locator(".retry input").first.fill("2")
    page.get_by_role("button", name="Save").click()

    # Then the configurations list shows it, Build after Fetch
    card = page.locator('[data-configuration="browser-made"]')
    card.wait_for()
    assert card.locator(".stage").all_inner_texts() == ["Fetch", "Build"]
    screenshot(page, "2-configurations")


def test_a_run_started_from_the_page_updates_live_and_can_be_rerun(page, controlcenter):
    # Given the run page of a run started from the dialog, held in its step
    page.click("header nav >> text=Configurations")
    page.locator('[data-configuration="held"]').get_by_role("button", name="Run").click()
    page.fill('dialog input[name="description"]', "from the browser")
    page.click("dialog >> text=Start run")
    page.wait_for_url(re.compile(r"#/runs/[0-9a-f-]+$"))
    first_run = page.url.rsplit("/", 1)[1]
    step_status(page, "Hold").and_(page.locator('[data-status="running"]')).wait_for()
    page.evaluate("window.notReloaded = true")
    screenshot(page, "3-run-running")

    # When the step is let go
    controlcenter.release.set()

    # Then its row turns completed, and so does the run, without a reload
    step_status(page, "Hold").and_(page.locator('[data-status="completed"]')).wait_for()
    page.locator(".page-head .badge.completed").wait_for()
    assert page.evaluate("window.notReloaded") is True
    assert page.locator(".timeline .bar.completed").count() == 2
    screenshot(page, "4-run-completed")

    # When it is re-run
    page.get_by_role("button", name="Re-run").click()

    # Then the page shows the new run, which completes too
    page.wait_for_url(lambda url: "#/runs/" in url and not url.endswith(first_run))
    page.locator(".page-head .badge.completed").wait_for()
    assert "Re-run of" in page.locator(".lead").inner_text()


def test_a_run_is_cancelled_and_resumed_from_its_page(page, controlcenter):
    # Given the page of a run held in its second step
    run = controlcenter.start_run("held")
    page.goto(f"{controlcenter.url}#/runs/{run['id']}")
    step_status(page, "Hold").and_(page.locator('[data-status="running"]')).wait_for()

    # When it is cancelled (and the browser's confirmation accepted)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel").click()

    # Then it and its unfinished step show cancelled
    page.locator(".page-head .badge.cancelled").wait_for()
    step_status(page, "Hold").and_(page.locator('[data-status="cancelled"]')).wait_for()
    assert page.get_by_role("button", name="Cancel").count() == 0

    # When it is resumed, with the step let go
    controlcenter.release.set()
    page.get_by_role("button", name="Resume").click()

    # Then it runs again from that step to the end
    page.locator(".page-head .badge.completed").wait_for()
    assert step_status(page, "Hold").get_attribute("data-status") == "completed"


def test_the_runs_list_shows_new_runs_live_and_a_failed_runs_error(page, controlcenter):
    # Given the runs list
    page.click("header nav >> text=Runs")
    page.locator("table.runs").wait_for()

    # When a run that fails starts elsewhere (here through the API)
    run = controlcenter.start_run("flaky", description="doomed", payload={"fail": True})

    # Then it appears in the list, failed, without a reload
    row = page.locator(f'tr[data-run="{run["id"]}"]')
    row.and_(page.locator('[data-status="failed"]')).wait_for()
    screenshot(page, "5-runs")

    # And its page shows the step's error
    row.locator("a").click()
    page.locator(".run-error").wait_for()
    assert "flaky broke on purpose" in page.locator(".run-error").inner_text()
    assert "flaky broke on purpose" in page.locator(".step-error").inner_text()
    assert step_status(page, "Flaky").get_attribute("data-status") == "failed"
    screenshot(page, "6-run-failed")


def test_the_runs_list_filters_by_status_and_pages_through_many_runs(page, controlcenter):
    for _ in range(3):
        controlcenter.wait_for(controlcenter.start_run("fetch-build")["id"], "completed")
    failed = controlcenter.start_run("flaky", payload={"fail": True})
    controlcenter.wait_for(failed["id"], "failed")

    listed = ("() => [...document.querySelectorAll('table.runs tr[data-run]')]"
              ".map(r => r.dataset.run)")

    page.goto(f"{controlcenter.url}#/runs?status=failed")
    page.wait_for_function(f"ids => JSON.stringify(({listed})()) === JSON.stringify(ids)",
                           arg=[failed["id"]])
    page.select_option('select[name="status"]', "")
    page.wait_for_function(f"() => ({listed})().length === 4")
    assert page.locator('select[name="status"]').input_value() == ""

    # A page holds 50 runs; the rest are a click away
    for _ in range(48):
        controlcenter.engine.start_run("fetch-build")
    page.wait_for_function(f"() => ({listed})().length === 50")
    page.get_by_role("button", name="Older →").click()
    page.wait_for_function(f"() => ({listed})().length === 2")
    assert page.locator(".pager").inner_text().count("runs 51–52") == 1


def test_topics_show_their_consumers(page):
    page.click("header nav >> text=Topics")

    page.locator("table.topics").wait_for()
    text = page.locator("table.topics").inner_text()
    assert "FetchConsumer" in text and "Fetch the sources" in text


def test_with_a_token_the_page_works_once_the_browser_has_it(browser, controlcenter):
    # Given a controlcenter that requires a token, and a browser whose user
    # answered its basic-authentication prompt with the token
    from isoqube.controlcenter import Server

    server = Server(controlcenter.engine, port=0, poll=0.05, token="page-token")
    server.start()
    context = browser.new_context(http_credentials={"username": "me", "password": "page-token"})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        # When a run is started from the page
        page.goto(server.url)
        page.wait_for_selector(".live.on")  # the event stream is authenticated too
        page.click("header nav >> text=Configurations")
        page.locator('[data-configuration="fetch-build"]').get_by_role("button",
                                                                       name="Run").click()
        page.click("dialog >> text=Start run")

        # Then it shows completed, live
        page.wait_for_url(re.compile(r"#/runs/[0-9a-f-]+$"))
        page.locator(".page-head .badge.completed").wait_for()
    finally:
        context.close()
        server.stop()
