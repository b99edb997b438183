"""The listening pages: staff only, uploads with their run page, progress JSON, charts."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from convenor.core.errors import ApplicationError
from convenor.core.testing import World
from convenor.listening import services
from convenor.listening.models import BrandAlias, ImportRun, RunStatus

from .conftest import SAMPLES, Brands

pytestmark = pytest.mark.django_db

PAGES = [
    "/listening/",
    "/listening/posts/",
    "/listening/runs/",
    "/listening/share-of-voice/",
    "/listening/brands/",
    "/listening/hangouts/",
    "/listening/people/",
]


def test_pages_are_for_staff_only(world: World, acme_client: Client) -> None:
    for url in PAGES:
        assert acme_client.get(url).status_code == 404, url
        resp = Client().get(url)
        assert resp.status_code == 302 and "/login/" in resp["Location"], url


def test_empty_states(world: World, admin_client: Client) -> None:
    for url in PAGES:
        resp = admin_client.get(url)
        assert resp.status_code == 200, url
    assert "No sources yet" in admin_client.get("/listening/").content.decode()
    assert "No brand mentions yet" in admin_client.get("/listening/share-of-voice/").content.decode()


def test_add_a_source_upload_a_file_and_see_the_run_with_its_rejections(
    world: World, brands: Brands, admin_client: Client
) -> None:
    bad = admin_client.post("/listening/", {"name": "", "importer": "reviews"})
    assert bad.status_code == 200 and "This field is required" in bad.content.decode()
    resp = admin_client.post(
        "/listening/", {"name": "G2 reviews", "importer": "reviews", "url": "", "refresh_minutes": ""}
    )
    assert resp.status_code == 302
    source_url = resp["Location"]
    upload = SimpleUploadedFile("reviews.csv", (SAMPLES / "reviews.csv").read_bytes(), content_type="text/csv")
    resp = admin_client.post(source_url + "upload/", {"file": upload})
    run = ImportRun.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/listening/runs/{run.pk}/"
    assert (run.status, run.created, run.rejected) == (RunStatus.DONE, 3, 4)
    page = admin_client.get(resp["Location"]).content.decode()
    assert "rating 9 is outside 0 to 5" in page and "line 8" in page and "reviews.csv" in page
    state = admin_client.get(f"/listening/runs/{run.pk}/progress.json").json()
    assert state["finished"] and state["percent"] == 100 and state["rejected"] == 4
    assert "G2 reviews" in admin_client.get("/listening/").content.decode()


def test_an_unreadable_upload_shows_its_error(world: World, admin_client: Client) -> None:
    source = services.source_create(name="Feed", importer="rss")
    upload = SimpleUploadedFile("bomb.xml", (SAMPLES / "bomb.xml").read_bytes())
    resp = admin_client.post(f"/listening/sources/{source.pk}/upload/", {"file": upload})
    page = admin_client.get(resp["Location"]).content.decode()
    assert "Failed" in page and "XML bombs" in page and "nothing was imported" in page
    assert 'value="0"' in page  # a refused file shows an empty bar, not a full one
    assert admin_client.get(resp["Location"] + "progress.json").json()["percent"] == 0


def test_charts_and_hangouts_render_from_imports(world: World, brands: Brands, admin_client: Client) -> None:
    for kind, path in [
        ("rss", SAMPLES / "blog.rss"),
        ("reviews", SAMPLES / "reviews.csv"),
        ("mbox", SAMPLES / "list.mbox"),
    ]:
        services.import_file(importer=kind, path=path)
    sov = admin_client.get("/listening/share-of-voice/?segment=role").content.decode()
    assert "<svg" in sov and "<polyline" in sov and "Mailing list" in sov and "Contoso" in sov
    assert "/ideas/from-outside-post/" in sov  # each latest mention is a step from an idea
    hang = admin_client.get("/listening/hangouts/?segment=organization").content.decode()
    assert "Talk with them in" in hang and "data-users.lists.example.org" in hang
    people = admin_client.get("/listening/people/").content.decode()
    assert "Priya Raman" in people


def test_aliases_are_edited_on_the_brands_page(world: World, brands: Brands, admin_client: Client) -> None:
    resp = admin_client.post("/listening/brands/", {"organization": brands.contoso.pk, "alias": "CFlow"})
    assert resp.status_code == 302
    alias = BrandAlias.objects.get(alias="CFlow")
    assert "CFlow" in admin_client.get("/listening/brands/").content.decode()
    assert admin_client.post(f"/listening/brands/aliases/{alias.pk}/remove/").status_code == 302
    assert not BrandAlias.objects.filter(alias="CFlow").exists()
    assert admin_client.post("/listening/brands/", {"organization": world.acme.pk, "alias": "Acme"}).status_code == 404


def test_a_source_page_shows_only_the_settings_its_importer_uses(world: World, admin_client: Client) -> None:
    slack = services.source_create(name="Data community Slack", importer="slack")
    page = admin_client.get(f"/listening/sources/{slack.pk}/").content.decode()
    assert 'name="name"' in page and 'name="url"' not in page and 'name="refresh_minutes"' not in page
    assert "Refresh from the URL" not in page and "imported from files only" in page
    # Renaming works; a URL or an interval slipped into the form is ignored, and the
    # service refuses them for a file-only importer.
    resp = admin_client.post(
        f"/listening/sources/{slack.pk}/", {"name": "Slack", "url": "https://x.example/a", "refresh_minutes": "60"}
    )
    assert resp.status_code == 302
    slack.refresh_from_db()
    assert (slack.name, slack.url, slack.refresh_minutes) == ("Slack", "", None)
    with pytest.raises(ApplicationError) as exc:
        services.source_update(source=slack, url="https://x.example/a")
    assert "zip file" in exc.value.fields["url"][0]
    with pytest.raises(ApplicationError) as exc:
        services.source_create(name="Chat", importer="slack", refresh_minutes=60)
    assert "does not refresh" in exc.value.fields["refresh_minutes"][0]

    feed = services.source_create(name="Blog", importer="rss", url="https://blog.example/feed", refresh_minutes=60)
    page = admin_client.get(f"/listening/sources/{feed.pk}/").content.decode()
    assert 'name="url"' in page and 'name="refresh_minutes"' in page and "Refresh from the URL" in page
    assert "Refreshed every 60 minutes by <code>convenor listen refresh</code>" in page
    assert "imported from files only" not in page
    resp = admin_client.post(f"/listening/sources/{feed.pk}/", {"name": "Blog", "url": "", "refresh_minutes": "30"})
    assert resp.status_code == 200 and "a source refreshes from its URL" in resp.content.decode()
