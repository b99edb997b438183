"""Browser test for hot groups: a community manager proposes a group for an interest,
reads why, sees the map of the people's ties, convenes it, and opens its health page.
Screenshots of each page land in /tmp/shots/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from convenor.core.testing import PASSWORD, World
from convenor.hotgroups.models import Group, GroupMember, GroupMemberState, Suggestion
from convenor.hotgroups.tests.conftest import build_community

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/tmp/shots")  # noqa: S108  # where the brief asks for the screenshots


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_convening_a_suggestion_in_the_browser(browser: Any, live_server: Any, world: World) -> None:
    from convenor.graph.services import build_map
    from convenor.hotgroups.profiles import profile_refresh

    build_community(world)
    profile_refresh(n_topics=4)
    build_map()
    profile_refresh()  # against the map just built
    base = live_server.url
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.set_default_timeout(20000)
    try:
        page.goto(f"{base}/login/?next=/hotgroups/suggestions/")
        page.fill("input[name=username]", "admin@northwind.example")
        page.fill("input[name=password]", PASSWORD)
        page.click("form.form button[type=submit]")
        page.wait_for_url(f"{base}/hotgroups/suggestions/")
        # a size larger than the pool: the rule is named, nothing is stored
        page.fill("input[name=interest]", "Privacy compliance")
        page.fill("input[name=size]", "30")
        page.fill("input[name=limit]", "1")
        page.click("form.form button:has-text('Propose')")
        page.wait_for_selector("text=larger than the pool")
        assert not Suggestion.objects.exists()
        _shot(page, "hotgroups_suggestions_error")
        page.fill("input[name=size]", "8")
        page.click("form.form button:has-text('Propose')")
        page.wait_for_url("**/hotgroups/suggestions/*/")
        assert page.locator("svg.chart circle").count() == 8
        assert page.locator("text=pairs are not yet connected").count() >= 1
        _shot(page, "hotgroups_suggestion_detail")
        page.fill("input[name=name]", "Privacy circle")
        page.click("form.form button:has-text('Convene')")
        page.wait_for_url("**/hotgroups/groups/*/")
        group = Group.objects.get(name="Privacy circle")
        assert GroupMember.objects.filter(group=group, state=GroupMemberState.INVITED).count() == 7
        assert page.locator("text=invitations are on their way").count() == 1
        _shot(page, "hotgroups_group_detail")
        page.click("a.btn:has-text('Health')")
        page.wait_for_url("**/health/")
        assert page.locator("svg.chart").count() == 3
        _shot(page, "hotgroups_group_health")
        page.goto(f"{base}/hotgroups/")
        assert page.locator("text=Privacy circle").count() == 1
        _shot(page, "hotgroups_group_list")
        page.goto(f"{base}/hotgroups/suggestions/?status=convened")
        _shot(page, "hotgroups_suggestions")
    finally:
        ctx.close()
