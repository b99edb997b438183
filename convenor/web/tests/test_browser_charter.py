"""Browser test for the charter: a member's pitch in a community space is held with its
reasons; a moderator approves one and rejects another from the queue. Screenshots land in
./screenshots/."""

from __future__ import annotations

from typing import Any

import pytest

from convenor.core.testing import World
from convenor.spaces.models import Frame, Post, PostState, Space, Visibility
from convenor.spaces.services import space_create
from convenor.web.tests.test_browser_spaces import _login, _shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PITCH = (
    "Hi all! Our agency helps teams like yours cut cloud costs by 40%. Book a free 15-minute demo this week "
    "and get 20% off your first month with code SAVE20. DM me for our rate card!"
)
SECOND = "Limited-time offer: our backup platform is only $9/user per month. Sign up today, link in my bio!"


def _post(page: Any, base: str, space: Space, title: str, body: str) -> None:
    page.goto(f"{base}/spaces/{space.slug}/new/")
    page.fill("input[name=title]", title)
    page.fill("textarea[name=body]", body)
    page.click("button[name=post]")
    page.wait_for_url("**/threads/*/")


def test_pitch_held_with_reasons_then_approved_and_rejected(browser: Any, live_server: Any, world: World) -> None:
    base = live_server.url
    community = space_create(
        name="Practitioners", frame=Frame.COMMUNITY, visibility=Visibility.MEMBERS, creator=world.admin_member
    )
    space_create(name="Partner offers", frame=Frame.COMMERCIAL, visibility=Visibility.MEMBERS)
    carla_ctx, carla = _login(browser, base, "carla@acme.example")
    ada_ctx, ada = _login(browser, base, "admin@northwind.example")
    gus_ctx, gus = _login(browser, base, "gus@globex.example")
    try:
        _post(carla, base, community, "Cut your cloud bill", PITCH)
        held = carla.locator(".held-post")
        assert held.locator("h2", has_text="Your post is held").is_visible()
        assert held.locator(".held-reasons li").count() >= 1
        assert held.locator("select[name=space] option", has_text="Partner offers").count() == 1
        _shot(carla, "charter_held_post")
        thread_url = carla.url

        # Gus, another member, finds nothing: not in the space, not at the thread's address.
        gus.goto(f"{base}/spaces/{community.slug}/")
        assert gus.locator("text=Cut your cloud bill").count() == 0
        assert gus.goto(thread_url).status == 404

        carla.click("text=Ask a moderator to review it")
        assert carla.locator("text=A moderator will review your post.").is_visible()
        _post(carla, base, community, "Backups for less", SECOND)

        # Ada, a moderator, approves the first from the queue and rejects the second.
        ada.goto(f"{base}/moderation/")
        assert ada.locator(".queue-item").count() == 2
        assert ada.locator("#fp-rate", has_text="no decisions yet").is_visible()
        _shot(ada, "charter_moderation_queue")
        first = ada.locator(".queue-item", has_text="Cut your cloud bill")
        first.locator("button[value=approve]").click()
        ada.wait_for_url("**/moderation/**")
        second = ada.locator(".queue-item", has_text="Backups for less")
        second.locator("input[name=reason]").fill("A sales pitch: please use Partner offers")
        second.locator("button[value=reject]").click()
        ada.wait_for_url("**/moderation/**")
        assert ada.locator(".queue-item").count() == 0
        assert ada.locator("#fp-rate", has_text="50.0%").is_visible()
        _shot(ada, "charter_moderation_queue_done")
        ada.goto(f"{base}/moderation/report/")
        assert ada.locator(".report-space", has_text="Practitioners").is_visible()
        _shot(ada, "charter_leakage_report")

        # Gus now sees the approved thread; Carla sees why the other was rejected.
        gus.goto(thread_url)
        assert gus.locator("h1", has_text="Cut your cloud bill").is_visible()
        rejected = Post.objects.get(thread__title="Backups for less")
        assert rejected.state == PostState.REJECTED
        carla.goto(f"{base}/threads/{rejected.thread_id}/")
        assert carla.locator("text=A sales pitch: please use Partner offers").first.is_visible()
        _shot(carla, "charter_rejected_post")
    finally:
        carla_ctx.close()
        ada_ctx.close()
        gus_ctx.close()
