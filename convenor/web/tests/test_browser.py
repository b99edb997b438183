"""Browser tests: headless Chromium against a live server, with screenshots of each page.

The screenshots land in ./screenshots/ (git-ignored) so a person can look at the pages.
"""

from __future__ import annotations

from typing import Any

import pytest

from convenor.core.testing import PASSWORD
from convenor.web.tests.conftest import SCREENSHOTS, Richer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_admin_browses_members_and_organisations(browser: Any, live_server: Any, richer: Richer) -> None:
    world = richer.world
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    page.set_default_timeout(5000)
    try:
        # Anonymous visitors land on the login page.
        page.goto(f"{live_server.url}/people/")
        assert "/login/" in page.url
        _shot(page, "login")
        page.fill("input[name=username]", "admin@northwind.example")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/people/")

        page.click("nav.mainnav >> text=Members")
        assert page.locator("table.table tbody tr").count() == 6
        page.goto(f"{live_server.url}/")
        _shot(page, "home")
        assert page.locator("text=Welcome, Ada Admin").is_visible()

        page.click("nav.mainnav >> text=Members")
        _shot(page, "member_directory")
        page.fill("form.filters input[name=q]", "carla")
        page.click("form.filters button[type=submit]")
        rows = page.locator("table.table tbody tr")
        assert rows.count() == 1
        assert "Carla Acme" in rows.first.inner_text()

        page.goto(f"{live_server.url}/people/")
        page.select_option("select[name=organization]", label="Acme")
        page.select_option("select[name=interest]", label="Data pipelines")
        page.click("form.filters button[type=submit]")
        names = page.locator("table.table tbody tr td:first-child").all_inner_texts()
        assert names == ["Carla Acme", "Dora Acme"]
        _shot(page, "member_directory_filtered")

        page.click("text=Carla Acme")
        page.wait_for_url(f"**/people/{world.acme_member.pk}/")
        assert page.locator("h1", has_text="Carla Acme").is_visible()
        assert page.locator("text=carla@acme.example").first.is_visible()
        _shot(page, "member_profile")

        page.click(".main-col >> a:text-is('Acme')")
        page.wait_for_url(f"**/organizations/{world.acme.pk}/")
        assert page.locator(".nb-group", has_text="Competitors").locator("text=Globex").is_visible()
        _shot(page, "organization")

        page.goto(f"{live_server.url}/organizations/")
        _shot(page, "organization_directory")

        # A form with errors shows the message next to its field.
        page.goto(f"{live_server.url}/organizations/new/")
        page.fill("input[name=name]", "acme")
        page.fill("input[name=website]", "not a web address")
        page.click("form.form button[type=submit]")
        name_field = page.locator(".field", has=page.locator("input[name=name]"))
        assert "already exists" in name_field.locator(".error").inner_text()
        site_field = page.locator(".field", has=page.locator("input[name=website]"))
        assert "is not a web address" in site_field.locator(".error").inner_text()
        _shot(page, "organization_form_errors")

        page.click("nav.mainnav >> text=Merge suggestions")
        page.click("text=Find suggestions now")
        assert page.locator(".message", has_text="Found 1 new suggestion").is_visible()
        _shot(page, "merge_suggestions")

        # The manual merge shows what will move before anything happens.
        page.goto(f"{live_server.url}/people/{richer.dora.pk}/")
        page.click("text=Merge another member into this one")
        page.fill("input[name=other]", str(richer.dora_twin.pk))
        page.click("form.form button[type=submit]")
        assert page.locator("h1", has_text="Merge Dora Acme into Dora Acme?").is_visible()
        _shot(page, "merge_confirm")

        page.goto(f"{live_server.url}/people/{world.acme_member.pk}/edit/")
        _shot(page, "member_form")
        page.goto(f"{live_server.url}/people/999999/")
        assert page.locator("h1", has_text="Not found").is_visible()
        _shot(page, "not_found")

        # Phone width.
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{live_server.url}/people/")
        _shot(page, "phone_member_directory")
        page.goto(f"{live_server.url}/people/{world.acme_member.pk}/")
        _shot(page, "phone_member_profile")
    finally:
        ctx.close()
