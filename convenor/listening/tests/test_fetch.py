"""Fetching sources over HTTP from a local server: comment feeds, Discourse topics,
conditional requests, size limits, timeouts and the refresh of sources that are due."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from convenor.core.errors import ApplicationError, ErrorCode
from convenor.core.testing import World
from convenor.listening import services
from convenor.listening.models import ImportRun, OutsidePost, RunStatus, Source

from .conftest import SAMPLES, Brands, Served

pytestmark = pytest.mark.django_db


def _feed(server: Served) -> str:
    body = (
        (SAMPLES / "blog.rss")
        .read_bytes()
        .replace(
            b"https://plumbing.example.org/2026/01/moved-to-northwind/feed/", f"{server.base}/comments.rss".encode()
        )
    )
    server.add("/comments.rss", (SAMPLES / "blog-comments.rss").read_bytes())
    return server.add("/feed.rss", body, ETag='"v1"', **{"Content-Type": "application/rss+xml"})


def test_a_feed_url_is_fetched_with_its_comments_then_answers_not_modified(
    world: World, brands: Brands, http_server: Served
) -> None:
    url = _feed(http_server)
    source = services.source_create(name="Plumbing blog", importer="rss", url=url, refresh_minutes=60)
    run = services.import_url(source=source)
    assert (run.status, run.created) == (RunStatus.DONE, 5)  # 3 posts, 2 comments
    assert OutsidePost.objects.filter(kind="reply", parent_origin="https://plumbing.example.org/?p=101").count() == 2
    source.refresh_from_db()
    assert source.etag == '"v1"' and source.last_fetched_at is not None
    again = services.import_url(source=source)
    assert again.status == RunStatus.NOT_MODIFIED and again.created == 0
    feed_requests = [h for path, h in http_server.requests if path == "/feed.rss"]
    assert feed_requests[-1].get("If-None-Match") == '"v1"'
    forced = services.import_url(source=source, force=True)
    assert forced.status == RunStatus.DONE and forced.skipped == 5


def test_a_discourse_site_is_fetched_topic_by_topic(world: World, brands: Brands, http_server: Served) -> None:
    http_server.add("/latest.json", (SAMPLES / "discourse" / "latest.json").read_bytes())
    http_server.add("/t/101.json", (SAMPLES / "discourse" / "t" / "101.json").read_bytes())
    http_server.add("/t/102.json", (SAMPLES / "discourse" / "t" / "102.json").read_bytes())
    source = services.source_create(name="Forum", importer="discourse", url=http_server.base)
    run = services.import_url(source=source)
    assert run.created == 6 and run.rejected == 2  # post 2 of topic 102, and topic 103 (404)
    reasons = sorted(run.rejections.values_list("file", "reason"))
    assert reasons[0][0].endswith("/t/102.json") or reasons[1][0].endswith("/t/103.json")
    assert any("HTTP 404" in reason for _, reason in reasons)
    post = OutsidePost.objects.get(origin_id="post:9002")
    assert post.url == f"{http_server.base}/t/northwind-vs-contoso-for-nightly-backfills/101/2"


def test_a_document_past_the_size_limit_is_refused_and_writes_nothing(
    world: World, http_server: Served, settings: Any
) -> None:
    settings.LISTENING_MAX_FETCH_BYTES = 500
    url = http_server.add("/feed.rss", (SAMPLES / "blog.rss").read_bytes())
    source = services.source_create(name="Big", importer="rss", url=url)
    with pytest.raises(ApplicationError) as err:
        services.import_url(source=source)
    assert err.value.code == ErrorCode.TOO_LARGE and url in err.value.message
    assert OutsidePost.objects.count() == 0
    assert ImportRun.objects.get().status == RunStatus.FAILED


def test_a_slow_server_times_out_with_a_clear_error(world: World, http_server: Served, settings: Any) -> None:
    settings.LISTENING_FETCH_TIMEOUT = 1
    http_server.delay = 2.5
    url = http_server.add("/feed.rss", (SAMPLES / "blog.rss").read_bytes())
    source = services.source_create(name="Slow", importer="rss", url=url)
    with pytest.raises(ApplicationError) as err:
        services.import_url(source=source)
    assert err.value.code == ErrorCode.BAD_FILE
    assert "no answer within 1 seconds" in err.value.message or "timed out" in err.value.message


def test_http_errors_and_bad_urls(world: World, http_server: Served) -> None:
    source = services.source_create(name="Gone", importer="reviews", url=f"{http_server.base}/missing.json")
    with pytest.raises(ApplicationError, match="answered HTTP 404"):
        services.import_url(source=source)
    with pytest.raises(ApplicationError) as err:
        services.source_create(name="Ftp", importer="rss", url="ftp://example.org/feed")
    assert err.value.fields == {"url": ["must start with http:// or https://"]}
    with pytest.raises(ApplicationError) as err:
        services.source_create(name="Chat", importer="slack", url="https://example.org/x.zip")
    assert "url" in err.value.fields


def test_refresh_fetches_only_the_sources_that_are_due(world: World, brands: Brands, http_server: Served) -> None:
    http_server.add("/reviews.json", (SAMPLES / "reviews.json").read_bytes())
    due = services.source_create(
        name="Due", importer="reviews", url=f"{http_server.base}/reviews.json", refresh_minutes=30
    )
    fresh = services.source_create(
        name="Fresh", importer="reviews", url=f"{http_server.base}/reviews.json", refresh_minutes=30
    )
    Source.objects.filter(pk=fresh.pk).update(last_fetched_at=timezone.now() - timedelta(minutes=5))
    Source.objects.filter(pk=due.pk).update(last_fetched_at=timezone.now() - timedelta(minutes=31))
    services.source_create(name="Manual", importer="reviews", url=f"{http_server.base}/reviews.json")
    runs = services.sources_refresh_due()
    assert [r.source_id for r in runs] == [due.pk]
    assert runs[0].created == 2
    assert services.sources_refresh_due() == []


def test_a_reviews_json_url(world: World, http_server: Served) -> None:
    body = json.dumps(
        {"reviews": [{"id": "x1", "author": "Ann", "rating": 5, "text": "Good", "date": "2026-01-01"}]}
    ).encode()
    source = services.source_create(name="Reviews", importer="reviews", url=http_server.add("/r.json", body))
    assert services.import_url(source=source).created == 1


def test_a_discourse_refresh_changes_nothing_and_the_topic_list_never_blanks_a_post(
    world: World, brands: Brands, http_server: Served
) -> None:
    for name in ("latest.json", "t/101.json", "t/102.json", "t/103.json"):
        path = SAMPLES / "discourse" / name
        if path.exists():
            http_server.add(f"/{name}", path.read_bytes())
    source = services.source_create(name="Forum", importer="discourse", url=http_server.base)
    services.import_url(source=source)
    text = OutsidePost.objects.get(origin_id="topic:101").text
    again = services.import_url(source=source, force=True)
    assert (again.created, again.updated) == (0, 0)
    # The topic list alone (title only) does not blank what the topic brought.
    services.import_file(importer="discourse", path=SAMPLES / "discourse" / "latest.json", source=source)
    assert OutsidePost.objects.get(origin_id="topic:101").text == text != ""


def _netscape_feed(dtd_url: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "{dtd_url}">
<rss version="0.91"><channel><title>Caf&eacute; notes</title><link>https://cafe.example/</link>
<description>An old blog</description>
<item><title>Northwind&nbsp;at the caf&eacute;</title><link>https://cafe.example/1</link>
<description>We moved to Northwind &mdash; no regrets.</description>
<author>ann@cafe.example (Ann)</author><pubDate>Mon, 02 Mar 2026 10:00:00 GMT</pubDate></item>
<item><title>Second</title><link>https://cafe.example/2</link><description>More</description>
<author>bob@cafe.example (Bob)</author><pubDate>Tue, 03 Mar 2026 10:00:00 GMT</pubDate></item>
</channel></rss>
""".encode()


