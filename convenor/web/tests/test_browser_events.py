"""Browser tests for events: creating a commercial event (the brief is required), a buyer
registering for a community event (the notice, then "register anyway"), and one-click
check-in. Screenshots land in ./screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from convenor.core.testing import PASSWORD, World
from convenor.events import charter
from convenor.events.charter import CharterVerdict
from convenor.events.models import CheckState, Event, Frame, Intent, Registration
from convenor.events.services import registration_create
from convenor.events.tests.conftest import BRIEF, make_event, soon
from convenor.web.tests.conftest import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _charter_ok() -> Iterator[None]:
    previous = charter.set_policy(lambda text: CharterVerdict(state=CheckState.OK, score=0.01))
    yield
    charter.set_policy(previous)


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _login(browser: Any, base: str, email: str, then: str) -> tuple[Any, Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    page.set_default_timeout(5000)
    page.goto(f"{base}/login/?next={then}")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}{then}")
    return ctx, page


def test_creating_a_commercial_event_requires_its_brief(browser: Any, live_server: Any, world: World) -> None:
    base = live_server.url
    make_event(world, title="Get the most out of Pipelines", capacity=30)
    ctx, page = _login(browser, base, "admin@northwind.example", "/events/")
    try:
        _shot(page, "events_list")
        page.click("text=New event")
        page.wait_for_url("**/events/new/")
        day = (timezone.now() + timedelta(days=14)).strftime("%Y-%m-%d")
        page.fill("input[name=title]", "Pipelines Pro for data teams")
        page.check("input[name=frame][value=commercial]")
        page.fill("textarea[name=description]", "A tour of Pipelines Pro and its migration service.")
        page.fill("input[name=starts_at]", f"{day}T10:00")
        page.fill("input[name=ends_at]", f"{day}T11:30")
        page.fill("input[name=online_url]", "https://meet.example/pro")
        page.fill("input[name=capacity]", "40")
        page.click("button:has-text('Create event')")
        page.wait_for_load_state()
        # Without the brief: each of the four fields says what is missing; nothing is stored.
        for label in ("who it targets", "why they want to hear it", "what is offered", "how they pay"):
            assert page.locator(".error", has_text=f"A commercial event states {label}").is_visible()
        assert not Event.objects.filter(title="Pipelines Pro for data teams").exists()
        _shot(page, "event_create_errors")
        for name, text in BRIEF.items():
            page.fill(f"textarea[name={name}]", text)
        page.click("button:has-text('Create event')")
        page.wait_for_url("**/events/*/")
        banner = page.locator(".frame-banner.frame-commercial")
        assert banner.is_visible()
        for text in BRIEF.values():
            assert banner.locator("dd", has_text=text).is_visible()
        assert page.locator(".event-when", has_text="(Europe/Paris)").is_visible()
        _shot(page, "event_page_commercial")
    finally:
        ctx.close()


def test_a_buyer_registering_for_a_community_event_sees_the_notice(
    browser: Any, live_server: Any, world: World
) -> None:
    base = live_server.url
    meetup = make_event(world, title="Get the most out of Pipelines", capacity=30)
    make_event(
        world,
        title="Pipelines Pro for data teams",
        frame=Frame.COMMERCIAL,
        commercial_owner=world.admin_member,
        online_url="https://meet.example/pro",
        place="",
        starts_at=soon(9),
        ends_at=soon(9, 1),
        **BRIEF,
    )
    ctx, page = _login(browser, base, "carla@acme.example", f"/events/{meetup.pk}/")
    try:
        assert page.locator(".frame-banner", has_text="Community session").is_visible()
        _shot(page, "event_page_community")
        page.click("#registration >> text=Register")
        page.wait_for_url(f"**/events/{meetup.pk}/register/")
        page.check("input[name=intent][value=buyer]")
        page.click("form.form-card button[type=submit]")
        notice = page.locator(".mismatch-notice")
        assert notice.is_visible()
        assert notice.locator(".mismatch-message", has_text="is a community session").is_visible()
        assert notice.locator("a", has_text="Pipelines Pro for data teams").is_visible()
        assert not Registration.objects.filter(event=meetup).exists()
        _shot(page, "event_registration_notice")
        page.click("button:has-text('Register anyway')")
        page.wait_for_url(f"**/events/{meetup.pk}/registered/")
        assert page.locator("h1", has_text="You are registered").is_visible()
        assert page.locator(".frame-banner", has_text="Community session").is_visible()
        _shot(page, "event_registration_confirmed")
        reg = Registration.objects.get(event=meetup, member=world.acme_member)
        assert reg.intent == Intent.BUYER and reg.acknowledged_frame_mismatch
    finally:
        ctx.close()


def test_the_organiser_checks_someone_in_with_one_click(browser: Any, live_server: Any, world: World) -> None:
    base = live_server.url
    on_now = make_event(world, title="Pipelines users evening", starts_at=soon(0, -1), ends_at=soon(0, 2), capacity=20)
    before = on_now.starts_at - timedelta(days=2)
    registration_create(event=on_now, member=world.acme_member, intent=Intent.USER, now=before)
    registration_create(event=on_now, member=world.globex_member, intent=Intent.BUYER, acknowledged=True, now=before)
    registration_create(event=on_now, member=world.outsider_member, intent=Intent.OTHER, now=before)
    ctx, page = _login(browser, base, "admin@northwind.example", f"/events/{on_now.pk}/checkin/")
    try:
        _shot(page, "event_checkin_before")
        page.fill("#id_q", "carla")
        page.press("#id_q", "Enter")
        page.wait_for_url("**/checkin/?q=carla")
        assert page.locator(".checkin-row").count() == 1
        page.click("button[aria-label='Check in Carla Acme']")
        page.wait_for_load_state()
        row = page.locator(".checkin-row", has_text="Carla Acme")
        assert row.locator(".badge-ok", has_text="Checked in").is_visible()
        assert Registration.objects.get(event=on_now, member=world.acme_member).attended_at is not None
        page.goto(f"{base}/events/{on_now.pk}/checkin/")
        page.click("button[aria-label='Mark Olive Outsider as a no-show']")
        page.wait_for_load_state()
        assert page.locator(".checkin-row", has_text="Olive Outsider").locator(".badge-warn").is_visible()
        _shot(page, "event_checkin")
        page.click(".head-actions >> text=Dashboard")
        page.wait_for_url("**/dashboard/")
        assert page.locator(".stat", has_text="Attendance").is_visible()
        _shot(page, "event_dashboard")
    finally:
        ctx.close()


def test_the_organiser_invites_people_by_email_and_handle(browser: Any, live_server: Any, world: World) -> None:
    from django.core import mail

    from convenor.core.models import Notification

    base = live_server.url
    meetup = make_event(world, title="Get the most out of Pipelines", capacity=30)
    ctx, page = _login(browser, base, "admin@northwind.example", f"/events/{meetup.pk}/dashboard/")
    try:
        invite = page.locator("#invite")
        assert invite.is_visible()
        invite.locator("textarea[name=people]").fill(f"@{world.acme_member.handle}, {world.globex_member.email}")
        invite.locator("button", has_text="Send invitations").click()
        page.wait_for_url("**/dashboard/#invite")
        assert page.locator(".message", has_text="Invited Carla Acme, Gus Globex").is_visible()
        _shot(page, "event_invitations_sent")
        assert sorted(m.to[0] for m in mail.outbox if "Invitation" in m.subject) == [
            "carla@acme.example",
            "gus@globex.example",
        ]
        assert Notification.objects.filter(kind="event_invited").count() == 2
    finally:
        ctx.close()
    # The invitee follows the notification to the registration form, which states the frame.
    ctx, page = _login(browser, base, "carla@acme.example", f"/events/{meetup.pk}/register/")
    try:
        assert page.locator(".frame-banner", has_text="Community session").is_visible()
        assert page.locator("input[name=intent][value=user]").is_visible()
        _shot(page, "event_invitation_register")
    finally:
        ctx.close()


def test_creating_a_weekly_series(browser: Any, live_server: Any, world: World) -> None:
    base = live_server.url
    ctx, page = _login(browser, base, "admin@northwind.example", "/events/new/")
    try:
        day = (timezone.now() + timedelta(days=3)).strftime("%Y-%m-%d")
        page.fill("input[name=title]", "Thursday clinic")
        page.check("input[name=frame][value=community]")
        page.fill("textarea[name=description]", "Bring a question about your loads; users answer users.")
        page.fill("input[name=starts_at]", f"{day}T18:00")
        page.fill("input[name=ends_at]", f"{day}T19:30")
        page.fill("input[name=place]", "Lyon office, 3rd floor")
        page.fill("input[name=capacity]", "15")
        page.select_option("select[name=repeat]", "weekly")
        page.fill("input[name=count]", "6")
        _shot(page, "event_series_form")
        page.click("button:has-text('Create event')")
        page.wait_for_url("**/events/series/*/")
        assert page.locator(".message", has_text="created with 6 occurrences").is_visible()
        rows = page.locator("table.occurrences tbody tr")
        assert rows.count() == 6
        assert rows.nth(0).locator("text=18:00").count() == 1 and rows.nth(5).locator("text=18:00").count() == 1
        assert Event.objects.filter(title="Thursday clinic", series__isnull=False).count() == 6
        _shot(page, "event_series_page")
        rows.nth(1).locator("a", has_text="Thursday clinic").click()
        page.wait_for_url("**/events/*/")
        assert page.locator("dd a", has_text="Weekly").is_visible()
        _shot(page, "event_series_occurrence")
    finally:
        ctx.close()
