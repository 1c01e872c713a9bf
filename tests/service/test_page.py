"""The web page in a real browser (Playwright + Debian's chromium) against a real server."""

from __future__ import annotations

import os

import httpx
import pytest

from tests.service.browser import CHROMIUM, browser, server

pytest.importorskip("playwright")
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian chromium (make install)")


@pytest.fixture(scope="module")
def running(served_db, tmp_path_factory):
    """One server and one browser for the module, on a private copy of the fixture database."""
    import shutil

    path, keys = served_db
    db = tmp_path_factory.mktemp("page") / "j.db"
    shutil.copy(path, db)
    with server(db) as base, browser() as b:
        yield base, b, keys


@pytest.fixture
def site(running):
    base, b, keys = running
    context = b.new_context()  # a fresh sessionStorage per test
    context.set_default_timeout(90_000)  # the first edit loads the fitted model in the server; CI may be busy
    try:
        yield base, context.new_page(), keys
    finally:
        context.close()


def sign_in(page, base, key):
    page.goto(base + "/")
    page.get_by_label("API key", exact=True).fill(key)
    page.get_by_label("API key", exact=True).press("Enter")  # the keyboard is enough
    page.wait_for_selector("#cards .card")


def names_from_api(base, key, user):
    r = httpx.get(f"{base}/v1/users/{user}/journeys", headers={"Authorization": f"Bearer {key}"})
    return [j["name"] for j in r.json()["journeys"]]


def test_page_shows_the_users_journeys(site):
    base, page, keys = site
    sign_in(page, base, keys["alice"])
    assert page.locator("#cards .card h3").all_inner_texts() == names_from_api(base, keys["alice"], "alice")
    assert page.locator("#timeline svg .tl-row").count() == len(names_from_api(base, keys["alice"], "alice"))
    assert page.locator("#cards .card .evidence li").count() > 0
    # the key lives in this tab's sessionStorage: a reload signs in again without typing it
    page.reload()
    page.wait_for_selector("#cards .card")
    assert "alice" in page.locator("#who").inner_text()


def test_bad_key_is_announced(site):
    base, page, _ = site
    page.goto(base + "/")
    page.get_by_label("API key", exact=True).fill("jk_bad_key")
    page.get_by_role("button", name="Open").click()
    status = page.get_by_role("status")
    status.filter(has_text="not accepted").wait_for()
    assert page.locator("#main").is_hidden()


def test_admin_picks_a_user(site):
    base, page, keys = site
    sign_in(page, base, keys["admin"])
    page.get_by_label("User", exact=True).fill("bob")
    page.get_by_label("User", exact=True).press("Enter")
    page.locator("#who", has_text="bob").wait_for()
    assert page.locator("#cards .card h3").all_inner_texts() == names_from_api(base, keys["admin"], "bob")


def test_rename_in_place_persists_after_reload(site):
    base, page, keys = site
    sign_in(page, base, keys["alice"])
    card = page.locator("#cards .card").first
    card.get_by_role("button", name="Rename").click()
    box = card.get_by_label("New name")
    assert box.evaluate("el => el === document.activeElement")  # focus moves to the field
    box.fill("Strumming along")
    box.press("Enter")
    page.get_by_role("status").filter(has_text="Renamed").wait_for()
    page.reload()
    page.wait_for_selector("#cards .card")
    assert "Strumming along" in page.locator("#cards .card h3").all_inner_texts()
    assert "Strumming along" in names_from_api(base, keys["alice"], "alice")


def test_hide_and_merge_in_place(site):
    base, page, keys = site
    sign_in(page, base, keys["alice"])
    before = page.locator("#cards .card h3").all_inner_texts()
    assert len(before) >= 2
    first = page.locator("#cards .card").first
    first.get_by_role("button", name="Merge another journey").click()
    first.get_by_label("Merge into this journey").select_option(index=0)
    first.get_by_role("button", name="Merge", exact=True).click()
    page.get_by_role("status").filter(has_text="Merged").wait_for()
    assert page.locator("#cards .card").count() == len(before) - 1
    page.locator("#cards .card").first.get_by_role("button", name="Hide").click()
    page.get_by_role("status").filter(has_text="Hidden").wait_for()
    assert page.locator("#cards .card").count() == len(before) - 2


def test_delve_deeper_changes_the_recommendations(site):
    base, page, keys = site
    sign_in(page, base, keys["carol"])
    recs = page.locator("#recs li.rec")
    recs.first.wait_for()
    before = recs.locator(".rec-title").all_inner_texts()
    card = page.locator("#cards .card").nth(1)
    name = card.locator("h3").inner_text()
    card.get_by_role("button", name="Delve deeper").click()
    page.locator("#recs-mode", has_text=f"Delving deeper into “{name}”").wait_for()
    page.wait_for_function("(b) => [...document.querySelectorAll('#recs .rec-title')].map(e => e.textContent).join('|') !== b",
                           arg="|".join(before))
    after = recs.locator(".rec-reason").all_inner_texts()
    assert after and all(name in reason for reason in after)  # every slot serves that journey
    assert recs.locator(".rec-title").all_inner_texts() != before
    assert page.evaluate("document.activeElement.id") == "recs-heading"  # focus follows, for screen readers
    # explore and the query box steer too; the pressed state is announced
    page.get_by_role("button", name="For all my journeys").click()
    assert page.get_by_role("button", name="For all my journeys").get_attribute("aria-pressed") == "true"
    page.get_by_label("Looking for").fill("telescope stargazing")
    page.get_by_label("Looking for").press("Enter")
    page.locator("#recs-mode", has_text="Looking for “telescope stargazing”").wait_for()
