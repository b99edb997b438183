"""Browser tests for feedback: turning a post into an idea from the thread page, voting, and a
status change that notifies the voters and posts back into the original thread. Screenshots
of every feedback page land in /tmp/shots/ (and ./screenshots/)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from convenor.core.models import Notification
from convenor.core.testing import PASSWORD, World
from convenor.feedback import services
from convenor.feedback.models import BoardVisibility, Idea, IdeaStatus, Vote
from convenor.spaces.models import Post, Space
from convenor.spaces.services import thread_create
from convenor.web.tests.conftest import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")  # noqa: S108  # where the brief asks for the screenshots


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _login(browser: Any, base: str, email: str, then: str) -> tuple[Any, Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    page.set_default_timeout(8000)
    page.goto(f"{base}/login/?next={then}")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}{then}")
    return ctx, page


def test_post_to_idea_vote_and_status_change_close_the_loop(
    browser: Any, live_server: Any, world: World, lounge: Space
) -> None:
    base = live_server.url
    board = services.board_create(
        name="Product ideas", visibility=BoardVisibility.PUBLIC, creator=world.admin_member, actor=world.admin
    )
    thread = thread_create(
        space=lounge,
        author=world.acme_member,
        title="Exporting reports",
        body="Could reports be exported to CSV? Our finance team copies them by hand every month.",
    )
    post = Post.objects.get(thread=thread)

    # 1. Staff turn Carla's post into an idea from the thread page, in one step.
    ctx, page = _login(browser, base, "admin@northwind.example", f"/threads/{thread.pk}/")
    try:
        page.click("text=Make an idea from a post")
        _shot(page, "feedback_thread_make_idea")
        page.click(f"a[href='/ideas/from-post/{post.pk}/']")
        page.wait_for_url(f"**/ideas/from-post/{post.pk}/")
        _shot(page, "feedback_from_post")
        page.select_option("select[name=board]", board.slug)
        page.fill("input[name=title]", "Export reports to CSV")
        page.click("text=Make it an idea")
        page.wait_for_url("**/ideas/*/")
        idea = Idea.objects.get(title="Export reports to CSV")
        assert idea.author_id == world.acme_member.pk
        assert page.locator("h1").inner_text() == "Export reports to CSV"
        assert "suggested by Carla Acme" in page.inner_text(".idea-head")
        assert "Exporting reports" in page.inner_text("text=Where it came from >> xpath=..")
    finally:
        ctx.close()

    # 2. Gus votes from the board page, saying how important it is on the idea page.
    ctx, page = _login(browser, base, "gus@globex.example", f"/ideas/b/{board.slug}/")
    try:
        _shot(page, "feedback_board")
        page.click(f"#idea-{idea.pk} button:has-text('Vote')")
        page.wait_for_selector(".message-success")
        assert "You voted for" in page.inner_text(".messages")
        assert page.inner_text(f"#idea-{idea.pk} .vote-count") == "1"
        page.goto(f"{base}/ideas/{idea.pk}/")
        assert "You voted for this" in page.inner_text("#vote")
        page.click("text=Take my vote back")
        page.select_option("select[name=importance]", "3")
        page.click("text=Vote for this idea")
        page.wait_for_selector(".message-success")
        assert Vote.objects.get(idea=idea, member=world.globex_member).importance == 3
        _shot(page, "feedback_idea_voted")
    finally:
        ctx.close()

    # 3. Staff ship it with a note: Gus is notified, and the thread gets a reply from staff.
    ctx, page = _login(browser, base, "admin@northwind.example", f"/ideas/{idea.pk}/")
    try:
        page.select_option("select[name=status]", IdeaStatus.SHIPPED)
        page.fill("textarea[name=note]", "Shipped in 4.2: every report has an Export to CSV button.")
        page.click("#change-status button[type=submit]")
        page.wait_for_selector(".message-success")
        assert "a reply posted in 1 conversation" in page.inner_text(".messages")
        _shot(page, "feedback_idea_shipped")
        page.goto(f"{base}/threads/{thread.pk}/")
        replies = page.locator("article.post").all_inner_texts()
        assert any("Shipped" in r and "Export to CSV button" in r and "Ada Admin" in r for r in replies)
        assert "Export reports to CSV" in page.inner_text("#ideas")
        _shot(page, "feedback_thread_after_ship")
        page.goto(f"{base}/ideas/roadmap/")
        _shot(page, "feedback_roadmap")
        page.goto(f"{base}/ideas/demand/")
        assert "Export reports to CSV" in page.inner_text(".demand-table")
        _shot(page, "feedback_demand")
        page.goto(f"{base}/ideas/")
        _shot(page, "feedback_boards")
    finally:
        ctx.close()
    note = Notification.objects.get(recipient=world.globex_user, kind="idea_status")
    assert "is now shipped" in note.title

    # 4. Gus sees it in his notifications, and anyone sees it in the public changelog.
    ctx, page = _login(browser, base, "gus@globex.example", "/notifications/")
    try:
        assert "Export reports to CSV" in page.inner_text("main")
    finally:
        ctx.close()
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    try:
        page.goto(f"{base}/ideas/changelog/")
        assert "Export reports to CSV" in page.inner_text(".changelog")
        _shot(page, "feedback_changelog")
        rss = page.request.get(f"{base}/ideas/changelog/rss.xml")
        assert rss.ok and "Export reports to CSV" in rss.text()
    finally:
        ctx.close()


def test_outside_post_becomes_an_idea_that_shows_where_it_came_from(
    browser: Any, live_server: Any, world: World, tmp_path: Path
) -> None:
    from convenor.feedback.tests.conftest import REVIEWS_CSV
    from convenor.listening.models import OutsidePost
    from convenor.listening.services import import_file

    base = live_server.url
    board = services.board_create(
        name="Product ideas", visibility=BoardVisibility.PUBLIC, creator=world.admin_member, actor=world.admin
    )
    path = tmp_path / "g2.csv"
    path.write_text(REVIEWS_CSV, encoding="utf-8")
    import_file(importer="reviews", path=path, source_name="G2 reviews")
    review = OutsidePost.objects.get(origin_id="rv-1")

    # 1. Staff find Dana's review among the outside posts and make it an idea, in one step.
    ctx, page = _login(browser, base, "admin@northwind.example", "/listening/posts/")
    try:
        assert page.locator(".lst-post").count() == 3
        _shot(page, "listening_outside_posts")
        page.fill(".lst-post-filters input[name=q]", "CSV finance")
        page.click(".lst-post-filters button[type=submit]")
        page.wait_for_url("**/listening/posts/?*")
        assert page.locator(".lst-post").count() == 1
        page.click(f"#outside-post-{review.pk} >> text=Make an idea")
        page.wait_for_url(f"**/ideas/from-outside-post/{review.pk}/")
        assert page.input_value("input[name=title]") == "Needs CSV export"
        assert "Dana Li" in page.inner_text("#outside-post")
        _shot(page, "feedback_from_outside_post")
        page.select_option("select[name=board]", board.slug)
        page.fill("input[name=title]", "Export reports to CSV")
        page.click("text=Make it an idea")
        page.wait_for_url("**/ideas/*/")
        idea = Idea.objects.get(title="Export reports to CSV")
        assert idea.author_id == review.author_id
        assert "suggested by Dana Li" in page.inner_text(".idea-head")
        origin = page.inner_text(".idea-source-outside")
        for shown in ("Dana Li", "G2 reviews", "Review site", "we need to export reports to CSV"):
            assert shown in origin, shown
        assert page.get_attribute(".idea-source-outside a:has-text('Original')", "href") == review.url
        _shot(page, "feedback_idea_from_outside_post")

        # 2. Linking it again says so, and the list shows the link.
        page.goto(f"{base}/ideas/from-outside-post/{review.pk}/")
        assert "Already linked to" in page.inner_text("#outside-post")
        page.check(f"input[name=idea][value='{idea.pk}']")
        page.click("text=Link to this idea")
        page.wait_for_selector("#link .alert-error")
        assert "already linked to “Export reports to CSV”" in page.inner_text("#link")
        _shot(page, "feedback_from_outside_post_duplicate")
        page.goto(f"{base}/listening/posts/")
        assert f"#{idea.pk} Export reports to CSV" in page.inner_text(f"#outside-post-{review.pk}")
        page.goto(f"{base}/listening/sources/{review.source_id}/")
        assert "All 3 posts from G2 reviews" in page.inner_text("main")
        _shot(page, "listening_source_with_posts")
        # 3. Once voted for, the demand view names the conduit it was raised in.
        services.vote_cast(idea=idea, member=world.globex_member, importance=3)
        page.goto(f"{base}/ideas/demand/")
        assert "G2 reviews" in page.inner_text(".demand-table .tag-conduit")
        _shot(page, "feedback_demand_outside")
    finally:
        ctx.close()