def test_a_feed_declaring_an_external_dtd_is_imported_without_fetching_the_dtd(
    world: World, brands: Brands, http_server: Served
) -> None:
    """Its entities (&eacute;, defined by the DTD) used to make it "malformed XML"."""
    dtd = http_server.add("/rss-0.91.dtd", b'<!ENTITY eacute "&#233;">')
    url = http_server.add("/feed.rss", _netscape_feed(dtd))
    source = services.source_create(name="Cafe blog", importer="rss", url=url)
    run = services.import_url(source=source)
    assert (run.status, run.created, run.rejected) == (RunStatus.DONE, 2, 0)
    post = OutsidePost.objects.get(url="https://cafe.example/1")
    assert (post.title, post.text, post.space) == (
        "Northwind\xa0at the café",
        "We moved to Northwind — no regrets.",
        "Café notes",
    )
    assert [path for path, _ in http_server.requests] == ["/feed.rss"]  # never the DTD


def test_a_feed_with_an_external_dtd_is_still_checked_for_bombs_and_malformed_xml(
    world: World, http_server: Served
) -> None:
    feed = _netscape_feed(f"{http_server.base}/rss.dtd")
    bomb = feed.replace(b'.dtd">', b'.dtd" [<!ENTITY lol "lol">]>')
    for body, message in [
        (bomb, "as XML bombs do"),
        (feed.replace(b"</channel>", b"</chanel>"), "malformed XML at line 10, column 3: mismatched tag"),
    ]:
        source = services.source_create(
            name=f"Blog {len(message)}", importer="rss", url=http_server.add("/f.rss", body)
        )
        with pytest.raises(ApplicationError) as err:
            services.import_url(source=source)
        assert err.value.code == ErrorCode.BAD_FILE and message in err.value.message
    assert OutsidePost.objects.count() == 0
    assert not [path for path, _ in http_server.requests if path.endswith(".dtd")]


def test_a_feed_without_entries_says_so_instead_of_a_row_of_zeros(
    world: World, http_server: Served, admin_client: Client
) -> None:
    empty = b'<?xml version="1.0"?>\n<!DOCTYPE rss SYSTEM "http://dtd.example/rss.dtd">\n'
    empty += b'<rss version="2.0"><channel><title>Quiet</title><link>https://q.example/</link></channel></rss>'
    source = services.source_create(name="Quiet", importer="rss", url=http_server.add("/q.rss", empty))
    run = services.import_url(source=source)
    assert run.status == RunStatus.DONE
    assert services.run_summary(run) == f"{http_server.base}/q.rss: nothing imported: the feed has no entries"
    page = admin_client.get(reverse("listening:run_detail", args=[run.pk]))
    assert "Nothing was imported: the file holds no records (the feed has no entries)." in page.content.decode()
