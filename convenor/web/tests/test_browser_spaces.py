"""Browser tests for spaces: post, reply with a mention, the notification, search, and a
competitor who finds nothing of Acme's private space. Screenshots land in ./screenshots/."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from convenor.core.notify import mark_read
from convenor.core.testing import PASSWORD, World
from convenor.spaces.models import Frame, Space, Thread, Visibility
from convenor.spaces.services import post_reply, reaction_toggle, space_create, thread_create, thread_moderate
from convenor.web.tests.conftest import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@dataclass
class Scene:
    world: World
    lounge: Space
    acme_space: Space
    secret: Thread


@pytest.fixture
def scene(world: World, lounge: Space, acme_space: Space) -> Scene:
    """A few conversations, so the pages have something to show."""
    space_create(
        name="Partner offers",
        frame=Frame.COMMERCIAL,
        visibility=Visibility.MEMBERS,
        description="Offers from our partners and from us: ask for a quote here.",
    )
    space_create(
        name="Town square",
        frame=Frame.COMMUNITY,
        visibility=Visibility.PUBLIC,
        description="Anyone can read along: release notes, tips, and questions from the whole community.",
    )
    pinned = thread_create(
        space=lounge,
        author=world.admin_member,
        title="Welcome to the users lounge",
        body="Introduce yourself and say what you work on. Read the **charter** first.",
    )
    thread_moderate(thread=pinned, pinned=True)
    q = thread_create(
        space=lounge,
        author=world.globex_member,
        title="How do you size Kafka partitions?",
        body="We have 40 consumers and lag keeps growing. Any rule of thumb?",
        kind="question",
    )
    answer = post_reply(thread=q, author=world.admin_member, body="Start from the *throughput per consumer*.")
    reaction_toggle(post=answer, member=world.globex_member, kind="thanks")
    secret = thread_create(
        space=acme_space,
        author=world.acme_member,
        title="Acme renewal and the zeppelin project",
        body="Internal: the zeppelin rollout plan for Acme.",
    )
    mark_read(world.acme_user)  # the invitation to Acme's space: already seen
    return Scene(world=world, lounge=lounge, acme_space=acme_space, secret=secret)


def _login(browser: Any, base: str, email: str) -> tuple[Any, Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    page.set_default_timeout(5000)
    page.goto(f"{base}/login/?next=/spaces/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}/spaces/")
    return ctx, page


def test_post_reply_mention_notification_search_and_privacy(browser: Any, live_server: Any, scene: Scene) -> None:
    base = live_server.url
    world = scene.world
    carla_ctx, carla = _login(browser, base, "carla@acme.example")
    gus_ctx, gus = _login(browser, base, "gus@globex.example")
    try:
        # Carla opens a space and starts a thread, previewing it first.
        _shot(carla, "spaces_list")
        carla.click("text=Users lounge")
        carla.wait_for_url(f"**/spaces/{scene.lounge.slug}/")
        assert carla.locator(".frame-banner", has_text="Community space").is_visible()
        _shot(carla, "space_page")
        carla.click("text=New thread")
        carla.fill("input[name=title]", "Monitoring consumer lag with Grafana")
        carla.check("input[name=kind][value=question]")
        carla.fill(
            "textarea[name=body]",
            "Which **dashboards** do you use?\n\n- lag per partition\n- `consumer_fetch_rate`\n\n"
            "<script>alert(1)</script>",
        )
        carla.click("button[name=preview]")
        assert carla.locator(".preview strong", has_text="dashboards").is_visible()
        assert carla.locator(".preview script").count() == 0
        _shot(carla, "compose_preview")
        carla.click("button[name=post]")
        carla.wait_for_url("**/threads/*/")
        thread_url = carla.url
        assert carla.locator("h1", has_text="Monitoring consumer lag").is_visible()

        # Gus replies and mentions Carla by her handle.
        gus.goto(thread_url)
        gus.fill("textarea[name=body]", f"We chart it per partition. @{world.acme_member.handle} want our JSON?")
        gus.click("button[name=post]")
        gus.wait_for_url("**/threads/*/#post-*")
        assert gus.locator("a.mention").first.is_visible()
        _shot(gus, "thread_page")

        # Carla sees the unread badge, then the notification, which leads to the reply.
        carla.goto(f"{base}/spaces/")
        assert carla.locator(".unread-badge").inner_text() == "1"
        carla.click("a.bell")
        note = carla.locator(".note.unread", has_text="Gus Globex mentioned you")
        assert note.is_visible()
        _shot(carla, "notifications")
        note.locator("a").click()
        carla.wait_for_url("**/threads/*/#post-*")
        assert carla.locator(".unread-badge").count() == 0

        # She finds the thread through the search box in the top bar.
        carla.fill("#navsearch-q", "grafana dashboards")
        carla.press("#navsearch-q", "Enter")
        carla.wait_for_url("**/search/?q=grafana+dashboards")
        assert carla.locator(".hit-title", has_text="Monitoring consumer lag with Grafana").is_visible()
        assert carla.locator(".hit mark").count() >= 1
        _shot(carla, "search_results")

        # Gus, at Acme's competitor, gets the 404 page on Acme's private thread and no hit.
        response = gus.goto(f"{base}/threads/{scene.secret.pk}/")
        assert response is not None and response.status == 404
        assert gus.locator("h1", has_text="Not found").is_visible()
        _shot(gus, "private_thread_404")
        gus.goto(f"{base}/search/?q=zeppelin")
        assert gus.locator(".hit").count() == 0
        assert gus.locator("text=No results for").is_visible()
        # Carla, at Acme, does find it.
        carla.goto(f"{base}/search/?q=zeppelin")
        assert carla.locator(".hit-title", has_text="Acme renewal").is_visible()
    finally:
        carla_ctx.close()
        gus_ctx.close()

    # Anyone can read the public space without logging in.
    anon_ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        anon = anon_ctx.new_page()
        anon.goto(f"{base}/spaces/")
        assert anon.locator(".space-card").count() == 1
        anon.click("text=Town square")
        assert anon.locator(".frame-banner", has_text="Community space").is_visible()
        _shot(anon, "space_page_anonymous")
        anon.set_viewport_size({"width": 390, "height": 844})
        anon.goto(f"{base}/spaces/{scene.lounge.slug}/")
        assert "/login/" in anon.url  # a members space asks for a login
        anon.goto(f"{base}/spaces/")
        _shot(anon, "phone_spaces_list_anonymous")
    finally:
        anon_ctx.close()

    # Staff work through the queues.
    admin_ctx, admin = _login(browser, base, "admin@northwind.example")
    try:
        _shot(admin, "spaces_list_staff")
        admin.click("nav.mainnav >> text=Queues")
        assert admin.locator("td", has_text="Acme renewal and the zeppelin project").is_visible()
        _shot(admin, "queues")
        admin.goto(f"{base}/queues/?tab=needs_staff")
        assert admin.locator("td", has_text="Monitoring consumer lag").is_visible()
        # A private space for Globex in one click from its organisation's page.
        admin.goto(f"{base}/organizations/{world.globex.pk}/")
        admin.click("text=Create private space")
        admin.wait_for_url("**/spaces/globex-private-space/")
        assert admin.locator(".member-rows", has_text="Gus Globex").is_visible()
        _shot(admin, "space_page_moderator")
        admin.goto(f"{base}/organizations/{world.globex.pk}/")
        assert admin.locator("#private-space", has_text="Gus Globex").is_visible()
        _shot(admin, "organization_private_space")
    finally:
        admin_ctx.close()


def test_a_reader_reacts_on_a_compressed_kept_thread_page(browser: Any, live_server: Any, scene: Scene) -> None:
    """The posts' reaction buttons submit the page's one form (post_html.REACT_FORM), and the
    page arrives gzip-compressed from its kept parts (gzipped.py)."""
    base = live_server.url
    welcome = Thread.objects.get(title="Welcome to the users lounge")
    reply = post_reply(thread=welcome, author=scene.world.acme_member, body="Hello from Acme.")
    ctx, gus = _login(browser, base, "gus@globex.example")
    try:
        for _ in range(2):  # kept on the first view, made Gus's from the kept parts on the second
            response = gus.goto(f"{base}/threads/{welcome.pk}/")
            assert response is not None and response.headers.get("content-encoding") == "gzip"
        chip = gus.locator(f"#post-{reply.pk} button[value=like]")
        assert chip.get_attribute("aria-pressed") == "false"
        chip.click()
        gus.wait_for_url(f"**/threads/{welcome.pk}/#post-{reply.pk}")
        pressed = gus.locator(f"#post-{reply.pk} button[value=like]")
        assert pressed.get_attribute("aria-pressed") == "true" and pressed.inner_text().endswith("1")
        assert gus.locator(".flash, .messages .error").count() == 0
        _shot(gus, "thread_page_reacted")
    finally:
        ctx.close()
