"""Browser tests for the community map: the WebGL map draws its nodes, a search highlights a
person's neighbourhood, a click shows the details panel, and a member's page shows their ego
map. Screenshots land in ./screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from convenor.activity.models import Verb
from convenor.activity.services import record
from convenor.core.testing import PASSWORD, World
from convenor.graph.services import build_map
from convenor.people.models import Member, Role
from convenor.people.services import member_create
from convenor.web.tests.conftest import CHROMIUM_ARGS, SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# WebGL in headless chromium without a GPU: the software rasteriser, allowed explicitly.
WEBGL_ARGS = [a for a in CHROMIUM_ARGS if a != "--disable-gpu"] + [
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]


@pytest.fixture(scope="module")
def webgl_browser(playwright: Any) -> Iterator[Any]:
    b = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=WEBGL_ARGS)
    try:
        yield b
    finally:
        b.close()


def _login(browser: Any, base: str, email: str, then: str) -> tuple[Any, Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 860})
    page = ctx.new_page()
    page.set_default_timeout(30000)
    page.goto(f"{base}/login/?next={then}")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}{then}")
    return ctx, page


def _community(world: World) -> None:
    now = timezone.now() - timedelta(days=3)
    people = [
        member_create(name=f"Person {i:02d}", email=f"p{i}@acme.example", role=Role.CUSTOMER, organization=world.acme)
        for i in range(12)
    ]
    for i, p in enumerate(people):
        record(actor=p, verb=Verb.REPLIED, target_member=world.acme_member, origin_id=f"b{i}", occurred_at=now)
        record(actor=p, verb=Verb.REACTED, target_member=people[i - 1], origin_id=f"c{i}", occurred_at=now)
    record(
        actor=world.globex_member, verb=Verb.REPLIED, target_member=world.admin_member, origin_id="g", occurred_at=now
    )
    build_map()


def test_the_map_draws_searches_and_shows_details(webgl_browser: Any, live_server: Any, world: World) -> None:
    _community(world)
    base = live_server.url
    ctx, page = _login(webgl_browser, base, "admin@northwind.example", "/map/")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.wait_for_selector("[data-map][data-ready=yes]")
        assert int(page.get_attribute("[data-map]", "data-nodes") or 0) >= 15
        # sigma draws into WebGL canvases inside the stage
        assert page.locator("[data-map-stage] canvas").count() >= 2
        drawn = page.evaluate("window.convenorMap.renderer.getGraph().order")
        assert drawn >= 15
        page.screenshot(path=str(SCREENSHOTS / "map.png"))

        page.fill("[data-map-search]", "Carla")
        page.click("[data-map-results] button:has-text('Carla Acme')")
        page.wait_for_selector("[data-map-details] h3:has-text('Carla Acme')")
        focus = int(page.get_attribute("[data-map]", "data-focus") or -1)
        # the neighbourhood is highlighted: Carla's twelve repliers stay coloured, others fade
        faded = page.evaluate(
            """(f) => { const r = window.convenorMap.renderer; const g = r.getGraph();
                 let kept = 0, gone = 0;
                 g.forEachNode((k) => { const d = r.getNodeDisplayData(k);
                   if (String(k) === String(f)) return;
                   if (d.color === '#e5e7eb') gone++; else kept++; });
                 return [kept, gone]; }""",
            focus,
        )
        assert faded[0] >= 12 and faded[1] >= 1
        assert page.locator("[data-map-details] .map-neighbours li").count() >= 12
        page.screenshot(path=str(SCREENSHOTS / "map_search.png"))

        # clicking a node on the canvas opens its details
        page.click("[data-map-clear]")
        # The search glided the camera to Carla (400 ms on a small map): let it end, or it
        # would carry on moving the camera after it is placed here and the click would miss.
        page.wait_for_function("() => !window.convenorMap.renderer.getCamera().isAnimated()")
        page.evaluate("window.convenorMap.renderer.getCamera().setState({x: 0.5, y: 0.5, ratio: 1, angle: 0})")
        box = page.locator("[data-map-stage]").bounding_box()
        people = list(Member.objects.values_list("name", flat=True))
        for attempt in range(3):
            # The person clicked is the one whose drawn disc has the most room around its
            # centre (its own radius, less any other node drawn over it), so that the click
            # lands on them and no other node takes it, whatever the layout. A click that
            # lands while the software renderer is still drawing the cleared map can be
            # missed now and then: the node is looked up again and clicked again.
            page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
            target = page.evaluate(
                """(people) => { const r = window.convenorMap.renderer; const g = r.getGraph();
                     const ratio = r.getCamera().getState().ratio;
                     const at = [];
                     g.forEachNode((k, a) => { const d = r.getNodeDisplayData(k); const p = r.framedGraphToViewport(d);
                       at.push({label: a.label, x: p.x, y: p.y, size: r.scaleSize(d.size, ratio)}); });
                     let best = null, room = -1;
                     for (const a of at) {
                       if (!people.includes(a.label)) continue;
                       let free = a.size;
                       for (const b of at) {
                         if (b !== a) free = Math.min(free, Math.hypot(a.x - b.x, a.y - b.y) - b.size);
                       }
                       if (free > room) { room = free; best = a; }
                     }
                     return best; }""",
                people,
            )
            page.mouse.click(box["x"] + target["x"], box["y"] + target["y"])
            try:
                page.wait_for_selector(f"[data-map-details] h3:has-text({target['label']!r})", timeout=5_000)
                break
            except PlaywrightTimeout:
                if attempt == 2:
                    raise
        assert page.locator("[data-map-details] a.button").count() == 1
        page.screenshot(path=str(SCREENSHOTS / "map_details.png"))

        page.select_option("[data-map-colour]", "org")
        assert "Acme" in page.inner_text("[data-map-legend]")
        assert not errors, errors
    finally:
        ctx.close()


def test_a_member_sees_their_ego_map(webgl_browser: Any, live_server: Any, world: World) -> None:
    _community(world)
    base = live_server.url
    me = world.acme_member.pk
    ctx, page = _login(webgl_browser, base, "carla@acme.example", f"/people/{me}/")
    try:
        page.wait_for_selector("[data-map][data-ready=yes]")
        assert int(page.get_attribute("[data-map]", "data-nodes") or 0) >= 13
        page.locator(".ego-map").screenshot(path=str(SCREENSHOTS / "map_ego.png"))
        assert page.goto(f"{base}/map/").status == 404
    finally:
        ctx.close()


def test_the_update_button_folds_new_activity_into_the_map(webgl_browser: Any, live_server: Any, world: World) -> None:
    _community(world)
    base = live_server.url
    ctx, page = _login(webgl_browser, base, "admin@northwind.example", "/map/")
    try:
        page.wait_for_selector("[data-map][data-ready=yes]")
        before = int(page.get_attribute("[data-map]", "data-nodes") or 0)
        assert page.locator("[data-map-updated]").count() == 0
        newcomer = member_create(name="Nora Newcomer", email="nora@globex.example", role=Role.CUSTOMER)
        record(actor=newcomer, verb=Verb.REPLIED, target_member=world.globex_member, origin_id="nora")
        page.click("form[action='/map/update/'] button")
        page.wait_for_selector("text=Updated the current map")
        page.wait_for_selector("[data-map][data-ready=yes]")
        assert page.locator("[data-map-updated]").is_visible()
        assert int(page.get_attribute("[data-map]", "data-nodes") or 0) == before + 1
        page.fill("[data-map-search]", "Nora")
        page.click("[data-map-results] button >> nth=0")
        page.wait_for_selector("[data-map-details] h3:has-text('Nora Newcomer')")
        page.screenshot(path=str(SCREENSHOTS / "map-updated.png"), full_page=True)
    finally:
        ctx.close()


def test_highlight_after_highlight_draws_only_the_new_focus_lines(
    webgl_browser: Any, live_server: Any, world: World
) -> None:
    # The highlighted graph (every node, only the focus's lines) is made once and reused: moving
    # from one person to a neighbour must swap its lines, follow a new colouring, and clearing
    # it must bring back the whole map.
    _community(world)
    base = live_server.url
    ctx, page = _login(webgl_browser, base, "admin@northwind.example", "/map/")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    drawn_lines = """(f) => { const m = window.convenorMap; const g = m.renderer.getGraph();
        const touching = g.edges().every((e) => g.extremities(e).includes(String(f)));
        return [g === m.graph, g.order, g.size, m.graph.degree(String(f)), touching]; }"""
    try:
        page.wait_for_selector("[data-map][data-ready=yes]")
        total = page.evaluate("[window.convenorMap.graph.order, window.convenorMap.graph.size]")
        page.fill("[data-map-search]", "Carla")
        page.click("[data-map-results] button:has-text('Carla Acme')")
        page.wait_for_selector("[data-map-details] h3:has-text('Carla Acme')")
        carla = int(page.get_attribute("[data-map]", "data-focus") or -1)
        same, order, size, degree, touching = page.evaluate(drawn_lines, carla)
        assert not same and order == total[0] and size == degree >= 12 and touching
        # the first highlight after the map was shown is timed in the page's marks
        phases = page.evaluate("JSON.parse(document.querySelector('[data-map]').dataset.phases)")
        assert phases["shown"] <= phases["focus"] <= phases["highlighted"]
        # a faded node has no label at all, so it stays out of sigma's label grid
        labels = page.evaluate(
            """(f) => { const r = window.convenorMap.renderer; const out = [];
                 r.getGraph().forEachNode((k) => { const d = r.getNodeDisplayData(k);
                   if (d.color === '#e5e7eb') out.push(d.label); });
                 return out; }""",
            carla,
        )
        assert labels and all(label is None for label in labels)

        link = page.locator("[data-map-details] .map-neighbours a").first
        name = link.inner_text()
        link.click()
        page.wait_for_selector(f"[data-map-details] h3:has-text({name!r})")
        other = int(page.get_attribute("[data-map]", "data-focus") or -1)
        assert other != carla
        same, order, size, degree, touching = page.evaluate(drawn_lines, other)
        assert not same and order == total[0] and size == degree >= 1 and touching

        # a new colouring reaches the highlighted graph too
        page.select_option("[data-map-colour]", "org")
        mismatched = page.evaluate(
            """(f) => { const m = window.convenorMap; const r = m.renderer; let bad = 0;
                 r.getGraph().forEachNode((k, a) => {
                   if (a.color !== m.graph.getNodeAttribute(k, 'color')) bad++; });
                 return bad; }""",
            other,
        )
        assert mismatched == 0

        page.click("[data-map-clear]")
        same, order, size, _, _ = page.evaluate(drawn_lines, other)
        assert same and [order, size] == total
        assert not errors, errors
    finally:
        ctx.close()
