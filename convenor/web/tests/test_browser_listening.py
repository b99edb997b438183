"""Browser test for listening: upload a Slack export, watch the run's progress while the
background import runs, see the run with its rejected records; screenshot every page."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from convenor.core.testing import PASSWORD, World
from convenor.listening import services
from convenor.listening.models import BrandAlias, ImportRun, RunStatus
from convenor.listening.slack_export import generate
from convenor.people.models import OrgKind
from convenor.people.services import organization_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")  # noqa: S108  # where the brief asks for them
SAMPLES = Path(__file__).resolve().parents[2] / "listening" / "tests" / "samples"


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _export(tmp_path: Path) -> Path:
    path = tmp_path / "data-community.zip"
    generate(path, people=300, messages=9000, channels=6, seed=5, brands=("Northwind", "Contoso"), brand_rate=0.2)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("channel-00/2026-12-31.json", '[{"type": "message", "user": "U0000001", "text": "cut o')
        zf.writestr(
            "channel-01/2026-12-31.json", json.dumps([{"type": "message", "text": "who?", "ts": "1798675200.0001"}])
        )
    return path


def test_upload_shows_progress_then_the_run_with_its_rejections(
    browser: Any, live_server: Any, world: World, tmp_path: Path, settings: Any
) -> None:
    settings.LISTENING_BACKGROUND_IMPORTS = True
    contoso = organization_create(name="Contoso", kind=OrgKind.COMPETITOR)
    BrandAlias.objects.create(organization=world.ours, alias="Northwind")
    BrandAlias.objects.create(organization=contoso, alias="Contoso Flow")
    for kind, name in [("rss", "blog.rss"), ("reviews", "reviews.csv"), ("mbox", "list.mbox"), ("rss", "notes.atom")]:
        services.import_file(importer=kind, path=SAMPLES / name)
    base = live_server.url
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.set_default_timeout(20000)
    try:
        page.goto(f"{base}/login/?next=/listening/")
        page.fill("input[name=username]", "admin@northwind.example")
        page.fill("input[name=password]", PASSWORD)
        page.click("form.form button[type=submit]")
        page.wait_for_url(f"{base}/listening/")
        page.fill("input[name=name]", "Data community Slack")
        page.select_option("select[name=importer]", "slack")
        page.click("text=Add source")
        page.wait_for_url("**/listening/sources/*/")
        _shot(page, "listening_source")
        # A Slack source is file-only: its settings are its name, with no URL or refresh.
        assert page.locator("aside input[name=name]").count() == 1
        assert page.locator("input[name=url], input[name=refresh_minutes]").count() == 0
        assert "imported from files only" in page.inner_text("aside")
        assert "refresh it from its URL" not in page.inner_text("main")
        page.set_input_files("input[type=file]", str(_export(tmp_path)))
        page.click("text=Upload and import")
        page.wait_for_url("**/listening/runs/*/")
        # The run is still going: the page shows it running, then follows it to the end.
        page.wait_for_selector("#run-status")
        seen_running = page.inner_text("#run-status") in ("Queued", "Running")
        if seen_running:
            _shot(page, "listening_run_progress")
        page.wait_for_selector("#run-status:has-text('Done')", timeout=240000)
        assert seen_running, "the run page should open while the import is still running"
        run = ImportRun.objects.get(filename="data-community.zip")
        assert run.status == RunStatus.DONE and run.created == 9000 and run.rejected == 2
        assert page.inner_text("#run-created") == "9000" and page.inner_text("#run-rejected") == "2"
        assert page.get_attribute("#run-progress", "value") == "100"
        page.click("#run-reload a")
        page.wait_for_selector("text=invalid JSON")
        body = page.inner_text("main")
        assert "data-community.zip:channel-00/2026-12-31.json" in body and "missing user" in body
        _shot(page, "listening_run")
        for url, name, expect in [
            ("/listening/", "listening_sources", "Data community Slack"),
            ("/listening/runs/", "listening_runs", "data-community.zip"),
            ("/listening/share-of-voice/", "listening_sov", "Share of voice by month"),
            ("/listening/hangouts/?segment=role", "listening_hangouts", "Talk with them in"),
            ("/listening/brands/", "listening_brands", "Contoso Flow"),
            ("/listening/people/", "listening_observed", "slack:data-community-slack"),
        ]:
            page.goto(base + url)
            assert expect in page.inner_text("main"), url
            _shot(page, name)
        # A feed fetches: its page has the URL, the interval and how the schedule runs.
        feed = services.source_create(
            name="Plumbing blog", importer="rss", url="https://blog.example/feed.xml", refresh_minutes=60
        )
        page.goto(f"{base}/listening/sources/{feed.pk}/")
        assert page.locator("aside input[name=url], aside input[name=refresh_minutes]").count() == 2
        assert "convenor listen refresh" in page.inner_text("#source-schedule")
        _shot(page, "listening_source_feed")
    finally:
        ctx.close()
